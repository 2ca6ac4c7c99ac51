/*
 * BN254 tower arithmetic (Fq2, Fq6, Fq12) and the optimal ate pairing on the MULX/ADX Montgomery
 * kernel of CAlgebraKernels.h (see the header for the interface).
 *
 * Why C: in Swift every Fq2/Fq6/Fq12 operation is a value-type expression whose temporaries and
 * calls the optimizer keeps only partly in registers, and the 4-limb additions compile to flag
 * juggling; here the additions are ADC/SBB chains and the tower multiplications use lazy
 * reduction: Fq2 products are left as 512-bit values (three 512-bit products each), the Fq6 and
 * Fq12 products, the sparse line products and the cyclotomic squaring combine them unreduced, and
 * each output Fq coefficient is Montgomery-reduced once (an Fq12 product: 54 512-bit products and
 * 12 reductions instead of 36).
 *
 * Layout: an Fq element is four 64-bit limbs in Montgomery form (R = 2^256), fully reduced,
 * exactly Swift's `Fq`; Fq2 = (c0, c1), Fq6 = (c0, c1, c2) over Fq2, Fq12 = (c0, c1) over Fq6,
 * the same nesting and order as Swift's frozen structs, so Swift passes its values by address.
 * The tower is Fq2 = Fq[u]/(u^2+1), Fq6 = Fq2[v]/(v^3-xi), Fq12 = Fq6[w]/(w^2-v), xi = 9+u.
 *
 * Not constant time where it need not be: the pairing's inputs are public (verifying keys,
 * proofs), so the loops branch on the public loop digits and the inversion may be variable time.
 * Outputs equal the portable Swift implementation's bit for bit (tests compare them).
 */
#include "CAlgebraKernels.h"

#include <string.h>

#if VS_HAVE_ADX_ASM

typedef vs_limbs4 fp;
typedef struct { fp c0, c1; } fp2;
typedef struct { fp2 c0, c1, c2; } fp6;
typedef struct { fp6 c0, c1; } fp12;
typedef struct { fp2 c0, c1, c2; } line;
/* 512-bit unreduced product, least significant limb first. */
typedef struct { uint64_t v[8]; } dbl;

#define PI static inline __attribute__((always_inline))

static const fp P = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL};
static const fp FP_ONE = {0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL};

/* ------------------------------------------------------------------ Fq */

PI fp fp_add(const fp *a, const fp *b) {
    unsigned long long s0, s1, s2, s3;
    unsigned char c = __builtin_ia32_addcarryx_u64(0, a->l0, b->l0, &s0);
    c = __builtin_ia32_addcarryx_u64(c, a->l1, b->l1, &s1);
    c = __builtin_ia32_addcarryx_u64(c, a->l2, b->l2, &s2);
    (void)__builtin_ia32_addcarryx_u64(c, a->l3, b->l3, &s3); /* < 2p < 2^255: no carry out */
    return vs_reduce_once(s0, s1, s2, s3, vs_fq_modulus);
}

PI fp fp_sub(const fp *a, const fp *b) {
    unsigned long long d0, d1, d2, d3, e0, e1, e2, e3;
    unsigned char br = __builtin_ia32_subborrow_u64(0, a->l0, b->l0, &d0);
    br = __builtin_ia32_subborrow_u64(br, a->l1, b->l1, &d1);
    br = __builtin_ia32_subborrow_u64(br, a->l2, b->l2, &d2);
    br = __builtin_ia32_subborrow_u64(br, a->l3, b->l3, &d3);
    uint64_t m = 0 - (uint64_t)br; /* add p back after a borrow; the wrap lands in [0, p) */
    unsigned char c = __builtin_ia32_addcarryx_u64(0, d0, P.l0 & m, &e0);
    c = __builtin_ia32_addcarryx_u64(c, d1, P.l1 & m, &e1);
    c = __builtin_ia32_addcarryx_u64(c, d2, P.l2 & m, &e2);
    (void)__builtin_ia32_addcarryx_u64(c, d3, P.l3 & m, &e3);
    fp r = {e0, e1, e2, e3};
    return r;
}

PI fp fp_neg(const fp *a) {
    fp z = {0, 0, 0, 0};
    return fp_sub(&z, a);
}

PI fp fp_dbl(const fp *a) { return fp_add(a, a); }

PI fp fp_mul(const fp *a, const fp *b) { return vs_fq_mul_adx(a, b); }
PI fp fp_sqr(const fp *a) { return vs_fq_sqr_adx(a); }

/* a / 2: add p when odd (a + p < 2^255), then shift. */
PI fp fp_half(const fp *a) {
    uint64_t m = 0 - (a->l0 & 1);
    unsigned long long s0, s1, s2, s3;
    unsigned char c = __builtin_ia32_addcarryx_u64(0, a->l0, P.l0 & m, &s0);
    c = __builtin_ia32_addcarryx_u64(c, a->l1, P.l1 & m, &s1);
    c = __builtin_ia32_addcarryx_u64(c, a->l2, P.l2 & m, &s2);
    (void)__builtin_ia32_addcarryx_u64(c, a->l3, P.l3 & m, &s3);
    fp r = {(s0 >> 1) | (s1 << 63), (s1 >> 1) | (s2 << 63), (s2 >> 1) | (s3 << 63), s3 >> 1};
    return r;
}

PI int fp_is_zero(const fp *a) { return (a->l0 | a->l1 | a->l2 | a->l3) == 0; }

/* a^(p-2) by 4-bit fixed windows (Fermat; a != 0). */
static fp fp_inverse(const fp *a) {
    static const uint64_t e[4] = {0x3c208c16d87cfd45ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL,
                                  0x30644e72e131a029ULL};
    fp table[16];
    table[0] = FP_ONE;
    table[1] = *a;
    for (int i = 2; i < 16; i++) table[i] = fp_mul(&table[i - 1], a);
    fp r = FP_ONE;
    int started = 0;
    for (int bit = 252; bit >= 0; bit -= 4) {
        unsigned w = (unsigned)((e[bit >> 6] >> (bit & 63)) & 15);
        if (started) {
            r = fp_sqr(&r);
            r = fp_sqr(&r);
            r = fp_sqr(&r);
            r = fp_sqr(&r);
            r = fp_mul(&r, &table[w]);
        } else if (w != 0) {
            r = table[w];
            started = 1;
        }
    }
    return r;
}

/* 2^(256 + i) mod p and 2^(256 + 16 j) mod p (plain integers): Montgomery-multiplying by them
   multiplies by 2^i and 2^(16 j), the scaling step of `fp_inverse_var`. */
static const fp POW2_LOW[16] = {
    {0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL},
    {0xa6ba871b8b1e1b3aULL, 0x14f1d651eb8e167bULL, 0xccdd46def0f28c58ULL, 0x1c14ef83340fbe5eULL},
    {0x115482203dbf392dULL, 0x926242126eaa626aULL, 0xe16a48076063c052ULL, 0x07c5909386eddc93ULL},
    {0x22a904407b7e725aULL, 0x24c48424dd54c4d4ULL, 0xc2d4900ec0c780a5ULL, 0x0f8b21270ddbb927ULL},
    {0x45520880f6fce4b4ULL, 0x49890849baa989a8ULL, 0x85a9201d818f014aULL, 0x1f16424e1bb7724fULL},
    {0x4e8384eb157ccc21ULL, 0xfb90a6020ce148c3ULL, 0x5301fa84819caa36ULL, 0x0dc83629563d4475ULL},
    {0x9d0709d62af99842ULL, 0xf7214c0419c29186ULL, 0xa603f5090339546dULL, 0x1b906c52ac7a88eaULL},
    {0xfded87957d76333dULL, 0x56c12d76cb13587fULL, 0x93b7a45b84f1507eULL, 0x06bc8a3277c371abULL},
    {0xfbdb0f2afaec667aULL, 0xad825aed9626b0ffULL, 0x276f48b709e2a0fcULL, 0x0d791464ef86e357ULL},
    {0xf7b61e55f5d8ccf4ULL, 0x5b04b5db2c4d61ffULL, 0x4ede916e13c541f9ULL, 0x1af228c9df0dc6aeULL},
    {0xb34bb09513349ca1ULL, 0x1e880124f028f972ULL, 0xe56cdd25a6092b95ULL, 0x05800320dce9ed32ULL},
    {0x6697612a26693942ULL, 0x3d100249e051f2e5ULL, 0xcad9ba4b4c12572aULL, 0x0b000641b9d3da65ULL},
    {0xcd2ec2544cd27284ULL, 0x7a200493c0a3e5caULL, 0x95b374969824ae54ULL, 0x16000c8373a7b4cbULL},
    {0x9a5d84a899a4e508ULL, 0xf44009278147cb95ULL, 0x2b66e92d30495ca8ULL, 0x2c001906e74f6997ULL},
    {0xf89a7d3a5accccc9ULL, 0x50fea7bd9a1dcc9dULL, 0x9e7d8ca3df1160f4ULL, 0x279be39aed6d3304ULL},
    {0xb5146e5ddd1c9c4bULL, 0x0a7be4e9cbc9ceaeULL, 0x84aad3913ca1698bULL, 0x1ed378c2f9a8c5dfULL}
};
static const fp POW2_HIGH[17] = {
    {0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL},
    {0x2e0850a4e1bc3b4fULL, 0x7d765f422f21d2d0ULL, 0x5105616bf7c17ab8ULL, 0x0d42a313121feb95ULL},
    {0x7d81d725eb7ffd76ULL, 0x7ee89afd34897ea0ULL, 0x1271b740e35bc824ULL, 0x06bc037eec6c226eULL},
    {0xcfa73d9f98b6fea0ULL, 0x3888b860a8d09603ULL, 0x8b8d5d96283878b3ULL, 0x0e142fd59a84442bULL},
    {0x2d9e3b3fb1d8c62aULL, 0x1be5d753eb3c74f7ULL, 0x532e2dcf5d840e23ULL, 0x215b02ac9a392864ULL},
    {0x9c3082a8bf666bd4ULL, 0x376ba98ae6264c48ULL, 0x79824dc872c6b954ULL, 0x1f4a1358ffcb118fULL},
    {0x0f54b1e88b28a9d6ULL, 0xf21d65b8492b8e82ULL, 0x16d553c691aba3c7ULL, 0x1847e484355abfe0ULL},
    {0x693e30a6eb0cb91bULL, 0xa14cb5a0be1d73d2ULL, 0x64dbffeeca7e7451ULL, 0x003b8726c68047efULL},
    {0x70bb17072fcc56eaULL, 0xe0e407c3583ff802ULL, 0xed7948a39bab3e80ULL, 0x2c1e8d981110f1afULL},
    {0xbeaf1fbf2b1473fdULL, 0x77b5f4d231c2fb48ULL, 0x8184fecb6d0bd512ULL, 0x2a9e8ec7ee55c442ULL},
    {0xcd9e8446cfc4da46ULL, 0x608145f0d3cf3fbcULL, 0x7c85e31974c97a69ULL, 0x1798cd75599e034bULL},
    {0xf577bbfd0815dd34ULL, 0x1f2624cda364a788ULL, 0x5edb52eb947edd9dULL, 0x2464bd677c9ea4b2ULL},
    {0xd9e291c2cdd22cd6ULL, 0xc722ccf2a40f0271ULL, 0xa49e35d611a2ac87ULL, 0x2e1043978c993ec8ULL},
    {0xcea9e6cc637774beULL, 0xfad42f1601d61dd0ULL, 0xbd1a72a8dfbce0b5ULL, 0x28f32ec214062e4eULL},
    {0xa021026fd86ece59ULL, 0xb4c74c436b59411bULL, 0xcd5b0ab04bce7022ULL, 0x1d7bcfc4aef5cf59ULL},
    {0xd1f5c1228f6ca8f1ULL, 0x93dcb9adc4ca1959ULL, 0x2a66fce128d31703ULL, 0x02b4d2dfba1bc22eULL},
    {0xf32cfc5b538afa89ULL, 0xb5e71911d44501fbULL, 0x47ab1eff0a417ff6ULL, 0x06d89f71cab8351fULL}
};

/* Four-limb helpers of the binary inversion (values below 2^256, no modular reduction). */
PI int u4_gt(const uint64_t *a, const uint64_t *b) {
    for (int i = 3; i >= 0; i--) {
        if (a[i] != b[i]) return a[i] > b[i];
    }
    return 0;
}
PI void u4_sub(uint64_t *a, const uint64_t *b) {
    unsigned long long d;
    unsigned char br = __builtin_ia32_subborrow_u64(0, a[0], b[0], &d);
    a[0] = d;
    br = __builtin_ia32_subborrow_u64(br, a[1], b[1], &d);
    a[1] = d;
    br = __builtin_ia32_subborrow_u64(br, a[2], b[2], &d);
    a[2] = d;
    (void)__builtin_ia32_subborrow_u64(br, a[3], b[3], &d);
    a[3] = d;
}
PI void u4_add(uint64_t *a, const uint64_t *b) {
    unsigned long long s;
    unsigned char c = __builtin_ia32_addcarryx_u64(0, a[0], b[0], &s);
    a[0] = s;
    c = __builtin_ia32_addcarryx_u64(c, a[1], b[1], &s);
    a[1] = s;
    c = __builtin_ia32_addcarryx_u64(c, a[2], b[2], &s);
    a[2] = s;
    (void)__builtin_ia32_addcarryx_u64(c, a[3], b[3], &s);
    a[3] = s;
}
/* Shifts a nonzero a right until it is odd and b left by as many bits; returns the count. */
PI unsigned u4_strip_twos(uint64_t *a, uint64_t *b) {
    unsigned n = 0;
    while (a[0] == 0) {
        a[0] = a[1], a[1] = a[2], a[2] = a[3], a[3] = 0;
        b[3] = b[2], b[2] = b[1], b[1] = b[0], b[0] = 0;
        n += 64;
    }
    unsigned t = (unsigned)__builtin_ctzll(a[0]);
    if (t != 0) {
        a[0] = (a[0] >> t) | (a[1] << (64 - t));
        a[1] = (a[1] >> t) | (a[2] << (64 - t));
        a[2] = (a[2] >> t) | (a[3] << (64 - t));
        a[3] >>= t;
        b[3] = (b[3] << t) | (b[2] >> (64 - t));
        b[2] = (b[2] << t) | (b[1] >> (64 - t));
        b[1] = (b[1] << t) | (b[0] >> (64 - t));
        b[0] <<= t;
    }
    return n + t;
}

/* a^-1 for a reduced, nonzero a, in variable time (the pairing's inputs are public): Kaliski's
   almost Montgomery inverse with the halvings of each step batched by a count of trailing zeros.
   With u = p, v = a, r = 0, s = 1 the loop keeps p = u s + v r (so r, s <= p while u, v > 0),
   a r = -u 2^k and a s = v 2^k mod p, and ends with u = gcd = 1, v = 0, r <= 2p and
   254 <= k <= 508 (k is at most the bit lengths of p and a added, at least that of p): then
   p - (r mod p) = a^-1 2^k. As a is the Montgomery form b 2^256 of b, the inverse in Montgomery
   form b^-1 2^256 = a^-1 2^512 is that times 2^(512 - k), two Montgomery products by the tables.
   Cost: at most k < 512 subtract-and-shift steps on four limbs (about 0.7 log2 p on average with
   the batching) and two Montgomery products, instead of about 310 squarings and products. */
static fp fp_inverse_var(const fp *a) {
    uint64_t u[4] = {P.l0, P.l1, P.l2, P.l3}, v[4] = {a->l0, a->l1, a->l2, a->l3};
    uint64_t r[4] = {0, 0, 0, 0}, s[4] = {1, 0, 0, 0};
    unsigned k = u4_strip_twos(v, r);
    for (;;) { /* u and v odd here */
        if (u4_gt(u, v)) {
            u4_sub(u, v);
            u4_add(r, s);
            k += u4_strip_twos(u, s);
        } else {
            u4_sub(v, u);
            u4_add(s, r);
            if ((v[0] | v[1] | v[2] | v[3]) == 0) {
                u4_add(r, r);
                k += 1;
                break;
            }
            k += u4_strip_twos(v, r);
        }
    }
    fp x = vs_reduce_once(r[0], r[1], r[2], r[3], vs_fq_modulus);
    x = fp_sub(&P, &x); /* r mod p is nonzero for a nonzero a, so p - r < p */
    if (k < 241 || k > 512) return fp_inverse(a); /* outside the proven range: never taken */
    unsigned m = 512 - k;
    x = fp_mul(&x, &POW2_LOW[m & 15]);
    return fp_mul(&x, &POW2_HIGH[m >> 4]);
}

/* 256 x 256 -> 512-bit product (schoolbook rows on MULX with the CF and OF chains; five rotating
   accumulators, each finished low limb stored at once to keep register pressure low). */
PI dbl fp_mul_wide(const fp *a, const fp *b) {
    dbl r;
    uint64_t t0, t1, t2, t3, t4, lo, hi, z;
    __asm__("movq 0(%[b]), %%rdx\n\t"
            "mulxq 0(%[a]), %[t0], %[t1]\n\t"
            "mulxq 8(%[a]), %[lo], %[t2]\n\t"
            "addq %[lo], %[t1]\n\t"
            "mulxq 16(%[a]), %[lo], %[t3]\n\t"
            "adcq %[lo], %[t2]\n\t"
            "mulxq 24(%[a]), %[lo], %[t4]\n\t"
            "adcq %[lo], %[t3]\n\t"
            "adcq $0, %[t4]\n\t"
            "movq %[t0], 0(%[r])\n\t"
            VS_PRODUCT_ROW("8", "t1", "t2", "t3", "t4", "t0")
            "movq %[t1], 8(%[r])\n\t"
            VS_PRODUCT_ROW("16", "t2", "t3", "t4", "t0", "t1")
            "movq %[t2], 16(%[r])\n\t"
            VS_PRODUCT_ROW("24", "t3", "t4", "t0", "t1", "t2")
            "movq %[t3], 24(%[r])\n\t"
            "movq %[t4], 32(%[r])\n\t"
            "movq %[t0], 40(%[r])\n\t"
            "movq %[t1], 48(%[r])\n\t"
            "movq %[t2], 56(%[r])\n\t"
            : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [lo] "=&r"(lo),
              [hi] "=&r"(hi), [z] "=&r"(z)
            : [a] "r"(a), [b] "r"(b), [r] "r"(r.v)
            : "rdx", "cc", "memory");
    return r;
}

/* Montgomery reduction of T < p 2^256: T 2^-256 mod p, fully reduced. Four reduction rows on the
   low half (each zeroes one limb and leaves its carry word in place of it), then the high half is
   added: the sum is < 2p. */
PI fp fp_redc(const dbl *t) {
    uint64_t t0 = t->v[0], t1 = t->v[1], t2 = t->v[2], t3 = t->v[3], lo, hi, z;
    __asm__(VS_REDC_ROW("t0", "t1", "t2", "t3")
            VS_REDC_ROW("t1", "t2", "t3", "t0")
            VS_REDC_ROW("t2", "t3", "t0", "t1")
            VS_REDC_ROW("t3", "t0", "t1", "t2")
            "addq 32(%[t]), %[t0]\n\t"
            "adcq 40(%[t]), %[t1]\n\t"
            "adcq 48(%[t]), %[t2]\n\t"
            "adcq 56(%[t]), %[t3]\n\t"
            : [t0] "+&r"(t0), [t1] "+&r"(t1), [t2] "+&r"(t2), [t3] "+&r"(t3), [lo] "=&r"(lo), [hi] "=&r"(hi),
              [z] "=&r"(z)
            : [t] "r"(t), [p0] "m"(vs_fq_modulus[0]), [p1] "m"(vs_fq_modulus[1]), [p2] "m"(vs_fq_modulus[2]),
              [p3] "m"(vs_fq_modulus[3]), [inv] "m"(vs_fq_inv), "m"(*t)
            : "rdx", "cc");
    return vs_reduce_once(t0, t1, t2, t3, vs_fq_modulus);
}

/* Unreduced 4-limb sum (operands < p, so the result < 2p < 2^255). */
PI fp fp_add_nr(const fp *a, const fp *b) {
    unsigned long long s0, s1, s2, s3;
    unsigned char c = __builtin_ia32_addcarryx_u64(0, a->l0, b->l0, &s0);
    c = __builtin_ia32_addcarryx_u64(c, a->l1, b->l1, &s1);
    c = __builtin_ia32_addcarryx_u64(c, a->l2, b->l2, &s2);
    (void)__builtin_ia32_addcarryx_u64(c, a->l3, b->l3, &s3);
    fp r = {s0, s1, s2, s3};
    return r;
}

/* a - b over 512 bits; returns the borrow. */
PI unsigned char dbl_sub(dbl *r, const dbl *a, const dbl *b) {
    unsigned char br = 0;
    for (int i = 0; i < 8; i++) {
        unsigned long long d;
        br = __builtin_ia32_subborrow_u64(br, a->v[i], b->v[i], &d);
        r->v[i] = d;
    }
    return br;
}

/* a + (p << 256) masked by m (all ones or zero), in place. */
PI void dbl_add_p_high(dbl *a, uint64_t m) {
    unsigned long long s;
    unsigned char c = __builtin_ia32_addcarryx_u64(0, a->v[4], P.l0 & m, &s);
    a->v[4] = s;
    c = __builtin_ia32_addcarryx_u64(c, a->v[5], P.l1 & m, &s);
    a->v[5] = s;
    c = __builtin_ia32_addcarryx_u64(c, a->v[6], P.l2 & m, &s);
    a->v[6] = s;
    (void)__builtin_ia32_addcarryx_u64(c, a->v[7], P.l3 & m, &s);
    a->v[7] = s;
}

/* ------------------------------------------------------------------ Fq2 */

PI fp2 fp2_add(const fp2 *a, const fp2 *b) {
    fp2 r = {fp_add(&a->c0, &b->c0), fp_add(&a->c1, &b->c1)};
    return r;
}
PI fp2 fp2_sub(const fp2 *a, const fp2 *b) {
    fp2 r = {fp_sub(&a->c0, &b->c0), fp_sub(&a->c1, &b->c1)};
    return r;
}
PI fp2 fp2_neg(const fp2 *a) {
    fp2 r = {fp_neg(&a->c0), fp_neg(&a->c1)};
    return r;
}
PI fp2 fp2_dbl(const fp2 *a) {
    fp2 r = {fp_dbl(&a->c0), fp_dbl(&a->c1)};
    return r;
}
PI fp2 fp2_conj(const fp2 *a) {
    fp2 r = {a->c0, fp_neg(&a->c1)};
    return r;
}
PI fp2 fp2_mul_fp(const fp2 *a, const fp *k) {
    fp2 r = {fp_mul(&a->c0, k), fp_mul(&a->c1, k)};
    return r;
}

/* (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u. */
PI fp2 fp2_sqr(const fp2 *a) {
    fp s = fp_add(&a->c0, &a->c1), d = fp_sub(&a->c0, &a->c1);
    fp t = fp_mul(&a->c0, &a->c1);
    fp2 r = {fp_mul(&s, &d), fp_dbl(&t)};
    return r;
}

/* k p for k = 0..15 as five limbs: the table of `fp_reduce5`. */
static const uint64_t KP[16][5] = {
    {0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL, 0x0ULL},
    {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL, 0x0ULL},
    {0x7841182db0f9fa8eULL, 0x2f02d522d0e3951aULL, 0x70a08b6d0302b0bbULL, 0x60c89ce5c2634053ULL, 0x0ULL},
    {0xb461a4448976f7d5ULL, 0xc6843fb439555fa7ULL, 0x28f0d12384840918ULL, 0x912ceb58a394e07dULL, 0x0ULL},
    {0xf082305b61f3f51cULL, 0x5e05aa45a1c72a34ULL, 0xe14116da06056176ULL, 0xc19139cb84c680a6ULL, 0x0ULL},
    {0x2ca2bc723a70f263ULL, 0xf58714d70a38f4c2ULL, 0x99915c908786b9d3ULL, 0xf1f5883e65f820d0ULL, 0x0ULL},
    {0x68c3488912edefaaULL, 0x8d087f6872aabf4fULL, 0x51e1a24709081231ULL, 0x2259d6b14729c0faULL, 0x1ULL},
    {0xa4e3d49feb6aecf1ULL, 0x2489e9f9db1c89dcULL, 0x0a31e7fd8a896a8fULL, 0x52be2524285b6124ULL, 0x1ULL},
    {0xe10460b6c3e7ea38ULL, 0xbc0b548b438e5469ULL, 0xc2822db40c0ac2ecULL, 0x83227397098d014dULL, 0x1ULL},
    {0x1d24eccd9c64e77fULL, 0x538cbf1cac001ef7ULL, 0x7ad2736a8d8c1b4aULL, 0xb386c209eabea177ULL, 0x1ULL},
    {0x594578e474e1e4c6ULL, 0xeb0e29ae1471e984ULL, 0x3322b9210f0d73a7ULL, 0xe3eb107ccbf041a1ULL, 0x1ULL},
    {0x956604fb4d5ee20dULL, 0x828f943f7ce3b411ULL, 0xeb72fed7908ecc05ULL, 0x144f5eefad21e1caULL, 0x2ULL},
    {0xd186911225dbdf54ULL, 0x1a10fed0e5557e9eULL, 0xa3c3448e12102463ULL, 0x44b3ad628e5381f4ULL, 0x2ULL},
    {0x0da71d28fe58dc9bULL, 0xb19269624dc7492cULL, 0x5c138a4493917cc0ULL, 0x7517fbd56f85221eULL, 0x2ULL},
    {0x49c7a93fd6d5d9e2ULL, 0x4913d3f3b63913b9ULL, 0x1463cffb1512d51eULL, 0xa57c4a4850b6c248ULL, 0x2ULL},
    {0x85e83556af52d729ULL, 0xe0953e851eaade46ULL, 0xccb415b196942d7bULL, 0xd5e098bb31e86271ULL, 0x2ULL},
};
static const uint64_t TWO_P[4] = {0x7841182db0f9fa8eULL, 0x2f02d522d0e3951aULL, 0x70a08b6d0302b0bbULL,
                                  0x60c89ce5c2634053ULL};

/* v mod p for a five-limb v < 16p (< 2^258). The quotient is estimated from t = v >> 250 as
   k = floor(t * 5416 / 2^16): 5416 / 2^16 < 2^250 / p, so k never exceeds floor(v / p), and it
   falls short by less than 1.09 (t < 256), so v - k p < 2.1p; two conditional subtractions (2p,
   then p) finish. Branch-free apart from the table index (v here is public pairing data). */
PI fp fp_reduce5(uint64_t v0, uint64_t v1, uint64_t v2, uint64_t v3, uint64_t v4) {
    uint64_t t = (v4 << 6) | (v3 >> 58);
    const uint64_t *kp = KP[(t * 5416) >> 16];
    unsigned long long r0, r1, r2, r3, r4;
    unsigned char br = __builtin_ia32_subborrow_u64(0, v0, kp[0], &r0);
    br = __builtin_ia32_subborrow_u64(br, v1, kp[1], &r1);
    br = __builtin_ia32_subborrow_u64(br, v2, kp[2], &r2);
    br = __builtin_ia32_subborrow_u64(br, v3, kp[3], &r3);
    (void)__builtin_ia32_subborrow_u64(br, v4, kp[4], &r4); /* r4 == 0: the rest is < 2.1p < 2^256 */
    (void)r4;
    fp r = vs_reduce_once(r0, r1, r2, r3, TWO_P);
    return vs_reduce_once(r.l0, r.l1, r.l2, r.l3, vs_fq_modulus);
}

/* 9a + b as five limbs (a, b < 2^256): 8a by shifts, then two addition chains. */
PI void fp_nine_plus(uint64_t v[5], const fp *a, const fp *b) {
    uint64_t s0 = a->l0 << 3, s1 = (a->l1 << 3) | (a->l0 >> 61), s2 = (a->l2 << 3) | (a->l1 >> 61),
             s3 = (a->l3 << 3) | (a->l2 >> 61), s4 = a->l3 >> 61;
    unsigned long long r0, r1, r2, r3, r4;
    unsigned char c = __builtin_ia32_addcarryx_u64(0, s0, a->l0, &r0);
    c = __builtin_ia32_addcarryx_u64(c, s1, a->l1, &r1);
    c = __builtin_ia32_addcarryx_u64(c, s2, a->l2, &r2);
    c = __builtin_ia32_addcarryx_u64(c, s3, a->l3, &r3);
    (void)__builtin_ia32_addcarryx_u64(c, s4, 0, &r4);
    c = __builtin_ia32_addcarryx_u64(0, r0, b->l0, &r0);
    c = __builtin_ia32_addcarryx_u64(c, r1, b->l1, &r1);
    c = __builtin_ia32_addcarryx_u64(c, r2, b->l2, &r2);
    c = __builtin_ia32_addcarryx_u64(c, r3, b->l3, &r3);
    (void)__builtin_ia32_addcarryx_u64(c, r4, 0, &r4);
    v[0] = r0;
    v[1] = r1;
    v[2] = r2;
    v[3] = r3;
    v[4] = r4;
}

/* a * xi = (9 a0 - a1) + (a0 + 9 a1) u, each coefficient as one sum below 10p and one reduction:
   9 a0 + (p - a1) and 9 a1 + a0. */
PI fp2 fp2_mul_xi(const fp2 *a) {
    fp n1 = fp_sub(&P, &a->c1); /* p - a1 in [1, p] (fp_sub never borrows here) */
    uint64_t v[5], w[5];
    fp_nine_plus(v, &a->c0, &n1);
    fp_nine_plus(w, &a->c1, &a->c0);
    fp2 r = {fp_reduce5(v[0], v[1], v[2], v[3], v[4]), fp_reduce5(w[0], w[1], w[2], w[3], w[4])};
    return r;
}
/* ------------------------------------------------------------------ lazy reduction */

/*
 * Wide (512-bit, unreduced) values for lazy reduction: sums and differences of products are
 * formed on 512-bit values and Montgomery-reduced once per output coefficient. Invariant: every
 * wide value lies in [0, M) with M = p 2^256 (about 5.3 p^2), the range in which `fp_redc` is exact
 * (its output is below 2p before the final subtraction), and sums and differences are taken mod M,
 * which REDC maps to 0 mod p (M 2^-256 = p). A product of two reduced Fq elements is below
 * p^2 < M; M < 2^510, so a sum of two wide values never leaves 512 bits.
 */
typedef struct { dbl c0, c1; } fp2w;
typedef struct { fp2w c0, c1, c2; } fp6w;

/* r = s mod M (M = p 2^256) for s = s[0..7] + top 2^512 whose high part, the five limbs
   (s[4..7], top), is below 16p (`fp_reduce5`'s bound): the low half is kept and the high part
   reduced mod p. The store tail of the one-pass wide sums below. */
PI void dbl_store_reduced(dbl *r, const uint64_t s[8], uint64_t top) {
    fp h = fp_reduce5(s[4], s[5], s[6], s[7], top);
    r->v[0] = s[0];
    r->v[1] = s[1];
    r->v[2] = s[2];
    r->v[3] = s[3];
    r->v[4] = h.l0;
    r->v[5] = h.l1;
    r->v[6] = h.l2;
    r->v[7] = h.l3;
}

/* a + b mod M for a, b < M: the sum is below 2M < 2^511, and it is >= M exactly when its high
   half is >= p (the low half is below 2^256), so one conditional subtraction of p from the high
   half finishes. */
PI void dbl_addm(dbl *r, const dbl *a, const dbl *b) {
    unsigned long long s0, s1, s2, s3, s4, s5, s6, s7;
    unsigned char c = __builtin_ia32_addcarryx_u64(0, a->v[0], b->v[0], &s0);
    c = __builtin_ia32_addcarryx_u64(c, a->v[1], b->v[1], &s1);
    c = __builtin_ia32_addcarryx_u64(c, a->v[2], b->v[2], &s2);
    c = __builtin_ia32_addcarryx_u64(c, a->v[3], b->v[3], &s3);
    c = __builtin_ia32_addcarryx_u64(c, a->v[4], b->v[4], &s4);
    c = __builtin_ia32_addcarryx_u64(c, a->v[5], b->v[5], &s5);
    c = __builtin_ia32_addcarryx_u64(c, a->v[6], b->v[6], &s6);
    (void)__builtin_ia32_addcarryx_u64(c, a->v[7], b->v[7], &s7);
    fp h = vs_reduce_once(s4, s5, s6, s7, vs_fq_modulus);
    r->v[0] = s0;
    r->v[1] = s1;
    r->v[2] = s2;
    r->v[3] = s3;
    r->v[4] = h.l0;
    r->v[5] = h.l1;
    r->v[6] = h.l2;
    r->v[7] = h.l3;
}

/* a - b mod M for a, b < M: M is added back after a borrow (the result is then in [0, M)). */
PI void dbl_subm(dbl *r, const dbl *a, const dbl *b) {
    unsigned char br = dbl_sub(r, a, b);
    dbl_add_p_high(r, 0 - (uint64_t)br);
}

/* 9a + b mod M for a, b < M: the nine-limb sum V is below 10M, so its high part V >> 256 is below
   10p and `fp_reduce5` takes it mod p; the low half is kept (M = p 2^256). */
PI void dbl_nine_plus(dbl *r, const dbl *a, const dbl *b) {
    uint64_t s[9];
    s[0] = a->v[0] << 3;
    for (int i = 1; i < 8; i++) s[i] = (a->v[i] << 3) | (a->v[i - 1] >> 61);
    s[8] = a->v[7] >> 61;
    unsigned long long t;
    unsigned char c = 0;
    for (int i = 0; i < 8; i++) {
        c = __builtin_ia32_addcarryx_u64(c, s[i], a->v[i], &t);
        s[i] = t;
    }
    (void)__builtin_ia32_addcarryx_u64(c, s[8], 0, &t);
    s[8] = t;
    c = 0;
    for (int i = 0; i < 8; i++) {
        c = __builtin_ia32_addcarryx_u64(c, s[i], b->v[i], &t);
        s[i] = t;
    }
    (void)__builtin_ia32_addcarryx_u64(c, s[8], 0, &t);
    s[8] = t;
    dbl_store_reduced(r, s, s[8]);
}

PI void fp2w_add(fp2w *r, const fp2w *a, const fp2w *b) {
    dbl_addm(&r->c0, &a->c0, &b->c0);
    dbl_addm(&r->c1, &a->c1, &b->c1);
}
PI void fp2w_sub(fp2w *r, const fp2w *a, const fp2w *b) {
    dbl_subm(&r->c0, &a->c0, &b->c0);
    dbl_subm(&r->c1, &a->c1, &b->c1);
}

/* a - 3b mod M for a, b < M in one pass: s = a + 3M - 3b is in (0, 4M) and 4M < 2^512, so it
   fits eight limbs and never borrows past them (3b < 3M); its high half is below 4p and
   `fp_reduce5` takes it mod p (the low half is kept: M = p 2^256). */
PI void dbl_sub_triple(dbl *r, const dbl *a, const dbl *b) {
    uint64_t s[8], t[8];
    unsigned long long w;
    unsigned char c = 0;
    for (int i = 0; i < 8; i++) { /* 3b = b + 2b; no carry out, as 3b < 3M < 2^512 */
        uint64_t twice = (b->v[i] << 1) | (i ? b->v[i - 1] >> 63 : 0);
        c = __builtin_ia32_addcarryx_u64(c, b->v[i], twice, &w);
        t[i] = w;
    }
    c = 0; /* a + 3M: 3M is 3p (KP[3], four limbs) in the high half */
    for (int i = 0; i < 4; i++) s[i] = a->v[i];
    for (int i = 4; i < 8; i++) {
        c = __builtin_ia32_addcarryx_u64(c, a->v[i], KP[3][i - 4], &w);
        s[i] = w;
    }
    c = 0;
    for (int i = 0; i < 8; i++) {
        c = __builtin_ia32_subborrow_u64(c, s[i], t[i], &w);
        s[i] = w;
    }
    dbl_store_reduced(r, s, 0);
}

PI void fp2w_sub_triple(fp2w *r, const fp2w *a, const fp2w *b) {
    dbl_sub_triple(&r->c0, &a->c0, &b->c0);
    dbl_sub_triple(&r->c1, &a->c1, &b->c1);
}

/* a * xi = (9 a0 - a1) + (a0 + 9 a1) u on wide coefficients: 9 a0 + (M - a1) and 9 a1 + a0. */
PI void fp2w_mul_xi(fp2w *r, const fp2w *a) {
    static const dbl zero = {{0, 0, 0, 0, 0, 0, 0, 0}};
    dbl n1, c0;
    dbl_subm(&n1, &zero, &a->c1);
    dbl_nine_plus(&c0, &a->c0, &n1);
    dbl_nine_plus(&r->c1, &a->c1, &a->c0);
    r->c0 = c0;
}

/* xi a + b on wide coefficients in one pass per coefficient: (9 a0 + M - a1 + b0) and
   (9 a1 + a0 + b1), nine-limb values below 11M whose high parts (below 11p) `fp_reduce5` takes
   mod p (the low halves are kept: M = p 2^256). r may alias b but not a. */
PI void dbl_nine_sub_add(dbl *r, const dbl *a, const dbl *n, const dbl *b, int negate) {
    uint64_t s[9];
    s[0] = a->v[0] << 3;
    for (int i = 1; i < 8; i++) s[i] = (a->v[i] << 3) | (a->v[i - 1] >> 61);
    s[8] = a->v[7] >> 61;
    unsigned long long t;
    unsigned char c = 0;
    for (int i = 0; i < 8; i++) {
        c = __builtin_ia32_addcarryx_u64(c, s[i], a->v[i], &t);
        s[i] = t;
    }
    s[8] += c;
    c = 0;
    for (int i = 0; i < 8; i++) {
        c = __builtin_ia32_addcarryx_u64(c, s[i], b->v[i], &t);
        s[i] = t;
    }
    s[8] += c;
    if (negate) { /* + M - n: p added to the high half first, so the subtraction cannot go negative */
        c = __builtin_ia32_addcarryx_u64(0, s[4], P.l0, &t);
        s[4] = t;
        c = __builtin_ia32_addcarryx_u64(c, s[5], P.l1, &t);
        s[5] = t;
        c = __builtin_ia32_addcarryx_u64(c, s[6], P.l2, &t);
        s[6] = t;
        c = __builtin_ia32_addcarryx_u64(c, s[7], P.l3, &t);
        s[7] = t;
        s[8] += c;
        c = 0;
        for (int i = 0; i < 8; i++) {
            c = __builtin_ia32_subborrow_u64(c, s[i], n->v[i], &t);
            s[i] = t;
        }
        s[8] -= c;
    } else {
        c = 0;
        for (int i = 0; i < 8; i++) {
            c = __builtin_ia32_addcarryx_u64(c, s[i], n->v[i], &t);
            s[i] = t;
        }
        s[8] += c;
    }
    dbl_store_reduced(r, s, s[8]);
}

/* r = xi a + b (wide, each input below M; r may alias b, not a). */
PI void fp2w_mul_xi_add(fp2w *r, const fp2w *a, const fp2w *b) {
    dbl_nine_sub_add(&r->c0, &a->c0, &a->c1, &b->c0, 1);
    dbl_nine_sub_add(&r->c1, &a->c1, &a->c0, &b->c1, 0);
}

PI fp2 fp2w_redc(const fp2w *a) {
    fp2 r = {fp_redc(&a->c0), fp_redc(&a->c1)};
    return r;
}

/* The unreduced Karatsuba product of a, b with coefficients below 2p (sums of reduced values
   need not be reduced first): v0 = a0b0 and v1 = a1b1 are below 4p^2 < M; c0 = v0 - v1, plus M
   after a borrow, is in [0, M); the sums a0 + a1, b0 + b1 are below 4p < 2^256, their product below
   16p^2 < 2^512, and c1 = (a0 + a1)(b0 + b1) - v0 - v1 = a0b1 + a1b0 < 8p^2 < 2M takes one
   conditional subtraction of M (of p from its high half). Out of line: inlined into the tower
   code, clang's register allocator runs out of registers for the assembly blocks. The reference
   for the assembly version `fp2_mul_w` uses on ELF targets. */
__attribute__((noinline)) static void fp2_mul_w_c(fp2w *r, const fp2 *a, const fp2 *b) {
    dbl v1 = fp_mul_wide(&a->c1, &b->c1);
    dbl v0 = fp_mul_wide(&a->c0, &b->c0);
    fp sa = fp_add_nr(&a->c0, &a->c1), sb = fp_add_nr(&b->c0, &b->c1);
    dbl s = fp_mul_wide(&sa, &sb);
    (void)dbl_sub(&s, &s, &v0);
    (void)dbl_sub(&s, &s, &v1);
    fp h = vs_reduce_once(s.v[4], s.v[5], s.v[6], s.v[7], vs_fq_modulus);
    r->c1.v[0] = s.v[0];
    r->c1.v[1] = s.v[1];
    r->c1.v[2] = s.v[2];
    r->c1.v[3] = s.v[3];
    r->c1.v[4] = h.l0;
    r->c1.v[5] = h.l1;
    r->c1.v[6] = h.l2;
    r->c1.v[7] = h.l3;
    dbl_subm(&r->c0, &v0, &v1);
}

#if defined(__ELF__)
/* fp2_wide.S: the same values as `fp2_mul_w_c` with every register available to one routine. */
void vs_bn254_fp2_mul_wide_adx(uint64_t r[16], const uint64_t a[8], const uint64_t b[8]);

PI void fp2_mul_w(fp2w *r, const fp2 *a, const fp2 *b) {
    vs_bn254_fp2_mul_wide_adx(r->c0.v, &a->c0.l0, &b->c0.l0);
}
#else
PI void fp2_mul_w(fp2w *r, const fp2 *a, const fp2 *b) { fp2_mul_w_c(r, a, b); }
#endif

/* The reduced Fq2 product: the lazy product and one REDC per coefficient. c1 may differ from the
   unreduced s - v0 - v1 by M, which REDC maps to 0 mod p, and REDC's output is fully reduced, so
   the result is the canonical product. */
PI fp2 fp2_mul(const fp2 *a, const fp2 *b) {
    fp2w w;
    fp2_mul_w(&w, a, b);
    fp2 r = {fp_redc(&w.c0), fp_redc(&w.c1)};
    return r;
}

/* Unreduced Fq2 sum (coefficients below 2p when the inputs are reduced): only for `fp2_mul_w`. */
PI fp2 fp2_add_nr(const fp2 *a, const fp2 *b) {
    fp2 r = {fp_add_nr(&a->c0, &b->c0), fp_add_nr(&a->c1, &b->c1)};
    return r;
}

/* The unreduced square of a reduced a: c0 = (a0 + a1)(a0 + p - a1) (both factors below 2p, so the
   product is below 4p^2 < M, and it is a0^2 - a1^2 mod p), c1 = a0 (2 a1) < 2p^2 < M. */
__attribute__((noinline)) static void fp2_sqr_w_c(fp2w *r, const fp2 *a) {
    fp s = fp_add_nr(&a->c0, &a->c1);
    fp n = fp_sub(&P, &a->c1); /* p - a1 in [1, p] */
    fp d = fp_add_nr(&a->c0, &n);
    fp t = fp_add_nr(&a->c1, &a->c1);
    r->c0 = fp_mul_wide(&s, &d);
    r->c1 = fp_mul_wide(&a->c0, &t);
}

#if defined(__ELF__)
/* fp2_wide.S: the same values as `fp2_sqr_w_c`. */
void vs_bn254_fp2_sqr_wide_adx(uint64_t r[16], const uint64_t a[8]);

PI void fp2_sqr_w(fp2w *r, const fp2 *a) { vs_bn254_fp2_sqr_wide_adx(r->c0.v, &a->c0.l0); }
#else
PI void fp2_sqr_w(fp2w *r, const fp2 *a) { fp2_sqr_w_c(r, a); }
#endif

/* The reduced square from the unreduced one: the value of `fp2_sqr`, but the two 512-bit products
   come from the assembly routine and each coefficient takes one REDC; in the G2 steps this
   measured about 0.5 us (1 %) faster per line preparation than the two fused Montgomery
   products of `fp2_sqr`. */
PI fp2 fp2_sqr_wide_redc(const fp2 *a) {
    fp2w w;
    fp2_sqr_w(&w, a);
    return fp2w_redc(&w);
}

static int fp2_inverse(fp2 *r, const fp2 *a) {
    fp n0 = fp_sqr(&a->c0), n1 = fp_sqr(&a->c1);
    fp n = fp_add(&n0, &n1);
    if (fp_is_zero(&n)) return 0;
    fp t = fp_inverse_var(&n);
    fp c1 = fp_mul(&a->c1, &t);
    r->c0 = fp_mul(&a->c0, &t);
    r->c1 = fp_neg(&c1);
    return 1;
}

/* ------------------------------------------------------------------ Fq6 */

PI fp6 fp6_add(const fp6 *a, const fp6 *b) {
    fp6 r = {fp2_add(&a->c0, &b->c0), fp2_add(&a->c1, &b->c1), fp2_add(&a->c2, &b->c2)};
    return r;
}
PI fp6 fp6_sub(const fp6 *a, const fp6 *b) {
    fp6 r = {fp2_sub(&a->c0, &b->c0), fp2_sub(&a->c1, &b->c1), fp2_sub(&a->c2, &b->c2)};
    return r;
}
PI fp6 fp6_neg(const fp6 *a) {
    fp6 r = {fp2_neg(&a->c0), fp2_neg(&a->c1), fp2_neg(&a->c2)};
    return r;
}
/* a * v = (xi a2, a0, a1). */
PI fp6 fp6_mul_v(const fp6 *a) {
    fp6 r = {fp2_mul_xi(&a->c2), a->c0, a->c1};
    return r;
}

PI void fp6w_sub(fp6w *r, const fp6w *a, const fp6w *b) {
    fp2w_sub(&r->c0, &a->c0, &b->c0);
    fp2w_sub(&r->c1, &a->c1, &b->c1);
    fp2w_sub(&r->c2, &a->c2, &b->c2);
}
/* a * v = (xi a2, a0, a1) on wide coefficients; r must not alias a. */
PI void fp6w_mul_v(fp6w *r, const fp6w *a) {
    fp2w_mul_xi(&r->c0, &a->c2);
    r->c1 = a->c0;
    r->c2 = a->c1;
}
PI fp6 fp6w_redc(const fp6w *a) {
    fp6 r = {fp2w_redc(&a->c0), fp2w_redc(&a->c1), fp2w_redc(&a->c2)};
    return r;
}

/* Karatsuba over three coefficients with lazy reduction: six unreduced Fq2 products (18 512-bit
   products) combined mod M and left unreduced for the caller, which reduces each of the six Fq
   coefficients once (6 REDC instead of the 12 of six reduced Fq2 products):
     r0 = a0b0 + xi ((a1 + a2)(b1 + b2) - a1b1 - a2b2)
     r1 = (a0 + a1)(b0 + b1) - a0b0 - a1b1 + xi a2b2
     r2 = (a0 + a2)(b0 + b2) - a0b0 - a2b2 + a1b1 */
__attribute__((noinline)) static void fp6_mul_w(fp6w *r, const fp6 *a, const fp6 *b) {
    fp2w t0, t1, t2, z;
    fp2_mul_w(&t0, &a->c0, &b->c0);
    fp2_mul_w(&t1, &a->c1, &b->c1);
    fp2_mul_w(&t2, &a->c2, &b->c2);
    fp2 x = fp2_add_nr(&a->c1, &a->c2), y = fp2_add_nr(&b->c1, &b->c2);
    fp2_mul_w(&z, &x, &y);
    fp2w_sub(&z, &z, &t1);
    fp2w_sub(&z, &z, &t2);
    fp2w_mul_xi_add(&r->c0, &z, &t0);
    x = fp2_add_nr(&a->c0, &a->c2);
    y = fp2_add_nr(&b->c0, &b->c2);
    fp2_mul_w(&z, &x, &y);
    fp2w_sub(&z, &z, &t0);
    fp2w_sub(&z, &z, &t2);
    fp2w_add(&r->c2, &z, &t1);
    x = fp2_add_nr(&a->c0, &a->c1);
    y = fp2_add_nr(&b->c0, &b->c1);
    fp2_mul_w(&z, &x, &y);
    fp2w_sub(&z, &z, &t0);
    fp2w_sub(&z, &z, &t1);
    fp2w_mul_xi_add(&r->c1, &t2, &z);
}

static fp6 fp6_mul(const fp6 *a, const fp6 *b) {
    fp6w w;
    fp6_mul_w(&w, a, b);
    return fp6w_redc(&w);
}

/* a * (b0 + b1 v) with lazy reduction: 5 unreduced Fq2 products,
     r0 = a0b0 + xi ((a1 + a2) b1 - a1b1)
     r1 = (a0 + a1)(b0 + b1) - a0b0 - a1b1
     r2 = (a0 + a2) b0 - a0b0 + a1b1 */
__attribute__((noinline)) static void fp6_mul_01_w(fp6w *r, const fp6 *a, const fp2 *b0, const fp2 *b1) {
    fp2w t0, t1, z;
    fp2_mul_w(&t0, &a->c0, b0);
    fp2_mul_w(&t1, &a->c1, b1);
    fp2 x = fp2_add_nr(&a->c1, &a->c2);
    fp2_mul_w(&z, &x, b1);
    fp2w_sub(&z, &z, &t1);
    fp2w_mul_xi_add(&r->c0, &z, &t0);
    x = fp2_add_nr(&a->c0, &a->c1);
    fp2 y = fp2_add_nr(b0, b1);
    fp2_mul_w(&z, &x, &y);
    fp2w_sub(&z, &z, &t0);
    fp2w_sub(&r->c1, &z, &t1);
    x = fp2_add_nr(&a->c0, &a->c2);
    fp2_mul_w(&z, &x, b0);
    fp2w_sub(&z, &z, &t0);
    fp2w_add(&r->c2, &z, &t1);
}

/* a * k, k in Fq2, unreduced (3 Fq2 products). */
PI void fp6_mul_fp2_w(fp6w *r, const fp6 *a, const fp2 *k) {
    fp2_mul_w(&r->c0, &a->c0, k);
    fp2_mul_w(&r->c1, &a->c1, k);
    fp2_mul_w(&r->c2, &a->c2, k);
}

/* Chung-Hasan SQR2: 2 multiplications and 3 squarings in Fq2. */
static fp6 fp6_sqr(const fp6 *a) {
    fp2 s0 = fp2_sqr(&a->c0);
    fp2 s1 = fp2_mul(&a->c0, &a->c1);
    s1 = fp2_dbl(&s1);
    fp2 t = fp2_sub(&a->c0, &a->c1);
    t = fp2_add(&t, &a->c2);
    fp2 s2 = fp2_sqr(&t);
    fp2 s3 = fp2_mul(&a->c1, &a->c2);
    s3 = fp2_dbl(&s3);
    fp2 s4 = fp2_sqr(&a->c2);
    fp2 x = fp2_mul_xi(&s3);
    fp2 r0 = fp2_add(&x, &s0);
    x = fp2_mul_xi(&s4);
    fp2 r1 = fp2_add(&x, &s1);
    fp2 r2 = fp2_add(&s1, &s2);
    r2 = fp2_add(&r2, &s3);
    r2 = fp2_sub(&r2, &s0);
    r2 = fp2_sub(&r2, &s4);
    fp6 r = {r0, r1, r2};
    return r;
}

static int fp6_inverse(fp6 *r, const fp6 *a) {
    fp2 x, y;
    fp2 t0 = fp2_sqr(&a->c0);
    x = fp2_mul(&a->c1, &a->c2);
    x = fp2_mul_xi(&x);
    t0 = fp2_sub(&t0, &x);
    fp2 t1 = fp2_sqr(&a->c2);
    t1 = fp2_mul_xi(&t1);
    x = fp2_mul(&a->c0, &a->c1);
    t1 = fp2_sub(&t1, &x);
    fp2 t2 = fp2_sqr(&a->c1);
    x = fp2_mul(&a->c0, &a->c2);
    t2 = fp2_sub(&t2, &x);
    x = fp2_mul(&a->c2, &t1);
    y = fp2_mul(&a->c1, &t2);
    x = fp2_add(&x, &y);
    x = fp2_mul_xi(&x);
    y = fp2_mul(&a->c0, &t0);
    fp2 det = fp2_add(&y, &x);
    fp2 inv;
    if (!fp2_inverse(&inv, &det)) return 0;
    r->c0 = fp2_mul(&t0, &inv);
    r->c1 = fp2_mul(&t1, &inv);
    r->c2 = fp2_mul(&t2, &inv);
    return 1;
}

/* ------------------------------------------------------------------ Fq12 */

/* Karatsuba over Fq6 with lazy reduction: the three Fq6 products stay unreduced and each of the
   twelve output coefficients is reduced once (12 REDC instead of 36).
     r0 = a0b0 + v a1b1, r1 = (a0 + a1)(b0 + b1) - a0b0 - a1b1 */
/* Karatsuba's recombination over Fq6 from the unreduced a0b0 (t0), a1b1 (t1) and
   (a0 + a1)(b0 + b1) (e): r0 = t0 + v t1, r1 = e - t0 - t1, each coefficient reduced once. */
static fp12 fp12_karatsuba_finish(fp6w *t0, const fp6w *t1, fp6w *e) {
    fp6w_sub(e, e, t0);
    fp6w_sub(e, e, t1);
    fp2w_mul_xi_add(&t0->c0, &t1->c2, &t0->c0); /* t0 + v t1 */
    fp2w_add(&t0->c1, &t0->c1, &t1->c0);
    fp2w_add(&t0->c2, &t0->c2, &t1->c1);
    fp12 r = {fp6w_redc(t0), fp6w_redc(e)};
    return r;
}

static fp12 fp12_mul(const fp12 *a, const fp12 *b) {
    fp6w aa, bb, s;
    fp6_mul_w(&aa, &a->c0, &b->c0);
    fp6_mul_w(&bb, &a->c1, &b->c1);
    fp6 x = fp6_add(&a->c0, &a->c1), y = fp6_add(&b->c0, &b->c1);
    fp6_mul_w(&s, &x, &y);
    return fp12_karatsuba_finish(&aa, &bb, &s);
}

/* Complex squaring with lazy reduction: r0 = (a0 + a1)(a0 + v a1) - a0a1 - v a0a1 (wide, one
   REDC per coefficient), r1 = 2 a0a1. */
static fp12 fp12_sqr(const fp12 *a) {
    fp6w ab, s, vab;
    fp6_mul_w(&ab, &a->c0, &a->c1);
    fp6 x = fp6_add(&a->c0, &a->c1);
    fp6 y = fp6_mul_v(&a->c1);
    y = fp6_add(&a->c0, &y);
    fp6_mul_w(&s, &x, &y);
    fp6w_sub(&s, &s, &ab);
    fp6w_mul_v(&vab, &ab);
    fp6w_sub(&s, &s, &vab);
    fp6 t = fp6w_redc(&ab);
    fp12 r = {fp6w_redc(&s), fp6_add(&t, &t)};
    return r;
}

PI fp12 fp12_conj(const fp12 *a) {
    fp12 r = {a->c0, fp6_neg(&a->c1)};
    return r;
}

/* a * (d0 + d3 w + d4 v w): a0 d0 (3 Fq2 products), a1 (d3 + d4 v) (5), (a0 + a1)(d0 + d3 + d4 v)
   (5): 13 unreduced Fq2 products, 12 REDC. */
static fp12 fp12_mul_034(const fp12 *a, const fp2 *d0, const fp2 *d3, const fp2 *d4) {
    fp6w t0, t1, e;
    fp6_mul_fp2_w(&t0, &a->c0, d0);
    fp6_mul_01_w(&t1, &a->c1, d3, d4);
    fp6 s = fp6_add(&a->c0, &a->c1);
    fp2 e0 = fp2_add(d0, d3);
    fp6_mul_01_w(&e, &s, &e0, d4);
    fp6w_sub(&e, &e, &t0);
    fp6w_sub(&e, &e, &t1);
    fp2w_mul_xi_add(&t0.c0, &t1.c2, &t0.c0); /* t0 + v t1 */
    fp2w_add(&t0.c1, &t0.c1, &t1.c0);
    fp2w_add(&t0.c2, &t0.c2, &t1.c1);
    fp12 r = {fp6w_redc(&t0), fp6w_redc(&e)};
    return r;
}

/* a * (1 + d3 w + d4 v w), the line of an affine-form prepared point divided by yP: with
   B = d3 + d4 v, (a0 + a1 w)(1 + B w) = (a0 + v a1 B) + (a1 + a0 B) w: 10 Fq2 products. */
static fp12 fp12_mul_1_34(const fp12 *a, const fp2 *d3, const fp2 *d4) {
    fp6w w1, w0;
    fp6_mul_01_w(&w1, &a->c1, d3, d4);
    fp6_mul_01_w(&w0, &a->c0, d3, d4);
    fp6 t1 = fp6w_redc(&w1), t0 = fp6w_redc(&w0);
    fp6 v1 = fp6_mul_v(&t1);
    fp12 r = {fp6_add(&a->c0, &v1), fp6_add(&a->c1, &t0)};
    return r;
}

/* The product of two sparse lines (d0 + d3 w + d4 v w)(e0 + e3 w + e4 v w), reduced inputs, with
   w^2 = v and v^3 = xi:
     c0 = (d0e0 + xi d4e4, d3e3, d3e4 + d4e3), c1 = (d0e3 + d3e0, d0e4 + d4e0, 0),
   the three cross sums by Karatsuba from d0e0, d3e3, d4e4: 6 unreduced Fq2 products, 10 REDC. */
/* Karatsuba's cross term a e + b d = (a + b)(d + e) - a d - b e, from the unreduced products
   ad = a d and be = b e, reduced once. */
static fp2 fp2_karatsuba_cross(const fp2 *a, const fp2 *b, const fp2 *d, const fp2 *e, const fp2w *ad,
                               const fp2w *be) {
    fp2 x = fp2_add_nr(a, b), y = fp2_add_nr(d, e);
    fp2w z;
    fp2_mul_w(&z, &x, &y);
    fp2w_sub(&z, &z, ad);
    fp2w_sub(&z, &z, be);
    return fp2w_redc(&z);
}

static void fp12_mul_034_by_034(fp12 *r, const fp2 *d0, const fp2 *d3, const fp2 *d4, const fp2 *e0,
                                const fp2 *e3, const fp2 *e4) {
    fp2w t0, t3, t4;
    fp2_mul_w(&t0, d0, e0);
    fp2_mul_w(&t3, d3, e3);
    fp2_mul_w(&t4, d4, e4);
    r->c0.c2 = fp2_karatsuba_cross(d3, d4, e3, e4, &t3, &t4);
    r->c1.c0 = fp2_karatsuba_cross(d0, d3, e0, e3, &t0, &t3);
    r->c1.c1 = fp2_karatsuba_cross(d0, d4, e0, e4, &t0, &t4);
    r->c0.c1 = fp2w_redc(&t3);
    fp2w_mul_xi_add(&t0, &t4, &t0);
    r->c0.c0 = fp2w_redc(&t0);
    memset(&r->c1.c2, 0, sizeof r->c1.c2);
}

/* a * b for b = b0 + b1 w with b1 = (b10, b11, 0) (a product of two sparse lines): Karatsuba over
   Fq6 with lazy reduction, a0b0 (6 Fq2 products), a1b1 (5), (a0 + a1)(b0 + b1) (6): 17 unreduced
   Fq2 products, 12 REDC. b1's third coefficient is not read. */
static fp12 fp12_mul_01234(const fp12 *a, const fp12 *b) {
    fp6w t0, t1, e;
    fp6_mul_w(&t0, &a->c0, &b->c0);
    fp6_mul_01_w(&t1, &a->c1, &b->c1.c0, &b->c1.c1);
    fp6 s = fp6_add(&a->c0, &a->c1);
    fp6 u = {fp2_add(&b->c0.c0, &b->c1.c0), fp2_add(&b->c0.c1, &b->c1.c1), b->c0.c2};
    fp6_mul_w(&e, &s, &u);
    return fp12_karatsuba_finish(&t0, &t1, &e);
}

/* Granger-Scott squaring in the cyclotomic subgroup (same formulas and Fq4 pairing as Swift's
   `Fq12.cyclotomicSquared`): each Fq4 square (a + b s)^2, s^2 = xi, is t0 = a^2 + xi b^2 and
   t1 = 2ab, from two unreduced Fq2 squares and one unreduced product with 2b (its coefficients
   left below 2p, as `fp2_mul_w` allows): 7 512-bit products and 4 REDC, no Fq2 sum a + b and no
   wide subtractions (cheaper than (a + b)^2 - a^2 - b^2 here). */
PI void fq4_sqr(fp2 *t0, fp2 *t1, const fp2 *a, const fp2 *b) {
    fp2w sa, sb, ab;
    fp2_sqr_w(&sa, a);
    fp2_sqr_w(&sb, b);
    fp2 b2 = fp2_add_nr(b, b);
    fp2_mul_w(&ab, a, &b2);
    fp2w_mul_xi_add(&sa, &sb, &sa);
    *t0 = fp2w_redc(&sa);
    *t1 = fp2w_redc(&ab);
}

static fp12 fp12_cyclotomic_sqr_c(const fp12 *a) {
    const fp2 *z0 = &a->c0.c0, *z4 = &a->c0.c1, *z3 = &a->c0.c2;
    const fp2 *z2 = &a->c1.c0, *z1 = &a->c1.c1, *z5 = &a->c1.c2;
    fp2 t0, t1, t2, t3, t4, t5, x;
    fq4_sqr(&t0, &t1, z0, z1);
    fq4_sqr(&t2, &t3, z2, z3);
    fq4_sqr(&t4, &t5, z4, z5);
    fp12 r;
    /* z0 = 3 t0 - 2 z0, z1 = 3 t1 + 2 z1 */
    x = fp2_sub(&t0, z0);
    x = fp2_dbl(&x);
    r.c0.c0 = fp2_add(&x, &t0);
    x = fp2_add(&t1, z1);
    x = fp2_dbl(&x);
    r.c1.c1 = fp2_add(&x, &t1);
    /* z2 = 3 xi t5 + 2 z2, z3 = 3 t4 - 2 z3 */
    fp2 xt5 = fp2_mul_xi(&t5);
    x = fp2_add(z2, &xt5);
    x = fp2_dbl(&x);
    r.c1.c0 = fp2_add(&x, &xt5);
    x = fp2_sub(&t4, z3);
    x = fp2_dbl(&x);
    r.c0.c2 = fp2_add(&x, &t4);
    /* z4 = 3 t2 - 2 z4, z5 = 3 t3 + 2 z5 */
    x = fp2_sub(&t2, z4);
    x = fp2_dbl(&x);
    r.c0.c1 = fp2_add(&x, &t2);
    x = fp2_add(z5, &t3);
    x = fp2_dbl(&x);
    r.c1.c2 = fp2_add(&x, &t3);
    return r;
}

#if defined(__ELF__)
/* fp2_wide.S: the same squaring as one routine, each output coefficient one nine-limb combination
   of the 512-bit products reduced once (no wide intermediate stored reduced mod p 2^256); the C
   formulation above is its reference. */
void vs_bn254_fq12_cyclotomic_sqr_adx(uint64_t r[48], const uint64_t a[48]);

PI fp12 fp12_cyclotomic_sqr(const fp12 *a) {
    fp12 r;
    vs_bn254_fq12_cyclotomic_sqr_adx(&r.c0.c0.c0.l0, &a->c0.c0.c0.l0);
    return r;
}

/* r <- r^2 in place, as the exponentiation loops use it: the routine reads every input
   coefficient before its first store and then writes each output coefficient after its last
   read of the same coefficient, so r may be both; this spares the copy of a 384-byte returned
   value per squaring. */
PI void fp12_cyclotomic_sqr_assign(fp12 *r) {
    vs_bn254_fq12_cyclotomic_sqr_adx(&r->c0.c0.c0.l0, &r->c0.c0.c0.l0);
}
#else
PI fp12 fp12_cyclotomic_sqr(const fp12 *a) { return fp12_cyclotomic_sqr_c(a); }
PI void fp12_cyclotomic_sqr_assign(fp12 *r) { *r = fp12_cyclotomic_sqr_c(r); }
#endif

static int fp12_inverse(fp12 *r, const fp12 *a) {
    fp6 n0 = fp6_sqr(&a->c0), n1 = fp6_sqr(&a->c1);
    n1 = fp6_mul_v(&n1);
    fp6 n = fp6_sub(&n0, &n1);
    fp6 inv;
    if (!fp6_inverse(&inv, &n)) return 0;
    fp6 c1 = fp6_mul(&a->c1, &inv);
    r->c0 = fp6_mul(&a->c0, &inv);
    r->c1 = fp6_neg(&c1);
    return 1;
}

/* gamma[k-1][i-1] = xi^(i (q^k - 1) / 6), the factor of the coefficient of w^i under the q^k
   Frobenius (Montgomery form). In the tower, w^0..w^5 are c0.c0, c1.c0, c0.c1, c1.c1, c0.c2, c1.c2. */
static const fp2 FROBENIUS_GAMMA[3][5] = {
    {
        {{0xaf9ba69633144907ULL, 0xca6b1d7387afb78aULL, 0x11bded5ef08a2087ULL, 0x02f34d751a1f3a7cULL},
         {0xa222ae234c492d72ULL, 0xd00f02a4565de15bULL, 0xdc2ff3a253dfc926ULL, 0x10a75716b3899551ULL}},
        {{0xb5773b104563ab30ULL, 0x347f91c8a9aa6454ULL, 0x7a007127242e0991ULL, 0x1956bcd8118214ecULL},
         {0x6e849f1ea0aa4757ULL, 0xaa1c7b6d89f89141ULL, 0xb6e713cdfae0ca3aULL, 0x26694fbb4e82ebc3ULL}},
        {{0xe4bbdd0c2936b629ULL, 0xbb30f162e133bacbULL, 0x31a9d1b6f9645366ULL, 0x253570bea500f8ddULL},
         {0xa1d77ce45ffe77c7ULL, 0x07affd117826d1dbULL, 0x6d16bd27bb7edc6bULL, 0x2c87200285defeccULL}},
        {{0x7361d77f843abe92ULL, 0xa5bb2bd3273411fbULL, 0x9c941f314b3e2399ULL, 0x15df9cddbb9fd3ecULL},
         {0x5dddfd154bd8c949ULL, 0x62cb29a5a4445b60ULL, 0x37bc870a0c7dd2b9ULL, 0x24830a9d3171f0fdULL}},
        {{0xc970692f41690fe7ULL, 0xe240342127694b0bULL, 0x32bee66b83c459e8ULL, 0x12aabced0ab08841ULL},
         {0x0d485d2340aebfa9ULL, 0x05193418ab2fcc57ULL, 0xd3b0a40b8a4910f5ULL, 0x2f21ebb535d2925aULL}},
    },
    {
        {{0xca8d800500fa1bf2ULL, 0xf0c5d61468b39769ULL, 0x0e201271ad0d4418ULL, 0x04290f65bad856e6ULL}, {0, 0, 0, 0}},
        {{0x3350c88e13e80b9cULL, 0x7dce557cdb5e56b9ULL, 0x6001b4b8b615564aULL, 0x2682e617020217e0ULL}, {0, 0, 0, 0}},
        {{0x68c3488912edefaaULL, 0x8d087f6872aabf4fULL, 0x51e1a24709081231ULL, 0x2259d6b14729c0faULL}, {0, 0, 0, 0}},
        {{0x71930c11d782e155ULL, 0xa6bb947cffbe3323ULL, 0xaa303344d4741444ULL, 0x2c3b3f0d26594943ULL}, {0, 0, 0, 0}},
        {{0x08cfc388c494f1abULL, 0x19b315148d1373d4ULL, 0x584e90fdcb6c0213ULL, 0x09e1685bdf2f8849ULL}, {0, 0, 0, 0}},
    },
    {
        {{0x365316184e46d97dULL, 0x0af7129ed4c96d9fULL, 0x659da72fca1009b5ULL, 0x08116d8983a20d23ULL},
         {0xb1df4af7c39c1939ULL, 0x3d9f02878a73bf7fULL, 0x9b2220928caf0ae0ULL, 0x26684515eff054a6ULL}},
        {{0xc9af22f716ad6badULL, 0xb311782a4aa662b2ULL, 0x19eeaf64e248c7f4ULL, 0x20273e77e3439f82ULL},
         {0xacc02860f7ce93acULL, 0x3933d5817ba76b4cULL, 0x69e6188b446c8467ULL, 0x0a46036d4417cc55ULL}},
        {{0x5764af0aaf46471eULL, 0xdc50792e873e0fc1ULL, 0x86a673ff881d04f6ULL, 0x0b2eddb43c30a74cULL},
         {0x9a490f32787e8580ULL, 0x8fd16d7ff04af8b1ULL, 0x4b39888ec6027bf2ULL, 0x03dd2e705b52a15dULL}},
        {{0x448a93a57b6762dfULL, 0xbfd62df528fdeadfULL, 0xd858f5d00e9bd47aULL, 0x06b03d4d3476ec58ULL},
         {0x2b19daf4bcc936d1ULL, 0xa1a54e7a56f4299fULL, 0xb533eee05adeaef1ULL, 0x170c812b84dda0b2ULL}},
        {{0xe0bc4b2275cf559fULL, 0xc238b945c154e60fULL, 0x803982a5929a7d5eULL, 0x15ce052df7e4a37eULL},
         {0x2d28efbdbf3799a7ULL, 0x9b097e3c1ad60773ULL, 0x982d4113af4a535bULL, 0x24e18991e3056063ULL}},
    },
};

/* The q^k-power Frobenius map, k = 1, 2, 3: conjugate every Fq2 coefficient for odd k, then scale
   the coefficient of w^i by gamma[k-1][i-1] (an Fq scalar for k = 2). */
static fp12 fp12_frobenius(const fp12 *a, int k) {
    const fp2 *g = FROBENIUS_GAMMA[k - 1];
    fp12 r;
    if (k & 1) {
        r.c0.c0 = fp2_conj(&a->c0.c0);
        r.c1.c0 = fp2_conj(&a->c1.c0);
        r.c0.c1 = fp2_conj(&a->c0.c1);
        r.c1.c1 = fp2_conj(&a->c1.c1);
        r.c0.c2 = fp2_conj(&a->c0.c2);
        r.c1.c2 = fp2_conj(&a->c1.c2);
        r.c1.c0 = fp2_mul(&r.c1.c0, &g[0]);
        r.c0.c1 = fp2_mul(&r.c0.c1, &g[1]);
        r.c1.c1 = fp2_mul(&r.c1.c1, &g[2]);
        r.c0.c2 = fp2_mul(&r.c0.c2, &g[3]);
        r.c1.c2 = fp2_mul(&r.c1.c2, &g[4]);
    } else {
        r.c0.c0 = a->c0.c0;
        r.c1.c0 = fp2_mul_fp(&a->c1.c0, &g[0].c0);
        r.c0.c1 = fp2_mul_fp(&a->c0.c1, &g[1].c0);
        r.c1.c1 = fp2_mul_fp(&a->c1.c1, &g[2].c0);
        r.c0.c2 = fp2_mul_fp(&a->c0.c2, &g[3].c0);
        r.c1.c2 = fp2_mul_fp(&a->c1.c2, &g[4].c0);
    }
    return r;
}

/* ------------------------------------------------------------------ Miller loop */

/* R <- 2R and the tangent line (Aranha et al., Eurocrypt 2011, homogeneous coordinates; the same
   formulas and values as Swift's `G2HomogeneousPoint.doublingStep`). Y3 = G^2 - 3E^2 is formed
   from the two unreduced squares and reduced once (2 REDC fewer). */
static const fp2 THREE_B = {{0x3baa927cb62e0d6aULL, 0xd71e7c52d1b664fdULL, 0x03873e63d95d4664ULL, 0x0e75b5b1082ab8f4ULL},
                            {0xaab7c6667596fe35ULL, 0x31d21a78bb6a27baULL, 0x85dd7297680401ffULL, 0x03c52d6adf39a7e9ULL}};

PI void doubling_step(fp2 *x, fp2 *y, fp2 *z, line *l) {
    fp2 a = fp2_mul(x, y);
    a.c0 = fp_half(&a.c0);
    a.c1 = fp_half(&a.c1);
    fp2 b = fp2_sqr_wide_redc(y);
    fp2 c = fp2_sqr_wide_redc(z);
    fp2 e = fp2_mul(&c, &THREE_B);
    fp2 f = fp2_dbl(&e);
    f = fp2_add(&f, &e);
    fp2 g = fp2_add(&b, &f);
    g.c0 = fp_half(&g.c0);
    g.c1 = fp_half(&g.c1);
    fp2 h = fp2_add(y, z);
    h = fp2_sqr_wide_redc(&h);
    fp2 bc = fp2_add(&b, &c);
    h = fp2_sub(&h, &bc);
    fp2 i = fp2_sub(&e, &b);
    fp2 j = fp2_sqr_wide_redc(x);
    fp2 t = fp2_sub(&b, &f);
    *x = fp2_mul(&a, &t);
    fp2w g2, e2;
    fp2_sqr_w(&g2, &g);
    fp2_sqr_w(&e2, &e);
    fp2w_sub_triple(&g2, &g2, &e2);
    *y = fp2w_redc(&g2);
    *z = fp2_mul(&b, &h);
    l->c0 = fp2_neg(&h);
    fp2 j3 = fp2_dbl(&j);
    l->c1 = fp2_add(&j3, &j);
    l->c2 = i;
}

/* R <- R + Q (Q affine, xq, yq) and the line through R and Q (Swift's `additionStep`). Y3 and
   the line's c2 are differences of two products, each formed unreduced and reduced once (4 REDC
   fewer than reducing every product). */
PI void addition_step(fp2 *x, fp2 *y, fp2 *z, const fp2 *xq, const fp2 *yq, line *l) {
    fp2 t = fp2_mul(yq, z);
    fp2 theta = fp2_sub(y, &t);
    t = fp2_mul(xq, z);
    fp2 lambda = fp2_sub(x, &t);
    fp2 c = fp2_sqr_wide_redc(&theta);
    fp2 d = fp2_sqr_wide_redc(&lambda);
    fp2 e = fp2_mul(&lambda, &d);
    fp2 f = fp2_mul(z, &c);
    fp2 g = fp2_mul(x, &d);
    fp2 h = fp2_add(&e, &f);
    t = fp2_dbl(&g);
    h = fp2_sub(&h, &t);
    *x = fp2_mul(&lambda, &h);
    t = fp2_sub(&g, &h);
    fp2w u, v;
    fp2_mul_w(&u, &theta, &t);
    fp2_mul_w(&v, &e, y);
    fp2w_sub(&u, &u, &v);
    *y = fp2w_redc(&u);
    *z = fp2_mul(z, &e);
    fp2_mul_w(&u, &theta, xq);
    fp2_mul_w(&v, &lambda, yq);
    fp2w_sub(&u, &u, &v);
    l->c0 = lambda;
    l->c1 = fp2_neg(&theta);
    l->c2 = fp2w_redc(&u);
}

/* The line of `addition_step` alone, for the last step, whose sum R + Q nothing reads: theta,
   lambda and c2 = theta xQ - lambda yQ, 4 Fq2 products instead of 13 (the same line). */
PI void addition_line(const fp2 *x, const fp2 *y, const fp2 *z, const fp2 *xq, const fp2 *yq, line *l) {
    fp2 t = fp2_mul(yq, z);
    fp2 theta = fp2_sub(y, &t);
    t = fp2_mul(xq, z);
    fp2 lambda = fp2_sub(x, &t);
    fp2w u, v;
    fp2_mul_w(&u, &theta, xq);
    fp2_mul_w(&v, &lambda, yq);
    fp2w_sub(&u, &u, &v);
    l->c0 = lambda;
    l->c1 = fp2_neg(&theta);
    l->c2 = fp2w_redc(&u);
}

void vs_bn254_g2_prepare(void *lines, const void *q, const void *q1, const void *q2, const int8_t *digits,
                         size_t ndigits) {
    const fp2 *qp = (const fp2 *)q, *q1p = (const fp2 *)q1, *q2p = (const fp2 *)q2;
    line *out = (line *)lines;
    fp2 x = qp[0], y = qp[1];
    fp2 z = {FP_ONE, {0, 0, 0, 0}};
    fp2 negy = fp2_neg(&qp[1]);
    for (size_t i = 0; i < ndigits; i++) {
        doubling_step(&x, &y, &z, out++);
        if (digits[i] == 1) {
            addition_step(&x, &y, &z, &qp[0], &qp[1], out++);
        } else if (digits[i] == -1) {
            addition_step(&x, &y, &z, &qp[0], &negy, out++);
        }
    }
    addition_step(&x, &y, &z, &q1p[0], &q1p[1], out++);
    addition_line(&x, &y, &z, &q2p[0], &q2p[1], out);
}

/* The line of pair i at `index` evaluated at its point: (d0, d3, d4) = (c0 yP, c1 xP, c2) for a
   projective line; (1, c1 xP/yP, c2/yP) for an affine-form one (d0 is then left unset). */
PI void evaluate_line(fp2 *d0, fp2 *d3, fp2 *d4, const fp *points, const line *l, int affine, size_t i) {
    if (affine) {
        *d3 = fp2_mul_fp(&l->c1, &points[2 * i]);
        *d4 = fp2_mul_fp(&l->c2, &points[2 * i + 1]);
    } else {
        *d0 = fp2_mul_fp(&l->c0, &points[2 * i + 1]);
        *d3 = fp2_mul_fp(&l->c1, &points[2 * i]);
        *d4 = l->c2;
    }
}

/* f <- f * line_i(P_i) for every pair. Projective lines: the Fq2 coefficients c0, c1 scaled by yP
   and xP. Affine-form lines (c0 = 1) of pairs flagged in `affine`, whose points come as
   (xP / yP, 1 / yP): the line divided by yP, 1 + (c1 xP/yP) w + (c2 / yP) v w (an Fq factor, which
   the final exponentiation removes). While *one is set, f is 1 and is not read: the first line
   is stored as f (no product), and *one is cleared. */
PI void evaluate_lines(fp12 *f, int *one, const fp *points, const line *const *tables, const uint8_t *affine,
                       size_t n, size_t index) {
    for (size_t i = 0; i < n; i++) {
        fp2 d0, d3, d4;
        evaluate_line(&d0, &d3, &d4, points, &tables[i][index], affine[i], i);
        if (*one) {
            memset(f, 0, sizeof *f);
            if (affine[i]) {
                f->c0.c0.c0 = FP_ONE;
            } else {
                f->c0.c0 = d0;
            }
            f->c1.c0 = d3;
            f->c1.c1 = d4;
            *one = 0;
        } else if (affine[i]) {
            *f = fp12_mul_1_34(f, &d3, &d4);
        } else {
            *f = fp12_mul_034(f, &d0, &d3, &d4);
        }
    }
}

/* f <- f * line_i(P_i) * line'_i(P_i) for the lines at `index` and `index + 1` of every pair (a
   doubling and an addition step of the same loop digit, or the two final lines). For a projective
   pair the two sparse lines are multiplied first (6 Fq2 products) and f by their product (17):
   23 Fq2 products instead of the 26 of two sparse products. Affine-form pairs keep two sparse
   products (2 x 10; their line product would cost 3 + 17). *one as in `evaluate_lines`. */
PI void evaluate_line_pairs(fp12 *f, int *one, const fp *points, const line *const *tables,
                            const uint8_t *affine, size_t n, size_t index) {
    for (size_t i = 0; i < n; i++) {
        if (affine[i]) {
            evaluate_lines(f, one, points + 2 * i, tables + i, affine + i, 1, index);
            evaluate_lines(f, one, points + 2 * i, tables + i, affine + i, 1, index + 1);
            continue;
        }
        fp2 d0, d3, d4, e0, e3, e4;
        evaluate_line(&d0, &d3, &d4, points, &tables[i][index], 0, i);
        evaluate_line(&e0, &e3, &e4, points, &tables[i][index + 1], 0, i);
        fp12 l;
        fp12_mul_034_by_034(&l, &d0, &d3, &d4, &e0, &e3, &e4);
        if (*one) {
            *f = l;
            *one = 0;
        } else {
            *f = fp12_mul_01234(f, &l);
        }
    }
}

void vs_bn254_miller_loop(void *out, const void *points, const void *const *tables, const uint8_t *affine,
                          size_t n, const int8_t *digits, size_t ndigits) {
    const fp *pts = (const fp *)points;
    const line *const *t = (const line *const *)tables;
    fp12 f;
    int one = 1; /* f = 1 until the first line: squaring it and multiplying it are skipped */
    size_t index = 0;
    for (size_t step = 0; step < ndigits; step++) {
        if (!one) f = fp12_sqr(&f);
        if (digits[step] != 0) {
            evaluate_line_pairs(&f, &one, pts, t, affine, n, index);
            index += 2;
        } else {
            evaluate_lines(&f, &one, pts, t, affine, n, index++);
        }
    }
    evaluate_line_pairs(&f, &one, pts, t, affine, n, index);
    if (one) {
        memset(&f, 0, sizeof f);
        f.c0.c0.c0 = FP_ONE;
    }
    memcpy(out, &f, sizeof f);
}

/* ------------------------------------------------------------------ final exponentiation */

/* a^(-x) for cyclotomic a (Swift's `powerByNegativeX` computes the same power by the NAF).
   Signed window of width 4 over x: odd digits |d| <= 7, 14 nonzero digits for BN254's x instead
   of the 24 of its NAF, with a table a, a^3, a^5, a^7 (one cyclotomic squaring and three
   multiplications) and inverses by conjugation (a is cyclotomic): 16 multiplications instead of
   23, and 63 cyclotomic squarings instead of 62. x is read back from its NAF digits `xdigits`
   (most significant first); the recoding needs x < 2^64, so `nx` <= 64 (x < 2^63 for BN254);
   longer digit strings are used as given (a plain NAF loop). */
static fp12 power_by_negative_x(const fp12 *a, const int8_t *xdigits, size_t nx) {
    fp12 r;
    if (nx > 64) {
        fp12 inverse = fp12_conj(a);
        r = *a;
        for (size_t i = 1; i < nx; i++) {
            fp12_cyclotomic_sqr_assign(&r);
            if (xdigits[i] == 1) {
                r = fp12_mul(&r, a);
            } else if (xdigits[i] == -1) {
                r = fp12_mul(&r, &inverse);
            }
        }
        return fp12_conj(&r);
    }
    uint64_t k = 0;
    for (size_t i = 0; i < nx; i++) k = 2 * k + (uint64_t)(int64_t)xdigits[i]; /* wraps back to x */
    int8_t w[66];
    size_t n = 0;
    while (k != 0) {
        int d = 0;
        if (k & 1) {
            d = (int)(k & 15);
            if (d >= 8) d -= 16;
            k -= (uint64_t)(int64_t)d; /* now divisible by 16; k + 7 cannot overflow for k < 2^64 - 7 */
        }
        w[n++] = (int8_t)d;
        k >>= 1;
    }
    if (n == 0) { /* x = 0: a^0 = 1 */
        memset(&r, 0, sizeof r);
        r.c0.c0.c0 = FP_ONE;
        return r;
    }
    fp12 table[4]; /* a, a^3, a^5, a^7 */
    table[0] = *a;
    fp12 a2 = fp12_cyclotomic_sqr(a);
    for (int i = 1; i < 4; i++) table[i] = fp12_mul(&table[i - 1], &a2);
    r = table[w[n - 1] >> 1]; /* the leading digit is positive and odd */
    for (size_t i = n - 1; i-- > 0;) {
        fp12_cyclotomic_sqr_assign(&r);
        int d = w[i];
        if (d > 0) {
            r = fp12_mul(&r, &table[d >> 1]);
        } else if (d < 0) {
            fp12 inverse = fp12_conj(&table[(-d) >> 1]);
            r = fp12_mul(&r, &inverse);
        }
    }
    return fp12_conj(&r);
}

int vs_bn254_final_exponentiation(void *out, const void *in, const int8_t *xdigits, size_t nx) {
    const fp12 *f = (const fp12 *)in;
    fp12 inv;
    if (!fp12_inverse(&inv, f)) {
        memset(out, 0, sizeof(fp12));
        return 0;
    }
    fp12 r = fp12_conj(f);
    r = fp12_mul(&r, &inv);            /* f^(q^6 - 1) */
    fp12 t = fp12_frobenius(&r, 2);
    r = fp12_mul(&t, &r);              /* ^(q^2 + 1) */

    fp12 y0 = power_by_negative_x(&r, xdigits, nx);
    fp12 y1 = fp12_cyclotomic_sqr(&y0);
    fp12 y2 = fp12_cyclotomic_sqr(&y1);
    fp12 y3 = fp12_mul(&y2, &y1);
    fp12 y4 = power_by_negative_x(&y3, xdigits, nx);
    fp12 y5 = fp12_cyclotomic_sqr(&y4);
    fp12 y6 = power_by_negative_x(&y5, xdigits, nx);
    y6 = fp12_conj(&y6);
    fp12 y7 = fp12_mul(&y6, &y4);
    fp12 y3c = fp12_conj(&y3);
    fp12 y8 = fp12_mul(&y7, &y3c);
    fp12 y9 = fp12_mul(&y8, &y1);
    fp12 y11 = fp12_mul(&y8, &y4);
    y11 = fp12_mul(&y11, &r);
    fp12 y13 = fp12_frobenius(&y9, 1);
    y13 = fp12_mul(&y13, &y11);
    fp12 y14 = fp12_frobenius(&y8, 2);
    y14 = fp12_mul(&y14, &y13);
    fp12 rc = fp12_conj(&r);
    fp12 y15 = fp12_mul(&rc, &y9);
    y15 = fp12_frobenius(&y15, 3);
    r = fp12_mul(&y15, &y14);
    memcpy(out, &r, sizeof r);
    return 1;
}

/* ------------------------------------------------------------------ single operations */

void vs_bn254_fq2_mul(void *r, const void *a, const void *b) {
    fp2 v = fp2_mul((const fp2 *)a, (const fp2 *)b);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq2_sqr(void *r, const void *a) {
    fp2 v = fp2_sqr((const fp2 *)a);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq12_mul(void *r, const void *a, const void *b) {
    fp12 v = fp12_mul((const fp12 *)a, (const fp12 *)b);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq12_sqr(void *r, const void *a) {
    fp12 v = fp12_sqr((const fp12 *)a);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq12_cyclotomic_sqr(void *r, const void *a) {
    fp12 v = fp12_cyclotomic_sqr((const fp12 *)a);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq12_cyclotomic_sqr_reference(void *r, const void *a) {
    fp12 v = fp12_cyclotomic_sqr_c((const fp12 *)a);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq12_mul_by_034(void *r, const void *a, const void *d0, const void *d3, const void *d4) {
    fp12 v = fp12_mul_034((const fp12 *)a, (const fp2 *)d0, (const fp2 *)d3, (const fp2 *)d4);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq12_frobenius(void *r, const void *a, int k) {
    fp12 v = fp12_frobenius((const fp12 *)a, k);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq2_mul_lazy(void *r, const void *a, const void *b) {
    fp2w w;
    fp2_mul_w(&w, (const fp2 *)a, (const fp2 *)b);
    fp2 v = fp2w_redc(&w);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq2_sqr_lazy(void *r, const void *a) {
    fp2w w;
    fp2_sqr_w(&w, (const fp2 *)a);
    fp2 v = fp2w_redc(&w);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq2_mul_xi_add_lazy(void *r, const void *a, const void *b, const void *c, const void *d) {
    fp2w x, y, z;
    fp2_mul_w(&x, (const fp2 *)a, (const fp2 *)b);
    fp2_mul_w(&y, (const fp2 *)c, (const fp2 *)d);
    fp2w_mul_xi_add(&y, &x, &y);
    fp2w_sub(&z, &y, &x);
    fp2w_mul_xi(&y, &z);
    fp2 v = fp2w_redc(&y);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq6_mul(void *r, const void *a, const void *b) {
    fp6 v = fp6_mul((const fp6 *)a, (const fp6 *)b);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq6_mul_by_01(void *r, const void *a, const void *b0, const void *b1) {
    fp6w w;
    fp6_mul_01_w(&w, (const fp6 *)a, (const fp2 *)b0, (const fp2 *)b1);
    fp6 v = fp6w_redc(&w);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq12_mul_by_1_34(void *r, const void *a, const void *d3, const void *d4) {
    fp12 v = fp12_mul_1_34((const fp12 *)a, (const fp2 *)d3, (const fp2 *)d4);
    memcpy(r, &v, sizeof v);
}
void vs_bn254_fq12_power_by_negative_x(void *r, const void *a, const int8_t *xdigits, size_t nx) {
    fp12 v = power_by_negative_x((const fp12 *)a, xdigits, nx);
    memcpy(r, &v, sizeof v);
}
int vs_bn254_fq12_inverse(void *r, const void *a) {
    fp12 v;
    if (!fp12_inverse(&v, (const fp12 *)a)) return 0;
    memcpy(r, &v, sizeof v);
    return 1;
}

void vs_bn254_fq2_mul_wide(void *r, const void *a, const void *b) {
    fp2w w;
    fp2_mul_w(&w, (const fp2 *)a, (const fp2 *)b);
    memcpy(r, &w, sizeof w);
}
void vs_bn254_fq2_mul_wide_reference(void *r, const void *a, const void *b) {
    fp2w w;
    fp2_mul_w_c(&w, (const fp2 *)a, (const fp2 *)b);
    memcpy(r, &w, sizeof w);
}
void vs_bn254_fq2_sqr_wide(void *r, const void *a) {
    fp2w w;
    fp2_sqr_w(&w, (const fp2 *)a);
    memcpy(r, &w, sizeof w);
}
void vs_bn254_fq2_sqr_wide_reference(void *r, const void *a) {
    fp2w w;
    fp2_sqr_w_c(&w, (const fp2 *)a);
    memcpy(r, &w, sizeof w);
}
int vs_bn254_fq_inverse(void *r, const void *a) {
    if (fp_is_zero((const fp *)a)) return 0;
    fp v = fp_inverse_var((const fp *)a);
    memcpy(r, &v, sizeof v);
    return 1;
}
int vs_bn254_fq_inverse_fermat(void *r, const void *a) {
    if (fp_is_zero((const fp *)a)) return 0;
    fp v = fp_inverse((const fp *)a);
    memcpy(r, &v, sizeof v);
    return 1;
}

#else

/* Off x86-64 the kernel is never selected (vs_algebra_kernel stays portable) and Swift keeps to its
   own implementation; these definitions only let the module link. */
void vs_bn254_fq2_mul(void *r, const void *a, const void *b) { (void)r; (void)a; (void)b; }
void vs_bn254_fq2_sqr(void *r, const void *a) { (void)r; (void)a; }
void vs_bn254_fq12_mul(void *r, const void *a, const void *b) { (void)r; (void)a; (void)b; }
void vs_bn254_fq12_sqr(void *r, const void *a) { (void)r; (void)a; }
void vs_bn254_fq12_cyclotomic_sqr(void *r, const void *a) { (void)r; (void)a; }
void vs_bn254_fq12_cyclotomic_sqr_reference(void *r, const void *a) { (void)r; (void)a; }
void vs_bn254_fq12_mul_by_034(void *r, const void *a, const void *d0, const void *d3, const void *d4) {
    (void)r; (void)a; (void)d0; (void)d3; (void)d4;
}
void vs_bn254_fq12_frobenius(void *r, const void *a, int k) { (void)r; (void)a; (void)k; }
int vs_bn254_fq12_inverse(void *r, const void *a) { (void)r; (void)a; return 0; }
void vs_bn254_fq2_mul_lazy(void *r, const void *a, const void *b) { (void)r; (void)a; (void)b; }
void vs_bn254_fq2_sqr_lazy(void *r, const void *a) { (void)r; (void)a; }
void vs_bn254_fq2_mul_xi_add_lazy(void *r, const void *a, const void *b, const void *c, const void *d) {
    (void)r; (void)a; (void)b; (void)c; (void)d;
}
void vs_bn254_fq6_mul(void *r, const void *a, const void *b) { (void)r; (void)a; (void)b; }
void vs_bn254_fq6_mul_by_01(void *r, const void *a, const void *b0, const void *b1) {
    (void)r; (void)a; (void)b0; (void)b1;
}
void vs_bn254_fq12_mul_by_1_34(void *r, const void *a, const void *d3, const void *d4) {
    (void)r; (void)a; (void)d3; (void)d4;
}
void vs_bn254_fq12_power_by_negative_x(void *r, const void *a, const int8_t *xdigits, size_t nx) {
    (void)r; (void)a; (void)xdigits; (void)nx;
}

void vs_bn254_fq2_mul_wide(void *r, const void *a, const void *b) { (void)r; (void)a; (void)b; }
void vs_bn254_fq2_mul_wide_reference(void *r, const void *a, const void *b) { (void)r; (void)a; (void)b; }
void vs_bn254_fq2_sqr_wide(void *r, const void *a) { (void)r; (void)a; }
void vs_bn254_fq2_sqr_wide_reference(void *r, const void *a) { (void)r; (void)a; }
int vs_bn254_fq_inverse(void *r, const void *a) { (void)r; (void)a; return 0; }
int vs_bn254_fq_inverse_fermat(void *r, const void *a) { (void)r; (void)a; return 0; }

void vs_bn254_g2_prepare(void *lines, const void *q, const void *q1, const void *q2, const int8_t *digits,
                         size_t ndigits) {
    (void)lines; (void)q; (void)q1; (void)q2; (void)digits; (void)ndigits;
}
void vs_bn254_miller_loop(void *out, const void *points, const void *const *tables, const uint8_t *affine,
                          size_t n, const int8_t *digits, size_t ndigits) {
    (void)out; (void)points; (void)tables; (void)affine; (void)n; (void)digits; (void)ndigits;
}
int vs_bn254_final_exponentiation(void *out, const void *in, const int8_t *xdigits, size_t nx) {
    (void)out; (void)in; (void)xdigits; (void)nx;
    return 0;
}

#endif
