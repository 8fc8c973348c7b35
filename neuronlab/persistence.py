"""Saving and loading a network: one .npz file of plain arrays and a JSON config.

:meth:`Network.save <neuronlab.network.Network.save>` writes every parameter under its name
(``"layer0.W"``, ``"layer0.b"``, ...) and the architecture, :func:`config`, as a JSON
string into one .npz file, and replaces the old file only once the new one is complete.
:meth:`Network.load <neuronlab.network.Network.load>` reads it back with
``numpy.load(allow_pickle=False)``, so a file from elsewhere cannot run code; a file that
is truncated, damaged or not a network file is a ValueError that names the file and says
what is wrong with it.

Unless saved with ``training_state=False``, the file also holds where training stands, so
that it can go on as if it had never stopped (:func:`training_state_of`): the optimizer (its
name, constructor arguments, epoch, learning rate and momenta or moments), the
:class:`~neuronlab.training.History`, and the states of the random generators that
shuffle the samples and draw RReLU's slopes. That part of the JSON names each array it
refers to (``{"__array__": "training.optimizer.state.m"}``); the arrays are entries of the
.npz like the weights. Files of format version 1 hold no training state and still load.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import numbers
import os
import tempfile
import zipfile
import zlib
from typing import Any

import numpy as np

from neuronlab import activations, losses, optim
from neuronlab._validation import check_count
from neuronlab.layers import Layer
from neuronlab.training import History

try:
    from lzma import LZMAError
except ImportError:  # a Python without lzma cannot open LZMA-compressed entries at all
    LZMAError = zipfile.BadZipFile

__all__ = ["FORMAT", "FORMAT_VERSION", "config", "load", "save", "training_state_of"]

#: The ``"format"`` of every config: what the file holds.
FORMAT = "neuronlab.Network"
#: The ``"version"`` of the file layout that :func:`save` writes; :func:`load` reads it and
#: version 1 (the same without a training state).
FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)
# Bit generators whose saved state NumPy checks when it is set again. MT19937's and
# Philox's states hold a position that NumPy trusts: a file could make it read out of bounds.
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "SFC64")


def config(network: Any) -> dict[str, Any]:
    """The architecture of `network` as JSON-ready data (the weights are not included)."""
    layers = []
    for layer in network.layers:
        act = layer.activation
        params = {k: v for k, v in act.params.items() if not isinstance(v, np.ndarray)}
        if isinstance(act, activations.PReLU):
            params = {"per_unit": act.per_unit}  # the slopes travel with the weights
        layers.append({"n_in": layer.n_in, "n_out": layer.n_out, "activation": act.name,
                       "activation_params": params, "dtype": layer.dtype.name})
    return {"format": FORMAT, "version": FORMAT_VERSION, "layers": layers,
            "loss": {"name": network.loss.name, "params": network.loss.params}, "l2": network.l2,
            "classes": None if network.classes_ is None else network.classes_.tolist()}


def training_state_of(network: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Where the training of `network` stands: JSON-ready data and the arrays it names.

    The data: ``"optimizer"`` (:meth:`Optimizer.state_dict
    <neuronlab.optim.Optimizer.state_dict>` for the network's parameters, or None),
    ``"history"`` (every field of the :class:`~neuronlab.training.History`, or None),
    ``"rng"`` (the shuffling generator's ``bit_generator.state``) and ``"rrelu_rng"`` (the
    same for each RReLU layer, by its name ``"layer{l}"``). Each array in it is replaced by
    ``{"__array__": name}``, with the array as ``arrays[name]``.

    Raises ValueError when a part cannot be restored from a file: an optimizer or a
    schedule of your own, a generator other than PCG64, PCG64DXSM or SFC64.
    """
    history = network.history
    generators = {"rng": network.rng}
    generators |= {f"layer{i}": layer.activation.rng for i, layer in enumerate(network.layers)
                   if isinstance(layer.activation, activations.RReLU)}
    for name, rng in generators.items():
        _check_bit_generator(rng.bit_generator.state["bit_generator"],
                             "the network's generator" if name == "rng" else f"{name}'s generator")
    state = {
        "optimizer": None if network.optimizer is None else network.optimizer.state_dict(network.theta),
        # every field, also those added later: the History is a dataclass
        "history": None if history is None else {f.name: getattr(history, f.name)
                                                 for f in dataclasses.fields(history)},
        "rng": network.rng.bit_generator.state,
        "rrelu_rng": {name: rng.bit_generator.state for name, rng in generators.items()
                      if name != "rng"},
    }
    arrays: dict[str, np.ndarray] = {}
    return _encode(state, "training", arrays), arrays


def _encode(value: Any, name: str, arrays: dict[str, np.ndarray]) -> Any:
    """`value` as JSON-ready data, each array in it stored in `arrays` under its path `name`."""
    if isinstance(value, np.ndarray):
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, dict):
        return {str(k): _encode(v, f"{name}.{k}", arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{name}.{i}", arrays) for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, numbers.Real):                 # a Fraction: as JSON can hold it
        return int(value) if isinstance(value, numbers.Integral) else float(value)
    raise ValueError(f"{name} is a {type(value).__name__}, which a file cannot hold "
                     "(numbers, strings, lists and arrays can)")


def save(network: Any, path: str | os.PathLike, training_state: bool = True) -> None:
    """Write the weights and the architecture of `network` to one .npz file, atomically;
    with `training_state` also where its training stands (:func:`training_state_of`)."""
    path = os.fspath(path)
    arrays = {name: p for name, p, _ in network.named_parameters()}
    spec = config(network)
    if training_state:
        try:
            spec["training"], state_arrays = training_state_of(network)
        except ValueError as exc:
            raise ValueError(f"cannot save the training state: {exc}. save(path, "
                             "training_state=False) saves the network without it") from None
        arrays |= state_arrays
    arrays["config"] = np.array(json.dumps(spec))
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def load(cls: type, path: str | os.PathLike) -> Any:
    """A network of class `cls` (:class:`~neuronlab.network.Network`) from a file that
    :func:`save` wrote; never unpickles anything.

    Raises ValueError naming the file when it is truncated, not a network file, or of
    an unknown format version.
    """
    path = os.fspath(path)

    def bad(reason: str) -> ValueError:
        return ValueError(f"{path} is not a readable neuronlab network file: {reason}")

    def entry(data, name: str) -> np.ndarray:
        value = data[name]
        if not isinstance(value, np.ndarray):  # a member that is no .npy comes back as bytes
            raise bad(f"its entry {name!r} is not a NumPy array")
        return value

    try:
        # our own file object: numpy leaks its own when a corrupt zip raises
        with open(path, "rb") as file:
            # Told apart here because for anything but .npy and .npz NumPy's message
            # suggests unpickling the file, which load never does.
            head = file.read(6)
            if head == b"\x93NUMPY":
                raise bad("it holds a single array, not a saved network")
            if head[:4] != b"PK\x03\x04":
                raise bad("it is not a .npz archive as Network.save writes")
            file.seek(0)
            data = np.load(file, allow_pickle=False)
            if "config" not in data.files:
                raise bad("it has no 'config' entry")
            try:
                spec = json.loads(str(entry(data, "config")[()]))
            except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
                raise bad(f"its config is not valid JSON ({exc})") from None
            if not isinstance(spec, dict) or spec.get("format") != FORMAT:
                raise bad("its config does not describe a neuronlab Network")
            version = spec.get("version")
            if isinstance(version, bool) or version not in _READABLE_VERSIONS:
                raise bad(f"format version {version!r}; this neuronlab reads versions "
                          f"{' and '.join(map(str, _READABLE_VERSIONS))}")
            weights = {name: entry(data, name) for name in data.files if name != "config"}
    except FileNotFoundError:
        raise
    # Besides BadZipFile, a damaged zip makes zipfile raise NotImplementedError (flags,
    # versions, methods it does not know), RuntimeError (an entry marked encrypted) and
    # its decompressors' errors; MemoryError: an entry's header can promise any size.
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, io.UnsupportedOperation,
            NotImplementedError, RuntimeError, zlib.error, LZMAError, MemoryError) as exc:
        raise bad(f"{type(exc).__name__}: {exc} (truncated or corrupted?)") from None
    except ValueError as exc:
        if str(exc).startswith(path):
            raise
        raise bad(str(exc)) from None
    state = spec.get("training") if spec["version"] >= 2 else None
    state_arrays = {name: weights.pop(name) for name in list(weights)
                    if state is not None and name.startswith("training.")}
    try:
        network = _from_config(cls, spec, weights)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise bad(f"its contents do not fit together: {exc}") from None
    if state is not None:
        try:
            _restore_training(network, state, state_arrays)
        except KeyError as exc:
            raise bad(f"its training state has no entry {exc}") from None
        except (IndexError, TypeError, ValueError, OverflowError) as exc:
            raise bad(f"its training state cannot be restored: {exc}") from None
    return network


def _from_config(cls: type, spec: dict, weights: dict[str, np.ndarray]) -> Any:
    layers = []
    for i, layer_spec in enumerate(spec["layers"]):
        params = dict(layer_spec["activation_params"])
        if layer_spec["activation"] == "prelu":
            alpha = weights[f"layer{i}.alpha"]
            params = {"alpha": alpha.copy() if params.get("per_unit") else float(alpha[0])}
        if layer_spec["activation"] not in activations.available():
            raise ValueError(f"layer{i} uses the activation {layer_spec['activation']!r}, which is not "
                             "registered: call nl.activations.register(YourActivation) before load")
        # The activation as an object: an RReLU keeps its saved seed (a Layer given the
        # name would draw a new one).
        act = activations.get(layer_spec["activation"], **params)
        # Compare the sizes with the saved W before the Layer allocates its own: a few
        # bytes of config could ask for terabytes.
        n_in, n_out = check_count(layer_spec["n_in"], "n_in"), check_count(layer_spec["n_out"], "n_out")
        W_shape = (n_out * getattr(act, "pieces", 1), n_in)
        if weights[f"layer{i}.W"].shape != W_shape:
            fix = ("; a W stored as (n_in, n_out) must be transposed, W.T"
                   if weights[f"layer{i}.W"].shape == W_shape[::-1] else "")
            raise ValueError(f"layer{i}.W has shape {weights[f'layer{i}.W'].shape}; the config "
                             f"says {W_shape}{fix}")
        layer = Layer(n_in, n_out, act, dtype=np.dtype(layer_spec["dtype"]))
        for name, p, _ in layer.named_parameters():
            saved = weights[f"layer{i}.{name}"]
            # In a Network every parameter has the layer's dtype (a new Layer's PReLU
            # slopes are float64 until the Network gathers them).
            if saved.shape != p.shape or saved.dtype != layer.dtype:
                raise ValueError(f"layer{i}.{name} has shape {saved.shape} and dtype "
                                 f"{saved.dtype}; the config says {p.shape}, {layer.dtype}")
            np.copyto(p, saved)
        layers.append(layer)
    expected = {f"layer{i}.{name}" for i, layer in enumerate(layers)
                for name, _, _ in layer.named_parameters()}
    if set(weights) != expected:
        raise ValueError(f"unexpected arrays {sorted(set(weights) - expected)}")
    loss = spec["loss"]["name"]
    if loss not in losses.available():
        raise ValueError(f"the network uses the loss {loss!r}, which is not registered: call "
                         "nl.losses.register(YourLoss) before load")
    network = cls(layers, losses.get(loss, **spec["loss"]["params"]), l2=spec.get("l2", 0.0))
    if spec.get("classes") is not None:
        network.classes_ = np.array(spec["classes"])
    return network


def _restore_training(network: Any, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Give the loaded `network` the optimizer, history and generator states that
    :func:`training_state_of` took from the saved one."""
    used: set[str] = set()
    state = _decode(state, arrays, used)
    if set(arrays) != used:
        raise ValueError(f"unexpected arrays {sorted(set(arrays) - used)}")
    saved = state["optimizer"]
    network.optimizer = None if saved is None else optim.from_state_dict(saved, network.theta)
    network.history = None if state["history"] is None else _history(state["history"], network)
    network.rng = _generator(state["rng"])
    rrelu = {f"layer{i}": layer.activation for i, layer in enumerate(network.layers)
             if isinstance(layer.activation, activations.RReLU)}
    if sorted(state["rrelu_rng"]) != sorted(rrelu):
        raise ValueError(f"it has RReLU generators for {sorted(state['rrelu_rng'])}, but the "
                         f"network's RReLU layers are {sorted(rrelu)}")
    for name, act in rrelu.items():
        act.rng = _generator(state["rrelu_rng"][name])


def _decode(value: Any, arrays: dict[str, np.ndarray], used: set[str]) -> Any:
    """:func:`_encode` undone: each ``{"__array__": name}`` becomes ``arrays[name]``."""
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            used.add(value["__array__"])
            return arrays[value["__array__"]]
        return {k: _decode(v, arrays, used) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays, used) for v in value]
    return value


def _history(fields: dict[str, Any], network: Any) -> History:
    """A History from its saved fields: numbers, None, lists and arrays, and a list or a
    bool where the field's default is one."""
    default = History()
    known = {f.name for f in dataclasses.fields(History)}
    for name, value in fields.items():
        if name not in known:
            raise ValueError(f"History has no field {name!r}")
        kind = type(getattr(default, name))
        if not _numbers(value) or (kind in (list, bool) and type(value) is not kind):
            what = {list: "a list of numbers, None, lists and arrays", bool: "True or False"}
            raise ValueError(f"history.{name} must be {what.get(kind, 'a number or None')}, "
                             f"got {value!r:.60}")
    alphas = [layer.alpha for layer in network.layers]      # PReLU's slopes, or None
    for epoch in fields.get("prelu_alpha", []):
        if not (isinstance(epoch, list) and len(epoch) == len(alphas) and all(
                a is None if alpha is None else isinstance(a, np.ndarray)
                and a.shape == alpha.shape and a.dtype == alpha.dtype
                for a, alpha in zip(epoch, alphas, strict=True))):
            raise ValueError("history.prelu_alpha must hold, for each epoch, the PReLU slopes "
                             "of every layer as the layers hold them (None for a layer without)")
    return History(**fields)


def _numbers(value: Any) -> bool:
    """True for numbers, None, arrays and lists of them."""
    if isinstance(value, list):
        return all(_numbers(v) for v in value)
    return value is None or isinstance(value, (int, float, np.ndarray))


def _generator(state: dict[str, Any]) -> np.random.Generator:
    """A NumPy Generator in the saved state (``bit_generator.state``)."""
    kind = state["bit_generator"]
    _check_bit_generator(kind, "a saved generator")
    rng = np.random.Generator(getattr(np.random, kind)())
    rng.bit_generator.state = state
    return rng


def _check_bit_generator(kind: Any, what: str) -> None:
    if not isinstance(kind, str) or kind not in _BIT_GENERATORS:
        raise ValueError(f"{what} is a {kind!r}; only the states of "
                         f"{', '.join(_BIT_GENERATORS)} can be restored from a file")
