"""Converting a :class:`~neuronlab.network.Network` to and from a PyTorch ``nn.Sequential``.

Each neuronlab Layer becomes ``nn.Linear`` (same W of shape (n_out, n_in), same b)
followed by the activation's module; the identity adds no module. The table below is
the whole correspondence; activations missing from it (binary_step, hard_sigmoid with
PyTorch's different slope, rrelu, maxout, ...) have no exact PyTorch twin.

Reading a module only looks at class names and attributes, so :func:`from_torch` is
tested with stand-in objects even where PyTorch is not installed.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from neuronlab import activations


def _torch_twins() -> dict[str, tuple[str, dict[str, str]]]:
    """neuronlab name -> (torch.nn class name, {torch argument: neuronlab parameter}), read off
    each activation's ``torch_module``."""
    twins = {}
    for name in activations.available():
        try:
            module = activations.get(name).torch_module
        except TypeError:   # a registered class of a user's that needs arguments
            continue
        if module is not None:
            twins[name] = module
    return twins


TORCH_ACTIVATIONS = _torch_twins()
FROM_TORCH = {torch_name: name for name, (torch_name, _) in TORCH_ACTIVATIONS.items()}
FROM_TORCH["SiLU"] = "swish"  # swish with beta = 1


def _import_torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError("to_torch() and from_torch() need PyTorch: pip install torch") from exc
    return torch


def activation_module_spec(act: Any) -> tuple[str, dict[str, Any]] | None:
    """(torch.nn class name, keyword arguments) for a neuronlab activation; None for identity."""
    if act.name == "identity":
        return None
    if act.name == "swish":
        if act.beta != 1.0:
            raise ValueError(f"swish with beta={act.beta} has no PyTorch module (SiLU is beta = 1)")
        return "SiLU", {}
    if act.name not in TORCH_ACTIVATIONS:
        raise ValueError(f"the activation {act.name!r} has no exact PyTorch module; "
                         f"convertible: identity, swish, {', '.join(TORCH_ACTIVATIONS)}")
    torch_name, args = TORCH_ACTIVATIONS[act.name]
    if act.name == "prelu":
        slopes = np.atleast_1d(act.alpha)
        return torch_name, {"num_parameters": slopes.shape[0], "init": float(slopes[0])}
    return torch_name, {torch_arg: act.params[ours] for torch_arg, ours in args.items()}


def to_torch(network: Any):
    torch = _import_torch()
    nn = torch.nn
    dtype = torch.float64 if network.dtype == np.float64 else torch.float32
    modules = []
    for layer in network.layers:
        linear = nn.Linear(layer.n_in, layer.n_out, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.W))
            linear.bias.copy_(torch.from_numpy(layer.b))
        modules.append(linear)
        spec = activation_module_spec(layer.activation)
        if spec is not None:
            torch_name, kwargs = spec
            module = getattr(nn, torch_name)(**kwargs)
            if torch_name == "PReLU":
                module = module.to(dtype)
                with torch.no_grad():
                    module.weight.copy_(torch.from_numpy(np.atleast_1d(layer.alpha)))
            modules.append(module)
    return nn.Sequential(*modules)


def _array(tensor: Any) -> np.ndarray:
    return np.array(tensor.detach().cpu().numpy())


def from_torch(cls: type, module: Any, loss: Any) -> Any:
    """Read Linear modules, each followed by at most one activation module."""
    from neuronlab.layers import Layer

    children = list(module.children()) if hasattr(module, "children") else list(module)
    layers = []
    i = 0
    while i < len(children):
        linear = children[i]
        if type(linear).__name__ != "Linear":
            raise ValueError(f"module {i} is a {type(linear).__name__}; expected a Linear "
                             "(each Linear may be followed by one activation module)")
        W = _array(linear.weight)
        b = _array(linear.bias) if linear.bias is not None else np.zeros(W.shape[0], W.dtype)
        activation, params = "identity", {}
        nxt = children[i + 1] if i + 1 < len(children) else None
        if nxt is not None and type(nxt).__name__ != "Linear":
            torch_name = type(nxt).__name__
            if torch_name not in FROM_TORCH and torch_name != "Identity":
                raise ValueError(f"module {i + 1} is a {torch_name}, which has no neuronlab "
                                 f"activation; supported: {', '.join(sorted(FROM_TORCH))}")
            activation = FROM_TORCH.get(torch_name, "identity")
            if activation == "prelu":
                slopes = _array(nxt.weight).astype(np.float64)
                params = {"alpha": slopes if slopes.shape[0] > 1 else float(slopes[0])}
            elif activation in TORCH_ACTIVATIONS:
                params = {ours: getattr(nxt, torch_arg)
                          for torch_arg, ours in TORCH_ACTIVATIONS[activation][1].items()}
            if torch_name == "Hardtanh" and (nxt.min_val, nxt.max_val) != (-1.0, 1.0):
                raise ValueError("only Hardtanh(-1, 1) matches neuronlab's hard_tanh")
            if torch_name == "Softplus" and (nxt.beta, nxt.threshold) != (1.0, 20.0):
                raise ValueError("only Softplus(beta=1) matches neuronlab's softplus")
            i += 1
        i += 1
        dtype = np.float64 if W.dtype == np.float64 else np.float32
        layer = Layer(W.shape[1], W.shape[0], activation, dtype=dtype, **params)
        np.copyto(layer.W, W.astype(dtype))
        np.copyto(layer.b, b.astype(dtype))
        layers.append(layer)
    if not layers:
        raise ValueError("the module holds no Linear layer")
    return cls(layers, loss)
