"""Saving and loading a network: one .npz file of plain arrays and a JSON config.

:meth:`Network.save <neuronlab.network.Network.save>` writes every parameter under its name
(``"layer0.W"``, ``"layer0.b"``, ...) and the architecture, :func:`config`, as a JSON
string into one .npz file, and replaces the old file only once the new one is complete.
:meth:`Network.load <neuronlab.network.Network.load>` reads it back with
``numpy.load(allow_pickle=False)``, so a file from elsewhere cannot run code; a file that
is truncated, damaged or not a network file is a ValueError that names the file and says
what is wrong with it.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import zipfile
import zlib
from typing import Any

import numpy as np

from neuronlab import activations, losses
from neuronlab._validation import check_count
from neuronlab.layers import Layer

try:
    from lzma import LZMAError
except ImportError:  # a Python without lzma cannot open LZMA-compressed entries at all
    LZMAError = zipfile.BadZipFile

__all__ = ["FORMAT", "FORMAT_VERSION", "config", "load", "save"]

#: The ``"format"`` of every config: what the file holds.
FORMAT = "neuronlab.Network"
#: The ``"version"`` of the file layout that :func:`save` writes and :func:`load` reads.
FORMAT_VERSION = 1


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
            "loss": {"name": network.loss.name, "params": network.loss.params}}


def save(network: Any, path: str | os.PathLike) -> None:
    """Write the weights and the architecture of `network` to one .npz file, atomically."""
    path = os.fspath(path)
    arrays = {name: p for name, p, _ in network.named_parameters()}
    arrays["config"] = np.array(json.dumps(config(network)))
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
            if spec.get("version") != FORMAT_VERSION:
                raise bad(f"format version {spec.get('version')!r}; this neuronlab reads "
                          f"version {FORMAT_VERSION}")
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
    try:
        return _from_config(cls, spec, weights)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise bad(f"its contents do not fit together: {exc}") from None


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
    return cls(layers, losses.get(loss, **spec["loss"]["params"]))
