# The engine of neuronlab: one dense layer's forward and backward pass, in compiled code.
#
# Layer l computes, for a batch with one sample per row,
#
#     z = a_prev W^T + b,   a = f(z)                                  (forward)
#     delta = f'(z) * dJ/da,   dJ/dW = delta^T a_prev,   dJ/db = sum of delta's rows,
#     dJ/da_prev = delta W                                            (backward)
#
# Every pass in neuronlab runs the two functions below, _layer_forward and _layer_backward:
# neuronlab.Layer calls them for one layer (DenseLayer), and a Network calls them layer after
# layer in a compiled loop (DenseStack), with no Python in between. At the batch sizes of a
# course (tens of samples) calling NumPy a dozen times per step would cost more than the
# arithmetic, so the matrix products go straight to BLAS (SciPy's Cython bindings).
#
# f is one of the compiled activation loops of _elementwise, picked by its number (KINDS),
# or, for an activation written in Python (a student's own, PReLU's learned slopes, RReLU's
# random ones, maxout's pieces), a call back into Python for that one step: the layer's
# `activate(z, a)` and `backpropagate(z, grad_a, delta)`, which take the GIL. The matrix
# products around them stay compiled.
#
# The Python side (neuronlab.layers) checks every array before it builds a DenseLayer, so the
# loops below trust shapes, dtypes and contiguity.
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cython cimport floating
from scipy.linalg.cython_blas cimport ddot, dgemm, sdot, sgemm

import numpy as np

cimport neuronlab._kernels._elementwise as elementwise
from neuronlab._kernels._losses cimport LossFamily, batch_loss
from neuronlab._kernels._elementwise import KINDS

cdef enum:
    MAX_PARAMS = 2   # parameters of one activation (the kinds of _elementwise take at most 2)
    IN_PYTHON = -1   # the kind of a layer whose activation runs in Python


cdef struct LayerData:
    int kind                   # a number of _elementwise.KINDS, or IN_PYTHON
    int n_in, n_z, n_out       # n_z = n_out, but k n_out for maxout with k pieces
    double params[MAX_PARAMS]
    void* W                    # (n_z, n_in)
    void* b                    # (n_z,)
    void* dW
    void* db
    void* z                    # (max_rows, n_z)
    void* a                    # (max_rows, n_out)
    void* delta                # (max_rows, n_z)
    void* grad_prev            # (max_rows, n_in)
    const void* a_prev         # the input of the last forward pass, for backward
    void* owner                # the DenseLayer, whose Python hooks an IN_PYTHON layer calls


cdef void _gemm(bint trans_a, bint trans_b, int M, int N, int K, const floating* A,
                const floating* B, floating* C) noexcept nogil:
    """C = op(A) op(B) for row-major matrices; op(X) is X^T when trans_x. C is M x N.

    BLAS reads matrices column by column, and a row-major matrix read that way is its
    transpose, so C^T = op(B)^T op(A)^T is what we ask BLAS for.
    """
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    cdef int lda = M if trans_a else K
    cdef int ldb = K if trans_b else N
    cdef floating one = 1, zero = 0
    if floating is double:
        dgemm(&tb, &ta, &N, &M, &K, &one, <double*>B, &ldb, <double*>A, &lda, &zero, C, &N)
    else:
        sgemm(&tb, &ta, &N, &M, &K, &one, <float*>B, &ldb, <float*>A, &lda, &zero, C, &N)


cdef void _add_bias(floating* z, const floating* b, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """z_ij += b_j: the bias of a layer whose activation runs in Python."""
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(n):
            z[i * n + j] += b[j]


cdef void _column_sums(const floating* delta, floating* db, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """db_j = sum_i delta_ij, row after row (the inner loop runs along a contiguous row)."""
    cdef Py_ssize_t i, j
    for j in range(n):
        db[j] = 0
    for i in range(m):
        for j in range(n):
            db[j] += delta[i * n + j]


cdef void _column_max(const floating* z, floating* z_max, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    """z_max_j = max(z_max_j, max_i z_ij)."""
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(n):
            z_max[j] = z[i * n + j] if z[i * n + j] > z_max[j] else z_max[j]


cdef double _sum_of_squares(const floating* x, int n) noexcept nogil:
    """sum_i x_i^2, by BLAS (a dot product of x with itself)."""
    cdef int one = 1
    if floating is double:
        return ddot(&n, <double*>x, &one, <double*>x, &one)
    else:
        return sdot(&n, <float*>x, &one, <float*>x, &one)


# <layer_forward>
cdef int _layer_forward(LayerData* L, const floating* a_prev, Py_ssize_t m,
                        int n_threads) except -1 nogil:
    cdef floating* z = <floating*>L.z
    L.a_prev = a_prev
    # z^(l) = a^(l-1) W^(l)T, by BLAS
    _gemm(False, True, <int>m, L.n_z, L.n_in, a_prev, <const floating*>L.W, z)
    if L.kind != IN_PYTHON:
        # z += b and a = f(z) in one compiled sweep; z keeps the bias for backward
        elementwise.forward_bias(L.kind, z, <const floating*>L.b, <floating*>L.a, m, L.n_z,
                                 L.params, n_threads)
    else:
        _add_bias(z, <const floating*>L.b, m, L.n_z)
        with gil:
            (<DenseLayer>L.owner)._activate(m)     # a = f(z), in Python
    return 0
# </layer_forward>


# <layer_backward>
cdef int _layer_backward(LayerData* L, const floating* grad_a, Py_ssize_t m, bint to_prev,
                         double* grad_sq, int n_threads) except -1 nogil:
    cdef floating* delta = <floating*>L.delta
    # delta^(l) = dJ/da^(l) * f'(z^(l))
    if L.kind != IN_PYTHON:
        elementwise.backward(L.kind, <const floating*>L.z, grad_a, delta, m * L.n_z, L.params,
                             n_threads)
    else:
        with gil:
            (<DenseLayer>L.owner)._backpropagate(grad_a, m)
    # dJ/dW^(l) = delta^T a_prev and dJ/db^(l) = the sum of delta's rows
    _gemm(True, False, L.n_z, L.n_in, <int>m, delta, <const floating*>L.a_prev, <floating*>L.dW)
    _column_sums(delta, <floating*>L.db, m, L.n_z)
    if grad_sq != NULL:
        grad_sq[0] += _sum_of_squares(<const floating*>L.dW, L.n_z * L.n_in)
    if to_prev:
        # dJ/da^(l-1) = delta W, for the layer below
        _gemm(False, False, <int>m, L.n_in, L.n_z, delta, <const floating*>L.W,
              <floating*>L.grad_prev)
    return 0
# </layer_backward>


cdef class DenseLayer:
    """The compiled passes of one dense layer, for batches of up to `max_rows` samples.

    Parameters
    ----------
    W, b, dW, db : ndarray
        W (n_z, n_in) and b (n_z,), and the arrays that receive dJ/dW and dJ/db; all
        C-contiguous, of one dtype (float32 or float64). They are held, not copied: an
        optimizer updates W in place and the next pass sees it.
    n_out : int
        Units: the width of a = f(z). n_z = n_out, except for maxout (k pieces per unit).
    kind : int
        The activation's number in ``_elementwise.KINDS``, or -1 when it runs in Python.
    params : tuple of float
        The compiled activation's parameters, in the kernel table's order.
    activate, backpropagate : callable, optional
        For kind -1: ``activate(z, a)`` writes f(z) into a, and ``backpropagate(z, grad_a,
        delta)`` writes dJ/dz into delta (views of this layer's buffers, first m rows).
    max_rows : int
        The largest batch. The buffers z, a, delta and grad_prev have that many rows.
    """

    cdef LayerData d
    cdef readonly Py_ssize_t max_rows, rows
    cdef readonly bint single
    cdef readonly object dtype, z, a, delta, grad_prev, activate, backpropagate
    cdef readonly int kind
    cdef readonly object a_prev     # the input of the last forward pass (held for backward)
    cdef object _held

    def __cinit__(self, W, b, dW, db, int n_out, int kind, tuple params, Py_ssize_t max_rows,
                  activate=None, backpropagate=None):
        cdef Py_ssize_t i
        if not isinstance(W, np.ndarray) or W.ndim != 2:
            raise TypeError("W must be a 2-d numpy array")
        dtype = W.dtype
        if dtype != np.float32 and dtype != np.float64:
            raise TypeError(f"W has dtype {dtype}; a layer computes in float32 or float64")
        n_z, n_in = W.shape
        if max_rows < 1 or n_out < 1 or n_z % n_out:
            raise ValueError(f"a layer needs max_rows >= 1 and units that divide W's {n_z} rows")
        if n_in >= 2**31 or n_z >= 2**31 or max_rows * max(n_in, n_z) >= 2**31:
            raise ValueError("the layer is too large for 32-bit BLAS indices")
        if kind == IN_PYTHON:
            if not (callable(activate) and callable(backpropagate)):
                raise TypeError("a layer whose activation runs in Python needs activate and backpropagate")
        elif not 0 <= kind < len(KINDS) or n_z != n_out:
            raise ValueError(f"kind {kind} is not a compiled elementwise activation of _elementwise.KINDS")
        if len(params) > MAX_PARAMS:
            raise ValueError(f"params has {len(params)} values; at most {MAX_PARAMS}")
        self.single, self.dtype, self.max_rows, self.rows = dtype == np.float32, dtype, max_rows, 0
        self.kind, self.activate, self.backpropagate = kind, activate, backpropagate
        self._held = []
        self.d.kind, self.d.n_in, self.d.n_z, self.d.n_out = kind, n_in, n_z, n_out
        for i in range(MAX_PARAMS):
            self.d.params[i] = params[i] if i < len(params) else 0.0
        self.d.W = self._hold(W, (n_z, n_in), "W", writeable=False)
        self.d.b = self._hold(b, (n_z,), "b", writeable=False)
        self.d.dW = self._hold(dW, (n_z, n_in), "dW")
        self.d.db = self._hold(db, (n_z,), "db")
        self.z, self.a = np.empty((max_rows, n_z), dtype), np.empty((max_rows, n_out), dtype)
        self.delta, self.grad_prev = np.empty((max_rows, n_z), dtype), np.empty((max_rows, n_in), dtype)
        self.d.z, self.d.a = self._hold(self.z, None, "z"), self._hold(self.a, None, "a")
        self.d.delta = self._hold(self.delta, None, "delta")
        self.d.grad_prev = self._hold(self.grad_prev, None, "grad_prev")
        self.d.a_prev = NULL
        self.d.owner = <void*>self

    cdef void* _hold(self, array, tuple shape, str name, bint writeable=True) except NULL:
        """Check one array and keep a reference to it; return its data pointer."""
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{name} must be a numpy array, got {type(array).__name__}")
        if ((shape is not None and array.shape != shape) or array.dtype != self.dtype
                or not array.flags.c_contiguous):
            raise ValueError(f"{name} must be a C-contiguous {self.dtype} array of shape {shape}, "
                             f"got {array.dtype} {array.shape}")
        if writeable and not array.flags.writeable:
            raise ValueError(f"{name} is read-only")
        self._held.append(array)
        # Every size is at least 1, so the data pointer is never that of an empty array.
        return <void*><size_t>array.__array_interface__["data"][0]

    @property
    def n_in(self):
        return self.d.n_in

    @property
    def n_out(self):
        return self.d.n_out

    @property
    def params(self):
        return tuple(self.d.params[i] for i in range(MAX_PARAMS))

    def holds(self, W, b, dW, db) -> bool:
        """Whether this engine works on exactly these arrays."""
        return all(x is y for x, y in zip(self._held[:4], (W, b, dW, db)))

    # The Python hooks of an IN_PYTHON layer, called by the passes with the GIL.
    cdef int _activate(self, Py_ssize_t m) except -1:
        self.activate(self.z[:m], self.a[:m])
        return 0

    cdef int _backpropagate(self, const void* grad_a, Py_ssize_t m) except -1:
        self.backpropagate(self.z[:m], self._rows(grad_a, m, self.d.n_out), self.delta[:m])
        return 0

    cdef object _rows(self, const void* p, Py_ssize_t m, int n):
        """The m x n rows at p as a read-only array (dJ/da, handed down from the layer above)."""
        rows = (np.asarray(<float[:m, :n]><float*>p) if self.single else
                np.asarray(<double[:m, :n]><double*>p))
        rows.flags.writeable = False
        return rows

    def forward(self, x, int n_threads=1):
        """a = f(x W^T + b) for the batch x (m, n_in), m <= max_rows: a view of the buffer a.

        The layer keeps x (and z) for :meth:`backward`.
        """
        cdef Py_ssize_t m = _check_rows(x, self.d.n_in, self.max_rows, self.dtype, "x")
        cdef const void* p = _data(x, self.single)
        self.a_prev, self.rows = x, m
        if self.single:
            with nogil:
                _layer_forward[float](&self.d, <const float*>p, m, n_threads)
        else:
            with nogil:
                _layer_forward[double](&self.d, <const double*>p, m, n_threads)
        return self.a[:m]

    def backward(self, grad_a, int n_threads=1):
        """From dJ/da (m, n_out) of the last forward batch, fill dW, db; return dJ/da_prev."""
        cdef Py_ssize_t m = _check_rows(grad_a, self.d.n_out, self.max_rows, self.dtype, "grad_a")
        cdef const void* g = _data(grad_a, self.single)
        if self.a_prev is None or m != self.rows:
            raise ValueError(f"grad_a has {m} rows but the last forward pass had {self.rows} samples")
        if self.single:
            with nogil:
                _layer_backward[float](&self.d, <const float*>g, m, True, NULL, n_threads)
        else:
            with nogil:
                _layer_backward[double](&self.d, <const double*>g, m, True, NULL, n_threads)
        return self.grad_prev[:m]


cdef class DenseStack:
    """The passes of a network: its layers' DenseLayer engines, run one after another.

    Parameters
    ----------
    layers : list of DenseLayer
        Layer l + 1 takes the n_out outputs of layer l; all of one dtype.
    n_threads : int
        OpenMP threads for the elementwise loops (BLAS keeps its own setting).

    A batch may have up to ``max_rows`` samples, the smallest of the layers' max_rows.
    """

    cdef readonly int n_layers, n_threads
    cdef readonly Py_ssize_t max_rows, rows
    cdef readonly bint single
    cdef readonly list layers
    cdef LayerData** L
    cdef double* grad_sq    # see watch(): per layer, the sum over steps of ||dJ/dW||^2
    cdef void** z_max       # per layer, the largest z of each unit so far, or NULL
    cdef object _x, _watched

    def __cinit__(self, list layers, int n_threads=1):
        cdef int n = len(layers), l
        cdef DenseLayer layer
        if n == 0:
            raise ValueError("a DenseStack needs at least one layer")
        self.L = <LayerData**>PyMem_Malloc(n * sizeof(LayerData*))
        self.z_max = <void**>PyMem_Malloc(n * sizeof(void*))
        if self.L == NULL or self.z_max == NULL:
            raise MemoryError()
        self.n_layers, self.n_threads, self.layers = n, max(1, n_threads), list(layers)
        self.grad_sq, self.rows = NULL, 0
        for l in range(n):
            if not isinstance(layers[l], DenseLayer):
                raise TypeError(f"layers[{l}] must be a DenseLayer, got {type(layers[l]).__name__}")
            layer = layers[l]
            if layer.dtype != layers[0].dtype:
                raise TypeError(f"layers[{l}] has dtype {layer.dtype} but layers[0] has {layers[0].dtype}")
            if l and layer.d.n_in != self.L[l - 1].n_out:
                raise ValueError(f"layers[{l}] takes {layer.d.n_in} inputs but layers[{l - 1}] has "
                                 f"{self.L[l - 1].n_out} units")
            self.L[l] = &layer.d
            self.z_max[l] = NULL
        self.single = layers[0].single
        self.max_rows = min(layer.max_rows for layer in layers)

    def __dealloc__(self):
        PyMem_Free(self.L)
        PyMem_Free(self.z_max)

    @property
    def output(self):
        """The top layer's buffer a^(L) (max_rows rows; a batch of m uses the first m)."""
        return self.layers[self.n_layers - 1].a

    def watch(self, grad_sq, z_max):
        """Collect the training diagnostics of neuronlab.History while the passes run.

        After every backward pass, grad_sq[l] += ||dJ/dW^(l)||^2 (grad_sq: float64, one entry
        per layer). After every forward pass, z_max[l][j] = max(z_max[l][j], z_ij over the
        batch) for each layer whose z_max[l] is an array (n_z,) of the stack's dtype;
        None leaves a layer unwatched. The caller resets both at the start of an epoch.
        """
        cdef Py_ssize_t l
        cdef DenseLayer layer
        if (not isinstance(grad_sq, np.ndarray) or grad_sq.shape != (self.n_layers,)
                or grad_sq.dtype != np.float64 or not grad_sq.flags.c_contiguous):
            raise ValueError(f"grad_sq must be a C-contiguous float64 array of shape ({self.n_layers},)")
        self._watched = [grad_sq]
        self.grad_sq = <double*><size_t>grad_sq.__array_interface__["data"][0]
        for l in range(self.n_layers):
            layer = self.layers[l]
            if z_max[l] is None:
                self.z_max[l] = NULL
            else:
                if (not isinstance(z_max[l], np.ndarray) or z_max[l].shape != (layer.d.n_z,)
                        or z_max[l].dtype != layer.dtype or not z_max[l].flags.c_contiguous):
                    raise ValueError(f"z_max[{l}] must be a C-contiguous {layer.dtype} array of "
                                     f"shape ({layer.d.n_z},)")
                self._watched.append(z_max[l])
                self.z_max[l] = <void*><size_t>z_max[l].__array_interface__["data"][0]

    def forward(self, x):
        """a^(L) for the batch x (m, n_in) with m <= max_rows: a view of the top layer's buffer."""
        cdef Py_ssize_t m = self._take_input(x)
        cdef const void* p = _data(x, self.single)
        if self.single:
            with nogil:
                _forward[float](self, <const float*>p, m)
        else:
            with nogil:
                _forward[double](self, <const double*>p, m)
        return self.output[:m]

    def backward(self, grad_out):
        """From dJ/da^(L) (m, n_out) of the last forward batch, fill every dW and db."""
        cdef Py_ssize_t m = _check_rows(grad_out, self.L[self.n_layers - 1].n_out, self.max_rows,
                                        self.layers[0].dtype, "grad_out")
        cdef const void* g = _data(grad_out, self.single)
        if self._x is None or m != self.rows:
            raise ValueError(f"grad_out has {m} rows but the last forward pass had {self.rows} samples")
        if self.single:
            with nogil:
                _backward[float](self, <const float*>g, m)
        else:
            with nogil:
                _backward[double](self, <const double*>g, m)

    def step(self, x, labels, r, grad_out, int family, int op, double param, double grad_scale):
        """One training step's passes: forward, the loss J and dJ/da^(L), backward. Returns J.

        The loss is given as for ``_losses.batch_loss``: its family, op and parameter; the
        targets as integer labels (m,) or rows r (m, n_out), the other one empty. grad_out
        (m, n_out) receives dJ/da^(L) times grad_scale, and J is the sum over the batch of
        the per-sample losses (the caller scales it for a mean).
        """
        cdef const Py_ssize_t[::1] c = labels
        cdef Py_ssize_t m = self._take_input(x), n = self.L[self.n_layers - 1].n_out
        cdef const Py_ssize_t* c_ptr = NULL
        cdef const void* r_ptr = NULL
        cdef const void* x_ptr = _data(x, self.single)
        cdef void* g
        cdef double J
        if not 0 <= family <= 3:
            raise ValueError(f"family must be a LossFamily (0 to 3), got {family}")
        if c.shape[0]:
            if c.shape[0] != m:
                raise ValueError(f"labels has {c.shape[0]} entries for {m} samples")
            c_ptr = &c[0]
        elif family == LossFamily.PICKED or family == LossFamily.HINGE:
            raise ValueError(f"this loss needs {m} integer labels")
        else:
            if _check_rows(r, n, self.max_rows, self.layers[0].dtype, "r") != m:
                raise ValueError(f"r has {r.shape[0]} rows for {m} samples")
            r_ptr = _data(r, self.single)
        if _check_rows(grad_out, n, self.max_rows, self.layers[0].dtype, "grad_out") != m:
            raise ValueError(f"grad_out has {grad_out.shape[0]} rows for {m} samples")
        g = <void*>_data(grad_out, self.single)
        if self.single:
            with nogil:
                _forward[float](self, <const float*>x_ptr, m)
                J = batch_loss(<LossFamily>family, op, <const float*>self.L[self.n_layers - 1].a, c_ptr,
                               <const float*>r_ptr, <float*>g, m, n, param, grad_scale)
                _backward[float](self, <const float*>g, m)
        else:
            with nogil:
                _forward[double](self, <const double*>x_ptr, m)
                J = batch_loss(<LossFamily>family, op, <const double*>self.L[self.n_layers - 1].a, c_ptr,
                               <const double*>r_ptr, <double*>g, m, n, param, grad_scale)
                _backward[double](self, <const double*>g, m)
        return J

    cdef Py_ssize_t _take_input(self, x) except -1:
        """Check the batch x and keep it as a^(0) for the passes."""
        cdef Py_ssize_t m = _check_rows(x, self.L[0].n_in, self.max_rows, self.layers[0].dtype, "x")
        cdef DenseLayer layer
        self._x, self.rows = x, m
        for layer in self.layers:   # each layer's backward() may follow the stack's forward
            layer.a_prev, layer.rows = x, m
            x = layer.a
        return m


cdef int _forward(DenseStack s, const floating* x, Py_ssize_t m) except -1 nogil:
    cdef const floating* a_prev = x
    cdef int l
    for l in range(s.n_layers):
        _layer_forward(s.L[l], a_prev, m, s.n_threads)
        if s.z_max[l] != NULL:
            _column_max(<const floating*>s.L[l].z, <floating*>s.z_max[l], m, s.L[l].n_z)
        a_prev = <const floating*>s.L[l].a
    return 0


cdef int _backward(DenseStack s, const floating* grad_out, Py_ssize_t m) except -1 nogil:
    cdef const floating* grad_a = grad_out      # dJ/da^(l), handed down from the layer above
    cdef int l
    for l in range(s.n_layers - 1, -1, -1):
        _layer_backward(s.L[l], grad_a, m, l > 0, s.grad_sq + l if s.grad_sq != NULL else NULL,
                        s.n_threads)
        grad_a = <const floating*>s.L[l].grad_prev
    return 0


cdef Py_ssize_t _check_rows(array, int n, Py_ssize_t max_rows, dtype, str name) except -1:
    if not isinstance(array, np.ndarray) or array.ndim != 2 or array.shape[1] != n:
        raise ValueError(f"{name} must be a 2-d array with {n} columns")
    if not 0 < array.shape[0] <= max_rows:
        raise ValueError(f"{name} has {array.shape[0]} rows; between 1 and {max_rows} fit")
    if array.dtype != dtype or not array.flags.c_contiguous:
        raise ValueError(f"{name} must be a C-contiguous {dtype} array")
    return array.shape[0]


cdef const void* _data(array, bint single) except NULL:
    """The address of a checked, non-empty, C-contiguous 2-d array (float32 when single)."""
    cdef const double[:, ::1] v64
    cdef const float[:, ::1] v32
    if single:
        v32 = array
        return &v32[0, 0]
    v64 = array
    return &v64[0, 0]
