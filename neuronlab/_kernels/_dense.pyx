# The forward and backward passes of a whole stack of dense layers in compiled code.
#
# Layer l computes, for a batch with one sample per row,
#
#     z = a_prev W^T + b,   a = f(z)                                  (forward)
#     delta = f'(z) * dJ/da,   dJ/dW = delta^T a_prev,   dJ/db = sum of delta's rows,
#     dJ/da_prev = delta W                                            (backward)
#
# exactly as neuronlab.Layer does with NumPy. Here the matrix products go straight to BLAS
# (SciPy's Cython bindings) and the elementwise work to the fused loops of _elementwise, with
# no Python between the layers: at the batch sizes of a course (tens of samples), calling
# NumPy a dozen times per step costs more than the arithmetic.
#
# The Python side (neuronlab.network) checks every array before it builds a DenseStack, so
# the loops below trust shapes, dtypes and contiguity.
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cython cimport floating
from scipy.linalg.cython_blas cimport ddot, dgemm, sdot, sgemm

import numpy as np

cimport neuronlab._kernels._elementwise as elementwise
from neuronlab._kernels._losses cimport LossFamily, batch_loss
from neuronlab._kernels._elementwise import KINDS

cdef enum:
    MAX_PARAMS = 2   # parameters of one activation (the kinds of _elementwise take at most 2)


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


cdef class DenseStack:
    """Forward and backward passes of dense layers, all of one dtype, for up to `max_rows` samples.

    Parameters
    ----------
    W, b, dW, db : list of ndarray
        Per layer l: W^(l) (n_out, n_in), b^(l) (n_out,) and the arrays that receive
        dJ/dW^(l) and dJ/db^(l). All C-contiguous, float32 or float64 alike.
    kinds : list of int
        Each layer's activation as a number of ``_elementwise.KINDS``.
    params : list of tuple of float
        Each layer's activation parameters, in the kernel table's order.
    z, a, delta, grad_prev : list of ndarray
        Per layer, (max_rows, n_out) buffers for z, f(z) and delta, and (max_rows, n_in) for
        dJ/da_prev (unused for layer 0). A batch of m samples uses their first m rows.
    n_threads : int
        OpenMP threads for the elementwise loops (BLAS keeps its own setting).

    The arrays are held, not copied: the optimizer updates W in place and the next
    forward pass sees it.
    """

    cdef readonly int n_layers, n_threads
    cdef readonly Py_ssize_t max_rows, rows
    cdef readonly bint single
    cdef readonly object dtype
    cdef int* kinds
    cdef int* n_in
    cdef int* n_out
    cdef double* params
    cdef void** W
    cdef void** b
    cdef void** dW
    cdef void** db
    cdef void** z
    cdef void** a
    cdef void** delta
    cdef void** grad_prev
    cdef void* x           # the input rows of the last forward pass: a^(0) for backward
    cdef object _x          # keeps it alive until the next forward pass
    cdef double* grad_sq    # see watch(): per layer, the sum over steps of ||dJ/dW||^2
    cdef void** z_max       # per layer, the largest z of each unit so far, or NULL
    cdef readonly list outputs
    cdef list _held

    def __cinit__(self, list W, list b, list dW, list db, list kinds, list params, list z,
                  list a, list delta, list grad_prev, int n_threads=1):
        cdef int L = len(W)
        cdef Py_ssize_t l, i
        if L == 0:
            raise ValueError("a DenseStack needs at least one layer")
        for name, arrays in (("b", b), ("dW", dW), ("db", db), ("kinds", kinds), ("params", params),
                             ("z", z), ("a", a), ("delta", delta), ("grad_prev", grad_prev)):
            if len(arrays) != L:
                raise ValueError(f"{name} has {len(arrays)} entries for {L} layers")
        self.n_layers = L
        self.n_threads = max(1, n_threads)
        dtype = np.asarray(W[0]).dtype
        if dtype != np.float32 and dtype != np.float64:
            raise TypeError(f"W[0] has dtype {dtype}; a DenseStack computes in float32 or float64")
        self.single = dtype == np.float32
        self.dtype = dtype
        self.max_rows = np.asarray(z[0]).shape[0]
        self.rows = 0
        self.kinds = <int*>PyMem_Malloc(L * sizeof(int))
        self.n_in = <int*>PyMem_Malloc(L * sizeof(int))
        self.n_out = <int*>PyMem_Malloc(L * sizeof(int))
        self.params = <double*>PyMem_Malloc(L * MAX_PARAMS * sizeof(double))
        self.W, self.b, self.dW, self.db = self._pointers(L), self._pointers(L), self._pointers(L), self._pointers(L)
        self.z_max, self.grad_sq = self._pointers(L), NULL
        self.z, self.a, self.delta, self.grad_prev = (self._pointers(L), self._pointers(L),
                                                      self._pointers(L), self._pointers(L))
        if (self.kinds == NULL or self.n_in == NULL or self.n_out == NULL or self.params == NULL
                or self.grad_prev == NULL or self.z_max == NULL):
            raise MemoryError()
        self._held = []
        self.outputs = []
        for l in range(L):
            n_out, n_in = np.asarray(W[l]).shape
            if n_in >= 2**31 or n_out >= 2**31 or self.max_rows * max(n_in, n_out) >= 2**31:
                raise ValueError(f"layer {l} is too large for 32-bit BLAS indices")
            if l and n_in != self.n_out[l - 1]:
                raise ValueError(f"W[{l}] takes {n_in} inputs but layer {l - 1} has {self.n_out[l - 1]} units")
            self.n_in[l], self.n_out[l] = n_in, n_out
            self.kinds[l] = kinds[l]
            if not 0 <= kinds[l] < len(KINDS):
                raise ValueError(f"kinds[{l}] = {kinds[l]} is not an activation of _elementwise.KINDS")
            if len(params[l]) > MAX_PARAMS:
                raise ValueError(f"params[{l}] has {len(params[l])} values; at most {MAX_PARAMS}")
            for i in range(MAX_PARAMS):
                self.params[l * MAX_PARAMS + i] = params[l][i] if i < len(params[l]) else 0.0
            self.W[l] = self._hold(W[l], (n_out, n_in), dtype, "W", l, writeable=False)
            self.b[l] = self._hold(b[l], (n_out,), dtype, "b", l, writeable=False)
            self.dW[l] = self._hold(dW[l], (n_out, n_in), dtype, "dW", l)
            self.db[l] = self._hold(db[l], (n_out,), dtype, "db", l)
            self.z[l] = self._hold(z[l], (self.max_rows, n_out), dtype, "z", l)
            self.a[l] = self._hold(a[l], (self.max_rows, n_out), dtype, "a", l)
            self.delta[l] = self._hold(delta[l], (self.max_rows, n_out), dtype, "delta", l)
            self.grad_prev[l] = (self._hold(grad_prev[l], (self.max_rows, n_in), dtype, "grad_prev", l)
                                 if l else NULL)
            self.outputs.append(a[l])

    cdef void** _pointers(self, int L):
        cdef void** p = <void**>PyMem_Malloc(L * sizeof(void*))
        cdef int i
        if p != NULL:
            for i in range(L):
                p[i] = NULL
        return p

    cdef void* _hold(self, array, tuple shape, dtype, str name, Py_ssize_t l, bint writeable=True) except NULL:
        """Check one array and keep a reference to it; return its data pointer."""
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{name}[{l}] must be a numpy array, got {type(array).__name__}")
        if array.shape != shape or array.dtype != dtype or not array.flags.c_contiguous:
            raise ValueError(f"{name}[{l}] must be a C-contiguous {dtype} array of shape {shape}, "
                             f"got {array.dtype} {array.shape}")
        if writeable and not array.flags.writeable:
            raise ValueError(f"{name}[{l}] is read-only")
        self._held.append(array)
        # Every layer size is at least 1, so the data pointer is never that of an empty array.
        return <void*><size_t>array.__array_interface__["data"][0]

    def __dealloc__(self):
        PyMem_Free(self.kinds)
        PyMem_Free(self.n_in)
        PyMem_Free(self.n_out)
        PyMem_Free(self.params)
        PyMem_Free(self.W)
        PyMem_Free(self.b)
        PyMem_Free(self.dW)
        PyMem_Free(self.db)
        PyMem_Free(self.z)
        PyMem_Free(self.a)
        PyMem_Free(self.delta)
        PyMem_Free(self.grad_prev)
        PyMem_Free(self.z_max)

    def watch(self, grad_sq, z_max):
        """Collect the training diagnostics of neuronlab.History while the passes run.

        After every backward pass, grad_sq[l] += ||dJ/dW^(l)||^2 (grad_sq: float64, one entry
        per layer). After every forward pass, z_max[l][j] = max(z_max[l][j], z_ij over the
        batch) for each layer whose z_max[l] is an array (n_out,) of the stack's dtype;
        None leaves a layer unwatched. The caller resets both at the start of an epoch.
        """
        cdef Py_ssize_t l
        self.grad_sq = <double*>self._hold(grad_sq, (self.n_layers,), np.float64, "grad_sq", 0)
        for l in range(self.n_layers):
            self.z_max[l] = (NULL if z_max[l] is None else
                             self._hold(z_max[l], (self.n_out[l],), self.dtype, "z_max", l))

    def forward(self, x):
        """a^(L) for the batch x (m, n_in) with m <= max_rows: a view of the top layer's buffer.

        Every layer keeps its z and a, and the stack keeps x, for :meth:`backward`.
        """
        cdef Py_ssize_t m = self._take_input(x)
        with nogil:
            self._run_forward(m)
        return self.outputs[self.n_layers - 1][:m]

    def backward(self, grad_out):
        """From dJ/da^(L) (m, n_out) of the last forward batch, fill every dW and db."""
        cdef Py_ssize_t m = self._check_rows(grad_out, self.n_out[self.n_layers - 1], "grad_out")
        cdef const void* g = self._data(grad_out)
        if self._x is None or m != self.rows:
            raise ValueError(f"grad_out has {m} rows but the last forward pass had {self.rows} samples")
        with nogil:
            self._run_backward(g, m)

    def step(self, x, labels, r, grad_out, int family, int op, double param, double grad_scale):
        """One training step's passes: forward, the loss J and dJ/da^(L), backward. Returns J.

        The loss is given as for ``_losses.batch_loss``: its family, op and parameter; the
        targets as integer labels (m,) or rows r (m, n_out), the other one empty. grad_out
        (m, n_out) receives dJ/da^(L) times grad_scale, and J is the sum over the batch of
        the per-sample losses (the caller scales it for a mean).
        """
        cdef const Py_ssize_t[::1] c = labels
        cdef Py_ssize_t m = self._take_input(x), n = self.n_out[self.n_layers - 1]
        cdef const Py_ssize_t* c_ptr = NULL
        cdef const void* r_ptr = NULL
        cdef void* g
        cdef double J
        if not 0 <= family <= 2:
            raise ValueError(f"family must be a LossFamily (0, 1 or 2), got {family}")
        if c.shape[0]:
            if c.shape[0] != m:
                raise ValueError(f"labels has {c.shape[0]} entries for {m} samples")
            c_ptr = &c[0]
        elif family == LossFamily.PICKED:
            raise ValueError(f"this loss needs {m} integer labels")
        else:
            self._check_rows(r, n, "r")
            if r.shape[0] != m:
                raise ValueError(f"r has {r.shape[0]} rows for {m} samples")
            r_ptr = self._data(r)
        if self._check_rows(grad_out, n, "grad_out") != m:
            raise ValueError(f"grad_out has {grad_out.shape[0]} rows for {m} samples")
        g = <void*>self._data(grad_out)
        with nogil:
            self._run_forward(m)
            if self.single:
                J = batch_loss(<LossFamily>family, op, <const float*>self.a[self.n_layers - 1], c_ptr,
                               <const float*>r_ptr, <float*>g, m, n, param, grad_scale)
            else:
                J = batch_loss(<LossFamily>family, op, <const double*>self.a[self.n_layers - 1], c_ptr,
                               <const double*>r_ptr, <double*>g, m, n, param, grad_scale)
            self._run_backward(g, m)
        return J

    cdef Py_ssize_t _take_input(self, x) except -1:
        """Check the batch x and keep it (and its address) as a^(0) for the passes."""
        cdef Py_ssize_t m = self._check_rows(x, self.n_in[0], "x")
        self.x = <void*>self._data(x)
        self._x, self.rows = x, m
        return m

    cdef const void* _data(self, array) except NULL:
        """The address of a checked, non-empty, C-contiguous array of the stack's dtype."""
        cdef const double[:, ::1] v64
        cdef const float[:, ::1] v32
        if self.single:
            v32 = array
            return &v32[0, 0]
        v64 = array
        return &v64[0, 0]

    cdef void _run_forward(self, Py_ssize_t m) noexcept nogil:
        if self.single:
            _forward[float](self, <const float*>self.x, m)
        else:
            _forward[double](self, <const double*>self.x, m)

    cdef void _run_backward(self, const void* grad_out, Py_ssize_t m) noexcept nogil:
        if self.single:
            _backward[float](self, <const float*>grad_out, m)
        else:
            _backward[double](self, <const double*>grad_out, m)

    cdef Py_ssize_t _check_rows(self, array, int n, str name) except -1:
        if not isinstance(array, np.ndarray) or array.ndim != 2 or array.shape[1] != n:
            raise ValueError(f"{name} must be a 2-d array with {n} columns")
        if not 0 < array.shape[0] <= self.max_rows:
            raise ValueError(f"{name} has {array.shape[0]} rows; between 1 and {self.max_rows} fit")
        if array.dtype != (np.float32 if self.single else np.float64) or not array.flags.c_contiguous:
            raise ValueError(f"{name} must be a C-contiguous array of the stack's dtype")
        return array.shape[0]


cdef void _forward(DenseStack s, const floating* x, Py_ssize_t m) noexcept nogil:
    cdef const floating* a_prev = x
    cdef floating* z
    cdef int l
    for l in range(s.n_layers):
        z = <floating*>s.z[l]
        _gemm(False, True, <int>m, s.n_out[l], s.n_in[l], a_prev, <const floating*>s.W[l], z)  # a_prev W^T
        elementwise.forward_bias(s.kinds[l], z, <const floating*>s.b[l], <floating*>s.a[l],
                                 m, s.n_out[l], &s.params[l * MAX_PARAMS], s.n_threads)  # z += b; a = f(z)
        if s.z_max[l] != NULL:
            _column_max(z, <floating*>s.z_max[l], m, s.n_out[l])
        a_prev = <const floating*>s.a[l]


# <dense_backward>
cdef void _backward(DenseStack s, const floating* grad_out, Py_ssize_t m) noexcept nogil:
    cdef const floating* grad_a = grad_out      # dJ/da^(l), handed down from the layer above
    cdef const floating* a_prev
    cdef floating* delta
    cdef int l
    for l in range(s.n_layers - 1, -1, -1):
        delta = <floating*>s.delta[l]
        a_prev = <const floating*>(s.a[l - 1] if l else s.x)
        # delta^(l) = dJ/da^(l) * f'(z^(l))
        elementwise.backward(s.kinds[l], <const floating*>s.z[l], grad_a, delta, m * s.n_out[l],
                             &s.params[l * MAX_PARAMS], s.n_threads)
        # dJ/dW^(l) = delta^T a_prev and dJ/db^(l) = the sum of delta's rows
        _gemm(True, False, s.n_out[l], s.n_in[l], <int>m, delta, a_prev, <floating*>s.dW[l])
        _column_sums(delta, <floating*>s.db[l], m, s.n_out[l])
        if s.grad_sq != NULL:
            s.grad_sq[l] += _sum_of_squares(<const floating*>s.dW[l], s.n_out[l] * s.n_in[l])
        if l:
            # dJ/da^(l-1) = delta W, for the layer below
            _gemm(False, False, <int>m, s.n_in[l], s.n_out[l], delta, <const floating*>s.W[l],
                  <floating*>s.grad_prev[l])
            grad_a = <const floating*>s.grad_prev[l]
# </dense_backward>
