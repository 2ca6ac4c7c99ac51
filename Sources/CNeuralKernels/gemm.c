/*
 * Blocked, packed Float32 GEMM with run-time selected SIMD micro-kernels.
 *
 * Loop structure (Goto/BLIS): jc over NC columns, pc over KC depth (pack a KC x NC panel of B),
 * ic over MC rows (pack an MC x KC block of A), then jr/ir over NR/MR register tiles, each computed
 * by a micro-kernel that keeps the whole MR x NR tile of C in vector registers for KC steps.
 * Packed layouts: A panel (MR rows) stores element (i, k) at [k * MR + i]; B panel (NR columns)
 * stores element (k, j) at [k * NR + j]; both zero-padded to full MR/NR, so the kernels never branch.
 */
#include "CNeuralKernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define VS_X86 1
#include <immintrin.h>
#endif

typedef void (*vs_kernel_fn)(ptrdiff_t kc, const float *a, const float *b, float *c,
                             ptrdiff_t ldc, float alpha, float beta);

typedef struct {
    int mr, nr, kc, mc, nc;
    vs_kernel_fn kernel;
} vs_config;

#define VS_MAX_TILE (16 * 32)

/* ---------------------------------------------------------------- portable 4 x 16 kernel */

static void kernel_portable_4x16(ptrdiff_t kc, const float *a, const float *b, float *c,
                                 ptrdiff_t ldc, float alpha, float beta) {
    float acc[4][16];
    memset(acc, 0, sizeof acc);
    for (ptrdiff_t k = 0; k < kc; k++) {
        for (int i = 0; i < 4; i++) {
            const float ai = a[i];
            for (int j = 0; j < 16; j++) acc[i][j] += ai * b[j];
        }
        a += 4;
        b += 16;
    }
    for (int i = 0; i < 4; i++) {
        float *ci = c + i * ldc;
        if (beta == 0.0f) {
            for (int j = 0; j < 16; j++) ci[j] = alpha * acc[i][j];
        } else {
            for (int j = 0; j < 16; j++) ci[j] = alpha * acc[i][j] + beta * ci[j];
        }
    }
}

#ifdef VS_X86
/* ---------------------------------------------------------------- AVX2 + FMA 6 x 16 kernel */

__attribute__((target("avx2,fma")))
static void kernel_avx2_6x16(ptrdiff_t kc, const float *a, const float *b, float *c,
                             ptrdiff_t ldc, float alpha, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (ptrdiff_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 t;
        t = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(t, b0, c00); c01 = _mm256_fmadd_ps(t, b1, c01);
        t = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(t, b0, c10); c11 = _mm256_fmadd_ps(t, b1, c11);
        t = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(t, b0, c20); c21 = _mm256_fmadd_ps(t, b1, c21);
        t = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(t, b0, c30); c31 = _mm256_fmadd_ps(t, b1, c31);
        t = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(t, b0, c40); c41 = _mm256_fmadd_ps(t, b1, c41);
        t = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(t, b0, c50); c51 = _mm256_fmadd_ps(t, b1, c51);
        a += 6;
        b += 16;
    }
    const __m256 va = _mm256_set1_ps(alpha);
#define VS_STORE2(row, x0, x1)                                                         \
    do {                                                                                 \
        float *cr = c + (row) * ldc;                                                     \
        if (beta == 0.0f) {                                                              \
            _mm256_storeu_ps(cr, _mm256_mul_ps(va, x0));                                 \
            _mm256_storeu_ps(cr + 8, _mm256_mul_ps(va, x1));                             \
        } else {                                                                         \
            const __m256 vb = _mm256_set1_ps(beta);                                      \
            _mm256_storeu_ps(cr, _mm256_fmadd_ps(va, x0, _mm256_mul_ps(vb, _mm256_loadu_ps(cr)))); \
            _mm256_storeu_ps(cr + 8, _mm256_fmadd_ps(va, x1, _mm256_mul_ps(vb, _mm256_loadu_ps(cr + 8)))); \
        }                                                                                \
    } while (0)
    VS_STORE2(0, c00, c01); VS_STORE2(1, c10, c11); VS_STORE2(2, c20, c21);
    VS_STORE2(3, c30, c31); VS_STORE2(4, c40, c41); VS_STORE2(5, c50, c51);
#undef VS_STORE2
}

/* ---------------------------------------------------------------- AVX-512F 14 x 32 kernel */

/* 28 zmm accumulators + 2 for the B row; A values are broadcast from memory straight into the FMA. */
__attribute__((target("avx512f")))
static void kernel_avx512_14x32(ptrdiff_t kc, const float *a, const float *b, float *c,
                                ptrdiff_t ldc, float alpha, float beta) {
#define VS_Z(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps();
    VS_Z(0) VS_Z(1) VS_Z(2) VS_Z(3) VS_Z(4) VS_Z(5) VS_Z(6)
    VS_Z(7) VS_Z(8) VS_Z(9) VS_Z(a) VS_Z(b) VS_Z(c) VS_Z(d)
#undef VS_Z
    for (ptrdiff_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#define VS_F(i, off)                                                    \
    {                                                                   \
        const __m512 t = _mm512_set1_ps(a[off]);                        \
        c##i##0 = _mm512_fmadd_ps(t, b0, c##i##0);                      \
        c##i##1 = _mm512_fmadd_ps(t, b1, c##i##1);                      \
    }
        VS_F(0, 0) VS_F(1, 1) VS_F(2, 2) VS_F(3, 3) VS_F(4, 4) VS_F(5, 5) VS_F(6, 6)
        VS_F(7, 7) VS_F(8, 8) VS_F(9, 9) VS_F(a, 10) VS_F(b, 11) VS_F(c, 12) VS_F(d, 13)
#undef VS_F
        a += 14;
        b += 32;
    }
    const __m512 va = _mm512_set1_ps(alpha);
    const __m512 vb = _mm512_set1_ps(beta);
    const int readC = beta != 0.0f;
#define VS_S(i, row)                                                                          \
    {                                                                                         \
        float *cr = c + (row) * ldc;                                                          \
        if (readC) {                                                                          \
            _mm512_storeu_ps(cr, _mm512_fmadd_ps(va, c##i##0, _mm512_mul_ps(vb, _mm512_loadu_ps(cr))));           \
            _mm512_storeu_ps(cr + 16, _mm512_fmadd_ps(va, c##i##1, _mm512_mul_ps(vb, _mm512_loadu_ps(cr + 16)))); \
        } else {                                                                              \
            _mm512_storeu_ps(cr, _mm512_mul_ps(va, c##i##0));                                 \
            _mm512_storeu_ps(cr + 16, _mm512_mul_ps(va, c##i##1));                            \
        }                                                                                     \
    }
    VS_S(0, 0) VS_S(1, 1) VS_S(2, 2) VS_S(3, 3) VS_S(4, 4) VS_S(5, 5) VS_S(6, 6)
    VS_S(7, 7) VS_S(8, 8) VS_S(9, 9) VS_S(a, 10) VS_S(b, 11) VS_S(c, 12) VS_S(d, 13)
#undef VS_S
}
#endif /* VS_X86 */

/* ---------------------------------------------------------------- detection */

static int detect_kernel(void) {
#ifdef VS_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return VS_KERNEL_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return VS_KERNEL_AVX2;
#endif
    return VS_KERNEL_PORTABLE;
}

int vs_best_kernel(void) {
    /* Racy first initialization is benign: every thread computes the same value. */
    static volatile int cached = -1;
    int v = cached;
    if (v < 0) {
        v = detect_kernel();
        cached = v;
    }
    return v;
}

const char *vs_kernel_name(int level) {
    switch (level) {
    case VS_KERNEL_AVX512: return "avx512f";
    case VS_KERNEL_AVX2: return "avx2+fma";
    default: return "portable";
    }
}

static vs_config config_for(int level) {
    vs_config cfg;
#ifdef VS_X86
    if (level >= VS_KERNEL_AVX512) {
        cfg.mr = 14; cfg.nr = 32; cfg.kc = 256; cfg.mc = 14 * 12; cfg.nc = 2048;
        cfg.kernel = kernel_avx512_14x32;
        return cfg;
    }
    if (level >= VS_KERNEL_AVX2) {
        cfg.mr = 6; cfg.nr = 16; cfg.kc = 256; cfg.mc = 6 * 24; cfg.nc = 2048;
        cfg.kernel = kernel_avx2_6x16;
        return cfg;
    }
#endif
    (void)level;
    cfg.mr = 4; cfg.nr = 16; cfg.kc = 256; cfg.mc = 4 * 32; cfg.nc = 2048;
    cfg.kernel = kernel_portable_4x16;
    return cfg;
}

/* ---------------------------------------------------------------- packing */

/* Packs an mc x kc block of op(A) into MR-row panels, zero-padding the last panel. */
static void pack_a(ptrdiff_t mc, ptrdiff_t kc, const float *A, ptrdiff_t rsA, ptrdiff_t csA,
                   float *out, int mr) {
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += mr) {
        const ptrdiff_t rows = (mc - i0) < mr ? (mc - i0) : mr;
        const float *src = A + i0 * rsA;
        if (rsA == 1) {
            for (ptrdiff_t k = 0; k < kc; k++) {
                const float *s = src + k * csA;
                float *d = out + k * mr;
                ptrdiff_t i = 0;
                for (; i < rows; i++) d[i] = s[i];
                for (; i < mr; i++) d[i] = 0.0f;
            }
        } else {
            for (ptrdiff_t i = 0; i < rows; i++) {
                const float *s = src + i * rsA;
                float *d = out + i;
                for (ptrdiff_t k = 0; k < kc; k++) d[k * mr] = s[k * csA];
            }
            for (ptrdiff_t i = rows; i < mr; i++)
                for (ptrdiff_t k = 0; k < kc; k++) out[k * mr + i] = 0.0f;
        }
        out += (ptrdiff_t)mr * kc;
    }
}

/* Packs a kc x nc panel of op(B) into NR-column panels, zero-padding the last panel. */
static void pack_b(ptrdiff_t kc, ptrdiff_t nc, const float *B, ptrdiff_t rsB, ptrdiff_t csB,
                   float *out, int nr) {
    for (ptrdiff_t j0 = 0; j0 < nc; j0 += nr) {
        const ptrdiff_t cols = (nc - j0) < nr ? (nc - j0) : nr;
        const float *src = B + j0 * csB;
        if (csB == 1) {
            for (ptrdiff_t k = 0; k < kc; k++) {
                float *d = out + k * nr;
                memcpy(d, src + k * rsB, (size_t)cols * sizeof(float));
                for (ptrdiff_t j = cols; j < nr; j++) d[j] = 0.0f;
            }
        } else {
            for (ptrdiff_t j = 0; j < cols; j++) {
                const float *s = src + j * csB;
                float *d = out + j;
                for (ptrdiff_t k = 0; k < kc; k++) d[k * nr] = s[k * rsB];
            }
            for (ptrdiff_t j = cols; j < nr; j++)
                for (ptrdiff_t k = 0; k < kc; k++) out[k * nr + j] = 0.0f;
        }
        out += (ptrdiff_t)nr * kc;
    }
}

/* ---------------------------------------------------------------- thread-local buffers */

static _Thread_local float *tl_buf = NULL;
static _Thread_local size_t tl_cap = 0;

/* Returns a 64-byte aligned thread-local buffer of at least `floats` floats, or NULL. Grows only. */
static float *workspace(size_t floats) {
    if (floats <= tl_cap) return tl_buf;
    free(tl_buf);
    tl_buf = NULL;
    tl_cap = 0;
    void *p = NULL;
    if (posix_memalign(&p, 64, floats * sizeof(float)) != 0) return NULL;
    tl_buf = (float *)p;
    tl_cap = floats;
    return tl_buf;
}

static void scale_c(ptrdiff_t M, ptrdiff_t N, float beta, float *C, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (beta == 0.0f) {
            memset(c, 0, (size_t)N * sizeof(float));
        } else if (beta != 1.0f) {
            for (ptrdiff_t j = 0; j < N; j++) c[j] *= beta;
        }
    }
}

/* Unblocked fallback, used only if the packing workspace cannot be allocated. */
static void sgemm_naive(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, float alpha,
                        const float *A, ptrdiff_t rsA, ptrdiff_t csA,
                        const float *B, ptrdiff_t rsB, ptrdiff_t csB,
                        float beta, float *C, ptrdiff_t ldc) {
    scale_c(M, N, beta, C, ldc);
    for (ptrdiff_t i = 0; i < M; i++)
        for (ptrdiff_t k = 0; k < K; k++) {
            const float a = alpha * A[i * rsA + k * csA];
            for (ptrdiff_t j = 0; j < N; j++) C[i * ldc + j] += a * B[k * rsB + j * csB];
        }
}

void vs_sgemm(int level, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, float alpha,
              const float *A, ptrdiff_t rsA, ptrdiff_t csA,
              const float *B, ptrdiff_t rsB, ptrdiff_t csB,
              float beta, float *C, ptrdiff_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    const int best = vs_best_kernel();
    const vs_config cfg = config_for(level < best ? level : best);
    const ptrdiff_t MR = cfg.mr, NR = cfg.nr;
    const ptrdiff_t KCmax = K < cfg.kc ? K : cfg.kc;
    const ptrdiff_t NCmax = ((N < cfg.nc ? N : cfg.nc) + NR - 1) / NR * NR;
    const ptrdiff_t MCmax = ((M < cfg.mc ? M : cfg.mc) + MR - 1) / MR * MR;
    float *bp = workspace((size_t)(KCmax * NCmax + KCmax * MCmax));
    if (bp == NULL) {
        sgemm_naive(M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C, ldc);
        return;
    }
    float *ap = bp + KCmax * NCmax;
    float tile[VS_MAX_TILE];

    for (ptrdiff_t jc = 0; jc < N; jc += cfg.nc) {
        const ptrdiff_t nc = (N - jc) < cfg.nc ? (N - jc) : cfg.nc;
        for (ptrdiff_t pc = 0; pc < K; pc += cfg.kc) {
            const ptrdiff_t kc = (K - pc) < cfg.kc ? (K - pc) : cfg.kc;
            const float betaEff = pc == 0 ? beta : 1.0f;
            pack_b(kc, nc, B + pc * rsB + jc * csB, rsB, csB, bp, cfg.nr);
            for (ptrdiff_t ic = 0; ic < M; ic += cfg.mc) {
                const ptrdiff_t mc = (M - ic) < cfg.mc ? (M - ic) : cfg.mc;
                pack_a(mc, kc, A + ic * rsA + pc * csA, rsA, csA, ap, cfg.mr);
                for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
                    const ptrdiff_t nr = (nc - jr) < NR ? (nc - jr) : NR;
                    const float *b = bp + jr * kc;
                    for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
                        const ptrdiff_t mr = (mc - ir) < MR ? (mc - ir) : MR;
                        const float *a = ap + ir * kc;
                        float *c = C + (ic + ir) * ldc + jc + jr;
                        if (mr == MR && nr == NR) {
                            cfg.kernel(kc, a, b, c, ldc, alpha, betaEff);
                        } else {
                            cfg.kernel(kc, a, b, tile, NR, alpha, 0.0f);
                            for (ptrdiff_t i = 0; i < mr; i++) {
                                float *ci = c + i * ldc;
                                const float *ti = tile + i * NR;
                                if (betaEff == 0.0f) {
                                    for (ptrdiff_t j = 0; j < nr; j++) ci[j] = ti[j];
                                } else {
                                    for (ptrdiff_t j = 0; j < nr; j++) ci[j] = ti[j] + betaEff * ci[j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
