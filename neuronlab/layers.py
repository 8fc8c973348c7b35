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

from typing import Any

import numpy as np

from neuronlab import activations
from neuronlab import init as initializers
from neuronlab._inputs import check_count, check_samples, make_rng
from neuronlab._validation import as_float_array

__all__ = ["Layer"]


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
        Seeds W (and RReLU's slopes unless a seed is given for them).
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
        rng = make_rng(seed)
        if activation == "rrelu" and "seed" not in activation_params:  # a name, not an RReLU object
            activation_params["seed"] = int(rng.integers(2**63))  # reproducible slopes
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
        self._a_prev: np.ndarray | None = None
        self._z: np.ndarray | None = None
        self._training_pass = True
        self._buffers: dict[int, dict[str, np.ndarray]] = {}  # per batch size m

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
    def _buffers_for(self, m: int) -> dict[str, np.ndarray]:
        buffers = self._buffers.get(m)
        if buffers is None:
            if len(self._buffers) >= 4:  # a few batch sizes (full, last partial, ...) at most
                self._buffers.clear()
            shape_z, shape_out, shape_in = (m, self.n_z), (m, self.n_out), (m, self.n_in)
            buffers = self._buffers[m] = {
                "z": np.empty(shape_z, self.dtype), "a": np.empty(shape_out, self.dtype),
                "delta": np.empty(shape_z, self.dtype),
                "grad_prev": np.empty(shape_in, self.dtype)}
        return buffers

    def forward(self, a_prev: Any, training: bool | None = None) -> np.ndarray:
        """a = f(a_prev W^T + b) for a batch a_prev of shape (m, n_in).

        Keeps a_prev (by reference: do not change it before :meth:`backward`) and z.
        The result is a buffer of this layer that the next forward pass with the same
        batch size overwrites; copy it to keep it.
        """
        a_prev = check_samples(a_prev, "a_prev", self.n_in, self.dtype)
        return self._forward(a_prev, self.training if training is None else bool(training))

    __call__ = forward

    def _forward(self, a_prev: np.ndarray, training: bool) -> np.ndarray:
        """forward() without the checks, for a batch the network has checked or computed.

        Inside a network an overflow to inf in one layer is the network's numbers, not bad
        input: it travels on to the output as it does in the compiled pass.
        """
        buf = self._buffers_for(a_prev.shape[0])
        z = buf["z"]
        # fit's divergence check reports an overflow; like the compiled pass (plain BLAS),
        # the product itself does not warn
        with np.errstate(over="ignore", invalid="ignore"):
            np.matmul(a_prev, self.W.T, out=z)        # z = a^(l-1) W^T (BLAS)
        if self.alpha is not None and not self.activation.per_unit:
            self.activation.alpha = float(self.alpha[0])   # the learned shared slope
        # z += b and a = f(z) in one compiled sweep; z keeps the bias for backward
        a = self.activation.forward_with_bias(z, self.b, training, out=buf["a"])
        self._a_prev, self._z, self._training_pass = a_prev, z, training
        return a

    def backward(self, grad_a: Any) -> np.ndarray:
        """From dJ/da of the last forward batch, compute dW, db (and dalpha); return dJ/da_prev.

        ``grad_a`` is W^(l+1)T delta^(l+1) (rows: samples), handed down by the layer above.
        """
        if self._z is None:
            raise ValueError("backward() needs a forward() first: it uses that batch's z")
        z, a_prev = self._z, self._a_prev
        grad_a = as_float_array(grad_a, "grad_a", self.dtype)
        if grad_a.shape != (z.shape[0], self.n_out):
            raise ValueError(f"grad_a has shape {grad_a.shape} but the last forward pass "
                             f"produced {(z.shape[0], self.n_out)}")
        buf = self._buffers_for(z.shape[0])
        act = self.activation
        # delta^(l) = (W^(l+1)T delta^(l+1)) * f'(z^(l)), fused in one compiled pass
        delta = act.backward(z, grad_a, self._training_pass, out=buf["delta"])
        if self.alpha is not None:
            self.dalpha[...] = act.alpha_gradient(z, grad_a)    # sum of grad_a * min(0, z)
        with np.errstate(over="ignore", invalid="ignore"):  # as in forward
            np.matmul(delta.T, a_prev, out=self.dW)  # dJ/dW = sum over samples of delta a_prev^T
            np.sum(delta, axis=0, out=self.db)       # dJ/db = sum over samples of delta
            return np.matmul(delta, self.W, out=buf["grad_prev"])  # W^T delta, for layer l - 1

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
