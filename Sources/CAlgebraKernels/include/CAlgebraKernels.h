#ifndef VERISPLIT_CALGEBRAKERNELS_H
#define VERISPLIT_CALGEBRAKERNELS_H
/*
 * Montgomery multiplication and squaring for BN254's Fr and Fq with the BMI2/ADX instructions
 * (MULX, and ADCX/ADOX for two independent carry chains), for the Algebra module.
 *
 * Why C with inline assembly: Swift has no access to the CPU's carry flags, so its 128-bit
 * arithmetic compiles to MUL and ADC with many register moves; MULX leaves the flags alone and
 * ADCX/ADOX carry on CF and OF separately, so a row of partial products and the reduction's row
 * are added in one interleaved pass. The functions are `static inline`, so Swift inlines them at
 * every call site. Inline assembly is not subject to the compiler's target features, so the
 * binary still runs on any x86-64: `vs_algebra_kernel` (set once at load time by CPUID) says
 * whether the CPU has BMI2 and ADX, and the Swift side falls back to its portable CIOS when it
 * does not (or when the portable path is forced, for tests and comparisons).
 *
 * Preconditions (all functions): inputs fully reduced (< p), p < 2^254 (both BN254 moduli), so
 * the "no-carry" CIOS variant is exact; outputs are fully reduced. Constant time: no branches
 * or memory accesses depend on the operands.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Four 64-bit limbs, least significant first (same layout as Swift's Limbs4). */
typedef struct { uint64_t l0, l1, l2, l3; } vs_limbs4;

#define VS_KERNEL_PORTABLE 0
#define VS_KERNEL_ADX 1

/* VS_KERNEL_ADX when the CPU has BMI2 and ADX (and the build is x86-64), else VS_KERNEL_PORTABLE.
   Set by a load-time constructor; `vs_algebra_set_kernel` lowers it (tests, comparisons). */
extern int vs_algebra_kernel;

/* The kernel in use (a relaxed atomic load: one plain MOV, no fence). */
static inline __attribute__((always_inline)) int vs_algebra_current_kernel(void) {
    return __atomic_load_n(&vs_algebra_kernel, __ATOMIC_RELAXED);
}

/* The best kernel this CPU supports. */
int vs_algebra_best_kernel(void);

/* Selects a kernel, clamped to vs_algebra_best_kernel(); returns the one now in use. */
int vs_algebra_set_kernel(int level);

#if defined(__x86_64__)
#define VS_HAVE_ADX_ASM 1

static const uint64_t vs_fr_modulus[4] = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                                          0xb85045b68181585dULL, 0x30644e72e131a029ULL};
static const uint64_t vs_fr_inv = 0xc2e1f593efffffffULL;
static const uint64_t vs_fq_modulus[4] = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL,
                                          0xb85045b68181585dULL, 0x30644e72e131a029ULL};
static const uint64_t vs_fq_inv = 0x87d20782e4866389ULL;

/* One reduction row of CIOS: m = T0 * inv mod 2^64, T += m * p, which zeroes T0; the carry out of
   T3 and the row's top word land in T4 (the sum fits in five words, so nothing is lost). */
#define VS_REDUCE_ROW(T0, T1, T2, T3, T4)                                                            \
    "movq %[" T0 "], %%rdx\n\t"                                                                      \
    "imulq %[inv], %%rdx\n\t"                                                                        \
    "xorl %k[z], %k[z]\n\t"                                                                          \
    "mulxq %[p0], %[lo], %[hi]\n\t"                                                                  \
    "adcxq %[lo], %[" T0 "]\n\t"                                                                     \
    "adoxq %[hi], %[" T1 "]\n\t"                                                                     \
    "mulxq %[p1], %[lo], %[hi]\n\t"                                                                  \
    "adcxq %[lo], %[" T1 "]\n\t"                                                                     \
    "adoxq %[hi], %[" T2 "]\n\t"                                                                     \
    "mulxq %[p2], %[lo], %[hi]\n\t"                                                                  \
    "adcxq %[lo], %[" T2 "]\n\t"                                                                     \
    "adoxq %[hi], %[" T3 "]\n\t"                                                                     \
    "mulxq %[p3], %[lo], %[hi]\n\t"                                                                  \
    "adcxq %[lo], %[" T3 "]\n\t"                                                                     \
    "adoxq %[hi], %[" T4 "]\n\t"                                                                     \
    "adcxq %[z], %[" T4 "]\n\t"

/* One product row: (T0..T3, T4) = (T0..T3) + a * b[OFF/8], T4 fresh. */
#define VS_PRODUCT_ROW(OFF, T0, T1, T2, T3, T4)                                                      \
    "movq " OFF "(%[b]), %%rdx\n\t"                                                                  \
    "xorl %k[z], %k[z]\n\t"                                                                          \
    "mulxq 0(%[a]), %[lo], %[hi]\n\t"                                                                \
    "adcxq %[lo], %[" T0 "]\n\t"                                                                     \
    "adoxq %[hi], %[" T1 "]\n\t"                                                                     \
    "mulxq 8(%[a]), %[lo], %[hi]\n\t"                                                                \
    "adcxq %[lo], %[" T1 "]\n\t"                                                                     \
    "adoxq %[hi], %[" T2 "]\n\t"                                                                     \
    "mulxq 16(%[a]), %[lo], %[hi]\n\t"                                                               \
    "adcxq %[lo], %[" T2 "]\n\t"                                                                     \
    "adoxq %[hi], %[" T3 "]\n\t"                                                                     \
    "mulxq 24(%[a]), %[lo], %[" T4 "]\n\t"                                                           \
    "adcxq %[lo], %[" T3 "]\n\t"                                                                     \
    "adoxq %[z], %[" T4 "]\n\t"                                                                      \
    "adcxq %[z], %[" T4 "]\n\t"

/* Reduction-only row for REDC of a 256-bit value: (T0..T3) + m p, shifted; the new top word goes
   into the register T0 that the row has just zeroed (u < 2^256 stays true after each row). */
#define VS_REDC_ROW(T0, T1, T2, T3)                                                                  \
    "movq %[" T0 "], %%rdx\n\t"                                                                      \
    "imulq %[inv], %%rdx\n\t"                                                                        \
    "xorl %k[z], %k[z]\n\t"                                                                          \
    "mulxq %[p0], %[lo], %[hi]\n\t"                                                                  \
    "adcxq %[lo], %[" T0 "]\n\t"                                                                     \
    "adoxq %[hi], %[" T1 "]\n\t"                                                                     \
    "mulxq %[p1], %[lo], %[hi]\n\t"                                                                  \
    "adcxq %[lo], %[" T1 "]\n\t"                                                                     \
    "adoxq %[hi], %[" T2 "]\n\t"                                                                     \
    "mulxq %[p2], %[lo], %[hi]\n\t"                                                                  \
    "adcxq %[lo], %[" T2 "]\n\t"                                                                     \
    "adoxq %[hi], %[" T3 "]\n\t"                                                                     \
    "mulxq %[p3], %[lo], %[" T0 "]\n\t"                                                              \
    "adcxq %[lo], %[" T3 "]\n\t"                                                                     \
    "adoxq %[z], %[" T0 "]\n\t"                                                                      \
    "adcxq %[z], %[" T0 "]\n\t"

/* v - p if v >= p else v, for v < 2p; branch-free. */
static inline __attribute__((always_inline)) vs_limbs4 vs_reduce_once(uint64_t v0, uint64_t v1, uint64_t v2,
                                                                     uint64_t v3, const uint64_t p[4]) {
    unsigned long long d0, d1, d2, d3;
    unsigned char borrow = __builtin_ia32_subborrow_u64(0, v0, p[0], &d0);
    borrow = __builtin_ia32_subborrow_u64(borrow, v1, p[1], &d1);
    borrow = __builtin_ia32_subborrow_u64(borrow, v2, p[2], &d2);
    borrow = __builtin_ia32_subborrow_u64(borrow, v3, p[3], &d3);
    uint64_t keep = 0 - (uint64_t)borrow; /* all ones when v < p */
    vs_limbs4 r = {(v0 & keep) | (d0 & ~keep), (v1 & keep) | (d1 & ~keep), (v2 & keep) | (d2 & ~keep),
                   (v3 & keep) | (d3 & ~keep)};
    return r;
}

/* a * b * 2^-256 mod p (CIOS, product and reduction rows interleaved on CF and OF). */
#define VS_DEFINE_MUL(NAME, MOD, INV)                                                                \
    static inline __attribute__((always_inline)) vs_limbs4 NAME(const vs_limbs4 *a, const vs_limbs4 *b) { \
        uint64_t t0, t1, t2, t3, t4, lo, hi, z;                                                      \
        __asm__("movq 0(%[b]), %%rdx\n\t"                                                            \
                "mulxq 0(%[a]), %[t0], %[t1]\n\t"                                                    \
                "mulxq 8(%[a]), %[lo], %[t2]\n\t"                                                    \
                "addq %[lo], %[t1]\n\t"                                                              \
                "mulxq 16(%[a]), %[lo], %[t3]\n\t"                                                   \
                "adcq %[lo], %[t2]\n\t"                                                              \
                "mulxq 24(%[a]), %[lo], %[t4]\n\t"                                                   \
                "adcq %[lo], %[t3]\n\t"                                                              \
                "adcq $0, %[t4]\n\t"                                                                 \
                VS_REDUCE_ROW("t0", "t1", "t2", "t3", "t4")                                          \
                VS_PRODUCT_ROW("8", "t1", "t2", "t3", "t4", "t0")                                    \
                VS_REDUCE_ROW("t1", "t2", "t3", "t4", "t0")                                          \
                VS_PRODUCT_ROW("16", "t2", "t3", "t4", "t0", "t1")                                   \
                VS_REDUCE_ROW("t2", "t3", "t4", "t0", "t1")                                          \
                VS_PRODUCT_ROW("24", "t3", "t4", "t0", "t1", "t2")                                   \
                VS_REDUCE_ROW("t3", "t4", "t0", "t1", "t2")                                          \
                : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),   \
                  [lo] "=&r"(lo), [hi] "=&r"(hi), [z] "=&r"(z)                                       \
                : [a] "r"(a), [b] "r"(b), [p0] "m"(MOD[0]), [p1] "m"(MOD[1]), [p2] "m"(MOD[2]),        \
                  [p3] "m"(MOD[3]), [inv] "m"(INV), "m"(*a), "m"(*b)                                 \
                : "rdx", "cc");                                                                      \
        return vs_reduce_once(t4, t0, t1, t2, MOD);                                                  \
    }

/* a^2 * 2^-256 mod p: the 512-bit square with the six cross products computed once and doubled
   (10 MULX instead of 16), then REDC of its low half plus its high half (< p + p). */
#define VS_DEFINE_SQR(NAME, MOD, INV)                                                                \
    static inline __attribute__((always_inline)) vs_limbs4 NAME(const vs_limbs4 *a) {               \
        uint64_t t0, t1, t2, t3, t4, t5, t6, t7, lo, hi, z;                                          \
        __asm__(/* cross products a_i a_j, i < j, at positions 1..6 */                              \
                "movq 0(%[a]), %%rdx\n\t"                                                            \
                "mulxq 8(%[a]), %[t1], %[t2]\n\t"                                                    \
                "mulxq 16(%[a]), %[lo], %[t3]\n\t"                                                   \
                "addq %[lo], %[t2]\n\t"                                                              \
                "mulxq 24(%[a]), %[lo], %[t4]\n\t"                                                   \
                "adcq %[lo], %[t3]\n\t"                                                              \
                "adcq $0, %[t4]\n\t"                                                                 \
                "movq 8(%[a]), %%rdx\n\t"                                                            \
                "xorl %k[z], %k[z]\n\t"                                                              \
                "mulxq 16(%[a]), %[lo], %[hi]\n\t"                                                   \
                "adcxq %[lo], %[t3]\n\t"                                                             \
                "adoxq %[hi], %[t4]\n\t"                                                             \
                "mulxq 24(%[a]), %[lo], %[t5]\n\t"                                                   \
                "adcxq %[lo], %[t4]\n\t"                                                             \
                "adoxq %[z], %[t5]\n\t"                                                              \
                "adcxq %[z], %[t5]\n\t"                                                              \
                "movq 16(%[a]), %%rdx\n\t"                                                           \
                "mulxq 24(%[a]), %[lo], %[t6]\n\t"                                                   \
                "addq %[lo], %[t5]\n\t"                                                              \
                "adcq $0, %[t6]\n\t"                                                                 \
                /* double them (CF chain) and add the squares a_i^2 (OF chain) */                     \
                "xorl %k[z], %k[z]\n\t"                                                              \
                "movq 0(%[a]), %%rdx\n\t"                                                            \
                "mulxq %%rdx, %[t0], %[hi]\n\t"                                                      \
                "adcxq %[t1], %[t1]\n\t"                                                             \
                "adoxq %[hi], %[t1]\n\t"                                                             \
                "movq 8(%[a]), %%rdx\n\t"                                                            \
                "mulxq %%rdx, %[lo], %[hi]\n\t"                                                      \
                "adcxq %[t2], %[t2]\n\t"                                                             \
                "adoxq %[lo], %[t2]\n\t"                                                             \
                "adcxq %[t3], %[t3]\n\t"                                                             \
                "adoxq %[hi], %[t3]\n\t"                                                             \
                "movq 16(%[a]), %%rdx\n\t"                                                           \
                "mulxq %%rdx, %[lo], %[hi]\n\t"                                                      \
                "adcxq %[t4], %[t4]\n\t"                                                             \
                "adoxq %[lo], %[t4]\n\t"                                                             \
                "adcxq %[t5], %[t5]\n\t"                                                             \
                "adoxq %[hi], %[t5]\n\t"                                                             \
                "movq 24(%[a]), %%rdx\n\t"                                                           \
                "mulxq %%rdx, %[lo], %[t7]\n\t"                                                      \
                "adcxq %[t6], %[t6]\n\t"                                                             \
                "adoxq %[lo], %[t6]\n\t"                                                             \
                "adcxq %[z], %[t7]\n\t"                                                              \
                "adoxq %[z], %[t7]\n\t"                                                              \
                /* REDC of the low half (t0..t3); the result rotates back into t0..t3 */             \
                VS_REDC_ROW("t0", "t1", "t2", "t3")                                                  \
                VS_REDC_ROW("t1", "t2", "t3", "t0")                                                  \
                VS_REDC_ROW("t2", "t3", "t0", "t1")                                                  \
                VS_REDC_ROW("t3", "t0", "t1", "t2")                                                  \
                /* plus the high half */                                                             \
                "addq %[t4], %[t0]\n\t"                                                              \
                "adcq %[t5], %[t1]\n\t"                                                              \
                "adcq %[t6], %[t2]\n\t"                                                              \
                "adcq %[t7], %[t3]\n\t"                                                              \
                : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),   \
                  [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [lo] "=&r"(lo), [hi] "=&r"(hi),     \
                  [z] "=&r"(z)                                                                       \
                : [a] "r"(a), [p0] "m"(MOD[0]), [p1] "m"(MOD[1]), [p2] "m"(MOD[2]), [p3] "m"(MOD[3]),   \
                  [inv] "m"(INV), "m"(*a)                                                            \
                : "rdx", "cc");                                                                      \
        return vs_reduce_once(t0, t1, t2, t3, MOD);                                                  \
    }

VS_DEFINE_MUL(vs_fr_mul_adx, vs_fr_modulus, vs_fr_inv)
VS_DEFINE_MUL(vs_fq_mul_adx, vs_fq_modulus, vs_fq_inv)
VS_DEFINE_SQR(vs_fr_sqr_adx, vs_fr_modulus, vs_fr_inv)
VS_DEFINE_SQR(vs_fq_sqr_adx, vs_fq_modulus, vs_fq_inv)

#else
#define VS_HAVE_ADX_ASM 0
/* Never called off x86-64 (vs_algebra_kernel stays portable); defined so Swift code compiles. */
static inline vs_limbs4 vs_fr_mul_adx(const vs_limbs4 *a, const vs_limbs4 *b) { (void)b; return *a; }
static inline vs_limbs4 vs_fq_mul_adx(const vs_limbs4 *a, const vs_limbs4 *b) { (void)b; return *a; }
static inline vs_limbs4 vs_fr_sqr_adx(const vs_limbs4 *a) { return *a; }
static inline vs_limbs4 vs_fq_sqr_adx(const vs_limbs4 *a) { return *a; }
#endif

/*
 * Multi-scalar multiplication windows on AVX-512 IFMA (ifma.c). Eight field elements per
 * vector, 52-bit limbs (Montgomery 2^260): on CPUs with IFMA (Ice Lake and later, Zen 4 and
 * later) a lane multiplication costs a fraction of the scalar MULX kernel, whose carry chains
 * keep the integer pipes busy. Bases are converted once per MSM (`prepare_bases`: Swift's
 * affine points in, 80 or 160 bytes per point out, plus infinity flags), each worker owns a
 * `vs_ifma_msm` (buckets, batch columns), and `window_sum` returns sum_i d_i P_i for one window's
 * signed digits |d_i| <= buckets as a Jacobian point in Swift's layout (x, y, z; 12 or 24
 * words, Montgomery 2^256). Points are accumulated into buckets block by block with batched
 * affine additions (one inversion per batch, complete for doublings and inverses), and the
 * buckets are summed with complete projective formulas in eight lanes.
 */
typedef struct vs_ifma_msm vs_ifma_msm;

/* 1 when the CPU has AVX-512 F, VL, DQ, BW and IFMA. */
int vs_ifma_supported(void);

#define VS_MSM_SCALAR 0
#define VS_MSM_IFMA 1
/* VS_MSM_IFMA when supported (set at load time), else VS_MSM_SCALAR; lowered by
   vs_msm_set_kernel for tests and side-by-side timing. */
extern int vs_msm_kernel;
static inline __attribute__((always_inline)) int vs_msm_current_kernel(void) {
    return __atomic_load_n(&vs_msm_kernel, __ATOMIC_RELAXED);
}
int vs_msm_set_kernel(int level);

/* Worker state for MSMs of up to n points (n < 2^30) with `buckets` buckets (a power of two,
   >= 64). NULL if the arguments are out of range or memory is short. */
vs_ifma_msm *vs_ifma_g1_create(size_t n, int buckets);
vs_ifma_msm *vs_ifma_g2_create(size_t n, int buckets);
void vs_ifma_msm_destroy(vs_ifma_msm *state);

/* out: n * 10 (G1) or n * 20 (G2) words; infinity: n bytes. points: Swift AffinePoint values,
   `stride` bytes apart. */
void vs_ifma_g1_prepare_bases(uint64_t *out, uint8_t *infinity, const void *points, size_t stride, size_t n);
void vs_ifma_g2_prepare_bases(uint64_t *out, uint8_t *infinity, const void *points, size_t stride, size_t n);

void vs_ifma_g1_window_sum(vs_ifma_msm *state, const uint64_t *bases, const uint8_t *infinity,
                           const int32_t *digits, size_t n, uint64_t *out);
void vs_ifma_g2_window_sum(vs_ifma_msm *state, const uint64_t *bases, const uint8_t *infinity,
                           const int32_t *digits, size_t n, uint64_t *out);

/*
 * Bulk point arithmetic for the ceremony, in the kernel's projective layout (x, y, z of 52-bit
 * limbs: 15 words per G1 point, 30 per G2 point). Ranges [lo, hi) let callers split the work
 * over threads. Scalars are canonical (not Montgomery) 4 x 64-bit limbs.
 *   to_projective: Swift affine points -> kernel points;  to_affine: back (one inversion per call).
 *   scale: buf[i] *= scalar_i (constant time in the scalars: fixed windows, complete formulas,
 *          full table scans), scalar i at scalars + i * scalarStride words (0: one scalar for all).
 *   fft_stage: one radix-2 DIT stage over pairs [lo, hi) (see ifma_curve.h).
 */
void vs_ifma_g1_to_projective(uint64_t *buf, const void *points, size_t stride, size_t lo, size_t hi);
void vs_ifma_g2_to_projective(uint64_t *buf, const void *points, size_t stride, size_t lo, size_t hi);
void vs_ifma_g1_to_affine(void *points, size_t stride, const uint64_t *buf, size_t lo, size_t hi);
void vs_ifma_g2_to_affine(void *points, size_t stride, const uint64_t *buf, size_t lo, size_t hi);
void vs_ifma_g1_scale(uint64_t *buf, const uint64_t *scalars, size_t scalarStride, size_t lo, size_t hi);
void vs_ifma_g2_scale(uint64_t *buf, const uint64_t *scalars, size_t scalarStride, size_t lo, size_t hi);
void vs_ifma_g1_fft_stage(uint64_t *buf, size_t half, const uint64_t *twiddles, size_t twiddleStride, size_t lo, size_t hi);
void vs_ifma_g2_fft_stage(uint64_t *buf, size_t half, const uint64_t *twiddles, size_t twiddleStride, size_t lo, size_t hi);
/* Public scalars by GLV (variable time: only for public scalars and points, e.g. the roots of
   unity of a Lagrange-basis FFT). A scalar is five words: |k1| (2), |k2| (2), signs (bit 0: k1 < 0,
   bit 1: k2 < 0), k = k1 + k2 lambda mod r, |k1|, |k2| < 2^127, lambda =
   0x30644e72e131a029048b6e193fd84104cc37a73fec2bc5e9b8ca0b2d36636f23.
   fft_stage_glv: one radix-2 DIT stage over n >= 16 points (n a power of two), work items [lo, hi)
   of n / 16; twiddle j at glv + 5 j twiddleStride. scale_glv: buf[i] *= k for i in [lo, hi). */
void vs_ifma_g1_fft_stage_glv(uint64_t *buf, size_t n, size_t half, const uint64_t *glv, size_t twiddleStride, size_t lo, size_t hi);
void vs_ifma_g2_fft_stage_glv(uint64_t *buf, size_t n, size_t half, const uint64_t *glv, size_t twiddleStride, size_t lo, size_t hi);
void vs_ifma_g1_scale_glv(uint64_t *buf, const uint64_t *glv, size_t lo, size_t hi);
void vs_ifma_g2_scale_glv(uint64_t *buf, const uint64_t *glv, size_t lo, size_t hi);

/*
 * BN254 tower arithmetic and the optimal ate pairing on the MULX/ADX kernel (pairing.c). Only
 * meaningful when vs_algebra_current_kernel() == VS_KERNEL_ADX (the Swift side checks; off x86-64
 * these are empty). Every pointer is to Swift's own values: Fq = 4 limbs (Montgomery, fully
 * reduced), Fq2 = 2 Fq, Fq12 = 12 Fq2 in the tower's order (c0.c0 .. c1.c2), a line = 3 Fq2;
 * outputs may alias inputs. Results equal the portable Swift implementation's exactly. Not
 * constant time in the loop digits or in the inversion (the pairing's inputs are public).
 *   g2_prepare: the Miller-loop lines of Q (x, y: 2 Fq2) into `lines` (room for
 *     ndigits + nonzero digits + 2 lines), with q1 = psi(Q) and q2 = -psi^2(Q) for the last two.
 *   miller_loop: n pairs; `tables[i]` pair i's lines; `points` = n G1 coordinate pairs: (x, y), or
 *     for a pair with affine[i] != 0 (affine-form lines, c0 = 1) (x / y, 1 / y).
 *   final_exponentiation: returns 0 (and writes zero) when the input is zero.
 */
void vs_bn254_fq2_mul(void *r, const void *a, const void *b);
void vs_bn254_fq2_sqr(void *r, const void *a);
void vs_bn254_fq12_mul(void *r, const void *a, const void *b);
void vs_bn254_fq12_sqr(void *r, const void *a);
void vs_bn254_fq12_cyclotomic_sqr(void *r, const void *a);
void vs_bn254_fq12_mul_by_034(void *r, const void *a, const void *d0, const void *d3, const void *d4);
void vs_bn254_fq12_frobenius(void *r, const void *a, int k);
int vs_bn254_fq12_inverse(void *r, const void *a);
/* Test hooks for the lazy-reduction pieces (results equal the reduced arithmetic's):
 *   fq2_mul_lazy: the unreduced Karatsuba product, reduced once per coefficient; the coefficients
 *     of a and b may be unreduced, anything below 2p (as the tower passes sums).
 *   fq2_sqr_lazy: the unreduced square (reduced a), reduced once per coefficient.
 *   fq2_mul_xi_add_lazy: with X = ab and Y = cd unreduced: xi ((xi X + Y) - X), exercising the
 *     wide xi multiplication, addition and subtraction.
 *   fq6_mul, fq6_mul_by_01 (a (b0 + b1 v)), fq12_mul_by_1_34 (a (1 + d3 w + d4 v w)).
 *   fq12_power_by_negative_x: a^(-x) for a cyclotomic a, x given by its NAF digits (most
 *     significant first; the windowed recoding needs nx <= 64, longer digit strings are used as given).
 */
void vs_bn254_fq2_mul_lazy(void *r, const void *a, const void *b);
void vs_bn254_fq2_sqr_lazy(void *r, const void *a);
void vs_bn254_fq2_mul_xi_add_lazy(void *r, const void *a, const void *b, const void *c, const void *d);
void vs_bn254_fq6_mul(void *r, const void *a, const void *b);
void vs_bn254_fq6_mul_by_01(void *r, const void *a, const void *b0, const void *b1);
void vs_bn254_fq12_mul_by_1_34(void *r, const void *a, const void *d3, const void *d4);
void vs_bn254_fq12_power_by_negative_x(void *r, const void *a, const int8_t *xdigits, size_t nx);

/*
 * Test hooks of the assembly wide product and the variable-time inversion (pairing.c, fp2_wide.S):
 *   fq2_mul_wide: the unreduced Karatsuba product the tower uses (16 limbs: c0 then c1, each in
 *     [0, p 2^256)); coefficients of a and b below 2p. fq2_mul_wide_reference: the C formulation
 *     (the same values; the assembly replaces it on ELF x86-64).
 *   fq2_sqr_wide, fq2_sqr_wide_reference: the same for the unreduced square of a reduced a.
 *   fq_inverse: a^-1 by the binary (Kaliski) inversion the pairing uses; fq_inverse_fermat: by
 *     a^(p-2). Both return 0 for a = 0 (r untouched), else 1.
 *   fq12_cyclotomic_sqr_reference: the C formulation of the cyclotomic squaring, which the
 *     one-routine assembly version (fp2_wide.S) replaces on ELF x86-64; any reduced a (the two
 *     agree on all of Fq12, not only on the cyclotomic subgroup).
 */
void vs_bn254_fq2_mul_wide(void *r, const void *a, const void *b);
void vs_bn254_fq2_mul_wide_reference(void *r, const void *a, const void *b);
void vs_bn254_fq2_sqr_wide(void *r, const void *a);
void vs_bn254_fq2_sqr_wide_reference(void *r, const void *a);
int vs_bn254_fq_inverse(void *r, const void *a);
int vs_bn254_fq_inverse_fermat(void *r, const void *a);
void vs_bn254_fq12_cyclotomic_sqr_reference(void *r, const void *a);
void vs_bn254_g2_prepare(void *lines, const void *q, const void *q1, const void *q2, const int8_t *digits,
                         size_t ndigits);
void vs_bn254_miller_loop(void *out, const void *points, const void *const *tables, const uint8_t *affine,
                          size_t n, const int8_t *digits, size_t ndigits);
int vs_bn254_final_exponentiation(void *out, const void *in, const int8_t *xdigits, size_t nx);

#ifdef __cplusplus
}
#endif
#endif
