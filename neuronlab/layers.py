r"""A fully connected layer of neurons: z = a_prev W^T + b, a = f(z), and its backward pass.

Layer l has n_out units, each with one weight per input: W has shape (n_out, n_in), row j
holding w_ji^(l), and b has shape (n_out,). A batch is a matrix with one sample per row,
so for m samples

.. math::
   z^{(l)} = a^{(l-1)} W^{(l)T} + b^{(l)} \quad (m \times n_{out}), \qquad
   a^{(l)} = f(z^{(l)}).

Back-propagation, one sample at a time as in the lecture (column vectors):

.. math::
   \delta^{(l)} = \bigl(W^{(l+1)T} \delta^{(l+1)}\bigr) \odot f'(z^{(l)}), \qquad
   \frac{\partial J}{\partial W^{(l)}} = \delta^{(l)} a^{(l-1)T}, \qquad
   \frac{\partial J}{\partial b^{(l)}} = \delta^{(l)}.

:meth:`Layer.backward` receives dJ/da^(l), which is W^(l+1)T delta^(l+1) computed by the
layer above (or the loss's gradient for the last layer), and returns W^(l)T delta^(l) for the
layer below. With the batch in rows the sums over samples become matrix products:
dJ/dW = delta^T a_prev and dJ/da_prev = delta W.

>>> import numpy as np
>>> import neuronlab as nl
>>> layer = nl.Layer(3, 2, "tanh", seed=0)
>>> a = layer.forward(np.ones((4, 3)))             # 4 samples in, 4 rows out
>>> a.shape, layer.W.shape, layer.b.shape
((4, 2), (2, 3), (2,))
>>> grad_prev = layer.backward(np.ones((4, 2)))    # dJ/da for J = sum(a)
>>> grad_prev.shape, layer.dW.shape
((4, 3), (2, 3))
"""
from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np

from neuronlab import activations
from neuronlab import init as initializers
from neuronlab._config import get_num_threads
from neuronlab._kernels._dense import DenseLayer
from neuronlab._kernels._elementwise import KINDS
from neuronlab._validation import as_float_array, check_count, check_samples, make_rng

__all__ = ["Layer", "gather_parameters"]


class Layer:
    """A dense layer of n_out neurons that each see all n_in outputs of the layer below.

    Parameters
    ----------
    n_in, n_out : int
        Inputs per sample and units in this layer.
    activation : str or Activation, default "relu"
        The units' f, by name from :mod:`neuronlab.activations` (with `activation_params`)
        or as an object. For ``"prelu"`` the slope alpha is learned like W and b: one
        shared number (``alpha=0.25``) or one per unit (``alpha=np.full(n_out, 0.25)``).
        ``"rrelu"`` draws random slopes in training mode (see :meth:`train`, :meth:`eval`).
    init : str or callable, optional
        How W starts (:mod:`neuronlab.init`); by default He for relu-like activations,
        LeCun for selu and Xavier otherwise. b starts at zero.
    seed : int, numpy.random.Generator or None
        Seeds W (and RReLU's slopes unless a seed is given for them). A layer made without
        a seed that joins a :class:`~neuronlab.network.Network` made with one gets its
        weights (and RReLU slopes) drawn anew from the network's seed, so that
        ``Network(layers, seed=0)`` alone makes a run repeatable; a seeded layer keeps its own.
    dtype : float32 or float64, default float64

    Attributes
    ----------
    W : ndarray (n_out, n_in)
        For maxout with k pieces, (n_out * k, n_in): the k pieces of unit u are rows
        u*k ... u*k + k - 1 (the layout :class:`neuronlab.softmax.Maxout` reads).
    b : ndarray (n_out,), or (n_out * k,) for maxout
    dW, db : ndarray
        dJ/dW and dJ/db from the last :meth:`backward`, summed over its batch.
    alpha, dalpha : ndarray, PReLU only
        The slopes, shape (1,) when shared or (n_out,), and dJ/dalpha.
    training : bool
        Training mode (the default) or evaluation mode; only RReLU behaves differently.
    """

    def __init__(self, n_in: int, n_out: int, activation: str | activations.Activation = "relu",
                 init: Any = None, seed: Any = None, dtype: Any = np.float64,
                 **activation_params: Any):
        self.n_in = check_count(n_in, "n_in")
        self.n_out = check_count(n_out, "n_out")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype}")
        self.seed = seed
        rng = make_rng(seed)
        # a name, not an RReLU object: the slopes' generator is seeded from the layer's
        self._seeds_slopes = activation == "rrelu" and "seed" not in activation_params
        if self._seeds_slopes:
            activation_params["seed"] = int(rng.integers(2**63))
        self.activation = activations.get(activation, **activation_params)
        self.init = initializers.get(initializers.for_activation(self.activation.name)
                                     if init is None else init)
        # A maxout unit is the largest of k linear pieces: k rows of W (and entries of b) per unit.
        self.n_z = self.n_out * getattr(self.activation, "pieces", 1)
        self.W = np.ascontiguousarray(self.init((self.n_z, self.n_in), rng=rng, dtype=self.dtype))
        self.b = np.zeros(self.n_z, dtype=self.dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.alpha = self.dalpha = None
        if isinstance(self.activation, activations.PReLU):
            self._share_prelu_slopes()
        self.training = True
        self._training_pass = True   # the mode of the last forward pass, which backward repeats
        self._engine: DenseLayer | None = None

    def initialize(self, rng: Any) -> None:
        """Draw W anew with `rng` (the layer's initializer), set b to 0, and reseed RReLU's
        slopes unless they were given a seed of their own: what a
        :class:`~neuronlab.network.Network` with a seed does to a layer made without one."""
        rng = make_rng(rng)
        self.W = np.ascontiguousarray(self.init((self.n_z, self.n_in), rng=rng, dtype=self.dtype))
        self.b = np.zeros(self.n_z, dtype=self.dtype)
        act = self.activation
        if isinstance(act, activations.RReLU) and (self._seeds_slopes or act.seed is None):
            act.seed = int(rng.integers(2**63))
            act.rng = np.random.default_rng(act.seed)

    def _share_prelu_slopes(self) -> None:
        """Keep PReLU's alpha in an array the optimizer can update in place."""
        act = self.activation
        if act.per_unit:
            if act.alpha.shape != (self.n_out,):
                raise ValueError(f"alpha has {act.alpha.shape[0]} slopes but the layer has "
                                 f"{self.n_out} units")
            self.alpha = act.alpha          # the activation reads this very array
        else:
            self.alpha = np.array([act.alpha])
        self.dalpha = np.zeros_like(self.alpha)

    # -- modes -------------------------------------------------------------------------
    def train(self) -> Layer:
        """Training mode: RReLU draws a random slope per element."""
        self.training = True
        return self

    def eval(self) -> Layer:
        """Evaluation mode: RReLU uses its mean slope."""
        self.training = False
        return self

    # -- the passes ----------------------------------------------------------------------
    def engine(self, rows: int, logits: bool = False) -> DenseLayer:
        """The compiled passes of this layer (:class:`~neuronlab._kernels._dense.DenseLayer`)
        for batches of up to `rows` samples.

        Made once and kept; made anew when a batch does not fit, when the parameters moved
        (a :class:`~neuronlab.network.Network` gathers them into one vector) or when the
        activation's parameters changed. A compiled activation runs inside the engine; any
        other (a student's own, PReLU, RReLU, maxout) is called back through
        :meth:`activate` and :meth:`backpropagate`. With `logits` the engine stops at z (a
        network's softmax output layer, whose softmax the loss applies).
        """
        kernel = "identity" if logits else self.activation.compiled_kernel()
        kind = -1 if kernel is None else KINDS[kernel]
        params = () if kernel is None else tuple(self.activation.kernel_params())
        engine = self._engine
        if (engine is None or engine.max_rows < rows or engine.kind != kind
                or engine.params[:len(params)] != params
                or not engine.holds(self.W, self.b, self.dW, self.db)):
            engine = self._engine = DenseLayer(self.W, self.b, self.dW, self.db, self.n_out, kind,
                                               params, rows, self.activate, self.backpropagate)
        return engine

    def forward(self, a_prev: Any, training: bool | None = None) -> np.ndarray:
        """a = f(a_prev W^T + b) for a batch a_prev of shape (m, n_in).

        Keeps a_prev (by reference: do not change it before :meth:`backward`) and z.
        The result is a buffer of this layer that the next forward pass overwrites; copy
        it to keep it. `training` overrides the layer's mode for this pass.
        """
        a_prev = check_samples(a_prev, "a_prev", self.n_in, self.dtype)
        engine = self.engine(a_prev.shape[0])
        mode = self.training
        if training is not None:
            self.training = bool(training)
        try:
            return engine.forward(a_prev, get_num_threads())
        finally:
            self.training = mode

    __call__ = forward

    def backward(self, grad_a: Any) -> np.ndarray:
        """From dJ/da of the last forward batch, compute dW, db (and dalpha); return dJ/da_prev.

        ``grad_a`` is W^(l+1)T delta^(l+1) (rows: samples), handed down by the layer above.
        The result is a buffer of this layer, like the forward pass's.
        """
        engine = self._engine
        if engine is None or engine.rows == 0:
            raise ValueError("backward() needs a forward() first: it uses that batch's z")
        m = engine.rows
        grad_a = np.ascontiguousarray(as_float_array(grad_a, "grad_a", self.dtype))
        if grad_a.shape != (m, self.n_out):
            raise ValueError(f"grad_a has shape {grad_a.shape} but the last forward pass "
                             f"produced {(m, self.n_out)}")
        return engine.backward(grad_a, get_num_threads())

    @property
    def z(self) -> np.ndarray | None:
        """z = a_prev W^T + b of the last forward pass (a view of the engine's buffer)."""
        engine = self._engine
        return None if engine is None or engine.rows == 0 else engine.z[:engine.rows]

    @property
    def a_prev(self) -> np.ndarray | None:
        """The input of the last forward pass, which :meth:`backward` uses."""
        engine = self._engine
        return None if engine is None or engine.rows == 0 else engine.a_prev[:engine.rows]

    # -- the activation, when it runs in Python ---------------------------------------------
    def activate(self, z: np.ndarray, a: np.ndarray) -> None:
        """a = f(z), written into `a`: the engine calls this for an activation with no
        compiled loop (``activation.compiled_kernel()`` is None)."""
        act = self.activation
        self._training_pass = self.training
        out = {"out": a} if _writes_out(act.forward) else {}
        if isinstance(act, activations.RReLU):
            result = act.forward(z, training=self.training, **out)   # random slopes only in training
        else:
            if self.alpha is not None and not act.per_unit:
                act.alpha = float(self.alpha[0])   # the learned shared slope
            result = act.forward(z, **out)
        if result is not a:
            _store(result, a, act, "forward", z.shape)

    def backpropagate(self, z: np.ndarray, grad_a: np.ndarray, delta: np.ndarray) -> None:
        """delta = dJ/dz from z and dJ/da, written into `delta` (and dJ/dalpha for PReLU):
        the backward half of :meth:`activate`."""
        act = self.activation
        out = {"out": delta} if _writes_out(act.backward) else {}
        if isinstance(act, activations.RReLU):
            result = act.backward(z, grad_a, training=self._training_pass, **out)
        else:
            result = act.backward(z, grad_a, **out)
        if result is not delta:
            _store(result, delta, act, "backward", z.shape)
        if self.alpha is not None:
            self.dalpha[...] = act.alpha_gradient(z, grad_a)    # sum of grad_a * min(0, z)

    # -- parameters ----------------------------------------------------------------------
    def named_parameters(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(name, parameter, gradient) for W, b and, with PReLU, alpha."""
        named = [("W", self.W, self.dW), ("b", self.b, self.db)]
        if self.alpha is not None:
            named.append(("alpha", self.alpha, self.dalpha))
        return named

    def params_and_grads(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The (parameter, gradient) pairs an optimizer's ``step`` takes."""
        return [(p, g) for _, p, g in self.named_parameters()]

    @property
    def n_params(self) -> int:
        return sum(p.size for _, p, _ in self.named_parameters())

    def __repr__(self) -> str:
        return f"Layer(n_in={self.n_in}, n_out={self.n_out}, activation={self.activation!r})"


# -- layers stacked into a network ----------------------------------------------------------
def check_stack(layers: Any, loss: Any) -> list[Layer]:
    """`layers` as a network stacks them for `loss`: a list of Layers (or one Layer), each
    taking the outputs of the one before as its inputs, all of one dtype, and ending in an
    output layer that fits the loss (a softmax goes last, and with cross-entropy)."""
    if isinstance(layers, Layer):
        layers = [layers]
    layers = list(layers)
    if not layers:
        raise ValueError("layers is empty: a network needs at least one Layer")
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layers[{i}] must be a neuronlab Layer, got {type(layer).__name__}")
    _check_output(layers, loss)
    for i in range(1, len(layers)):
        if layers[i].n_in != layers[i - 1].n_out:
            raise ValueError(f"layers[{i}] takes {layers[i].n_in} inputs but layers[{i - 1}] "
                             f"has {layers[i - 1].n_out} units; make layers[{i}] with "
                             f"n_in={layers[i - 1].n_out}")
        if layers[i].dtype != layers[0].dtype:
            raise TypeError(f"layers[{i}] has dtype {layers[i].dtype} but layers[0] has "
                            f"{layers[0].dtype}; all layers must share one dtype")
    return layers


def _check_output(layers: list[Layer], loss: Any) -> None:
    """Refuse a last layer and a loss that do not fit together: softmax then cross-entropy
    is the lecture's output layer, any other softmax or log-softmax is refused."""
    for i, layer in enumerate(layers):
        name = layer.activation.name
        if name == "log_softmax" or (name == "softmax" and i < len(layers) - 1):
            raise ValueError(f"layers[{i}] uses {name} as its activation; for a classifier end with "
                             "an identity layer and use loss='softmax_cross_entropy', which applies "
                             "the softmax and back-propagates y - r")
    last = layers[-1].activation
    if last.name == "softmax":
        if loss.name != "cross_entropy" or last.params != {"axis": -1, "temperature": 1.0}:
            raise ValueError("a softmax output layer goes with loss='cross_entropy' (and its default "
                             f"axis and temperature), not {loss.name}; or end with an identity layer "
                             "and use loss='softmax_cross_entropy'")
    elif loss.name == "cross_entropy":
        raise ValueError(f"loss='cross_entropy' needs probabilities, but the last layer's outputs are "
                         f"{last.name}: end with Layer(..., 'softmax'), or keep an identity last layer "
                         "and use loss='softmax_cross_entropy'")


def gather_parameters(layers: list[Layer]) -> tuple[np.ndarray, np.ndarray, slice]:
    """Move every W, b (and PReLU alpha) of `layers` into one vector theta and their gradients
    into another, dtheta: (theta, dtheta, weights), theta[weights] holding the W's.

    Every W comes first, then the biases (and slopes), each group in the order of the layers.
    The layers keep views into the two vectors, so an optimizer updates all of them with
    one (theta, dtheta) pair: a handful of array operations per step instead of a handful
    per parameter. The update of each element is unchanged (every optimizer here works
    element by element).
    """
    named = [(layer, name, p) for layer in layers for name, p, _ in layer.named_parameters()]
    named.sort(key=lambda entry: entry[1] != "W")   # the weights first (stable: layer order)
    weights = slice(0, sum(p.size for _, name, p in named if name == "W"))
    theta = np.empty(sum(p.size for _, _, p in named), layers[0].dtype)
    dtheta = np.zeros_like(theta)
    start = 0
    for layer, name, p in named:
        stop = start + p.size
        view, grad = (v[start:stop].reshape(p.shape) for v in (theta, dtheta))
        view[...] = p
        setattr(layer, name, view)
        setattr(layer, "d" + name, grad)
        if name == "alpha" and layer.activation.per_unit:
            layer.activation.alpha = view      # the activation reads the slopes from here
        start = stop
    return theta, dtheta, weights


@functools.cache
def _accepts_out(method: Any) -> bool:
    return "out" in inspect.signature(method).parameters


def _writes_out(bound: Any) -> bool:
    """Whether an activation's method takes ``out=`` (the built-ins do; a student's need not)."""
    return _accepts_out(bound.__func__) if hasattr(bound, "__func__") else False


def _store(result: Any, out: np.ndarray, act: activations.Activation, method: str,
           shape: tuple[int, ...]) -> None:
    """Copy what an activation written in Python returned into the engine's buffer."""
    if np.shape(result) != out.shape:
        raise ValueError(f"{type(act).__name__}.{method} returned shape {np.shape(result)} for z of "
                         f"shape {shape}; expected {out.shape}")
    np.copyto(out, result, casting="same_kind")
