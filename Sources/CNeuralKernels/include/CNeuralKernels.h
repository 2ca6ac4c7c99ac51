#ifndef VERISPLIT_CNEURALKERNELS_H
#define VERISPLIT_CNEURALKERNELS_H
/*
 * Float32 GEMM micro-kernels for the NeuralNet module, and the vectorized fast path of DP's
 * Gaussian noise sampler.
 *
 * Why C: on Swift's default x86-64 target, SIMD fused multiply-add lowers to one `fmaf` call per
 * lane, roughly 30x slower than the vfmadd instruction. These kernels are compiled for AVX-512F
 * and AVX2+FMA with per-function `target` attributes and chosen at run time by CPU detection, so
 * the same binary still runs (on the portable kernel) on CPUs without those extensions.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kernel levels, ordered by capability. */
#define VS_KERNEL_PORTABLE 0
#define VS_KERNEL_AVX2 1
#define VS_KERNEL_AVX512 2

/* The best kernel level this CPU (and OS register-state support) allows. Cached after first call. */
int vs_best_kernel(void);

/* A short name for a kernel level ("portable", "avx2+fma", "avx512f"). */
const char *vs_kernel_name(int level);

/*
 * C = alpha * op(A) * op(B) + beta * C, single-threaded, blocked and packed (BLIS-style loops).
 *
 * op(A) is M x K with element (i, k) at A[i * rsA + k * csA]; op(B) is K x N with element (k, j) at
 * B[k * rsB + j * csB]; C is M x N row-major with row stride ldc. Transposes are expressed by
 * swapping strides, so A^T B and A B^T need no copies beyond the packing every call does anyway.
 * When beta == 0, C is not read (NaN/garbage in C does not propagate).
 * `level` is clamped to vs_best_kernel(). Packing buffers are thread-local and reused.
 * Cost: 2*M*N*K flops plus O(M*K*ceil(N/NC) + K*N) packing.
 */
void vs_sgemm(int level, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, float alpha,
              const float *A, ptrdiff_t rsA, ptrdiff_t csA,
              const float *B, ptrdiff_t rsB, ptrdiff_t csB,
              float beta, float *C, ptrdiff_t ldc);

/*
 * The fast path of DP's 128-layer ziggurat over `count` 32-bit draws `bits`: layer
 * i = bits[k] & 127, m = (int32_t)bits[k] >> 7 (the uniform u = m 2^-24). Where
 * |m| < threshold[i] (threshold[i] = ceil(ratio[i] 2^24), so this is exactly |u| < ratio[i]),
 * out[k] = (out[k] + std * ((float)m * scaled_x[i])) * scale in float arithmetic, each operation
 * rounded once (scaled_x[i] = (float)x[i] 2^-24). The other positions (about 1.2 %) are written
 * to `misses` in ascending order, out[] untouched there, for the caller to finish (wedge or tail)
 * from the same draw; returns their number. Both tables have 128 entries, `misses` room for
 * `count`. Every kernel gives bit-identical results.
 */
size_t vs_ziggurat_fast(float *out, const uint32_t *bits, size_t count, const int32_t *threshold,
                        const float *scaled_x, float std, float scale, uint32_t *misses);
/*
 * One kernel by number, for tests: 0 the portable loop, 1 AVX2 gathers, 2 AVX-512 table
 * permutes (the tables held in registers, no memory gathers). Returns SIZE_MAX when this CPU
 * lacks the kernel. `vs_ziggurat_fast` picks the best available.
 */
size_t vs_ziggurat_fast_kernel(int kernel, float *out, const uint32_t *bits, size_t count,
                               const int32_t *threshold, const float *scaled_x, float std, float scale,
                               uint32_t *misses);

#ifdef __cplusplus
}
#endif
#endif
