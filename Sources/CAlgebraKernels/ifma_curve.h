/*
 * The curve half of the IFMA MSM, written once over a field and included by ifma.c for G1
 * (FE = fe8, Fq) and G2 (FE = f28, Fq2). Not a public header: it expects the macros
 * FE, LIMBS, PFX, FE_* and the PFX(fe_*) helpers that ifma.c defines before including it.
 *
 * A point is 2 * LIMBS words: x then y, each LIMBS 52-bit limbs (Montgomery 2^260). A reference
 * to a point ("ref") is a uint32: bit 31 negates it (bases only), bit 30 selects the pool (else
 * the bases), the low 30 bits index it.
 */

#define W (2 * LIMBS)
/* Batch columns are stored in groups of eight ("AoSoA"): column k, row i (limb i of the
   coordinate) at [(k / 8) * LIMBS * 8 + i * 8 + k % 8], so staging a point touches a few
   adjacent cache lines and a vector load of a column group reads LIMBS contiguous vectors. */
#define COL(arr, i, k) (arr)[((k) >> 3) * (LIMBS * 8) + (size_t)(i) * 8 + ((k) & 7)]
#define GRP(arr, j) ((arr) + ((j) >> 3) * (LIMBS * 8))

/* ---- the batch: columns k < count hold A_k and B_k in SoA rows; R_k = A_k + B_k ---- */

static inline const uint64_t *PFX(point)(const vs_ifma_msm *s, const uint64_t *bases, uint32_t ref) {
    size_t i = ref & VS_REF_INDEX;
    return (ref & VS_REF_POOL) ? s->pool + i * W : bases + i * W;
}

static inline void PFX(stage)(vs_ifma_msm *s, const uint64_t *bases, size_t k, uint32_t r1, uint32_t r2, uint32_t dest) {
    s->addrA[k] = (uint64_t)(uintptr_t)PFX(point)(s, bases, r1);
    s->addrB[k] = (uint64_t)(uintptr_t)PFX(point)(s, bases, r2);
    s->negA[k] = (uint8_t)(r1 >> 31);
    s->negB[k] = (uint8_t)(r2 >> 31);
    s->dest[k] = dest;
}

/* Two fixed points with distinct x for the padding columns of a batch. */
static const uint64_t PFX(padA)[W] = {0};
static const uint64_t PFX(padB)[W] = {1};

/* The coordinate at word `offset` of the eight points whose addresses are in `addr`. */
VI FE PFX(gather)(__m512i addr, int offset) {
    uint64_t tmp[LIMBS * 8];
    for (int i = 0; i < LIMBS; i++) {
        const __m512i a = _mm512_add_epi64(addr, _mm512_set1_epi64(8 * (offset + i)));
        _mm512_storeu_si512(tmp + i * 8, _mm512_i64gather_epi64(a, (const void *)0, 1));
    }
    return PFX(fe_load)(tmp, 8, 0);
}

static inline __mmask8 PFX(byte_mask)(const uint8_t *flags) {
    __mmask8 m = 0;
    for (int l = 0; l < 8; l++) m |= (__mmask8)((flags[l] & 1) << l);
    return m;
}

/* Affine additions with one shared inversion (Montgomery's trick over four interleaved chains
   of eight lanes, so the chain products overlap in the pipeline). Complete for affine inputs:
   A == B doubles, A == -B gives infinity (flagged), so no input can derail the batch. Results
   go to pool slots dest[k]. */
VS_IFMA static void PFX(batch)(vs_ifma_msm *s, size_t count) {
    const size_t padded = (count + 31) & ~(size_t)31;
    for (size_t k = count; k < padded; k++) { /* padding: A = (0, 0), B = (1, 0), distinct x */
        s->addrA[k] = (uint64_t)(uintptr_t)PFX(padA);
        s->addrB[k] = (uint64_t)(uintptr_t)PFX(padB);
        s->negA[k] = 0; s->negB[k] = 0;
    }
    const FE one = PFX(fe_one)(), zero = PFX(fe_zero)();
    FE acc[4] = {one, one, one, one};
    for (size_t j = 0; j < padded; j += 8) {
        const int g = (int)((j >> 3) & 3);
        const __m512i a = _mm512_loadu_si512(s->addrA + j), b = _mm512_loadu_si512(s->addrB + j);
        const FE x1 = PFX(gather)(a, 0), x2 = PFX(gather)(b, 0);
        FE y1 = PFX(gather)(a, LIMBS), y2 = PFX(gather)(b, LIMBS);
        const __mmask8 na = PFX(byte_mask)(s->negA + j), nb = PFX(byte_mask)(s->negB + j);
        if (na) y1 = FE_BLEND(na, y1, FE_NEG(y1));
        if (nb) y2 = FE_BLEND(nb, y2, FE_NEG(y2));
        PFX(fe_store)(GRP(s->ax, j), 8, 0, x1);
        PFX(fe_store)(GRP(s->bx, j), 8, 0, x2);
        PFX(fe_store)(GRP(s->ay, j), 8, 0, y1);
        FE d = FE_SUB(x2, x1), num = FE_SUB(y2, y1);
        const __mmask8 eqx = FE_EQ(x1, x2);
        __mmask8 inf = 0;
        if (eqx) {
            const __mmask8 dbl = eqx & FE_EQ(y1, y2) & (__mmask8)~FE_ISZERO(y1);
            inf = eqx & (__mmask8)~dbl;
            if (dbl) {
                FE xx = FE_SQR(x1);
                d = FE_BLEND(dbl, d, FE_DBL(y1));
                num = FE_BLEND(dbl, num, FE_ADD(FE_DBL(xx), xx));
            }
            if (inf) { d = FE_BLEND(inf, d, one); num = FE_BLEND(inf, num, zero); }
        }
        for (int l = 0; l < 8; l++) s->rinf[j + l] = (uint8_t)((inf >> l) & 1);
        PFX(fe_store)(GRP(s->d, j), 8, 0, d);
        PFX(fe_store)(GRP(s->num, j), 8, 0, num);
        PFX(fe_store)(GRP(s->prefix, j), 8, 0, acc[g]);
        acc[g] = FE_MUL(acc[g], d);
    }
    const FE p01 = FE_MUL(acc[0], acc[1]), p23 = FE_MUL(acc[2], acc[3]);
    const FE all = FE_INV(FE_MUL(p01, p23));
    FE inv[4];
    inv[0] = FE_MUL(all, FE_MUL(p23, acc[1]));
    inv[1] = FE_MUL(all, FE_MUL(p23, acc[0]));
    inv[2] = FE_MUL(all, FE_MUL(p01, acc[3]));
    inv[3] = FE_MUL(all, FE_MUL(p01, acc[2]));
    for (size_t j = padded; j > 0;) {
        j -= 8;
        const int g = (int)((j >> 3) & 3);
        const FE dinv = FE_MUL(inv[g], PFX(fe_load)(GRP(s->prefix, j), 8, 0));
        inv[g] = FE_MUL(inv[g], PFX(fe_load)(GRP(s->d, j), 8, 0));
        const FE lambda = FE_MUL(PFX(fe_load)(GRP(s->num, j), 8, 0), dinv);
        const FE x1 = PFX(fe_load)(GRP(s->ax, j), 8, 0), x2 = PFX(fe_load)(GRP(s->bx, j), 8, 0), y1 = PFX(fe_load)(GRP(s->ay, j), 8, 0);
        const FE x3 = FE_SUB(FE_SUB(FE_SQR(lambda), x1), x2);
        const FE y3 = FE_SUB(FE_MUL(lambda, FE_SUB(x1, x3)), y1);
        PFX(fe_store)(GRP(s->ax, j), 8, 0, x3);
        PFX(fe_store)(GRP(s->ay, j), 8, 0, y3);
    }
    for (size_t k = 0; k < count; k++) {
        uint64_t *out = s->pool + (size_t)s->dest[k] * W;
        for (int i = 0; i < LIMBS; i++) {
            out[i] = COL(s->ax, i, k);
            out[LIMBS + i] = COL(s->ay, i, k);
        }
        s->pinf[s->dest[k]] = s->rinf[k];
    }
}

/* Sums each group of a list (refs with group ids, groups contiguous) down to one ref, pairing
   neighbours round after round; each round is one batch (or a few, at capacity). A pair's sum
   goes into its first operand's pool slot (or a fresh scratch slot for a base). Returns the
   final list length (one per group, in order); the list is left in s->refs / s->grp. */
VS_IFMA static size_t PFX(reduce_groups)(vs_ifma_msm *s, const uint64_t *bases, size_t m) {
    uint32_t *refs = s->refs, *grp = s->grp, *refs2 = s->refs2, *grp2 = s->grp2;
    for (;;) {
        size_t out = 0, count = 0;
        int merged = 0;
        for (size_t i = 0; i < m;) {
            if (i + 16 < m) {
                /* the points are visited in bucket order, not memory order: fetch ahead */
                const uint64_t *ahead = PFX(point)(s, bases, refs[i + 16]);
                __builtin_prefetch(ahead);
                __builtin_prefetch(ahead + 8);
                __builtin_prefetch(ahead + W - 1);
            }
            if (i + 1 < m && grp[i] == grp[i + 1]) {
                const uint32_t r1 = refs[i], r2 = refs[i + 1];
                uint32_t result;
                merged = 1;
                if ((r1 & VS_REF_POOL) && s->pinf[r1 & VS_REF_INDEX]) {
                    result = r2;
                } else if ((r2 & VS_REF_POOL) && s->pinf[r2 & VS_REF_INDEX]) {
                    result = r1;
                } else {
                    const uint32_t dest = (r1 & VS_REF_POOL) ? (r1 & VS_REF_INDEX) : (uint32_t)(s->buckets + s->scratchUsed++);
                    PFX(stage)(s, bases, count++, r1, r2, dest);
                    if (count == s->cap) { PFX(batch)(s, count); count = 0; }
                    result = VS_REF_POOL | dest;
                }
                refs2[out] = result; grp2[out] = grp[i]; out++;
                i += 2;
            } else {
                refs2[out] = refs[i]; grp2[out] = grp[i]; out++;
                i += 1;
            }
        }
        if (count) PFX(batch)(s, count);
        uint32_t *t = refs; refs = refs2; refs2 = t;
        t = grp; grp = grp2; grp2 = t;
        m = out;
        if (!merged) break;
    }
    s->refs = refs; s->grp = grp; s->refs2 = refs2; s->grp2 = grp2;
    return m;
}

/* ---- complete projective formulas for y^2 = x^3 + b (Renes, Costello, Batina, "Complete
   addition formulas for prime order elliptic curves", Eurocrypt 2016, algorithms 7-9, a = 0,
   b3 = 3b). No exceptions: the identity is (0 : 1 : 0) and works as an input anywhere except
   as the affine operand of the mixed addition. ---- */

typedef struct { FE x, y, z; } PFX(proj);

VI PFX(proj) PFX(add)(PFX(proj) p, PFX(proj) q) {
    const FE b3 = PFX(fe_b3)();
    FE t0 = FE_MUL(p.x, q.x), t1 = FE_MUL(p.y, q.y), t2 = FE_MUL(p.z, q.z);
    FE t3 = FE_MUL(FE_ADD(p.x, p.y), FE_ADD(q.x, q.y));
    FE t4 = FE_ADD(t0, t1);
    t3 = FE_SUB(t3, t4);
    t4 = FE_MUL(FE_ADD(p.y, p.z), FE_ADD(q.y, q.z));
    FE x3 = FE_ADD(t1, t2);
    t4 = FE_SUB(t4, x3);
    x3 = FE_MUL(FE_ADD(p.x, p.z), FE_ADD(q.x, q.z));
    FE y3 = FE_SUB(x3, FE_ADD(t0, t2));
    x3 = FE_DBL(t0);
    t0 = FE_ADD(x3, t0);
    t2 = FE_MUL(b3, t2);
    FE z3 = FE_ADD(t1, t2);
    t1 = FE_SUB(t1, t2);
    y3 = FE_MUL(b3, y3);
    x3 = FE_MUL(t4, y3);
    t2 = FE_MUL(t3, t1);
    x3 = FE_SUB(t2, x3);
    y3 = FE_MUL(y3, t0);
    t1 = FE_MUL(t1, z3);
    y3 = FE_ADD(t1, y3);
    t0 = FE_MUL(t0, t3);
    z3 = FE_MUL(z3, t4);
    z3 = FE_ADD(z3, t0);
    PFX(proj) r = {x3, y3, z3};
    return r;
}

/* p + (qx, qy), q affine and not the identity. */
VI PFX(proj) PFX(add_mixed)(PFX(proj) p, FE qx, FE qy) {
    const FE b3 = PFX(fe_b3)();
    FE t0 = FE_MUL(p.x, qx), t1 = FE_MUL(p.y, qy);
    FE t3 = FE_MUL(FE_ADD(qx, qy), FE_ADD(p.x, p.y));
    FE t4 = FE_ADD(t0, t1);
    t3 = FE_SUB(t3, t4);
    t4 = FE_ADD(FE_MUL(qy, p.z), p.y);
    FE y3 = FE_ADD(FE_MUL(qx, p.z), p.x);
    FE x3 = FE_DBL(t0);
    t0 = FE_ADD(x3, t0);
    FE t2 = FE_MUL(b3, p.z);
    FE z3 = FE_ADD(t1, t2);
    t1 = FE_SUB(t1, t2);
    y3 = FE_MUL(b3, y3);
    x3 = FE_MUL(t4, y3);
    t2 = FE_MUL(t3, t1);
    x3 = FE_SUB(t2, x3);
    y3 = FE_MUL(y3, t0);
    t1 = FE_MUL(t1, z3);
    y3 = FE_ADD(t1, y3);
    t0 = FE_MUL(t0, t3);
    z3 = FE_MUL(z3, t4);
    z3 = FE_ADD(z3, t0);
    PFX(proj) r = {x3, y3, z3};
    return r;
}

VI PFX(proj) PFX(dbl)(PFX(proj) p) {
    const FE b3 = PFX(fe_b3)();
    FE t0 = FE_SQR(p.y);
    FE z3 = FE_DBL(FE_DBL(FE_DBL(t0)));
    FE t1 = FE_MUL(p.y, p.z);
    FE t2 = FE_MUL(b3, FE_SQR(p.z));
    FE x3 = FE_MUL(t2, z3);
    FE y3 = FE_ADD(t0, t2);
    z3 = FE_MUL(t1, z3);
    t1 = FE_DBL(t2);
    t2 = FE_ADD(t1, t2);
    t0 = FE_SUB(t0, t2);
    y3 = FE_ADD(x3, FE_MUL(t0, y3));
    t1 = FE_MUL(p.x, p.y);
    x3 = FE_DBL(FE_MUL(t0, t1));
    PFX(proj) r = {x3, y3, z3};
    return r;
}

VI PFX(proj) PFX(blend)(__mmask8 k, PFX(proj) a, PFX(proj) b) {
    PFX(proj) r = {FE_BLEND(k, a.x, b.x), FE_BLEND(k, a.y, b.y), FE_BLEND(k, a.z, b.z)};
    return r;
}

VI PFX(proj) PFX(permute)(PFX(proj) a, __m512i idx) {
    PFX(proj) r = a;
    __m512i *v = (__m512i *)&r;
    for (size_t i = 0; i < sizeof r / sizeof(__m512i); i++) v[i] = _mm512_permutexvar_epi64(idx, v[i]);
    return r;
}

/* sum_b (b + 1) * bucket_b over the occupied buckets: eight lanes, lane l runs the
   running-sum recurrence over buckets [l S, (l + 1) S) from the top (S = K / 8), then adds
   l S times its running sum; the lanes are folded together at the end. Writes the result as a
   Jacobian point in Swift's layout (x, y, z, each LIMBS / 5 Fq elements of 4 x 64 bits). */
VS_IFMA static void PFX(bucket_reduce)(vs_ifma_msm *s, uint64_t *out) {
    const size_t K = (size_t)s->buckets, S = K / 8;
    const FE one = PFX(fe_one)(), zero = PFX(fe_zero)();
    PFX(proj) running = {zero, one, zero}, total = {zero, one, zero};
    const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i laneBase = _mm512_mullo_epi64(lanes, _mm512_set1_epi64((long long)S));
    uint64_t tx[LIMBS * 8], ty[LIMBS * 8];
    for (size_t t = S; t-- > 0;) {
        const __m512i slot = _mm512_add_epi64(laneBase, _mm512_set1_epi64((long long)t));
        const __m512i word = _mm512_mullo_epi64(slot, _mm512_set1_epi64(W));
        for (int i = 0; i < LIMBS; i++) {
            _mm512_storeu_si512(tx + i * 8, _mm512_i64gather_epi64(_mm512_add_epi64(word, _mm512_set1_epi64(i)), (const void *)s->pool, 8));
            _mm512_storeu_si512(ty + i * 8, _mm512_i64gather_epi64(_mm512_add_epi64(word, _mm512_set1_epi64(LIMBS + i)), (const void *)s->pool, 8));
        }
        __mmask8 occ = 0;
        for (int l = 0; l < 8; l++) occ |= (__mmask8)((s->occupied[(size_t)l * S + t] & 1) << l);
        if (occ) {
            const PFX(proj) sum = PFX(add_mixed)(running, PFX(fe_load)(tx, 8, 0), PFX(fe_load)(ty, 8, 0));
            running = PFX(blend)(occ, running, sum);
        }
        total = PFX(add)(total, running);
    }
    /* lane l: total += (l S) running, as (l running) doubled log2(S) times */
    PFX(proj) multiple = {zero, one, zero}, power = running;
    const __mmask8 bits[3] = {0xaa, 0xcc, 0xf0};
    for (int b = 0; b < 3; b++) {
        multiple = PFX(blend)(bits[b], multiple, PFX(add)(multiple, power));
        power = PFX(dbl)(power);
    }
    for (size_t m = S; m > 1; m >>= 1) multiple = PFX(dbl)(multiple);
    total = PFX(add)(total, multiple);
    for (int shift = 4; shift >= 1; shift >>= 1) {
        const __m512i idx = _mm512_xor_si512(lanes, _mm512_set1_epi64(shift));
        total = PFX(add)(total, PFX(permute)(total, idx));
    }
    /* Jacobian (X Z, Y Z^2, Z) represents the projective (X : Y : Z) */
    const FE zz = FE_SQR(total.z);
    FE coords[3] = {FE_MUL(total.x, total.z), FE_MUL(total.y, zz), total.z};
    uint64_t lane0[LIMBS * 8];
    for (int c = 0; c < 3; c++) {
        PFX(fe_store)(lane0, 8, 0, coords[c]);
        for (int e = 0; e < LIMBS / 5; e++) {
            uint64_t l52[5];
            for (int i = 0; i < 5; i++) l52[i] = lane0[(e * 5 + i) * 8];
            convert_out1(l52, out + (size_t)(c * (LIMBS / 5) + e) * 4);
        }
    }
}

/* ---- one window: points into the buckets, then the bucket sum ---- */

/* Bucket b := the point `ref` refers to (a base, negated if flagged, or a pool slot). */
static inline void PFX(set_bucket)(vs_ifma_msm *s, const uint64_t *bases, uint32_t ref, uint32_t b) {
    uint64_t *slot = s->pool + (size_t)b * W;
    const size_t i = ref & VS_REF_INDEX;
    if (ref & VS_REF_POOL) {
        s->occupied[b] = !s->pinf[i];
        if (s->occupied[b]) memcpy(slot, s->pool + i * W, W * sizeof(uint64_t));
        return;
    }
    const uint64_t *p = bases + i * W;
    memcpy(slot, p, LIMBS * sizeof(uint64_t));
    if (ref & VS_REF_NEG) {
        for (int e = 0; e < LIMBS / 5; e++) neg1(p + LIMBS + 5 * e, slot + LIMBS + 5 * e);
    } else {
        memcpy(slot + LIMBS, p + LIMBS, LIMBS * sizeof(uint64_t));
    }
    s->occupied[b] = 1;
}

/* Bucket b += ref: straight in if b is empty, into the open batch if b is not in it yet, else
   onto the deferred list (retried after the batch). */
static inline void PFX(offer)(vs_ifma_msm *s, const uint64_t *bases, uint32_t ref, uint32_t b) {
    if (!s->occupied[b]) { PFX(set_bucket)(s, bases, ref, b); return; }
    if (s->inBatch[b]) { s->deferredRef[s->deferred] = ref; s->deferredBucket[s->deferred] = b; s->deferred++; return; }
    __builtin_prefetch(s->pool + (size_t)b * W);
    PFX(stage)(s, bases, s->count++, VS_REF_POOL | b, ref, b);
    s->inBatch[b] = 1;
}

/* Runs the open batch, then refills it from the deferred list. When many additions wait
   (a few heavy buckets: small scalars, or the top window), the waiting points are first summed
   per bucket by pairs (`reduce_groups`, one batch per round), so each bucket needs one more
   addition instead of one per point. */
VS_IFMA static void PFX(flush)(vs_ifma_msm *s, const uint64_t *bases) {
    if (s->count) {
        PFX(batch)(s, s->count);
        for (size_t k = 0; k < s->count; k++) {
            const uint32_t b = s->dest[k];
            s->inBatch[b] = 0;
            s->occupied[b] = !s->pinf[b];
            s->pinf[b] = 0;
        }
        s->count = 0;
    }
    size_t waiting = s->deferred;
    if (waiting == 0) return;
    s->deferred = 0;
    if (waiting >= s->cap / 4) {
        s->scratchUsed = 0;
        if (++s->stampCounter == 0) { memset(s->stamp, 0, (size_t)s->buckets * sizeof(uint32_t)); s->stampCounter = 1; }
        const uint32_t stamp = s->stampCounter;
        size_t touched = 0;
        for (size_t e = 0; e < waiting; e++) {
            const uint32_t b = s->deferredBucket[e];
            if (s->stamp[b] != stamp) { s->stamp[b] = stamp; s->head[b] = UINT32_MAX; s->touched[touched++] = b; }
            s->next[e] = s->head[b];
            s->head[b] = (uint32_t)e;
        }
        size_t m = 0;
        for (size_t t = 0; t < touched; t++) {
            const uint32_t b = s->touched[t];
            for (uint32_t e = s->head[b]; e != UINT32_MAX; e = s->next[e]) { s->refs[m] = s->deferredRef[e]; s->grp[m] = b; m++; }
        }
        const size_t groups = PFX(reduce_groups)(s, bases, m);
        for (size_t g = 0; g < groups; g++) {
            const uint32_t ref = s->refs[g], b = s->grp[g];
            if ((ref & VS_REF_POOL) && s->pinf[ref & VS_REF_INDEX]) continue; /* the points cancelled */
            PFX(offer)(s, bases, ref, b); /* one per bucket: none is deferred */
        }
        return;
    }
    for (size_t e = 0; e < waiting; e++) PFX(offer)(s, bases, s->deferredRef[e], s->deferredBucket[e]);
}

VS_IFMA static void PFX(window)(vs_ifma_msm *s, const uint64_t *bases, const uint8_t *baseInfinity,
                                const int32_t *digits, size_t n, uint64_t *out) {
    const size_t K = (size_t)s->buckets;
    memset(s->occupied, 0, K);
    memset(s->inBatch, 0, K);
    s->count = 0;
    s->deferred = 0;
    for (size_t i = 0; i < n; i++) {
        const int32_t d = digits[i];
        if (d == 0 || baseInfinity[i]) continue;
        /* the batch gathers this base a few thousand points later: have it in L2 by then */
        __builtin_prefetch(bases + i * W);
        __builtin_prefetch(bases + i * W + W - 1);
        PFX(offer)(s, bases, (uint32_t)i | (d < 0 ? VS_REF_NEG : 0), (uint32_t)(d < 0 ? -d : d) - 1);
        if (s->count == s->cap || s->deferred == s->cap) PFX(flush)(s, bases);
    }
    while (s->count || s->deferred) PFX(flush)(s, bases);
    PFX(bucket_reduce)(s, out);
}

/* ---- many points times their own scalars, the point FFT, conversions (ceremony) ----
   Points in the kernel's projective layout: x, y, z, each LIMBS words, 3 * LIMBS per point. */

#define PW (3 * LIMBS)

/* The eight projective points at word offsets `word` (a vector of point index * PW). */
VI PFX(proj) PFX(gather_proj)(const uint64_t *buf, __m512i word) {
    uint64_t tmp[PW * 8];
    for (int i = 0; i < PW; i++)
        _mm512_storeu_si512(tmp + i * 8, _mm512_i64gather_epi64(_mm512_add_epi64(word, _mm512_set1_epi64(i)), (const void *)buf, 8));
    PFX(proj) r = {PFX(fe_load)(tmp, 8, 0), PFX(fe_load)(tmp + LIMBS * 8, 8, 0), PFX(fe_load)(tmp + 2 * LIMBS * 8, 8, 0)};
    return r;
}

VI void PFX(scatter_proj)(uint64_t *buf, __m512i word, PFX(proj) p, __mmask8 lanes) {
    uint64_t tmp[PW * 8];
    PFX(fe_store)(tmp, 8, 0, p.x);
    PFX(fe_store)(tmp + LIMBS * 8, 8, 0, p.y);
    PFX(fe_store)(tmp + 2 * LIMBS * 8, 8, 0, p.z);
    for (int i = 0; i < PW; i++)
        _mm512_mask_i64scatter_epi64((void *)buf, lanes, _mm512_add_epi64(word, _mm512_set1_epi64(i)), _mm512_loadu_si512(tmp + i * 8), 8);
}

/* k_l P_l in each lane: 4-bit fixed windows, complete formulas, and a table read by scanning all
   sixteen entries, so neither the time nor the memory accessed depends on the scalars (which are
   contributors' secrets in a ceremony). `limbs` holds the scalars' canonical 64-bit limbs. */
VI PFX(proj) PFX(scale8)(PFX(proj) p, const __m512i limbs[4]) {
    const FE one = PFX(fe_one)(), zero = PFX(fe_zero)();
    PFX(proj) table[16];
    table[0].x = zero; table[0].y = one; table[0].z = zero;
    table[1] = p;
    for (int j = 2; j < 16; j++) table[j] = (j & 1) ? PFX(add)(table[j - 1], p) : PFX(dbl)(table[j / 2]);
    PFX(proj) acc = table[0];
    for (int w = 63; w >= 0; w--) {
        if (w != 63) acc = PFX(dbl)(PFX(dbl)(PFX(dbl)(PFX(dbl)(acc))));
        const __m512i d = _mm512_and_si512(_mm512_srl_epi64(limbs[w >> 4], _mm_cvtsi32_si128(4 * (w & 15))), _mm512_set1_epi64(15));
        PFX(proj) sel = table[0];
        for (int j = 1; j < 16; j++) sel = PFX(blend)(_mm512_cmpeq_epi64_mask(d, _mm512_set1_epi64(j)), sel, table[j]);
        acc = PFX(add)(acc, sel);
    }
    return acc;
}

/* buf[i] := scalar_i * buf[i] for i in [lo, hi); scalar i at scalars + i * scalarStride (words;
   stride 0: one scalar for all). */
VS_IFMA void PFX(scale)(uint64_t *buf, const uint64_t *scalars, size_t scalarStride, size_t lo, size_t hi) {
    const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    for (size_t i0 = lo; i0 < hi; i0 += 8) {
        const size_t count = hi - i0 < 8 ? hi - i0 : 8;
        const __mmask8 live = (__mmask8)((1u << count) - 1);
        /* dead lanes repeat the last live point (harmless work, never stored) */
        const __m512i index = _mm512_min_epu64(_mm512_add_epi64(_mm512_set1_epi64((long long)i0), lanes),
                                               _mm512_set1_epi64((long long)(i0 + count - 1)));
        const __m512i word = _mm512_mullo_epi64(index, _mm512_set1_epi64(PW));
        __m512i limbs[4];
        const __m512i sword = _mm512_mullo_epi64(index, _mm512_set1_epi64((long long)scalarStride));
        for (int k = 0; k < 4; k++)
            limbs[k] = _mm512_i64gather_epi64(_mm512_add_epi64(sword, _mm512_set1_epi64(k)), (const void *)scalars, 8);
        PFX(scatter_proj)(buf, word, PFX(scale8)(PFX(gather_proj)(buf, word), limbs), live);
    }
}

/* One radix-2 decimation-in-time stage of a point FFT on buf (n points, bit-reversed input):
   for pairs p in [lo, hi), with j = p mod half, top = (p / half) 2 half + j, bottom = top + half:
   t = w_j bottom, (top, bottom) := (top + t, top - t), w_j = twiddles[j * twiddleStride]
   (canonical scalars, 4 words each). Twiddle-free when half == 1. */
VS_IFMA void PFX(fft_stage)(uint64_t *buf, size_t half, const uint64_t *twiddles, size_t twiddleStride, size_t lo, size_t hi) {
    for (size_t p0 = lo; p0 < hi; p0 += 8) {
        const size_t count = hi - p0 < 8 ? hi - p0 : 8;
        const __mmask8 live = (__mmask8)((1u << count) - 1);
        uint64_t top[8], bottom[8], tw[8];
        for (size_t l = 0; l < 8; l++) {
            const size_t p = p0 + (l < count ? l : count - 1);
            const size_t j = p % half, t = (p / half) * 2 * half + j;
            top[l] = t * PW; bottom[l] = (t + half) * PW; tw[l] = j * twiddleStride * 4;
        }
        const __m512i wordTop = _mm512_loadu_si512(top), wordBottom = _mm512_loadu_si512(bottom);
        const PFX(proj) u = PFX(gather_proj)(buf, wordTop);
        PFX(proj) t = PFX(gather_proj)(buf, wordBottom);
        if (half > 1) {
            __m512i limbs[4];
            const __m512i twWord = _mm512_loadu_si512(tw);
            for (int k = 0; k < 4; k++)
                limbs[k] = _mm512_i64gather_epi64(_mm512_add_epi64(twWord, _mm512_set1_epi64(k)), (const void *)twiddles, 8);
            t = PFX(scale8)(t, limbs);
        }
        PFX(proj) negT = t;
        negT.y = FE_NEG(t.y);
        PFX(scatter_proj)(buf, wordTop, PFX(add)(u, t), live);
        PFX(scatter_proj)(buf, wordBottom, PFX(add)(u, negT), live);
    }
}

/* ---- public scalars by GLV (twiddles, 1/n): variable time, which is sound here because the
   scalars are public roots of unity and the points are public powers of tau. A scalar k is
   given as five words: |k1| (two words), |k2| (two words), signs (bit 0: k1 < 0, bit 1: k2 < 0)
   with k = k1 + k2 lambda (mod r) and |k1|, |k2| < 2^127 (the Swift side decomposes and checks).
   k P = k1 P + k2 phi(P), phi(x, y) = (beta x, y): about 127 doublings instead of 254. ---- */

#define GLV_WORDS 5
#define NAF_MAX 132

/* Width-5 NAF of a 127-bit magnitude, sign folded in: digits odd in [-15, 15] or 0, at most one
   nonzero in any five consecutive; returns the length (0 for k = 0). */
static inline int PFX(naf5)(const uint64_t *k, int negative, int8_t *out) {
    unsigned __int128 v = ((unsigned __int128)k[1] << 64) | k[0];
    int len = 0;
    while (v != 0) {
        int d = 0;
        if (v & 1) {
            d = (int)(v & 31);
            if (d >= 16) d -= 32;
            if (d > 0) v -= (unsigned __int128)d; else v += (unsigned __int128)(-d);
        }
        out[len++] = (int8_t)(negative ? -d : d);
        v >>= 1;
    }
    return len;
}

/* s P in all eight lanes for one public scalar s shared by the lanes (GLV, width-5 NAF of both
   halves, tables of the odd multiples P, 3P, ..., 15P and their images under phi): about 127
   doublings and 2 * 127 / 6 + 8 additions. Complete formulas, so any input (the identity, equal
   points) is fine. */
VI PFX(proj) PFX(mul_shared)(PFX(proj) p, const uint64_t *glv) {
    int8_t d1[NAF_MAX], d2[NAF_MAX];
    const int n1 = PFX(naf5)(glv, (int)(glv[4] & 1), d1), n2 = PFX(naf5)(glv + 2, (int)((glv[4] >> 1) & 1), d2);
    const FE one = PFX(fe_one)(), zero = PFX(fe_zero)();
    PFX(proj) acc = {zero, one, zero};
    if (n1 == 0 && n2 == 0) return acc;
    PFX(proj) table[8], tablePhi[8];
    const PFX(proj) twice = PFX(dbl)(p);
    table[0] = p;
    for (int i = 1; i < 8; i++) table[i] = PFX(add)(table[i - 1], twice);
    for (int i = 0; i < 8; i++) {
        tablePhi[i] = table[i];
        tablePhi[i].x = PFX(fe_beta)(table[i].x);
    }
    int started = 0;
    for (int i = (n1 > n2 ? n1 : n2) - 1; i >= 0; i--) {
        if (started) acc = PFX(dbl)(acc);
        const int a = i < n1 ? d1[i] : 0, b = i < n2 ? d2[i] : 0;
        if (a) {
            PFX(proj) e = table[(a < 0 ? -a : a) >> 1];
            if (a < 0) e.y = FE_NEG(e.y);
            acc = started ? PFX(add)(acc, e) : e;
            started = 1;
        }
        if (b) {
            PFX(proj) e = tablePhi[(b < 0 ? -b : b) >> 1];
            if (b < 0) e.y = FE_NEG(e.y);
            acc = started ? PFX(add)(acc, e) : e;
            started = 1;
        }
    }
    return acc;
}

/* k_l P_l with a different public scalar per lane (GLV, 4-bit fixed windows over the 128-bit
   halves, tables 0..15 P and their phi images, signs applied per lane): 128 doublings and 78
   additions, against 259 and 71 for `scale8` on the full scalar. */
VI PFX(proj) PFX(mul_lanes)(PFX(proj) p, const uint64_t *glv[8]) {
    const FE one = PFX(fe_one)(), zero = PFX(fe_zero)();
    uint64_t w1[2][8], w2[2][8];
    __mmask8 neg1 = 0, neg2 = 0;
    for (int l = 0; l < 8; l++) {
        w1[0][l] = glv[l][0]; w1[1][l] = glv[l][1]; w2[0][l] = glv[l][2]; w2[1][l] = glv[l][3];
        neg1 |= (__mmask8)((glv[l][4] & 1) << l);
        neg2 |= (__mmask8)(((glv[l][4] >> 1) & 1) << l);
    }
    const __m512i k1[2] = {_mm512_loadu_si512(w1[0]), _mm512_loadu_si512(w1[1])};
    const __m512i k2[2] = {_mm512_loadu_si512(w2[0]), _mm512_loadu_si512(w2[1])};
    PFX(proj) t1[16], t2[16];
    t1[0].x = zero; t1[0].y = one; t1[0].z = zero;
    t1[1] = p;
    for (int j = 2; j < 16; j++) t1[j] = (j & 1) ? PFX(add)(t1[j - 1], p) : PFX(dbl)(t1[j / 2]);
    for (int j = 0; j < 16; j++) {
        t2[j] = t1[j];
        t2[j].x = PFX(fe_beta)(t1[j].x);
        const FE negY = FE_NEG(t1[j].y);
        t2[j].y = FE_BLEND(neg2, t1[j].y, negY);
        t1[j].y = FE_BLEND(neg1, t1[j].y, negY);
    }
    PFX(proj) acc = t1[0];
    for (int w = 31; w >= 0; w--) {
        if (w != 31) acc = PFX(dbl)(PFX(dbl)(PFX(dbl)(PFX(dbl)(acc))));
        const __m128i shift = _mm_cvtsi32_si128(4 * (w & 15));
        const __m512i a = _mm512_and_si512(_mm512_srl_epi64(k1[w >> 4], shift), _mm512_set1_epi64(15));
        const __m512i b = _mm512_and_si512(_mm512_srl_epi64(k2[w >> 4], shift), _mm512_set1_epi64(15));
        PFX(proj) s1 = t1[0], s2 = t2[0];
        for (int j = 1; j < 16; j++) {
            s1 = PFX(blend)(_mm512_cmpeq_epi64_mask(a, _mm512_set1_epi64(j)), s1, t1[j]);
            s2 = PFX(blend)(_mm512_cmpeq_epi64_mask(b, _mm512_set1_epi64(j)), s2, t2[j]);
        }
        acc = PFX(add)(PFX(add)(acc, s1), s2);
    }
    return acc;
}

/* One radix-2 DIT stage like `fft_stage`, with the twiddles as GLV scalars (GLV_WORDS words
   each, twiddle j at glv + j * twiddleStride * GLV_WORDS) over n points (n >= 16). Work items
   [lo, hi) of n / 16 in all. When the stage has at least eight blocks (n / (2 half) >= 8) the
   eight lanes of an item are eight blocks at the same offset j, so they share twiddle j and the
   multiplication is `mul_shared`; in the last three stages an item is eight consecutive pairs,
   each with its own twiddle (`mul_lanes`). */
VS_IFMA void PFX(fft_stage_glv)(uint64_t *buf, size_t n, size_t half, const uint64_t *glv, size_t twiddleStride, size_t lo,
                                size_t hi) {
    const size_t blocks = n / (2 * half);
    for (size_t t = lo; t < hi; t++) {
        uint64_t top[8], bottom[8];
        size_t j0 = 0;
        const uint64_t *lane[8];
        if (blocks >= 8) {
            const size_t g = t / half;
            j0 = t % half;
            for (size_t l = 0; l < 8; l++) {
                const size_t block = 8 * g + l, u = block * 2 * half + j0;
                top[l] = u * PW; bottom[l] = (u + half) * PW;
            }
        } else {
            for (size_t l = 0; l < 8; l++) {
                const size_t p = 8 * t + l, j = p % half, u = (p / half) * 2 * half + j;
                top[l] = u * PW; bottom[l] = (u + half) * PW;
                lane[l] = glv + j * twiddleStride * GLV_WORDS;
            }
        }
        const __m512i wordTop = _mm512_loadu_si512(top), wordBottom = _mm512_loadu_si512(bottom);
        const PFX(proj) u = PFX(gather_proj)(buf, wordTop);
        PFX(proj) v = PFX(gather_proj)(buf, wordBottom);
        if (blocks >= 8) {
            if (j0 != 0) v = PFX(mul_shared)(v, glv + j0 * twiddleStride * GLV_WORDS);
        } else {
            v = PFX(mul_lanes)(v, lane);
        }
        PFX(proj) negV = v;
        negV.y = FE_NEG(v.y);
        PFX(scatter_proj)(buf, wordTop, PFX(add)(u, v), 0xff);
        PFX(scatter_proj)(buf, wordBottom, PFX(add)(u, negV), 0xff);
    }
}

/* buf[i] := k buf[i] for i in [lo, hi), one public GLV scalar k for all (`mul_shared`). */
VS_IFMA void PFX(scale_glv)(uint64_t *buf, const uint64_t *glv, size_t lo, size_t hi) {
    const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    for (size_t i0 = lo; i0 < hi; i0 += 8) {
        const size_t count = hi - i0 < 8 ? hi - i0 : 8;
        const __mmask8 live = (__mmask8)((1u << count) - 1);
        const __m512i index = _mm512_min_epu64(_mm512_add_epi64(_mm512_set1_epi64((long long)i0), lanes),
                                               _mm512_set1_epi64((long long)(i0 + count - 1)));
        const __m512i word = _mm512_mullo_epi64(index, _mm512_set1_epi64(PW));
        PFX(scatter_proj)(buf, word, PFX(mul_shared)(PFX(gather_proj)(buf, word), glv), live);
    }
}

#undef GLV_WORDS
#undef NAF_MAX

/* Swift affine points [lo, hi) (stride bytes apart) -> kernel projective buf[lo, hi). */
VS_IFMA void PFX(to_projective)(uint64_t *buf, const void *points, size_t stride, size_t lo, size_t hi) {
    const size_t elements = LIMBS / 5, coordBytes = elements * 32;
    const uint8_t *base = (const uint8_t *)points;
    for (int c = 0; c < 2 * (int)elements; c++)
        convert_in((const uint64_t *)(base + lo * stride + (size_t)c * 32), stride / 8, hi - lo, buf + lo * PW + (size_t)c * 5, PW);
    for (size_t i = lo; i < hi; i++) {
        uint64_t *q = buf + i * PW;
        const int infinity = base[i * stride + 2 * coordBytes] & 1;
        memset(q + 2 * LIMBS, 0, LIMBS * sizeof(uint64_t));
        if (infinity) {
            memset(q, 0, 2 * LIMBS * sizeof(uint64_t));
            memcpy(q + LIMBS, FQ.one, 5 * sizeof(uint64_t));
        } else {
            memcpy(q + 2 * LIMBS, FQ.one, 5 * sizeof(uint64_t));
        }
    }
}

/* Kernel projective buf[lo, hi) -> Swift affine points (x / z, y / z; infinity for z = 0).
   Blocks of AFFINE_GROUPS * 8 points share one inversion (Montgomery's trick over four chains
   of eight lanes); the block's scratch lives on the stack (40 KB for G2), so the conversion
   allocates nothing and cannot fail. The inversion costs about 1% of a block's work. */
#define AFFINE_GROUPS 32
VS_IFMA static void PFX(to_affine_block)(void *points, size_t stride, const uint64_t *buf, size_t lo, size_t hi) {
    const size_t count = hi - lo, groups = (count + 7) / 8;
    const size_t elements = LIMBS / 5, coordBytes = elements * 32;
    FE prefix[AFFINE_GROUPS], zs[AFFINE_GROUPS];
    __mmask8 infinite[AFFINE_GROUPS];
    const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    const FE one = PFX(fe_one)();
    FE acc[4] = {one, one, one, one};
    for (size_t g = 0; g < groups; g++) {
        const __m512i index = _mm512_min_epu64(_mm512_add_epi64(_mm512_set1_epi64((long long)(lo + 8 * g)), lanes),
                                               _mm512_set1_epi64((long long)(hi - 1)));
        const PFX(proj) p = PFX(gather_proj)(buf, _mm512_mullo_epi64(index, _mm512_set1_epi64(PW)));
        infinite[g] = FE_ISZERO(p.z);
        zs[g] = FE_BLEND(infinite[g], p.z, one);
        prefix[g] = acc[g & 3];
        acc[g & 3] = FE_MUL(acc[g & 3], zs[g]);
    }
    const FE p01 = FE_MUL(acc[0], acc[1]), p23 = FE_MUL(acc[2], acc[3]);
    const FE all = FE_INV(FE_MUL(p01, p23));
    FE inv[4];
    inv[0] = FE_MUL(all, FE_MUL(p23, acc[1]));
    inv[1] = FE_MUL(all, FE_MUL(p23, acc[0]));
    inv[2] = FE_MUL(all, FE_MUL(p01, acc[3]));
    inv[3] = FE_MUL(all, FE_MUL(p01, acc[2]));
    const FE to256 = PFX(fe_const_to256)();
    for (size_t g = groups; g-- > 0;) {
        const FE zinv = FE_MUL(inv[g & 3], prefix[g]);
        inv[g & 3] = FE_MUL(inv[g & 3], zs[g]);
        const __m512i index = _mm512_min_epu64(_mm512_add_epi64(_mm512_set1_epi64((long long)(lo + 8 * g)), lanes),
                                               _mm512_set1_epi64((long long)(hi - 1)));
        const PFX(proj) p = PFX(gather_proj)(buf, _mm512_mullo_epi64(index, _mm512_set1_epi64(PW)));
        /* x / z and y / z, then out of the 2^260 Montgomery form into Swift's 2^256 one */
        const FE x = PFX(fe_mul_elementwise)(FE_MUL(p.x, zinv), to256), y = PFX(fe_mul_elementwise)(FE_MUL(p.y, zinv), to256);
        uint64_t tx[LIMBS * 8], ty[LIMBS * 8];
        PFX(fe_store)(tx, 8, 0, x);
        PFX(fe_store)(ty, 8, 0, y);
        for (size_t l = 0; l < 8 && lo + 8 * g + l < hi; l++) {
            uint8_t *q = (uint8_t *)points + (lo + 8 * g + l) * stride;
            const int infinity = (infinite[g] >> l) & 1;
            for (size_t e = 0; e < elements; e++) {
                uint64_t l52[5];
                for (int i = 0; i < 5; i++) l52[i] = infinity ? 0 : tx[(e * 5 + i) * 8 + l];
                to64(l52, 1, (uint64_t *)(q + e * 32));
                for (int i = 0; i < 5; i++) l52[i] = infinity ? 0 : ty[(e * 5 + i) * 8 + l];
                to64(l52, 1, (uint64_t *)(q + coordBytes + e * 32));
            }
            q[2 * coordBytes] = (uint8_t)infinity;
        }
    }
}

VS_IFMA void PFX(to_affine)(void *points, size_t stride, const uint64_t *buf, size_t lo, size_t hi) {
    for (size_t b = lo; b < hi; b += 8 * AFFINE_GROUPS)
        PFX(to_affine_block)(points, stride, buf, b, hi - b < 8 * AFFINE_GROUPS ? hi : b + 8 * AFFINE_GROUPS);
}
#undef AFFINE_GROUPS

#undef PW

/* ---- public entry points ---- */

vs_ifma_msm *PFX(create)(size_t n, int buckets) {
    if (buckets < 64 || (buckets & (buckets - 1)) != 0 || n >= ((size_t)1 << 30)) return NULL;
    vs_ifma_msm *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->limbs = LIMBS;
    s->buckets = buckets;
    s->cap = LIMBS == 5 ? 2048 : 1024;
    const size_t K = (size_t)buckets, cap = s->cap, slots = K + 2 * cap, list = 2 * cap + 8;
    s->pool = calloc(slots * W, sizeof(uint64_t));
    s->pinf = calloc(slots, 1);
    s->occupied = calloc(K, 1);
    s->stamp = calloc(K, sizeof(uint32_t));
    s->head = calloc(K, sizeof(uint32_t));
    s->next = calloc(cap, sizeof(uint32_t));
    s->touched = calloc(cap, sizeof(uint32_t));
    s->deferredRef = calloc(cap, sizeof(uint32_t));
    s->deferredBucket = calloc(cap, sizeof(uint32_t));
    s->inBatch = calloc(K, 1);
    s->refs = calloc(list, sizeof(uint32_t));
    s->grp = calloc(list, sizeof(uint32_t));
    s->refs2 = calloc(list, sizeof(uint32_t));
    s->grp2 = calloc(list, sizeof(uint32_t));
    s->dest = calloc(s->cap, sizeof(uint32_t));
    s->negA = calloc(s->cap, 1);
    s->negB = calloc(s->cap, 1);
    s->rinf = calloc(s->cap, 1);
    const size_t rows = (size_t)LIMBS * s->cap;
    s->ax = calloc(rows, sizeof(uint64_t)); s->ay = calloc(rows, sizeof(uint64_t));
    s->bx = calloc(rows, sizeof(uint64_t));
    s->addrA = calloc(s->cap, sizeof(uint64_t)); s->addrB = calloc(s->cap, sizeof(uint64_t));
    s->d = calloc(rows, sizeof(uint64_t)); s->num = calloc(rows, sizeof(uint64_t));
    s->prefix = calloc(rows, sizeof(uint64_t));
    if (!s->pool || !s->pinf || !s->occupied || !s->stamp || !s->head || !s->next || !s->touched || !s->deferredRef || !s->deferredBucket || !s->inBatch ||
        !s->refs || !s->grp || !s->refs2 || !s->grp2 || !s->dest || !s->negA || !s->negB || !s->rinf || !s->ax ||
        !s->ay || !s->bx || !s->addrA || !s->addrB || !s->d || !s->num || !s->prefix) {
        vs_ifma_msm_destroy(s);
        return NULL;
    }
    return s;
}

void PFX(prepare_bases)(uint64_t *out, uint8_t *infinity, const void *points, size_t stride, size_t n) {
    /* Swift's AffinePoint layout: x, y (LIMBS / 5 Fq elements of 32 bytes each), then the flag */
    const size_t coordBytes = (LIMBS / 5) * 32;
    const size_t elements = LIMBS / 5;
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        const size_t i1 = n - i0 < 256 ? n : i0 + 256;
        for (size_t i = i0; i < i1; i++) infinity[i] = *((const uint8_t *)points + i * stride + 2 * coordBytes) & 1;
        for (int c = 0; c < 2 * (int)elements; c++) {
            convert_in((const uint64_t *)((const uint8_t *)points + i0 * stride + (size_t)c * 32), stride / 8, i1 - i0,
                       out + i0 * W + (size_t)c * 5, W);
        }
    }
}

void PFX(window_sum)(vs_ifma_msm *s, const uint64_t *bases, const uint8_t *baseInfinity, const int32_t *digits,
                     size_t n, uint64_t *out) {
    PFX(window)(s, bases, baseInfinity, digits, n, out);
}

#undef W
#undef COL
#undef GRP
