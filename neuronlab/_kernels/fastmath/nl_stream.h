/*
 * nl_stream.h -- writing a large output past the caches.
 *
 * An ordinary store to memory that is not in the cache first reads the cache line it
 * lands in (the CPU must own the whole line before changing part of it), so y = f(x)
 * over arrays much larger than the cache moves three arrays' worth of bytes: x in, y in,
 * y out. A non-temporal ("streaming") store writes whole lines straight to memory
 * without reading them, as memcpy does for large copies: two arrays' worth. The compiler
 * emits such stores only from intrinsics, never from the plain loops of the kernels, so
 * a kernel computes a tile of its output into a small buffer that stays in the L1 cache,
 * and nl_stream_copy moves the buffer out with streaming stores. Streamed lines are not
 * in the cache afterwards: worth it only when the output could not stay there anyway,
 * which is why the kernels stream only from STREAM_MIN_BYTES on (../_elementwise.pyx.tp).
 *
 * Streaming stores need a destination aligned to their width; nl_stream_offset says how
 * many elements to write normally before the destination reaches a 64-byte boundary.
 * On a CPU without SSE2 nothing streams (NL_STREAMS is 0).
 */
#ifndef NL_STREAM_H
#define NL_STREAM_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <immintrin.h>
#define NL_STREAMS 1
#else
#define NL_STREAMS 0
#endif

#define NL_STREAM_LINE 64

/* Elements of `itemsize` bytes from p to the next 64-byte boundary (0 when p is on one),
 * or -1 when p is not a multiple of itemsize and never reaches one. */
static inline ptrdiff_t nl_stream_offset(const void *p, size_t itemsize) {
    uintptr_t a = (uintptr_t)p;
    if (a % itemsize)
        return -1;
    return (ptrdiff_t)(((NL_STREAM_LINE - a % NL_STREAM_LINE) % NL_STREAM_LINE) / itemsize);
}

/* dst[0:nbytes] = src[0:nbytes] with streaming stores; dst 64-byte aligned, nbytes a
 * multiple of 64, src anywhere (it is read with unaligned loads). */
static inline void nl_stream_copy(void *dst, const void *src, size_t nbytes) {
    char *d = (char *)dst;
    const char *s = (const char *)src;
    for (size_t i = 0; i < nbytes; i += NL_STREAM_LINE) {
#if defined(__AVX512F__)
        _mm512_stream_si512((void *)(d + i), _mm512_loadu_si512((const void *)(s + i)));
#elif defined(__AVX__)
        _mm256_stream_si256((__m256i *)(d + i), _mm256_loadu_si256((const __m256i *)(s + i)));
        _mm256_stream_si256((__m256i *)(d + i + 32),
                            _mm256_loadu_si256((const __m256i *)(s + i + 32)));
#elif defined(__SSE2__)
        for (int j = 0; j < NL_STREAM_LINE; j += 16)
            _mm_stream_si128((__m128i *)(d + i + j), _mm_loadu_si128((const __m128i *)(s + i + j)));
#else
        memcpy(d + i, s + i, NL_STREAM_LINE);
#endif
    }
}

/* Streaming stores are weakly ordered: the fence makes them visible before anything the
 * thread stores later (such as OpenMP's "done" flag), so that no reader sees stale lines. */
static inline void nl_stream_fence(void) {
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

/* Ask for the cache line at p some time before it is used: for reading, or for writing
 * (fetched already owned, so that the store to it does not wait). A hint: it never
 * faults, whatever the address. The kernels that compute for long per element prefetch
 * (../_elementwise.pyx.tp): with some 40 instructions between one cache line and the next,
 * the hardware prefetcher alone left a float32 GELU over 10^6 elements waiting for
 * memory one time in five. */
#if defined(__GNUC__)
#define nl_prefetch(p) __builtin_prefetch((p), 0, 3)
#define nl_prefetch_write(p) __builtin_prefetch((p), 1, 3)
#else
#define nl_prefetch(p) ((void)(p))
#define nl_prefetch_write(p) ((void)(p))
#endif

#endif
