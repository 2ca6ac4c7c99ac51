/*
 * The fast path of DP's 128-layer ziggurat (Sources/DP/NoiseSampling.swift describes the method).
 * Each 32-bit draw gives a layer i = bits & 127 and m = (int32)bits >> 7, the uniform u = m 2^-24.
 * The acceptance test |u| < ratio[i] is done exactly on integers, |m| < threshold[i] with
 * threshold[i] = ceil(ratio[i] 2^24); an accepted draw's normal value is m * scaled_x[i]
 * (scaled_x[i] = x[i] 2^-24 in float: m has at most 25 bits and converts exactly), and
 * out[k] becomes (out[k] + std * z) * scale, every operation a single float rounding. The kernels
 * (portable, AVX2 gathers, AVX-512 permutes over the 128-entry tables held in eight registers
 * each) do the same operations in the same order, so they agree bit for bit.
 */
#include "CNeuralKernels.h"
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* No fused multiply-adds: every kernel must round each operation the same way. */
#pragma STDC FP_CONTRACT OFF

static inline int zig_accept(uint32_t b, const int32_t *threshold, int *layer, int32_t *m) {
    *layer = (int)(b & 0x7F);
    *m = (int32_t)b >> 7;
    int32_t a = *m < 0 ? -*m : *m; /* |m| <= 2^24: no overflow */
    return a < threshold[*layer];
}

static size_t zig_portable(float *out, const uint32_t *bits, size_t count, const int32_t *threshold,
                           const float *scaled_x, float std, float scale, uint32_t *misses, size_t offset) {
    size_t m = 0;
    for (size_t k = 0; k < count; k++) {
        int i;
        int32_t mi;
        if (zig_accept(bits[k], threshold, &i, &mi)) {
            float z = (float)mi * scaled_x[i];
            float noise = std * z;
            float sum = out[k] + noise;
            out[k] = sum * scale;
        } else {
            misses[m++] = (uint32_t)(k + offset);
        }
    }
    return m;
}

#if defined(__x86_64__)
__attribute__((target("avx2")))
static size_t zig_avx2(float *out, const uint32_t *bits, size_t count, const int32_t *threshold,
                       const float *scaled_x, float std, float scale, uint32_t *misses) {
    size_t m = 0, k = 0;
    const __m256i low7 = _mm256_set1_epi32(0x7F);
    const __m256 sd = _mm256_set1_ps(std), sc = _mm256_set1_ps(scale);
    for (; k + 8 <= count; k += 8) {
        __m256i b = _mm256_loadu_si256((const __m256i *)(bits + k));
        __m256i idx = _mm256_and_si256(b, low7);
        __m256i mi = _mm256_srai_epi32(b, 7);
        __m256i t = _mm256_i32gather_epi32((const int *)threshold, idx, 4);
        __m256 x = _mm256_i32gather_ps(scaled_x, idx, 4);
        __m256i accept = _mm256_cmpgt_epi32(t, _mm256_abs_epi32(mi));
        __m256 z = _mm256_mul_ps(_mm256_cvtepi32_ps(mi), x);
        __m256 res = _mm256_mul_ps(_mm256_add_ps(_mm256_loadu_ps(out + k), _mm256_mul_ps(sd, z)), sc);
        _mm256_maskstore_ps(out + k, accept, res);
        int mask = _mm256_movemask_ps(_mm256_castsi256_ps(accept));
        if (mask != 0xFF) {
            for (int j = 0; j < 8; j++) {
                if (!(mask >> j & 1)) misses[m++] = (uint32_t)(k + j);
            }
        }
    }
    return m + zig_portable(out + k, bits + k, count - k, threshold, scaled_x, std, scale, misses + m, k);
}

/* Entries idx & 127 of a 128-entry table held as eight 16-lane registers: four two-register
 * permutes (bits 0-4) and blends on bits 5 and 6. */
__attribute__((target("avx512f")))
static inline __m512i zig_lookup(const __m512i table[8], __m512i idx) {
    __m512i a = _mm512_permutex2var_epi32(table[0], idx, table[1]);
    __m512i b = _mm512_permutex2var_epi32(table[2], idx, table[3]);
    __m512i c = _mm512_permutex2var_epi32(table[4], idx, table[5]);
    __m512i d = _mm512_permutex2var_epi32(table[6], idx, table[7]);
    __mmask16 bit5 = _mm512_test_epi32_mask(idx, _mm512_set1_epi32(32));
    __mmask16 bit6 = _mm512_test_epi32_mask(idx, _mm512_set1_epi32(64));
    __m512i low = _mm512_mask_blend_epi32(bit5, a, b);
    __m512i high = _mm512_mask_blend_epi32(bit5, c, d);
    return _mm512_mask_blend_epi32(bit6, low, high);
}

__attribute__((target("avx512f")))
static size_t zig_avx512(float *out, const uint32_t *bits, size_t count, const int32_t *threshold,
                         const float *scaled_x, float std, float scale, uint32_t *misses) {
    __m512i thresholds[8], xs[8];
    for (int j = 0; j < 8; j++) {
        thresholds[j] = _mm512_loadu_si512((const void *)(threshold + 16 * j));
        xs[j] = _mm512_loadu_si512((const void *)(scaled_x + 16 * j));
    }
    const __m512i low7 = _mm512_set1_epi32(0x7F);
    const __m512 sd = _mm512_set1_ps(std), sc = _mm512_set1_ps(scale);
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    size_t m = 0, k = 0;
    for (; k + 16 <= count; k += 16) {
        __m512i b = _mm512_loadu_si512((const void *)(bits + k));
        __m512i idx = _mm512_and_si512(b, low7);
        __m512i mi = _mm512_srai_epi32(b, 7);
        __m512i t = zig_lookup(thresholds, idx);
        __m512 x = _mm512_castsi512_ps(zig_lookup(xs, idx));
        __mmask16 accept = _mm512_cmplt_epi32_mask(_mm512_abs_epi32(mi), t);
        __m512 z = _mm512_mul_ps(_mm512_cvtepi32_ps(mi), x);
        __m512 res = _mm512_mul_ps(_mm512_add_ps(_mm512_loadu_ps(out + k), _mm512_mul_ps(sd, z)), sc);
        _mm512_mask_storeu_ps(out + k, accept, res);
        __mmask16 reject = (__mmask16)~accept;
        if (reject) {
            _mm512_mask_compressstoreu_epi32(misses + m, reject, _mm512_add_epi32(lanes, _mm512_set1_epi32((int)k)));
            m += (size_t)__builtin_popcount((unsigned)reject);
        }
    }
    return m + zig_portable(out + k, bits + k, count - k, threshold, scaled_x, std, scale, misses + m, k);
}

static int zig_cpu_level(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return cached;
}
#endif

size_t vs_ziggurat_fast_kernel(int kernel, float *out, const uint32_t *bits, size_t count,
                               const int32_t *threshold, const float *scaled_x, float std, float scale,
                               uint32_t *misses) {
    if (kernel == 0) return zig_portable(out, bits, count, threshold, scaled_x, std, scale, misses, 0);
#if defined(__x86_64__)
    if (kernel == 1 && zig_cpu_level() >= 1) return zig_avx2(out, bits, count, threshold, scaled_x, std, scale, misses);
    if (kernel == 2 && zig_cpu_level() >= 2)
        return zig_avx512(out, bits, count, threshold, scaled_x, std, scale, misses);
#endif
    return SIZE_MAX;
}

size_t vs_ziggurat_fast(float *out, const uint32_t *bits, size_t count, const int32_t *threshold,
                        const float *scaled_x, float std, float scale, uint32_t *misses) {
#if defined(__x86_64__)
    int level = zig_cpu_level();
    if (level == 2) return zig_avx512(out, bits, count, threshold, scaled_x, std, scale, misses);
    if (level == 1) return zig_avx2(out, bits, count, threshold, scaled_x, std, scale, misses);
#endif
    return zig_portable(out, bits, count, threshold, scaled_x, std, scale, misses, 0);
}
