"""Time every activation kernel, forward and backward, against its peers (issue 2).

For each size (10^6 and 10^7 elements; ``--quick``: 10^5), dtype (float32, float64) and
thread count (1, 2) it times

* **neuronlab** through the public API, ``act(x, out=y)`` and ``act.backward(x, dy, out=dx)``,
  and the raw compiled loop the API calls (the difference is the wrapper's overhead);
* **NumPy**: the textbook formula written with ufuncs into pre-allocated buffers;
* **SciPy**: the same with ``scipy.special.expit`` / ``erf`` where the formula needs them;
* **PyTorch** (when installed): the ATen operator behind ``torch.nn.functional`` through
  its ``out=`` overload, with ``torch.set_num_threads`` following the thread count.
  Backward uses ATen's explicit derivative operators (``sigmoid_backward``,
  ``gelu_backward``, ...), not autograd, so no graph is built or timed. Where that
  operator wants the output y (sigmoid, tanh), the backward-from-x row pays for
  computing y first, exactly as neuronlab's ``backward(x, dy)`` does; the "from y" rows
  compare the output-based forms directly;
* the **floor**: ``np.copyto(dst, src)`` of the same dtype and size, the cost of streaming
  one array in and one out. A backward pass streams two arrays in (x, dy) and one out,
  so its floor is 1.5 copies.

neuronlab, the copy and the peers that could be fastest take turns, one call each per
round (``_timing.race``): on a shared machine the speed of memory drifts within minutes,
and contenders timed one after another would be compared at different moments.

Every contender writes into buffers allocated beforehand, so allocation is never timed,
and the reported time is the minimum over several calls after a warm-up. With 1 thread
that is the CPU time of the calling thread, which a busy machine cannot inflate by
preempting it; with 2 threads it is wall-clock time (both are in the JSON). NumPy and
SciPy are single-threaded: their 1-thread measurements are reused in the 2-thread
tables. Each peer's result is compared with neuronlab's (on a sample of the elements) so
that a wrong formula cannot win a race.

Targets (issue 2): no slower than the best peer (within 5%, the noise of a shared
machine), smooth kernels within 3x of the floor, piecewise-linear ones within 1.3x.

Run ``python benchmarks/bench_activations.py [--quick] [--only sigmoid,gelu]``; the tables
go to stdout and every number to ``bench-results/activations.json``.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_time, copy_floor, format_table, machine, race, write_json

import neuronlab as nl
from neuronlab._kernels import _elementwise

try:
    import scipy.special as sp
except ImportError:  # pragma: no cover - depends on the environment
    sp = None
try:
    import torch

    aten = torch.ops.aten
except ImportError:  # pragma: no cover - depends on the environment
    torch = aten = None

SIZES = (10**6, 10**7)
QUICK_SIZES = (10**5,)
DTYPES = (np.float32, np.float64)
THREADS = (1, 2)
PRELU_UNITS = 250  # divides every size above
PRELU_SLOPE = 0.25

FLOOR_TARGET = {"smooth": 3.0, "piecewise-linear": 1.3}
PEER_TOLERANCE = 1.05

SQRT1_2 = 1 / math.sqrt(2)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
GELU_K = 0.044715
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
HARD_SIGMOID_SLOPE = 1 / 6  # PyTorch's hardsigmoid; the course's default is 1/4
RRELU_SLOPE = (1 / 8 + 1 / 3) / 2  # the evaluation-mode slope of RReLU(1/8, 1/3)


# ----------------------------------------------------------------------------------------
# The kernels. `category` picks the floor target; `units` views the arrays as (-1, units)
# (per-unit PReLU); `from_output` adds rows for backward_from_output(y, dy).
# ----------------------------------------------------------------------------------------
SMOOTH, LINEAR = "smooth", "piecewise-linear"
FWD, BWD, BWD_Y = "forward", "backward", "backward_from_output"


@dataclass(frozen=True)
class Kernel:
    label: str
    name: str
    category: str
    params: dict = field(default_factory=dict)
    units: int | None = None
    from_output: bool = False

    def activation(self):
        return nl.activations.get(self.name, **self.params)

    @property
    def ops(self) -> list[str]:
        return [FWD, BWD, BWD_Y] if self.from_output else [FWD, BWD]


KERNELS = [
    Kernel("identity", "identity", LINEAR),
    Kernel("binary_step", "binary_step", LINEAR),
    Kernel("sigmoid", "sigmoid", SMOOTH, from_output=True),
    Kernel("hard_sigmoid(1/6)", "hard_sigmoid", LINEAR, {"slope": HARD_SIGMOID_SLOPE}),
    Kernel("tanh", "tanh", SMOOTH, from_output=True),
    Kernel("hard_tanh", "hard_tanh", LINEAR),
    Kernel("softsign", "softsign", SMOOTH),
    Kernel("relu", "relu", LINEAR, from_output=True),
    Kernel("leaky_relu(0.01)", "leaky_relu", LINEAR, {"alpha": 0.01}),
    Kernel(f"prelu({PRELU_UNITS} units)", "prelu", LINEAR,
           {"alpha": np.full(PRELU_UNITS, PRELU_SLOPE)}, units=PRELU_UNITS),
    Kernel("rrelu eval", "rrelu", LINEAR),
    Kernel("elu", "elu", SMOOTH, {"alpha": 1.0}, from_output=True),
    Kernel("selu", "selu", SMOOTH, from_output=True),
    Kernel("softplus", "softplus", SMOOTH),
    Kernel("swish=silu", "swish", SMOOTH),
    Kernel("gelu(erf)", "gelu", SMOOTH, {"approximate": "none"}),
    Kernel("gelu(tanh)", "gelu", SMOOTH, {"approximate": "tanh"}),
    Kernel("mish", "mish", SMOOTH),
]


# ----------------------------------------------------------------------------------------
# The peers. Each formula reads a namespace of buffers (x, y = f(x), dy, out, temporaries
# t1, t2 and a boolean mask: NumPy arrays, or for PyTorch tensors sharing their memory)
# and writes its result into `out`. NumPy's formulas are the textbook ones; PyTorch's are
# the ATen operators behind torch.nn.functional, through their out= overloads.
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Peer:
    library: str  # "numpy", "scipy" or "torch"
    label: str
    run: Callable[[SimpleNamespace], object]
    allocates: bool = False  # no out= overload exists: the result is a new tensor


PEERS: dict[tuple[str, str], list[Peer]] = {}


def peer(kernel: str, op: str, library: str, label: str, allocates: bool = False):
    """Register the decorated formula as `library`'s version of `kernel`'s `op`."""
    def register(run):
        PEERS.setdefault((kernel, op), []).append(Peer(library, label, run, allocates))
        return run
    return register


# Shared pieces of the textbook formulas.
def np_sigmoid(x, out):
    """1 / (1 + exp(-x)) into `out`."""
    np.negative(x, out=out)
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)


def np_times_dy(b, factor):
    """out = factor * dy."""
    np.multiply(factor, b.dy, out=b.out)


def np_leaky(b, alpha):
    """max(x, alpha x), leaky ReLU for alpha < 1."""
    np.multiply(b.x, alpha, out=b.out)
    np.maximum(b.x, b.out, out=b.out)


def np_leaky_backward(b, alpha):
    """dy where x > 0, alpha dy elsewhere."""
    np.multiply(b.dy, alpha, out=b.out)
    np.greater(b.x, 0, out=b.mask)
    np.copyto(b.out, b.dy, where=b.mask)


def np_elu(b, alpha, scale):
    """scale * (x if x > 0 else alpha (e^x - 1))."""
    np.expm1(b.x, out=b.out)
    b.out *= alpha * scale
    np.greater(b.x, 0, out=b.mask)
    np.multiply(b.x, scale, out=b.t1)
    np.copyto(b.out, b.t1, where=b.mask)


def np_elu_backward(b, alpha, scale):
    """scale * (1 if x > 0 else alpha e^x) * dy."""
    np.exp(b.x, out=b.t1)
    b.t1 *= alpha * scale
    np.greater(b.x, 0, out=b.mask)
    np.copyto(b.t1, scale, where=b.mask)
    np_times_dy(b, b.t1)


def np_elu_from_y(b, alpha, scale):
    """(scale if y > 0 else y + scale alpha) * dy."""
    np.add(b.y, alpha * scale, out=b.t1)
    np.greater(b.y, 0, out=b.mask)
    np.copyto(b.t1, scale, where=b.mask)
    np_times_dy(b, b.t1)


def np_sigmoid_backward(b, s):
    """s (1 - s) dy, s = sigma(x) given."""
    np.subtract(1, s, out=b.out)
    b.out *= s
    b.out *= b.dy


def np_swish_backward(b, s):
    """s (1 + x (1 - s)) dy, s = sigma(x) given."""
    np.subtract(1, s, out=b.out)
    b.out *= b.x
    b.out += 1
    b.out *= s
    b.out *= b.dy


def np_gelu_tanh_t(b):
    """t1 = tanh(sqrt(2/pi) (x + k x^3))."""
    np.multiply(b.x, b.x, out=b.t1)
    b.t1 *= GELU_K
    b.t1 += 1
    b.t1 *= b.x
    b.t1 *= SQRT_2_OVER_PI
    np.tanh(b.t1, out=b.t1)


def np_mish_g(b):
    """t1 = g = tanh(log(1 + exp(x)))."""
    np.exp(b.x, out=b.t1)
    np.log1p(b.t1, out=b.t1)
    np.tanh(b.t1, out=b.t1)


def sp_gelu_phi(b):
    """t1 = Phi(x) = (1 + erf(x / sqrt 2)) / 2."""
    np.multiply(b.x, SQRT1_2, out=b.t1)
    sp.erf(b.t1, out=b.t1)
    b.t1 += 1
    b.t1 *= 0.5


def th_softsign_denominator(t, power):
    """t1 = (1 + |x|)^power."""
    torch.abs(t.x, out=t.t1)
    t.t1.add_(1)
    if power == 2:
        t.t1.mul_(t.t1)


def th_backward_from_x(forward, backward, t):
    """An ATen derivative that wants y = f(x), from x: compute y, then the derivative."""
    forward(t.x, out=t.t1)
    backward(t.dy, t.t1, grad_input=t.out)


# identity: y = x, dx = dy
@peer("identity", FWD, "numpy", "np.copyto")
def np_identity(b):
    np.copyto(b.out, b.x)


@peer("identity", FWD, "torch", "copy_")
def th_identity(t):
    t.out.copy_(t.x)


# The backward peers of identity and binary_step never read x: f' is the constant 1 or 0.
# neuronlab's backward(x, dy) = f'(x) dy reads it, so that a NaN in x gives NaN (issue 2's
# NaN rule, tests/test_activations.py::test_nan_in_nan_out): three streams against two.
@peer("identity", BWD, "numpy", "np.copyto(dy)")
def np_identity_backward(b):
    np.copyto(b.out, b.dy)


@peer("identity", BWD, "torch", "copy_(dy)")
def th_identity_backward(t):
    t.out.copy_(t.dy)


# binary_step: H(x) with H(0) = 1, dx = 0 dy
@peer("binary_step", FWD, "numpy", "np.heaviside")
def np_binary_step(b):
    np.heaviside(b.x, 1, out=b.out)


@peer("binary_step", FWD, "torch", "heaviside")
def th_binary_step(t):
    torch.heaviside(t.x, t.one, out=t.out)


@peer("binary_step", BWD, "numpy", "0*dy")
def np_binary_step_backward(b):
    np.multiply(b.dy, 0, out=b.out)


@peer("binary_step", BWD, "torch", "mul(dy,0)")
def th_binary_step_backward(t):
    torch.mul(t.dy, 0, out=t.out)


# sigmoid
@peer("sigmoid", FWD, "numpy", "1/(1+exp(-x))")
def np_sigmoid_forward(b):
    np_sigmoid(b.x, b.out)


@peer("sigmoid", FWD, "scipy", "expit")
def sp_sigmoid(b):
    sp.expit(b.x, out=b.out)


@peer("sigmoid", FWD, "torch", "sigmoid")
def th_sigmoid(t):
    torch.sigmoid(t.x, out=t.out)


@peer("sigmoid", BWD, "numpy", "s(1-s)dy")
def np_sigmoid_backward_x(b):
    np_sigmoid(b.x, b.t1)
    np_sigmoid_backward(b, b.t1)


@peer("sigmoid", BWD, "scipy", "expit;s(1-s)dy")
def sp_sigmoid_backward(b):
    sp.expit(b.x, out=b.t1)
    np_sigmoid_backward(b, b.t1)


@peer("sigmoid", BWD, "torch", "sigmoid;sigmoid_backward")
def th_sigmoid_backward_x(t):
    th_backward_from_x(aten.sigmoid.out, aten.sigmoid_backward.grad_input, t)


@peer("sigmoid", BWD_Y, "numpy", "y(1-y)dy")
def np_sigmoid_from_y(b):
    np_sigmoid_backward(b, b.y)


@peer("sigmoid", BWD_Y, "torch", "sigmoid_backward")
def th_sigmoid_from_y(t):
    aten.sigmoid_backward.grad_input(t.dy, t.y, grad_input=t.out)


# hard_sigmoid with PyTorch's slope 1/6: clip(x/6 + 1/2, 0, 1)
@peer("hard_sigmoid(1/6)", FWD, "numpy", "clip(x/6+1/2)")
def np_hard_sigmoid(b):
    np.multiply(b.x, HARD_SIGMOID_SLOPE, out=b.out)
    b.out += 0.5
    np.clip(b.out, 0, 1, out=b.out)


@peer("hard_sigmoid(1/6)", FWD, "torch", "hardsigmoid")
def th_hard_sigmoid(t):
    aten.hardsigmoid.out(t.x, out=t.out)


@peer("hard_sigmoid(1/6)", BWD, "numpy", "(|x|<3)dy/6")
def np_hard_sigmoid_backward(b):
    np.abs(b.x, out=b.t1)
    np.less(b.t1, 0.5 / HARD_SIGMOID_SLOPE, out=b.mask)
    np.multiply(b.dy, b.mask, out=b.out)
    b.out *= HARD_SIGMOID_SLOPE


@peer("hard_sigmoid(1/6)", BWD, "torch", "hardsigmoid_backward")
def th_hard_sigmoid_backward(t):
    aten.hardsigmoid_backward.grad_input(t.dy, t.x, grad_input=t.out)


# tanh
@peer("tanh", FWD, "numpy", "np.tanh")
def np_tanh(b):
    np.tanh(b.x, out=b.out)


@peer("tanh", FWD, "torch", "tanh")
def th_tanh(t):
    torch.tanh(t.x, out=t.out)


@peer("tanh", BWD, "numpy", "(1-tanh^2)dy")
def np_tanh_backward(b):
    np.tanh(b.x, out=b.t1)
    np.square(b.t1, out=b.t1)
    np.subtract(1, b.t1, out=b.t1)
    np_times_dy(b, b.t1)


@peer("tanh", BWD, "torch", "tanh;tanh_backward")
def th_tanh_backward_x(t):
    th_backward_from_x(aten.tanh.out, aten.tanh_backward.grad_input, t)


@peer("tanh", BWD_Y, "numpy", "(1-y^2)dy")
def np_tanh_from_y(b):
    np.square(b.y, out=b.t1)
    np.subtract(1, b.t1, out=b.t1)
    np_times_dy(b, b.t1)


@peer("tanh", BWD_Y, "torch", "tanh_backward")
def th_tanh_from_y(t):
    aten.tanh_backward.grad_input(t.dy, t.y, grad_input=t.out)


# hard_tanh: clip(x, -1, 1)
@peer("hard_tanh", FWD, "numpy", "np.clip")
def np_hard_tanh(b):
    np.clip(b.x, -1, 1, out=b.out)


@peer("hard_tanh", FWD, "torch", "hardtanh")
def th_hard_tanh(t):
    aten.hardtanh.out(t.x, -1.0, 1.0, out=t.out)


@peer("hard_tanh", BWD, "numpy", "(|x|<1)dy")
def np_hard_tanh_backward(b):
    np.abs(b.x, out=b.t1)
    np.less(b.t1, 1, out=b.mask)
    np.multiply(b.dy, b.mask, out=b.out)


@peer("hard_tanh", BWD, "torch", "hardtanh_backward")
def th_hard_tanh_backward(t):
    aten.hardtanh_backward.grad_input(t.dy, t.x, -1.0, 1.0, grad_input=t.out)


# softsign: x / (1 + |x|); no ATen operator, F.softsign composes these three
@peer("softsign", FWD, "numpy", "x/(1+|x|)")
def np_softsign(b):
    np.abs(b.x, out=b.t1)
    b.t1 += 1
    np.divide(b.x, b.t1, out=b.out)


@peer("softsign", FWD, "torch", "abs;add;div")
def th_softsign(t):
    th_softsign_denominator(t, 1)
    torch.div(t.x, t.t1, out=t.out)


@peer("softsign", BWD, "numpy", "dy/(1+|x|)^2")
def np_softsign_backward(b):
    np.abs(b.x, out=b.t1)
    b.t1 += 1
    np.square(b.t1, out=b.t1)
    np.divide(b.dy, b.t1, out=b.out)


@peer("softsign", BWD, "torch", "abs;add;mul;div")
def th_softsign_backward(t):
    th_softsign_denominator(t, 2)
    torch.div(t.dy, t.t1, out=t.out)


# relu
@peer("relu", FWD, "numpy", "maximum(x,0)")
def np_relu(b):
    np.maximum(b.x, 0, out=b.out)


@peer("relu", FWD, "torch", "clamp_min")
def th_relu(t):
    torch.clamp_min(t.x, 0, out=t.out)


@peer("relu", BWD, "numpy", "(x>0)dy")
def np_relu_backward(b):
    np.greater(b.x, 0, out=b.mask)
    np.multiply(b.dy, b.mask, out=b.out)


@peer("relu", BWD, "torch", "threshold_backward")
def th_relu_backward(t):
    aten.threshold_backward.grad_input(t.dy, t.x, 0, grad_input=t.out)


@peer("relu", BWD_Y, "numpy", "(y>0)dy")
def np_relu_from_y(b):
    np.greater(b.y, 0, out=b.mask)
    np.multiply(b.dy, b.mask, out=b.out)


@peer("relu", BWD_Y, "torch", "threshold_backward(y)")
def th_relu_from_y(t):
    aten.threshold_backward.grad_input(t.dy, t.y, 0, grad_input=t.out)


# leaky_relu, alpha = 0.01; RReLU in evaluation mode is leaky ReLU with the mean slope
@peer("leaky_relu(0.01)", FWD, "numpy", "max(x,.01x)")
def np_leaky_relu(b):
    np_leaky(b, 0.01)


@peer("leaky_relu(0.01)", FWD, "torch", "leaky_relu")
def th_leaky_relu(t):
    aten.leaky_relu.out(t.x, 0.01, out=t.out)


@peer("leaky_relu(0.01)", BWD, "numpy", "where(x>0,1,.01)dy")
def np_leaky_relu_backward(b):
    np_leaky_backward(b, 0.01)


@peer("leaky_relu(0.01)", BWD, "torch", "leaky_relu_backward")
def th_leaky_relu_backward(t):
    aten.leaky_relu_backward.grad_input(t.dy, t.x, 0.01, False, grad_input=t.out)


@peer("rrelu eval", FWD, "numpy", "max(x,ax)")
def np_rrelu(b):
    np_leaky(b, RRELU_SLOPE)


@peer("rrelu eval", FWD, "torch", "leaky_relu(=rrelu eval)")
def th_rrelu(t):
    aten.leaky_relu.out(t.x, RRELU_SLOPE, out=t.out)


@peer("rrelu eval", BWD, "numpy", "where(x>0,1,a)dy")
def np_rrelu_backward(b):
    np_leaky_backward(b, RRELU_SLOPE)


@peer("rrelu eval", BWD, "torch", "leaky_relu_backward")
def th_rrelu_backward(t):
    aten.leaky_relu_backward.grad_input(t.dy, t.x, RRELU_SLOPE, False, grad_input=t.out)


# PReLU with one slope per unit (the last axis): alpha broadcasts along the rows
@peer(f"prelu({PRELU_UNITS} units)", FWD, "numpy", "max(x,a*x)")
def np_prelu(b):
    np_leaky(b, b.alpha)


@peer(f"prelu({PRELU_UNITS} units)", FWD, "torch", "_prelu_kernel", allocates=True)
def th_prelu(t):
    return aten._prelu_kernel(t.x, t.alpha)


@peer(f"prelu({PRELU_UNITS} units)", BWD, "numpy", "where(x>0,1,a)dy")
def np_prelu_backward(b):
    np_leaky_backward(b, b.alpha)


# elu, alpha = 1, and selu = lambda elu(x, alpha_selu)
@peer("elu", FWD, "numpy", "where(x>0,x,expm1 x)")
def np_elu_forward(b):
    np_elu(b, 1.0, 1.0)


@peer("elu", FWD, "torch", "elu")
def th_elu(t):
    aten.elu.out(t.x, 1.0, 1.0, 1.0, out=t.out)


@peer("elu", BWD, "numpy", "where(x>0,1,e^x)dy")
def np_elu_backward_x(b):
    np_elu_backward(b, 1.0, 1.0)


@peer("elu", BWD, "torch", "elu_backward")
def th_elu_backward(t):
    aten.elu_backward.grad_input(t.dy, 1.0, 1.0, 1.0, False, t.x, grad_input=t.out)


@peer("elu", BWD_Y, "numpy", "where(y>0,1,y+1)dy")
def np_elu_backward_y(b):
    np_elu_from_y(b, 1.0, 1.0)


@peer("elu", BWD_Y, "torch", "elu_backward(y)")
def th_elu_from_y(t):
    aten.elu_backward.grad_input(t.dy, 1.0, 1.0, 1.0, True, t.y, grad_input=t.out)


@peer("selu", FWD, "numpy", "l*where(x>0,x,a expm1 x)")
def np_selu(b):
    np_elu(b, SELU_ALPHA, SELU_LAMBDA)


@peer("selu", FWD, "torch", "elu(scale)")
def th_selu(t):
    aten.elu.out(t.x, SELU_ALPHA, SELU_LAMBDA, 1.0, out=t.out)


@peer("selu", BWD, "numpy", "l*where(x>0,1,a e^x)dy")
def np_selu_backward(b):
    np_elu_backward(b, SELU_ALPHA, SELU_LAMBDA)


@peer("selu", BWD, "torch", "elu_backward(scale)")
def th_selu_backward(t):
    aten.elu_backward.grad_input(t.dy, SELU_ALPHA, SELU_LAMBDA, 1.0, False, t.x,
                                 grad_input=t.out)


@peer("selu", BWD_Y, "numpy", "where(y>0,l,y+la)dy")
def np_selu_from_y(b):
    np_elu_from_y(b, SELU_ALPHA, SELU_LAMBDA)


@peer("selu", BWD_Y, "torch", "elu_backward(scale,y)")
def th_selu_from_y(t):
    aten.elu_backward.grad_input(t.dy, SELU_ALPHA, SELU_LAMBDA, 1.0, True, t.y,
                                 grad_input=t.out)


# softplus: log(1 + e^x); PyTorch returns x itself above x = 20 (its `threshold`)
@peer("softplus", FWD, "numpy", "log1p(exp x)")
def np_softplus(b):
    np.exp(b.x, out=b.out)
    np.log1p(b.out, out=b.out)


@peer("softplus", FWD, "torch", "softplus")
def th_softplus(t):
    aten.softplus.out(t.x, 1.0, 20.0, out=t.out)


@peer("softplus", BWD, "numpy", "sigma(x)dy")
def np_softplus_backward(b):
    np_sigmoid(b.x, b.t1)
    np_times_dy(b, b.t1)


@peer("softplus", BWD, "scipy", "expit(x)dy")
def sp_softplus_backward(b):
    sp.expit(b.x, out=b.t1)
    np_times_dy(b, b.t1)


@peer("softplus", BWD, "torch", "softplus_backward")
def th_softplus_backward(t):
    aten.softplus_backward.grad_input(t.dy, t.x, 1.0, 20.0, grad_input=t.out)


# swish with beta = 1, which is SiLU
@peer("swish=silu", FWD, "numpy", "x/(1+exp(-x))")
def np_swish(b):
    np_sigmoid(b.x, b.out)
    b.out *= b.x


@peer("swish=silu", FWD, "scipy", "x*expit(x)")
def sp_swish(b):
    sp.expit(b.x, out=b.out)
    b.out *= b.x


@peer("swish=silu", FWD, "torch", "silu")
def th_swish(t):
    aten.silu.out(t.x, out=t.out)


@peer("swish=silu", BWD, "numpy", "s(1+x(1-s))dy")
def np_swish_backward_x(b):
    np_sigmoid(b.x, b.t1)
    np_swish_backward(b, b.t1)


@peer("swish=silu", BWD, "scipy", "expit;s(1+x(1-s))dy")
def sp_swish_backward(b):
    sp.expit(b.x, out=b.t1)
    np_swish_backward(b, b.t1)


@peer("swish=silu", BWD, "torch", "silu_backward")
def th_swish_backward(t):
    aten.silu_backward.grad_input(t.dy, t.x, grad_input=t.out)


# gelu with erf: NumPy has no erf, so its textbook formula needs SciPy
@peer("gelu(erf)", FWD, "scipy", "x(1+erf(x/sqrt2))/2")
def sp_gelu(b):
    sp_gelu_phi(b)
    np.multiply(b.t1, b.x, out=b.out)


@peer("gelu(erf)", FWD, "torch", "gelu")
def th_gelu(t):
    aten.gelu.out(t.x, approximate="none", out=t.out)


@peer("gelu(erf)", BWD, "scipy", "(Phi+x phi)dy")
def sp_gelu_backward(b):
    sp_gelu_phi(b)
    np.multiply(b.x, b.x, out=b.out)
    b.out *= -0.5
    np.exp(b.out, out=b.out)
    b.out *= INV_SQRT_2PI
    b.out *= b.x
    b.out += b.t1
    b.out *= b.dy


@peer("gelu(erf)", BWD, "torch", "gelu_backward")
def th_gelu_backward(t):
    aten.gelu_backward.grad_input(t.dy, t.x, approximate="none", grad_input=t.out)


# gelu, tanh approximation: x (1 + t) / 2 with t = tanh(sqrt(2/pi)(x + k x^3))
@peer("gelu(tanh)", FWD, "numpy", "x(1+tanh u)/2")
def np_gelu_tanh(b):
    np_gelu_tanh_t(b)
    b.t1 += 1
    np.multiply(b.t1, b.x, out=b.out)
    b.out *= 0.5


@peer("gelu(tanh)", FWD, "torch", "gelu(tanh)")
def th_gelu_tanh(t):
    aten.gelu.out(t.x, approximate="tanh", out=t.out)


@peer("gelu(tanh)", BWD, "numpy", "textbook f'dy")
def np_gelu_tanh_backward(b):
    # f' = (1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3k x^2) / 2
    np_gelu_tanh_t(b)
    np.multiply(b.x, b.x, out=b.t2)
    b.t2 *= 3 * GELU_K
    b.t2 += 1
    b.t2 *= b.x
    b.t2 *= 0.5 * SQRT_2_OVER_PI
    np.multiply(b.t1, b.t1, out=b.out)
    np.subtract(1, b.out, out=b.out)
    b.out *= b.t2
    b.t1 += 1
    b.t1 *= 0.5
    b.out += b.t1
    b.out *= b.dy


@peer("gelu(tanh)", BWD, "torch", "gelu_backward(tanh)")
def th_gelu_tanh_backward(t):
    aten.gelu_backward.grad_input(t.dy, t.x, approximate="tanh", grad_input=t.out)


# mish: x g with g = tanh(softplus(x))
@peer("mish", FWD, "numpy", "x tanh(log1p(exp x))")
def np_mish(b):
    np_mish_g(b)
    np.multiply(b.x, b.t1, out=b.out)


@peer("mish", FWD, "torch", "mish")
def th_mish(t):
    aten.mish.out(t.x, out=t.out)


@peer("mish", BWD, "numpy", "(g+x s(1-g^2))dy")
def np_mish_backward(b):
    np_mish_g(b)
    np_sigmoid(b.x, b.t2)
    np.multiply(b.t1, b.t1, out=b.out)
    np.subtract(1, b.out, out=b.out)
    b.out *= b.t2
    b.out *= b.x
    b.out += b.t1
    b.out *= b.dy


@peer("mish", BWD, "torch", "mish_backward", allocates=True)
def th_mish_backward(t):
    return aten.mish_backward(t.dy, t.x)


LIBRARIES = {"numpy": True, "scipy": sp is not None, "torch": torch is not None}


# ----------------------------------------------------------------------------------------
# Running one configuration
# ----------------------------------------------------------------------------------------
def make_buffers(n: int, dtype) -> SimpleNamespace:
    rng = np.random.default_rng(2024)
    # x spans both sides of every kink and reaches the saturated tails (|x| up to ~15).
    b = SimpleNamespace(
        x=(3 * rng.standard_normal(n)).astype(dtype),
        dy=rng.standard_normal(n).astype(dtype),
        y=np.empty(n, dtype),
        out=np.empty(n, dtype),
        ref=np.empty(n, dtype),
        t1=np.empty(n, dtype),
        t2=np.empty(n, dtype),
        mask=np.empty(n, bool),
        copy=np.empty(n, dtype),  # the copy floor's destination
    )
    # Touch every page of the output buffers now, not inside the first timing; x and dy
    # were written when they were drawn (filling them would make x one constant).
    for a in (b.y, b.out, b.ref, b.t1, b.t2, b.mask, b.copy):
        a.fill(0)
    return b


def view(b: SimpleNamespace, units: int | None, alpha) -> SimpleNamespace:
    """The buffers as (-1, units) views, with the PReLU slopes, plus PyTorch twins."""
    v = SimpleNamespace(**{k: (a.reshape(-1, units) if units else a) for k, a in vars(b).items()})
    if alpha is not None:
        v.alpha = alpha
    if torch is not None:
        v.torch = SimpleNamespace(**{k: torch.from_numpy(a) for k, a in vars(v).items()})
        v.torch.one = torch.ones((), dtype=v.torch.x.dtype)
    return v


def neuronlab_calls(act, op: str, v: SimpleNamespace, n_threads: int):
    """(public API call, raw kernel call) for `op`, both writing into v.out."""
    first = v.y if op == BWD_Y else v.x
    inputs = (first,) if op == FWD else (first, v.dy)
    method = getattr(act, op)

    def api():
        method(*inputs, out=v.out)

    if getattr(act, "per_unit", False):
        fn = getattr(_elementwise, f"leaky_relu_{op}_columns")
        args = (v.x, v.alpha, *inputs[1:], v.out)
    else:
        fn = _elementwise.loop(act.kernel, op)
        args = (*(a.reshape(-1) for a in inputs), v.out.reshape(-1), *act.kernel_params())

    def raw():
        fn(*args, n_threads=n_threads)

    return api, raw


def ms(times: dict[str, float]) -> dict[str, float]:
    return {k: 1e3 * t for k, t in times.items()}


def agrees(result: np.ndarray, reference: np.ndarray) -> bool:
    """Does a peer compute the same function? Checked on every 97th element."""
    tol = 1e-3 if result.dtype == np.float32 else 1e-7
    return bool(np.allclose(result.reshape(-1)[::97], reference.reshape(-1)[::97],
                            rtol=tol, atol=tol, equal_nan=True))


def time_kernel(kernel: Kernel, op: str, b, n_threads: int, timing: dict, cache: dict) -> dict:
    """Time neuronlab, its peers and the copy floor on one kernel and op; returns the record.

    neuronlab (API and raw loop), the copy and every peer that could be the fastest take
    turns (:func:`_timing.race`), so that their ratios do not depend on when each was
    timed. A peer more than twice as slow as neuronlab on its first calls cannot win
    and would only slow the turns down: it is timed on its own.
    """
    act = kernel.activation()
    alpha = act.alpha.astype(b.x.dtype) if getattr(act, "per_unit", False) else None
    v = view(b, kernel.units, alpha)
    if op == BWD_Y:
        act(v.x, out=v.y)
    api, raw = neuronlab_calls(act, op, v, n_threads)
    record = {"kernel": kernel.label, "op": op, "category": kernel.category}
    clock = "cpu" if n_threads == 1 else "wall"
    record["clock"] = clock
    api()
    np.copyto(v.ref, v.out)
    api_ms = 1e3 * best_time(api, min_repeats=1, max_repeats=1)[clock]
    contenders = {"neuronlab": api, "raw": raw, "copy": lambda: np.copyto(b.copy, b.x)}
    peers, alone = {}, {}
    for peer in PEERS.get((kernel.label, op), []):
        if not LIBRARIES[peer.library]:
            continue
        key = (kernel.label, op, peer.label)
        if peer.library != "torch" and n_threads > 1 and key in cache:
            times = cache[key]["times"]  # NumPy and SciPy do not thread
            peers[peer.label] = {**cache[key], "ms": times[clock]}
            continue
        args = v.torch if peer.library == "torch" else v

        def run(peer=peer, args=args):
            with np.errstate(all="ignore"):  # the textbook formulas overflow in the tails
                return peer.run(args)

        result = run()
        result = result.numpy() if peer.allocates else v.out
        peers[peer.label] = cache[key] = {"library": peer.library, "allocates": peer.allocates,
                                          "agrees": agrees(result, v.ref)}
        first_ms = 1e3 * best_time(run, min_repeats=1, max_repeats=1)[clock]
        (alone if first_ms > 2 * api_ms else contenders)[peer.label] = run
    times = {name: ms(t) for name, t in race(contenders, **timing).items()}
    for label, run in alone.items():
        times[label] = ms(best_time(run, **{**timing, "min_repeats": 3}))
    for label, t in times.items():
        if label in peers:
            peers[label].update(ms=t[clock], times=t, raced=label not in alone)
    record["neuronlab"], record["raw"], record["copy"] = (
        times["neuronlab"], times["raw"], times["copy"])
    record["neuronlab_ms"] = times["neuronlab"][clock]
    record["raw_ms"] = times["raw"][clock]
    record["copy_ms"] = times["copy"][clock]
    record["peers"] = peers
    return record


def judge(record: dict) -> None:
    """Add the ratios and the verdict against the targets of issue 2 to `record`."""
    streams = 2 if record["op"] == FWD else 3
    floor_ms = record["copy_ms"] * streams / 2
    record["floor_ms"] = floor_ms
    record["x_floor"] = record["neuronlab_ms"] / floor_ms
    fair = {k: p for k, p in record["peers"].items() if p["agrees"]}
    misses = []
    if fair:
        best = min(fair, key=lambda k: fair[k]["ms"])
        record["best_peer"] = best
        record["best_peer_library"] = fair[best]["library"]
        record["peer_ms"] = fair[best]["ms"]
        record["x_peer"] = record["neuronlab_ms"] / fair[best]["ms"]
        if record["x_peer"] > PEER_TOLERANCE:
            misses.append(f"slower than {fair[best]['library']}")
    target = FLOOR_TARGET[record["category"]]
    if record["x_floor"] > target:
        misses.append(f">{target:g}x floor")
    disagree = [k for k, p in record["peers"].items() if not p["agrees"]]
    if disagree:
        record["peers_disagreeing"] = disagree
    record["misses"] = misses
    record["verdict"] = "ok" if not misses else "MISS: " + ", ".join(misses)


OP_SHORT = {FWD: "fwd", BWD: "bwd", BWD_Y: "bwd(y)"}

# Why a miss is expected, printed under it in the summary.
EXPECTED_MISSES = {
    (name, "bwd"): "its peers copy dy (or multiply it by 0) without reading x; neuronlab reads x "
                   "too, so that NaN in x gives NaN out: 1.5x their memory traffic while the "
                   "output stays in the cache (see x floor)"
    for name in ("identity", "binary_step")
}


def print_table(n: int, dtype, n_threads: int, copy_ms: float, records: list[dict]) -> None:
    print(f"\n== n = 10^{round(math.log10(n))}, {np.dtype(dtype).name}, {n_threads} thread"
          f"{'s' if n_threads > 1 else ''}: copy {copy_ms:.3f} ms at the start "
          f"(np.copyto; each row's floor is a copy timed in turns with it, 1.5 copies "
          f"for backward); {'thread CPU' if n_threads == 1 else 'wall-clock'} times; "
          f"load average {os.getloadavg()[0]:.1f} ==")
    header = ["kernel", "op", "nl ms", "raw ms", "floor ms", "x floor", "best peer", "peer ms",
              "x peer", "verdict"]
    rows = []
    for r in records:
        rows.append([r["kernel"], OP_SHORT[r["op"]], f"{r['neuronlab_ms']:.3f}",
                     f"{r['raw_ms']:.3f}", f"{r['floor_ms']:.3f}", f"{r['x_floor']:.2f}",
                     r.get("best_peer", "-"),
                     f"{r['peer_ms']:.3f}" if "peer_ms" in r else "-",
                     f"{r['x_peer']:.2f}" if "x_peer" in r else "-", r["verdict"]])
    print(format_table(header, rows), flush=True)
    for r in records:
        if r.get("peers_disagreeing"):
            print(f"  note: {r['kernel']} {OP_SHORT[r['op']]}: {', '.join(r['peers_disagreeing'])} "
                  "computed something else (ignored as a peer)")


def main(quick: bool = False, only: list[str] | None = None) -> dict:
    """Run the benchmark, print one table per configuration, write the JSON; return it."""
    sizes = QUICK_SIZES if quick else SIZES
    timing = ({"min_repeats": 3, "max_repeats": 20, "budget": 0.01} if quick
              else {"min_repeats": 10, "max_repeats": 50, "budget": 0.2})
    # On a busy machine a call spread over 2 threads often waits a whole scheduler slice
    # for its second thread: more repeats give it more chances at a quiet moment.
    timings = (timing, {**timing, "budget": 3 * timing["budget"]})
    kernels = [k for k in KERNELS if not only or k.name in only or k.label in only]
    info = machine()
    info["scipy"] = __import__("scipy").__version__ if sp is not None else None
    info["torch"] = torch.__version__ if torch is not None else None
    print(f"neuronlab activations benchmark: {info['cpu']} (kernels at CPU level {info['cpu_level']}), "
          f"{info['cores_available']} cores, "
          f"load average {info['load_average']}; numpy {info['numpy']}, scipy {info['scipy']}, "
          f"torch {info['torch'] or 'not installed'}; OMP_WAIT_POLICY={info['OMP_WAIT_POLICY']}")
    if torch is None:
        print("PyTorch is not installed: `pip install torch==2.13.0` adds it as a peer.")
    start = time.perf_counter()
    results = []
    saved = nl.get_num_threads()
    try:
        for n in sizes:
            for dtype in DTYPES:
                b = make_buffers(n, dtype)
                cache: dict = {}
                for n_threads in THREADS:
                    nl.set_num_threads(n_threads)
                    if torch is not None:
                        torch.set_num_threads(n_threads)
                    repeats = timings[n_threads > 1]
                    copy = ms(copy_floor(n, dtype, **repeats))
                    copy_ms = copy["cpu" if n_threads == 1 else "wall"]
                    records = []
                    for kernel in kernels:
                        for op in kernel.ops:
                            record = time_kernel(kernel, op, b, n_threads, repeats, cache)
                            judge(record)
                            records.append(record)
                    print_table(n, dtype, n_threads, copy_ms, records)
                    results.append({"n": n, "dtype": np.dtype(dtype).name, "threads": n_threads,
                                    "copy_ms": copy_ms, "copy": copy,
                                    "load_average": os.getloadavg()[0],
                                    "records": records})
    finally:
        nl.set_num_threads(saved)
    elapsed = time.perf_counter() - start
    payload = {"benchmark": "activations", "quick": quick, "seconds": elapsed, "machine": info,
               "targets": {"x_floor": FLOOR_TARGET, "x_peer": PEER_TOLERANCE},
               "configurations": results}
    print_summary(results)
    path = write_json("activations", payload)
    print(f"\n{elapsed:.0f} s; results in {path}")
    return payload


def print_summary(results: list[dict]) -> None:
    """Every missed target, grouped by kernel and op."""
    misses: dict[tuple[str, str], list[str]] = {}
    for config in results:
        tag = f"10^{round(math.log10(config['n']))}/{config['dtype']}/{config['threads']}t"
        for r in config["records"]:
            for m in r["misses"]:
                misses.setdefault((r["kernel"], OP_SHORT[r["op"]]), []).append(f"{tag} {m}")
    print("\n== targets missed (size/dtype/threads) ==")
    if not misses:
        print("none")
    for (kernel, op), items in misses.items():
        print(f"{kernel} {op}: " + "; ".join(items))
        if (kernel, op) in EXPECTED_MISSES:
            print(f"  why: {EXPECTED_MISSES[kernel, op]}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10^5 elements only, fewer repeats")
    parser.add_argument("--only", default="",
                        help="comma-separated activation names, e.g. sigmoid,gelu")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    main(quick=args.quick, only=[s for s in args.only.split(",") if s] or None)
