# Helpers for kernels that work one row (one vector) at a time: softmax, maxout, the losses.
#
# A row of K numbers stays in L1 cache while it is read several times (its maximum, then
# its exponentials, then the normalisation), so "one pass per row" costs about one trip
# through memory however many small loops run over the row.
from cython cimport floating
from libc.math cimport log, logf

from neuronlab._kernels._math cimport _exp_neg

cdef extern from "fastmath/nl_stream.h" nogil:
    void nl_prefetch(const void* p)  # a hint: never faults, and a no-op where unsupported

cdef enum:
    # Rows go to OpenMP threads only when the array has at least this many elements (the
    # threshold of _elementwise: 4 chunks of 16384); below it, starting threads costs more.
    MIN_PARALLEL_ELEMENTS = 65536
    # exp() of a long row is taken in blocks of this many numbers on the stack, a loop the
    # compiler vectorizes (libmvec), and the block is then added up.
    BLOCK = 256
    # Short rows are processed in blocks of consecutive rows of about ROW_BLOCK numbers (at
    # most MAX_BLOCK_ROWS rows): the exp() of a whole block is one long vectorized loop,
    # where a row of 10 would leave most of each vector empty.
    ROW_BLOCK = 2048
    MAX_BLOCK_ROWS = 256
    # A row at least this long fills the vectors by itself (see exp_rows); at least LANES.
    LONG_ROW = 64
    # Rows up to this length are summed directly, longer ones by halves (see row_sum).
    PAIRWISE_BLOCK = 128
    # The running maxima and sums of a long row (long_row_max, long_row_sum): four vectors
    # of 16 floats. Not 16: gcc unrolls a loop of up to 16 iterations completely, and 16
    # lanes become 16 scalars that it does not vectorize; a loop over 64 stays a loop.
    LANES = 64
    # exp_rows asks for this many bytes of the next row ahead of time, a page (see there):
    # asking for all of a row of 16 KiB made the kernel slower, not faster.
    READ_AHEAD = 4096


cdef inline floating _log(floating x) noexcept nogil:
    if floating is float:
        return logf(x)
    else:
        return log(x)


cdef inline floating row_max(const floating* z, Py_ssize_t n) noexcept nogil:
    """max_j z_j of a row with n >= 1 (a NaN makes the row's results NaN downstream).

    Four running maxima, for the reason row_sum has eight running sums.
    """
    cdef floating m0 = z[0], m1 = z[0], m2 = z[0], m3 = z[0]
    cdef Py_ssize_t j = 1
    while j + 4 <= n:
        m0 = z[j] if z[j] > m0 else m0
        m1 = z[j + 1] if z[j + 1] > m1 else m1
        m2 = z[j + 2] if z[j + 2] > m2 else m2
        m3 = z[j + 3] if z[j + 3] > m3 else m3
        j += 4
    while j < n:
        m0 = z[j] if z[j] > m0 else m0
        j += 1
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    return m2 if m2 > m0 else m0


cdef inline double row_sum(const floating* x, Py_ssize_t n) noexcept nogil:
    """sum_j x_j in double precision, by pairwise summation (as numpy.sum does).

    A row longer than PAIRWISE_BLOCK is split in halves summed separately, so rounding
    errors grow like log2(n), not like n (one running sum that reached 1 would lose
    half an ulp of 1 on every small term added after). A block is added with eight
    running sums: independent additions the CPU overlaps and the compiler vectorizes.
    """
    cdef Py_ssize_t half, j = 0
    if n > PAIRWISE_BLOCK:
        half = (n // 2) // 8 * 8
        return row_sum(x, half) + row_sum(x + half, n - half)
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0
    while j + 8 <= n:
        s0 += x[j]
        s1 += x[j + 1]
        s2 += x[j + 2]
        s3 += x[j + 3]
        s4 += x[j + 4]
        s5 += x[j + 5]
        s6 += x[j + 6]
        s7 += x[j + 7]
        j += 8
    while j < n:
        s0 += x[j]
        j += 1
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


cdef inline floating long_row_max(const floating* z, Py_ssize_t n) noexcept nogil:
    """max_j z_j of a row with n >= LANES, as row_max, in vector instructions.

    One running maximum per lane: lane l sees z_l, z_(l + LANES), ..., so that each step
    is an elementwise max of LANES numbers. A few running maxima (row_max) stay scalar:
    gcc may not reorder a max reduction by itself, as the order decides which NaN or which
    signed zero wins. The lanes are then combined by halves.
    """
    cdef floating mx[LANES]
    cdef Py_ssize_t j = LANES, l, h = LANES // 2
    for l in range(LANES):
        mx[l] = z[l]
    while j + LANES <= n:
        for l in range(LANES):
            mx[l] = z[j + l] if z[j + l] > mx[l] else mx[l]
        j += LANES
    for l in range(n - j):
        mx[l] = z[j + l] if z[j + l] > mx[l] else mx[l]
    while h > 0:
        for l in range(h):
            mx[l] = mx[l + h] if mx[l + h] > mx[l] else mx[l]
        h //= 2
    return mx[0]


cdef inline double long_row_sum(const floating* x, Py_ssize_t n) noexcept nogil:
    """sum_j x_j of a row with n >= LANES, in double precision.

    float64: row_sum, pairwise. float32: LANES running sums in double, lane l adding x_l,
    x_(l + LANES), ..., in one vector loop that widens the floats as it adds them. The
    halving of the pairwise sum costs calls and horizontal additions: float32 softmax-CE
    at 4096 x 1000 takes 8-10% longer with it. A lane rounds at most n / LANES times, by
    2^-53 each: nothing against a float's own 2^-24. Lanes of float32 would save another
    tenth of the time but round by 2^-24 themselves: the largest error of the gradient
    grew 1.4 to 6 times at 1000 classes, 30 times at 100,000 (measured).
    """
    cdef double acc[LANES]
    cdef Py_ssize_t j = LANES, l, h = LANES // 2
    if floating is double:
        return row_sum(x, n)
    else:
        for l in range(LANES):
            acc[l] = x[l]
        while j + LANES <= n:
            for l in range(LANES):
                acc[l] += x[j + l]
            j += LANES
        for l in range(n - j):
            acc[l] += x[j + l]
        while h > 0:
            for l in range(h):
                acc[l] += acc[l + h]
            h //= 2
        return acc[0]


cdef inline double row_sum_exp(const floating* z, Py_ssize_t n, floating m,
                               floating inv_t) noexcept nogil:
    """sum_j exp((z_j - m) / T) without writing anywhere but the stack."""
    cdef floating e[BLOCK]
    cdef double s = 0
    cdef Py_ssize_t lo = 0, j, w
    while lo < n:
        w = min(<Py_ssize_t>BLOCK, n - lo)
        for j in range(w):
            e[j] = _exp_neg((z[lo + j] - m) * inv_t)
        s += row_sum(e, w)
        lo += w
    return s


cdef inline double row_weighted_gap(const floating* r, const floating* z, Py_ssize_t n,
                                    floating m) noexcept nogil:
    """sum_j r_j (m - z_j): written with the gaps m - z_j, not as m sum r - r.z, so that
    nothing cancels when the logits are large and the loss is small."""
    cdef double s0 = 0, s1 = 0
    cdef Py_ssize_t j = 0
    while j + 2 <= n:
        s0 += r[j] * (m - z[j])
        s1 += r[j + 1] * (m - z[j + 1])
        j += 2
    if j < n:
        s0 += r[j] * (m - z[j])
    return s0 + s1


cdef inline Py_ssize_t rows_per_block(Py_ssize_t n) noexcept nogil:
    return max(1, min(<Py_ssize_t>MAX_BLOCK_ROWS, ROW_BLOCK // max(n, 1)))


cdef inline void exp_rows(const floating* z, floating* y, Py_ssize_t rows, Py_ssize_t n,
                          floating inv_t, floating* m, double* s, bint more) noexcept nogil:
    """y = exp((z - m_i) / T) for `rows` consecutive rows of length n (y must not be z).

    Also returns each row's maximum m_i and sum s_i = sum_j y_ij. Short rows: the
    exponents are written first and exponentiated in one loop over all the rows of the
    block. `more`: the array goes on after these rows (a long row's successor is read
    ahead, and the last row's successor lies past the block).
    """
    cdef Py_ssize_t i, j, t, ahead = min(n, <Py_ssize_t>(READ_AHEAD // sizeof(floating)))
    cdef floating mi
    if n >= LONG_ROW:  # a long row fills the vectors by itself: shift and exp in one pass
        for i in range(rows):
            # the maximum in a local, not m[i]: for float32, m may point into y as far as
            # gcc knows, so that each store to y could change m[i], and the loop would stay
            # scalar (it did, and most of the old kernel's time went into it)
            mi = long_row_max(z + i * n, n)
            m[i] = mi
            # The start of the next row comes from memory while this one is computed. The
            # CPU's own prefetcher stops at each 4 KiB page, and a row of a thousand floats
            # is one page: this saves 10-12% of float32 softmax-CE at 4096 x 1000.
            if i + 1 < rows or more:
                t = 0
                while t < ahead:
                    nl_prefetch(z + (i + 1) * n + t)
                    t += 64 // sizeof(floating)  # one request per 64-byte cache line
            for j in range(n):
                y[i * n + j] = _exp_neg((z[i * n + j] - mi) * inv_t)
            s[i] = long_row_sum(y + i * n, n)
        return
    for i in range(rows):
        m[i] = row_max(z + i * n, n)
        for j in range(n):
            y[i * n + j] = (z[i * n + j] - m[i]) * inv_t
    for t in range(rows * n):
        y[t] = _exp_neg(y[t])
    for i in range(rows):
        s[i] = row_sum(y + i * n, n)
