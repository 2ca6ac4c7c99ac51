/*
 * The fast path of DP's 128-layer ziggurat (Sources/DP/NoiseSampling.swift describes the method),
 * vectorized with AVX2 gathers where the CPU has them. Each 32-bit draw gives a layer
 * i = bits & 127 and a uniform u = (int32)bits >> 7 scaled by 2^-24; when |u| < ratio[i] the
 * standard normal draw is u * x[i], and out[k] becomes (out[k] + (float)(std * u * x[i])) * scale.
 * The arithmetic is the same in both versions (double products, one rounding to float, float add
 * and multiply), so they agree bit for bit.
 */
#include "CNeuralKernels.h"
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

static size_t zig_portable(float *out, const uint32_t *bits, size_t count, const double *x, const double *ratio,
                           double std, float scale, uint32_t *misses) {
    size_t m = 0;
    for (size_t k = 0; k < count; k++) {
        uint32_t b = bits[k];
        int i = (int)(b & 0x7F);
        double u = (double)((int32_t)b >> 7) * 0x1p-24;
        if ((u < 0 ? -u : u) < ratio[i]) {
            out[k] = (out[k] + (float)(std * (u * x[i]))) * scale;
        } else {
            misses[m++] = (uint32_t)k;
        }
    }
    return m;
}

#if defined(__x86_64__)
__attribute__((target("avx2")))
static size_t zig_avx2(float *out, const uint32_t *bits, size_t count, const double *x, const double *ratio,
                       double std, float scale, uint32_t *misses) {
    size_t m = 0, k = 0;
    const __m128i low7 = _mm_set1_epi32(0x7F);
    const __m256d step = _mm256_set1_pd(0x1p-24), sd = _mm256_set1_pd(std), sign = _mm256_set1_pd(-0.0);
    const __m128 sc = _mm_set1_ps(scale);
    for (; k + 4 <= count; k += 4) {
        __m128i b = _mm_loadu_si128((const __m128i *)(bits + k));
        __m128i idx = _mm_and_si128(b, low7);
        __m256d u = _mm256_mul_pd(_mm256_cvtepi32_pd(_mm_srai_epi32(b, 7)), step);
        __m256d r = _mm256_i32gather_pd(ratio, idx, 8);
        __m256d xi = _mm256_i32gather_pd(x, idx, 8);
        int accept = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_andnot_pd(sign, u), r, _CMP_LT_OQ));
        __m128 z = _mm256_cvtpd_ps(_mm256_mul_pd(sd, _mm256_mul_pd(u, xi)));
        __m128 res = _mm_mul_ps(_mm_add_ps(_mm_loadu_ps(out + k), z), sc);
        if (accept == 0xF) {
            _mm_storeu_ps(out + k, res);
        } else {
            float lanes[4];
            _mm_storeu_ps(lanes, res);
            for (int j = 0; j < 4; j++) {
                if (accept >> j & 1) out[k + j] = lanes[j]; else misses[m++] = (uint32_t)(k + j);
            }
        }
    }
    size_t tail = zig_portable(out + k, bits + k, count - k, x, ratio, std, scale, misses + m);
    for (size_t j = 0; j < tail; j++) misses[m + j] += (uint32_t)k;
    return m + tail;
}

static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return cached;
}
#endif

size_t vs_ziggurat_fast(float *out, const uint32_t *bits, size_t count, const double *x, const double *ratio,
                        double std, float scale, uint32_t *misses) {
#if defined(__x86_64__)
    if (has_avx2()) return zig_avx2(out, bits, count, x, ratio, std, scale, misses);
#endif
    return zig_portable(out, bits, count, x, ratio, std, scale, misses);
}

size_t vs_ziggurat_fast_portable(float *out, const uint32_t *bits, size_t count, const double *x, const double *ratio,
                                 double std, float scale, uint32_t *misses) {
    return zig_portable(out, bits, count, x, ratio, std, scale, misses);
}
