/*
 * Eight-lane BN254 field arithmetic on AVX-512 IFMA and the multi-scalar-multiplication window
 * built on it (see CAlgebraKernels.h for the interface and the reasoning).
 *
 * Representation: an Fq element is five 52-bit limbs in Montgomery form with R' = 2^260, fully
 * reduced (< q) after every operation; a vector `fe8` holds limb i of eight elements in v[i].
 * Multiplication is CIOS on 52-bit digits: VPMADD52LUQ/VPMADD52HUQ give the low and high 52
 * bits of a 52 x 52 product added into 64-bit accumulators, which have 12 bits of headroom for
 * the sums, so carries are propagated once per row. Points: affine (x, y) as 10 limbs (G1) or
 * 20 (G2: x.c0, x.c1, y.c0, y.c1), "AoS" in pools, "SoA" (one row per limb) in batches.
 */
#include "CAlgebraKernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define VS_IFMA __attribute__((target("avx512f,avx512ifma,avx512vl,avx512dq,avx512bw")))
#define VI static inline __attribute__((always_inline)) VS_IFMA
#define MASK52 0xfffffffffffffULL

int vs_ifma_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx");
}

/* ------------------------------------------------------------------ field constants */

typedef struct {
    uint64_t p[5];     /* modulus, 52-bit limbs */
    uint64_t pinv;     /* -p^-1 mod 2^52 */
    uint64_t one[5];   /* 2^260 mod p: Montgomery form of 1 */
    uint64_t to260[5]; /* 2^264 mod p: montmul by it takes x 2^256 to x 2^260 */
    uint64_t to256[5]; /* 2^256 mod p: montmul by it takes x 2^260 to x 2^256 */
    uint64_t pm2[4];   /* p - 2, 64-bit limbs (Fermat inversion exponent) */
} field52;

static const field52 FQ = {
    {0x8c16d87cfd47ULL, 0x916871ca8d3c2ULL, 0x181585d97816aULL, 0xa029b85045b68ULL, 0x30644e72e131ULL},
    0x20782e4866389ULL,
    {0x20880f6fce4b4ULL, 0x49baa989a8455ULL, 0x18f014a498908ULL, 0x724f85a9201d8ULL, 0x1f16424e1bb7ULL},
    {0xb0f2afaec667aULL, 0xed9626b0fffbdULL, 0x9e2a0fcad825aULL, 0xe357276f48b70ULL, 0xd791464ef86ULL},
    {0xd438dc58f0d9dULL, 0x28f5c70b3dd35ULL, 0x879462c0a78ebULL, 0xdf2f666ea36f7ULL, 0xe0a77c19a07ULL},
    {0x3c208c16d87cfd45ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL},
};

/* 3b in Montgomery-260 form: G1 (b = 3) and the twist (b' = 3 / (9 + u)). */
static const uint64_t G1_B3[5] = {0xf9016747317f1ULL, 0xc085bce228433ULL, 0x68051c8a04a35ULL, 0xe3fb1960c4790ULL,
                                  0x25d2cc80937aULL};
static const uint64_t G2_B3_C0[5] = {0x6f77000ece184ULL, 0xe7799f259eca2ULL, 0xfcf04d713e21aULL, 0xe995732cf638ULL,
                                     0x25ca2144fde5ULL};
static const uint64_t G2_B3_C1[5] = {0xbda5080f2e609ULL, 0xfa4e30b11d6f5ULL, 0xebec79585a03cULL, 0xde6ea586e3bffULL,
                                     0xbee883b1268ULL};
/* Cube roots of unity in Fq (Montgomery-260) for the GLV endomorphism phi(x, y) = (beta x, y),
   which acts as multiplication by lambda = 0x30644e72e131a029048b6e193fd84104cc37a73fec2bc5e9b8ca0b2d36636f23
   (lambda^2 + lambda + 1 = 0 mod r) on G1 with BETA_G1 and on G2 (the twist) with BETA_G2 =
   BETA_G1^2. PointKernelsTests checks phi(P) = lambda P for both groups. */
static const uint64_t BETA_G1[5] = {0x5f7cf18a4da6cULL, 0xfcd08fecf4638ULL, 0xf454044c2d458ULL, 0xfc115c5806fd4ULL,
                                    0x0237ab40d91cdULL};
static const uint64_t BETA_G2[5] = {0x917dda1583b6eULL, 0xdc45aa1e7dcf6ULL, 0x22e6f2c22a573ULL, 0xd1f28e9f64523ULL,
                                    0x01e37a68a14ddULL};

/* ------------------------------------------------------------------ Fq, eight lanes */

typedef struct { __m512i v[5]; } fe8;

VI __m512i bc(uint64_t x) { return _mm512_set1_epi64((long long)x); }

VI fe8 fe_const(const uint64_t c[5]) {
    fe8 r;
    for (int i = 0; i < 5; i++) r.v[i] = bc(c[i]);
    return r;
}

VI fe8 fe_zero(void) {
    fe8 r;
    for (int i = 0; i < 5; i++) r.v[i] = _mm512_setzero_si512();
    return r;
}

/* t (normalized limbs, value < 2p) -> t mod p. */
VI fe8 fe_reduce_once(__m512i t0, __m512i t1, __m512i t2, __m512i t3, __m512i t4) {
    const __m512i m = bc(MASK52);
    __m512i d0 = _mm512_sub_epi64(t0, bc(FQ.p[0]));
    __m512i d1 = _mm512_sub_epi64(t1, bc(FQ.p[1]));
    __m512i d2 = _mm512_sub_epi64(t2, bc(FQ.p[2]));
    __m512i d3 = _mm512_sub_epi64(t3, bc(FQ.p[3]));
    __m512i d4 = _mm512_sub_epi64(t4, bc(FQ.p[4]));
    d1 = _mm512_add_epi64(d1, _mm512_srai_epi64(d0, 52)); d0 = _mm512_and_si512(d0, m);
    d2 = _mm512_add_epi64(d2, _mm512_srai_epi64(d1, 52)); d1 = _mm512_and_si512(d1, m);
    d3 = _mm512_add_epi64(d3, _mm512_srai_epi64(d2, 52)); d2 = _mm512_and_si512(d2, m);
    d4 = _mm512_add_epi64(d4, _mm512_srai_epi64(d3, 52)); d3 = _mm512_and_si512(d3, m);
    __mmask8 below = _mm512_movepi64_mask(d4); /* t - p < 0 */
    fe8 r;
    r.v[0] = _mm512_mask_blend_epi64(below, d0, t0);
    r.v[1] = _mm512_mask_blend_epi64(below, d1, t1);
    r.v[2] = _mm512_mask_blend_epi64(below, d2, t2);
    r.v[3] = _mm512_mask_blend_epi64(below, d3, t3);
    r.v[4] = _mm512_mask_blend_epi64(below, d4, t4);
    return r;
}

/* a * b * 2^-260 mod p (inputs < p, normalized). */
VI fe8 fe_mul(fe8 a, fe8 b) {
    const __m512i z = _mm512_setzero_si512();
    const __m512i pinv = bc(FQ.pinv);
    __m512i p[5];
    for (int i = 0; i < 5; i++) p[i] = bc(FQ.p[i]);
    __m512i t0 = z, t1 = z, t2 = z, t3 = z, t4 = z, t5 = z;
    for (int i = 0; i < 5; i++) {
        __m512i bi = b.v[i];
        t0 = _mm512_madd52lo_epu64(t0, a.v[0], bi); t1 = _mm512_madd52hi_epu64(t1, a.v[0], bi);
        t1 = _mm512_madd52lo_epu64(t1, a.v[1], bi); t2 = _mm512_madd52hi_epu64(t2, a.v[1], bi);
        t2 = _mm512_madd52lo_epu64(t2, a.v[2], bi); t3 = _mm512_madd52hi_epu64(t3, a.v[2], bi);
        t3 = _mm512_madd52lo_epu64(t3, a.v[3], bi); t4 = _mm512_madd52hi_epu64(t4, a.v[3], bi);
        t4 = _mm512_madd52lo_epu64(t4, a.v[4], bi); t5 = _mm512_madd52hi_epu64(t5, a.v[4], bi);
        __m512i m = _mm512_madd52lo_epu64(z, t0, pinv);
        t0 = _mm512_madd52lo_epu64(t0, m, p[0]); t1 = _mm512_madd52hi_epu64(t1, m, p[0]);
        t1 = _mm512_madd52lo_epu64(t1, m, p[1]); t2 = _mm512_madd52hi_epu64(t2, m, p[1]);
        t2 = _mm512_madd52lo_epu64(t2, m, p[2]); t3 = _mm512_madd52hi_epu64(t3, m, p[2]);
        t3 = _mm512_madd52lo_epu64(t3, m, p[3]); t4 = _mm512_madd52hi_epu64(t4, m, p[3]);
        t4 = _mm512_madd52lo_epu64(t4, m, p[4]); t5 = _mm512_madd52hi_epu64(t5, m, p[4]);
        /* the low 52 bits of t0 are now zero: shift the accumulator down one digit */
        t1 = _mm512_add_epi64(t1, _mm512_srli_epi64(t0, 52));
        t0 = t1; t1 = t2; t2 = t3; t3 = t4; t4 = t5; t5 = z;
    }
    const __m512i mk = bc(MASK52);
    t1 = _mm512_add_epi64(t1, _mm512_srli_epi64(t0, 52)); t0 = _mm512_and_si512(t0, mk);
    t2 = _mm512_add_epi64(t2, _mm512_srli_epi64(t1, 52)); t1 = _mm512_and_si512(t1, mk);
    t3 = _mm512_add_epi64(t3, _mm512_srli_epi64(t2, 52)); t2 = _mm512_and_si512(t2, mk);
    t4 = _mm512_add_epi64(t4, _mm512_srli_epi64(t3, 52)); t3 = _mm512_and_si512(t3, mk);
    return fe_reduce_once(t0, t1, t2, t3, t4);
}

VI fe8 fe_sqr(fe8 a) { return fe_mul(a, a); }

VI fe8 fe_add(fe8 a, fe8 b) {
    const __m512i mk = bc(MASK52);
    __m512i t[5];
    for (int i = 0; i < 5; i++) t[i] = _mm512_add_epi64(a.v[i], b.v[i]);
    for (int i = 0; i < 4; i++) {
        t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64(t[i], 52));
        t[i] = _mm512_and_si512(t[i], mk);
    }
    return fe_reduce_once(t[0], t[1], t[2], t[3], t[4]);
}

/* a - b + p in (0, 2p), then reduced. */
VI fe8 fe_sub(fe8 a, fe8 b) {
    const __m512i mk = bc(MASK52);
    __m512i t[5];
    for (int i = 0; i < 5; i++) t[i] = _mm512_sub_epi64(_mm512_add_epi64(a.v[i], bc(FQ.p[i])), b.v[i]);
    for (int i = 0; i < 4; i++) {
        t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srai_epi64(t[i], 52));
        t[i] = _mm512_and_si512(t[i], mk);
    }
    return fe_reduce_once(t[0], t[1], t[2], t[3], t[4]);
}

VI fe8 fe_neg(fe8 a) { return fe_sub(fe_zero(), a); }
VI fe8 fe_dbl(fe8 a) { return fe_add(a, a); }

VI __mmask8 fe_eq(fe8 a, fe8 b) {
    __mmask8 k = 0xff;
    for (int i = 0; i < 5; i++) k &= _mm512_cmpeq_epi64_mask(a.v[i], b.v[i]);
    return k;
}

VI __mmask8 fe_is_zero(fe8 a) {
    __m512i o = a.v[0];
    for (int i = 1; i < 5; i++) o = _mm512_or_si512(o, a.v[i]);
    return _mm512_cmpeq_epi64_mask(o, _mm512_setzero_si512());
}

/* lanes in k take b, the others a */
VI fe8 fe_blend(__mmask8 k, fe8 a, fe8 b) {
    fe8 r;
    for (int i = 0; i < 5; i++) r.v[i] = _mm512_mask_blend_epi64(k, a.v[i], b.v[i]);
    return r;
}

/* 4 x 64-bit limbs -> 5 x 52-bit limbs (same integer). */
static inline void to52(const uint64_t *x, uint64_t *out, size_t stride) {
    out[0] = x[0] & MASK52;
    out[stride] = ((x[0] >> 52) | (x[1] << 12)) & MASK52;
    out[2 * stride] = ((x[1] >> 40) | (x[2] << 24)) & MASK52;
    out[3 * stride] = ((x[2] >> 28) | (x[3] << 36)) & MASK52;
    out[4 * stride] = x[3] >> 16;
}

/* 5 x 52-bit limbs (value < 2^256) -> 4 x 64-bit limbs. */
static inline void to64(const uint64_t *l, size_t stride, uint64_t *x) {
    x[0] = l[0] | (l[stride] << 52);
    x[1] = (l[stride] >> 12) | (l[2 * stride] << 40);
    x[2] = (l[2 * stride] >> 24) | (l[3 * stride] << 28);
    x[3] = (l[3 * stride] >> 36) | (l[4 * stride] << 16);
}

VI fe8 fe_load(const uint64_t *soa, size_t stride, size_t j) {
    fe8 r;
    for (int i = 0; i < 5; i++) r.v[i] = _mm512_loadu_si512(soa + i * stride + j);
    return r;
}

VI void fe_store(uint64_t *soa, size_t stride, size_t j, fe8 a) {
    for (int i = 0; i < 5; i++) _mm512_storeu_si512(soa + i * stride + j, a.v[i]);
}

/* The inverses of the eight lanes of a (all nonzero) with one scalar inversion: Montgomery's
   trick across the lanes, and Fermat's little theorem on the MULX/ADX kernel, whose latency per
   multiplication is about half the vector one (the inversion is a chain of ~300 dependent
   products). A lane value v = x 2^260 is also the Montgomery-2^256 form of y = 16 x, so the
   scalar kernel yields y^-1 2^256 = x^-1 2^252, and one product by 2^264 (Montgomery 2^256)
   turns that into x^-1 2^260. */
static const vs_limbs4 FQ_ONE256 = {0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL};
static const vs_limbs4 FQ_SHIFT8 = {0xfbdb0f2afaec667aULL, 0xad825aed9626b0ffULL, 0x276f48b709e2a0fcULL, 0x0d791464ef86e357ULL};

static vs_limbs4 fq_inverse256(vs_limbs4 a) {
    vs_limbs4 table[16];
    table[0] = FQ_ONE256;
    table[1] = a;
    for (int i = 2; i < 16; i++) table[i] = vs_fq_mul_adx(&table[i - 1], &a);
    vs_limbs4 r = FQ_ONE256;
    int started = 0;
    for (int limb = 3; limb >= 0; limb--) {
        for (int w = 15; w >= 0; w--) {
            if (started) for (int k = 0; k < 4; k++) r = vs_fq_sqr_adx(&r);
            unsigned d = (unsigned)((FQ.pm2[limb] >> (4 * w)) & 15);
            if (d) { r = started ? vs_fq_mul_adx(&r, &table[d]) : table[d]; started = 1; }
        }
    }
    return r;
}

VS_IFMA static fe8 fe_inv_lanes(fe8 a) {
    uint64_t tmp[5 * 8];
    fe_store(tmp, 8, 0, a);
    vs_limbs4 v[8], prefix[8];
    for (int l = 0; l < 8; l++) {
        uint64_t l52[5], x[4];
        for (int i = 0; i < 5; i++) l52[i] = tmp[i * 8 + l];
        to64(l52, 1, x);
        v[l].l0 = x[0]; v[l].l1 = x[1]; v[l].l2 = x[2]; v[l].l3 = x[3];
    }
    prefix[0] = v[0];
    for (int l = 1; l < 8; l++) prefix[l] = vs_fq_mul_adx(&prefix[l - 1], &v[l]);
    vs_limbs4 inv = fq_inverse256(prefix[7]);
    for (int l = 7; l >= 0; l--) {
        vs_limbs4 w = l > 0 ? vs_fq_mul_adx(&inv, &prefix[l - 1]) : inv;
        if (l > 0) inv = vs_fq_mul_adx(&inv, &v[l]);
        w = vs_fq_mul_adx(&w, &FQ_SHIFT8);
        uint64_t x[4] = {w.l0, w.l1, w.l2, w.l3};
        to52(x, tmp + l, 8);
    }
    return fe_load(tmp, 8, 0);
}

/* ------------------------------------------------------------------ Fq2 = Fq[u]/(u^2 + 1), eight lanes */

typedef struct { fe8 c0, c1; } f28;

VI f28 f2_add(f28 a, f28 b) { f28 r = {fe_add(a.c0, b.c0), fe_add(a.c1, b.c1)}; return r; }
VI f28 f2_sub(f28 a, f28 b) { f28 r = {fe_sub(a.c0, b.c0), fe_sub(a.c1, b.c1)}; return r; }
VI f28 f2_neg(f28 a) { f28 r = {fe_neg(a.c0), fe_neg(a.c1)}; return r; }
VI f28 f2_dbl(f28 a) { return f2_add(a, a); }
VI f28 f2_mul(f28 a, f28 b) {
    fe8 v0 = fe_mul(a.c0, b.c0), v1 = fe_mul(a.c1, b.c1);
    fe8 s = fe_mul(fe_add(a.c0, a.c1), fe_add(b.c0, b.c1));
    f28 r = {fe_sub(v0, v1), fe_sub(fe_sub(s, v0), v1)};
    return r;
}
VI f28 f2_sqr(f28 a) {
    fe8 ab = fe_mul(a.c0, a.c1);
    f28 r = {fe_mul(fe_add(a.c0, a.c1), fe_sub(a.c0, a.c1)), fe_dbl(ab)};
    return r;
}
VI __mmask8 f2_eq(f28 a, f28 b) { return fe_eq(a.c0, b.c0) & fe_eq(a.c1, b.c1); }
VI __mmask8 f2_is_zero(f28 a) { return fe_is_zero(a.c0) & fe_is_zero(a.c1); }
VI f28 f2_blend(__mmask8 k, f28 a, f28 b) { f28 r = {fe_blend(k, a.c0, b.c0), fe_blend(k, a.c1, b.c1)}; return r; }
VI f28 f2_inv(f28 a) {
    fe8 t = fe_inv_lanes(fe_add(fe_sqr(a.c0), fe_sqr(a.c1)));
    f28 r = {fe_mul(a.c0, t), fe_neg(fe_mul(a.c1, t))};
    return r;
}

/* ------------------------------------------------------------------ conversions */

/* Converts `count` coordinates from the 4 x 64 Montgomery-2^256 layout of Swift's fields
   (element k at src + k * srcStride, in uint64 units) to 52-bit Montgomery-2^260 limbs
   (element k at dst + k * dstStride). */
VS_IFMA static void convert_in(const uint64_t *src, size_t srcStride, size_t count, uint64_t *dst, size_t dstStride) {
    uint64_t tmp[5 * 8];
    const fe8 c = fe_const(FQ.to260);
    for (size_t k0 = 0; k0 < count; k0 += 8) {
        size_t lanes = count - k0 < 8 ? count - k0 : 8;
        memset(tmp, 0, sizeof tmp);
        for (size_t l = 0; l < lanes; l++) to52(src + (k0 + l) * srcStride, tmp + l, 8);
        fe8 v = fe_mul(fe_load(tmp, 8, 0), c);
        fe_store(tmp, 8, 0, v);
        for (size_t l = 0; l < lanes; l++)
            for (int i = 0; i < 5; i++) dst[(k0 + l) * dstStride + i] = tmp[i * 8 + l];
    }
}

/* One element, 52-bit Montgomery-2^260 -> 4 x 64 Montgomery-2^256. */
VS_IFMA static void convert_out1(const uint64_t *l52, uint64_t *out64) {
    uint64_t tmp[5 * 8];
    memset(tmp, 0, sizeof tmp);
    for (int i = 0; i < 5; i++) tmp[i * 8] = l52[i];
    fe8 v = fe_mul(fe_load(tmp, 8, 0), fe_const(FQ.to256));
    fe_store(tmp, 8, 0, v);
    uint64_t l[5];
    for (int i = 0; i < 5; i++) l[i] = tmp[i * 8];
    to64(l, 1, out64);
}

/* p - y for one element (y < p, 52-bit limbs), 0 for 0. */
static inline void neg1(const uint64_t *y, uint64_t *out) {
    uint64_t nz = y[0] | y[1] | y[2] | y[3] | y[4];
    int64_t borrow = 0;
    for (int i = 0; i < 5; i++) {
        int64_t v = (int64_t)FQ.p[i] - (int64_t)y[i] + borrow;
        borrow = v >> 52;
        out[i] = nz ? ((uint64_t)v & MASK52) : 0;
    }
}

/* ------------------------------------------------------------------ per-worker state */

struct vs_ifma_msm {
    int limbs, buckets;
    size_t cap, scratchUsed, count, deferred;
    uint32_t stampCounter;
    uint64_t *pool;                 /* bucket slots [0, K), then scratch slots */
    uint8_t *pinf, *occupied, *inBatch; /* slot holds infinity; bucket holds a point; is in the batch */
    uint32_t *deferredRef, *deferredBucket;          /* additions waiting for their bucket */
    uint32_t *stamp, *head, *next, *touched;         /* per-bucket lists of the waiting ones */
    uint32_t *refs, *grp, *refs2, *grp2;            /* group lists (two buffers) */
    uint32_t *dest;
    uint8_t *negA, *negB, *rinf;
    uint64_t *addrA, *addrB;                        /* batch operands' addresses */
    uint64_t *ax, *ay, *bx, *d, *num, *prefix;      /* batch columns, groups of eight */
};

#define VS_REF_NEG 0x80000000u
#define VS_REF_POOL 0x40000000u
#define VS_REF_INDEX 0x3fffffffu

void vs_ifma_msm_destroy(vs_ifma_msm *s) {
    if (!s) return;
    free(s->pool); free(s->pinf); free(s->occupied); free(s->stamp); free(s->head); free(s->next);
    free(s->touched); free(s->deferredRef); free(s->deferredBucket); free(s->inBatch); free(s->refs); free(s->grp); free(s->refs2); free(s->grp2);
    free(s->dest); free(s->negA); free(s->negB); free(s->rinf); free(s->ax); free(s->ay); free(s->bx);
    free(s->addrA); free(s->addrB); free(s->d); free(s->num); free(s->prefix);
    free(s);
}

/* ------------------------------------------------------------------ the curve template */

#define FE fe8
#define LIMBS 5
#define PFX(name) vs_ifma_g1_##name
#define FE_ADD fe_add
#define FE_SUB fe_sub
#define FE_MUL fe_mul
#define FE_SQR fe_sqr
#define FE_NEG fe_neg
#define FE_DBL fe_dbl
#define FE_EQ fe_eq
#define FE_ISZERO fe_is_zero
#define FE_BLEND fe_blend
#define FE_INV fe_inv_lanes
VI fe8 vs_ifma_g1_fe_load(const uint64_t *soa, size_t stride, size_t j) { return fe_load(soa, stride, j); }
VI void vs_ifma_g1_fe_store(uint64_t *soa, size_t stride, size_t j, fe8 a) { fe_store(soa, stride, j, a); }
VI fe8 vs_ifma_g1_fe_one(void) { return fe_const(FQ.one); }
VI fe8 vs_ifma_g1_fe_zero(void) { return fe_zero(); }
VI fe8 vs_ifma_g1_fe_b3(void) { return fe_const(G1_B3); }
VI fe8 vs_ifma_g1_fe_const_to256(void) { return fe_const(FQ.to256); }
VI fe8 vs_ifma_g1_fe_mul_elementwise(fe8 a, fe8 b) { return fe_mul(a, b); }
VI fe8 vs_ifma_g1_fe_beta(fe8 x) { return fe_mul(x, fe_const(BETA_G1)); }
#include "ifma_curve.h"
#undef FE
#undef LIMBS
#undef PFX
#undef FE_ADD
#undef FE_SUB
#undef FE_MUL
#undef FE_SQR
#undef FE_NEG
#undef FE_DBL
#undef FE_EQ
#undef FE_ISZERO
#undef FE_BLEND
#undef FE_INV

#define FE f28
#define LIMBS 10
#define PFX(name) vs_ifma_g2_##name
#define FE_ADD f2_add
#define FE_SUB f2_sub
#define FE_MUL f2_mul
#define FE_SQR f2_sqr
#define FE_NEG f2_neg
#define FE_DBL f2_dbl
#define FE_EQ f2_eq
#define FE_ISZERO f2_is_zero
#define FE_BLEND f2_blend
#define FE_INV f2_inv
VI f28 vs_ifma_g2_fe_load(const uint64_t *soa, size_t stride, size_t j) {
    f28 r = {fe_load(soa, stride, j), fe_load(soa + 5 * stride, stride, j)};
    return r;
}
VI void vs_ifma_g2_fe_store(uint64_t *soa, size_t stride, size_t j, f28 a) {
    fe_store(soa, stride, j, a.c0);
    fe_store(soa + 5 * stride, stride, j, a.c1);
}
VI f28 vs_ifma_g2_fe_one(void) { f28 r = {fe_const(FQ.one), fe_zero()}; return r; }
VI f28 vs_ifma_g2_fe_zero(void) { f28 r = {fe_zero(), fe_zero()}; return r; }
VI f28 vs_ifma_g2_fe_b3(void) { f28 r = {fe_const(G2_B3_C0), fe_const(G2_B3_C1)}; return r; }
VI f28 vs_ifma_g2_fe_const_to256(void) { f28 r = {fe_const(FQ.to256), fe_const(FQ.to256)}; return r; }
/* coefficient-wise product (for the Montgomery-factor conversion, not an Fq2 product) */
VI f28 vs_ifma_g2_fe_mul_elementwise(f28 a, f28 b) { f28 r = {fe_mul(a.c0, b.c0), fe_mul(a.c1, b.c1)}; return r; }
VI f28 vs_ifma_g2_fe_beta(f28 x) {
    const fe8 beta = fe_const(BETA_G2);
    f28 r = {fe_mul(x.c0, beta), fe_mul(x.c1, beta)};
    return r;
}
#include "ifma_curve.h"

#else /* not x86-64 */

int vs_ifma_supported(void) { return 0; }
vs_ifma_msm *vs_ifma_g1_create(size_t n, int buckets) { (void)n; (void)buckets; return NULL; }
vs_ifma_msm *vs_ifma_g2_create(size_t n, int buckets) { (void)n; (void)buckets; return NULL; }
void vs_ifma_msm_destroy(vs_ifma_msm *m) { (void)m; }
void vs_ifma_g1_prepare_bases(uint64_t *o, uint8_t *i, const void *p, size_t s, size_t n) { (void)o; (void)i; (void)p; (void)s; (void)n; }
void vs_ifma_g2_prepare_bases(uint64_t *o, uint8_t *i, const void *p, size_t s, size_t n) { (void)o; (void)i; (void)p; (void)s; (void)n; }
void vs_ifma_g1_window_sum(vs_ifma_msm *m, const uint64_t *b, const uint8_t *i, const int32_t *d, size_t n, uint64_t *o) {
    (void)m; (void)b; (void)i; (void)d; (void)n; (void)o;
}
void vs_ifma_g2_window_sum(vs_ifma_msm *m, const uint64_t *b, const uint8_t *i, const int32_t *d, size_t n, uint64_t *o) {
    (void)m; (void)b; (void)i; (void)d; (void)n; (void)o;
}
void vs_ifma_g1_to_projective(uint64_t *b, const void *p, size_t s, size_t lo, size_t hi) { (void)b; (void)p; (void)s; (void)lo; (void)hi; }
void vs_ifma_g2_to_projective(uint64_t *b, const void *p, size_t s, size_t lo, size_t hi) { (void)b; (void)p; (void)s; (void)lo; (void)hi; }
void vs_ifma_g1_to_affine(void *p, size_t s, const uint64_t *b, size_t lo, size_t hi) { (void)b; (void)p; (void)s; (void)lo; (void)hi; }
void vs_ifma_g2_to_affine(void *p, size_t s, const uint64_t *b, size_t lo, size_t hi) { (void)b; (void)p; (void)s; (void)lo; (void)hi; }
void vs_ifma_g1_scale(uint64_t *b, const uint64_t *k, size_t s, size_t lo, size_t hi) { (void)b; (void)k; (void)s; (void)lo; (void)hi; }
void vs_ifma_g2_scale(uint64_t *b, const uint64_t *k, size_t s, size_t lo, size_t hi) { (void)b; (void)k; (void)s; (void)lo; (void)hi; }
void vs_ifma_g1_fft_stage(uint64_t *b, size_t h, const uint64_t *t, size_t s, size_t lo, size_t hi) { (void)b; (void)h; (void)t; (void)s; (void)lo; (void)hi; }
void vs_ifma_g2_fft_stage(uint64_t *b, size_t h, const uint64_t *t, size_t s, size_t lo, size_t hi) { (void)b; (void)h; (void)t; (void)s; (void)lo; (void)hi; }
void vs_ifma_g1_fft_stage_glv(uint64_t *b, size_t n, size_t h, const uint64_t *t, size_t s, size_t lo, size_t hi) { (void)b; (void)n; (void)h; (void)t; (void)s; (void)lo; (void)hi; }
void vs_ifma_g2_fft_stage_glv(uint64_t *b, size_t n, size_t h, const uint64_t *t, size_t s, size_t lo, size_t hi) { (void)b; (void)n; (void)h; (void)t; (void)s; (void)lo; (void)hi; }
void vs_ifma_g1_scale_glv(uint64_t *b, const uint64_t *k, size_t lo, size_t hi) { (void)b; (void)k; (void)lo; (void)hi; }
void vs_ifma_g2_scale_glv(uint64_t *b, const uint64_t *k, size_t lo, size_t hi) { (void)b; (void)k; (void)lo; (void)hi; }
#endif
