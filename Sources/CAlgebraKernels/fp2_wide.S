/*
 * The unreduced (lazy-reduction) Karatsuba product in Fq2 for BN254, hand-scheduled x86-64
 * (MULX/ADCX/ADOX), for pairing.c's `fp2_mul_w`:
 *
 *   void vs_bn254_fp2_mul_wide_adx(uint64_t r[16], const uint64_t a[8], const uint64_t b[8]);
 *
 * a = a0 + a1 u and b = b0 + b1 u have 4-limb coefficients below 2p (least significant limb
 * first); r = (c0, c1), each coefficient 8 limbs in [0, M), M = p 2^256:
 *   v0 = a0 b0, v1 = a1 b1, s = (a0 + a1)(b0 + b1)   (512-bit products; a0 + a1 < 4p < 2^256)
 *   c0 = v0 - v1, plus M after a borrow
 *   c1 = s - v0 - v1 (= a0 b1 + a1 b0 < 8p^2 < 2M), minus M when its high half is >= p
 * The same values as the C formulation in pairing.c bit for bit (tests compare them).
 *
 * Why assembly: as inline asm in the C tower, the three products, the sums and the combination
 * need more registers than clang leaves once the frame pointer is reserved (SwiftPM compiles
 * with -fno-omit-frame-pointer), and the C version spills; here every register is ours (rbp
 * included, saved and restored; no calls are made, so frame-pointer unwinding through this leaf
 * only loses this one frame). Not constant time where the C is not: it is branch-free.
 * Cost: 48 MULX, 3 x (4 rows of ADCX/ADOX chains), 16 + 8 + 8 limb subtractions; 192 bytes of
 * stack.
 */
#if defined(__x86_64__) && defined(__ELF__)

    .text

/* The six callee-saved registers pushed (with their unwind notes) and FRAME bytes of stack
   reserved, and the reverse before returning: the prologue and epilogue of the routines that
   need every register. */
.macro VS_SAVE_CALLEE_SAVED FRAME
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_offset %rbx, -16
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_offset %rbp, -24
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r12, -32
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r13, -40
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r14, -48
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r15, -56
    subq    $\FRAME, %rsp
    .cfi_adjust_cfa_offset \FRAME
.endm

.macro VS_RESTORE_CALLEE_SAVED_AND_RETURN FRAME
    addq    $\FRAME, %rsp
    .cfi_adjust_cfa_offset -\FRAME
    popq    %r15
    .cfi_adjust_cfa_offset -8
    popq    %r14
    .cfi_adjust_cfa_offset -8
    popq    %r13
    .cfi_adjust_cfa_offset -8
    popq    %r12
    .cfi_adjust_cfa_offset -8
    popq    %rbp
    .cfi_adjust_cfa_offset -8
    popq    %rbx
    .cfi_adjust_cfa_offset -8
    ret
.endm

/* One 256 x 256 -> 512-bit product from memory operands: A at AOFF(AREG), B at BOFF(BREG), the
   eight result limbs stored at DOFF(DREG). Schoolbook rows (the first on MUL/ADC, the others on
   the CF and OF chains of ADCX/ADOX), five rotating accumulators r8..r12, rax/r14 for the
   partial products, r13 zero. Clobbers rax, rdx, r8-r14 and the flags. */
.macro VS_ROW BOFF, BREG, AOFF, AREG, T0, T1, T2, T3, T4, DOFF, DREG
    movq    \BOFF(\BREG), %rdx
    xorl    %r13d, %r13d
    mulxq   \AOFF(\AREG), %rax, %r14
    adcxq   %rax, \T0
    adoxq   %r14, \T1
    mulxq   \AOFF+8(\AREG), %rax, %r14
    adcxq   %rax, \T1
    adoxq   %r14, \T2
    mulxq   \AOFF+16(\AREG), %rax, %r14
    adcxq   %rax, \T2
    adoxq   %r14, \T3
    mulxq   \AOFF+24(\AREG), %rax, \T4
    adcxq   %rax, \T3
    adoxq   %r13, \T4
    adcxq   %r13, \T4
    movq    \T0, \DOFF(\DREG)
.endm

.macro VS_MUL_WIDE AOFF, AREG, BOFF, BREG, DOFF, DREG
    movq    \BOFF(\BREG), %rdx
    mulxq   \AOFF(\AREG), %r8, %r9
    mulxq   \AOFF+8(\AREG), %rax, %r10
    addq    %rax, %r9
    mulxq   \AOFF+16(\AREG), %rax, %r11
    adcq    %rax, %r10
    mulxq   \AOFF+24(\AREG), %rax, %r12
    adcq    %rax, %r11
    adcq    $0, %r12
    movq    %r8, \DOFF(\DREG)
    VS_ROW  \BOFF+8, \BREG, \AOFF, \AREG, %r9, %r10, %r11, %r12, %r8, \DOFF+8, \DREG
    VS_ROW  \BOFF+16, \BREG, \AOFF, \AREG, %r10, %r11, %r12, %r8, %r9, \DOFF+16, \DREG
    VS_ROW  \BOFF+24, \BREG, \AOFF, \AREG, %r11, %r12, %r8, %r9, %r10, \DOFF+24, \DREG
    movq    %r12, \DOFF+32(\DREG)
    movq    %r8, \DOFF+40(\DREG)
    movq    %r9, \DOFF+48(\DREG)
    movq    %r10, \DOFF+56(\DREG)
.endm

/* Four-limb sum X + Y (X at XOFF(XREG), Y at YOFF(YREG)) stored at DOFF(%rsp); no carry out for
   operands below 2p. Clobbers rax and the flags. */
.macro VS_ADD4 XREG, YOFF, DOFF
    movq    0(\XREG), %rax
    addq    \YOFF(\XREG), %rax
    movq    %rax, \DOFF(%rsp)
    movq    8(\XREG), %rax
    adcq    \YOFF+8(\XREG), %rax
    movq    %rax, \DOFF+8(%rsp)
    movq    16(\XREG), %rax
    adcq    \YOFF+16(\XREG), %rax
    movq    %rax, \DOFF+16(%rsp)
    movq    24(\XREG), %rax
    adcq    \YOFF+24(\XREG), %rax
    movq    %rax, \DOFF+24(%rsp)
.endm

    .globl  vs_bn254_fp2_mul_wide_adx
    .type   vs_bn254_fp2_mul_wide_adx, @function
    .p2align 5
vs_bn254_fp2_mul_wide_adx:
    .cfi_startproc
    VS_SAVE_CALLEE_SAVED 192
    movq    %rdx, %rcx
    /* stack: v0 at 0, v1 at 64, a0 + a1 at 128, b0 + b1 at 160 */
    VS_MUL_WIDE 0, %rsi, 0, %rcx, 0, %rsp
    VS_MUL_WIDE 32, %rsi, 32, %rcx, 64, %rsp
    VS_ADD4 %rsi, 32, 128
    VS_ADD4 %rcx, 32, 160
    /* s into r's c1 slot */
    VS_MUL_WIDE 128, %rsp, 160, %rsp, 64, %rdi

    /* c1 = s - v0 - v1 (never negative), then minus p 2^256 when the high half is >= p */
    movq    64(%rdi), %rax
    movq    72(%rdi), %rbx
    movq    80(%rdi), %rbp
    movq    88(%rdi), %r8
    movq    96(%rdi), %r9
    movq    104(%rdi), %r10
    movq    112(%rdi), %r11
    movq    120(%rdi), %r12
    subq    0(%rsp), %rax
    sbbq    8(%rsp), %rbx
    sbbq    16(%rsp), %rbp
    sbbq    24(%rsp), %r8
    sbbq    32(%rsp), %r9
    sbbq    40(%rsp), %r10
    sbbq    48(%rsp), %r11
    sbbq    56(%rsp), %r12
    subq    64(%rsp), %rax
    sbbq    72(%rsp), %rbx
    sbbq    80(%rsp), %rbp
    sbbq    88(%rsp), %r8
    sbbq    96(%rsp), %r9
    sbbq    104(%rsp), %r10
    sbbq    112(%rsp), %r11
    sbbq    120(%rsp), %r12
    movq    %r9, %r13
    movq    %r10, %r14
    movq    %r11, %r15
    movq    %r12, %rdx
    subq    .Lvs_fq_p(%rip), %r13
    sbbq    .Lvs_fq_p+8(%rip), %r14
    sbbq    .Lvs_fq_p+16(%rip), %r15
    sbbq    .Lvs_fq_p+24(%rip), %rdx
    cmovncq %r13, %r9
    cmovncq %r14, %r10
    cmovncq %r15, %r11
    cmovncq %rdx, %r12
    movq    %rax, 64(%rdi)
    movq    %rbx, 72(%rdi)
    movq    %rbp, 80(%rdi)
    movq    %r8, 88(%rdi)
    movq    %r9, 96(%rdi)
    movq    %r10, 104(%rdi)
    movq    %r11, 112(%rdi)
    movq    %r12, 120(%rdi)

    /* c0 = v0 - v1, plus p 2^256 after a borrow */
    movq    0(%rsp), %rax
    movq    8(%rsp), %rbx
    movq    16(%rsp), %rbp
    movq    24(%rsp), %r8
    movq    32(%rsp), %r9
    movq    40(%rsp), %r10
    movq    48(%rsp), %r11
    movq    56(%rsp), %r12
    subq    64(%rsp), %rax
    sbbq    72(%rsp), %rbx
    sbbq    80(%rsp), %rbp
    sbbq    88(%rsp), %r8
    sbbq    96(%rsp), %r9
    sbbq    104(%rsp), %r10
    sbbq    112(%rsp), %r11
    sbbq    120(%rsp), %r12
    sbbq    %rdx, %rdx
    movq    .Lvs_fq_p(%rip), %r13
    movq    .Lvs_fq_p+8(%rip), %r14
    movq    .Lvs_fq_p+16(%rip), %r15
    movq    .Lvs_fq_p+24(%rip), %rcx
    andq    %rdx, %r13
    andq    %rdx, %r14
    andq    %rdx, %r15
    andq    %rdx, %rcx
    addq    %r13, %r9
    adcq    %r14, %r10
    adcq    %r15, %r11
    adcq    %rcx, %r12
    movq    %rax, 0(%rdi)
    movq    %rbx, 8(%rdi)
    movq    %rbp, 16(%rdi)
    movq    %r8, 24(%rdi)
    movq    %r9, 32(%rdi)
    movq    %r10, 40(%rdi)
    movq    %r11, 48(%rdi)
    movq    %r12, 56(%rdi)

    VS_RESTORE_CALLEE_SAVED_AND_RETURN 192
    .cfi_endproc
    .size   vs_bn254_fp2_mul_wide_adx, .-vs_bn254_fp2_mul_wide_adx

/* The unreduced square of a reduced a (pairing.c's `fp2_sqr_w`):
     void vs_bn254_fp2_sqr_wide_adx(uint64_t r[16], const uint64_t a[8]);
   c0 = (a0 + a1)(a0 + p - a1) (factors below 2p, product below 4p^2 < M; a0^2 - a1^2 mod p),
   c1 = a0 (2 a1) < 2p^2 < M. Stack: a0 + a1 at 0, a0 + p - a1 at 32, 2 a1 at 64. */
    .text
    .globl  vs_bn254_fp2_sqr_wide_adx
    .type   vs_bn254_fp2_sqr_wide_adx, @function
    .p2align 5
vs_bn254_fp2_sqr_wide_adx:
    .cfi_startproc
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r12, -16
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r13, -24
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    .cfi_offset %r14, -32
    subq    $96, %rsp
    .cfi_adjust_cfa_offset 96
    /* a0 + a1 */
    VS_ADD4 %rsi, 32, 0
    /* p - a1 (no borrow for a1 <= p), then a0 + (p - a1) */
    movq    .Lvs_fq_p(%rip), %r8
    movq    .Lvs_fq_p+8(%rip), %r9
    movq    .Lvs_fq_p+16(%rip), %r10
    movq    .Lvs_fq_p+24(%rip), %r11
    subq    32(%rsi), %r8
    sbbq    40(%rsi), %r9
    sbbq    48(%rsi), %r10
    sbbq    56(%rsi), %r11
    addq    0(%rsi), %r8
    adcq    8(%rsi), %r9
    adcq    16(%rsi), %r10
    adcq    24(%rsi), %r11
    movq    %r8, 32(%rsp)
    movq    %r9, 40(%rsp)
    movq    %r10, 48(%rsp)
    movq    %r11, 56(%rsp)
    /* 2 a1 */
    movq    32(%rsi), %r8
    movq    40(%rsi), %r9
    movq    48(%rsi), %r10
    movq    56(%rsi), %r11
    addq    %r8, %r8
    adcq    %r9, %r9
    adcq    %r10, %r10
    adcq    %r11, %r11
    movq    %r8, 64(%rsp)
    movq    %r9, 72(%rsp)
    movq    %r10, 80(%rsp)
    movq    %r11, 88(%rsp)
    VS_MUL_WIDE 0, %rsp, 32, %rsp, 0, %rdi
    VS_MUL_WIDE 0, %rsi, 64, %rsp, 64, %rdi
    addq    $96, %rsp
    .cfi_adjust_cfa_offset -96
    popq    %r14
    .cfi_adjust_cfa_offset -8
    popq    %r13
    .cfi_adjust_cfa_offset -8
    popq    %r12
    .cfi_adjust_cfa_offset -8
    ret
    .cfi_endproc
    .size   vs_bn254_fp2_sqr_wide_adx, .-vs_bn254_fp2_sqr_wide_adx

/*
 * The Granger-Scott squaring of a cyclotomic Fq12 element as one routine (pairing.c's
 * `fp12_cyclotomic_sqr`, the C formulation kept there as the reference and the fallback):
 *
 *   void vs_bn254_fq12_cyclotomic_sqr_adx(uint64_t r[48], const uint64_t a[48]);
 *
 * a reduced (every coefficient below p), r reduced; r may equal a. With z0..z5 the Fq2
 * coefficients (a.c0 = (z0, z4, z3), a.c1 = (z2, z1, z5)), each Fq4 square (x + y s)^2, s^2 = xi,
 * of the pairs (z0, z1), (z2, z3), (z4, z5) is t = x^2 + xi y^2 and c = 2xy, then
 *   z0 = 3 t0 - 2 z0, z1 = 3 c0 + 2 z1, z4 = 3 t1 - 2 z4, z5 = 3 c1 + 2 z5,
 *   z3 = 3 t2 - 2 z3, z2 = 3 xi c2 + 2 z2
 * (the same values as the C formulas).
 *
 * Why one routine: in C each Fq2 product is a call that writes its wide (512-bit) result to
 * memory, and the sums, the multiplication by xi and the reductions each reload and re-reduce
 * them mod p 2^256. Here every t and c = 2xy coefficient is one nine-limb integer combination V of
 * the 512-bit products, built in registers without any intermediate reduction, then
 * Montgomery-reduced once, and each output sum is reduced mod p once:
 *   x^2 = ((x0 + x1)(x0 + p - x1), x0 (2 x1)) (= (x0^2 - x1^2 + p (x0 + x1), 2 x0 x1), each
 *   product below 4p^2), y^2 likewise, and with w = x + y (coefficients below 2p)
 *   w^2 = ((w0 + w1)(w0 + 2p - w1), w0 (2 w1)) (products below 16p^2 and 8p^2);
 *   V(t.c0) = 9 y^2.c0 + x^2.c0 + M - y^2.c1 < 8.6 M, V(t.c1) = 9 y^2.c1 + y^2.c0 + x^2.c1 < 4.6 M;
 *   2xy = w^2 - x^2 - y^2: C0 = w^2.c0 - x^2.c0 - y^2.c0 + M (= 2(x0 y0 - x1 y1) + p (w0 + w1)
 *   + M, in (0, 2.2 M)), C1 = w^2.c1 - x^2.c1 - y^2.c1 = 2(x0 y1 + x1 y0) (exact, below 4p^2),
 *   and for the last pair V(xi c) = (9 C0 + M - C1, 9 C1 + C0) < 20.2 M;
 * M = p 2^256 (about 5.29 p^2), which the reduction maps to 0 mod p. The Montgomery reduction
 * (V + m p) / 2^256 (m < 2^256) is below V / 2^256 + p, at most 21.2p here, so the output sums
 * 3t + 2(p - z) and 3c + 2z stay below 66p, which `VS_RED5` takes to [0, p).
 * Cost: 18 512-bit products (288 MULX; the Fq4 square's 2xy from w^2 - x^2 - y^2, one product
 * fewer per pair than a Karatsuba xy), 12 reductions (48 MULX), no calls; branch-free (a table
 * index from the public value in `VS_RED5`); about 1.4 KiB of stack.
 */

/* Registers of the nine-limb value V: V0..V8 = rbx, rcx, rbp, r8, r9, r10, r11, r12, r15;
   rax and r14 temporaries, r13 zero, rdx the multiplier. */

/* V = K * X for the 512-bit X at XOFF(%rsp) and a small constant K. */
.macro VS_V_MUL K, XOFF
    movl    $\K, %edx
    mulxq   \XOFF(%rsp), %rbx, %rcx
    mulxq   \XOFF+8(%rsp), %rax, %rbp
    addq    %rax, %rcx
    mulxq   \XOFF+16(%rsp), %rax, %r8
    adcq    %rax, %rbp
    mulxq   \XOFF+24(%rsp), %rax, %r9
    adcq    %rax, %r8
    mulxq   \XOFF+32(%rsp), %rax, %r10
    adcq    %rax, %r9
    mulxq   \XOFF+40(%rsp), %rax, %r11
    adcq    %rax, %r10
    mulxq   \XOFF+48(%rsp), %rax, %r12
    adcq    %rax, %r11
    mulxq   \XOFF+56(%rsp), %rax, %r15
    adcq    %rax, %r12
    adcq    $0, %r15
.endm

/* V = X (the 512-bit X at XOFF(%rsp)), V8 = 0. */
.macro VS_V_LOAD XOFF
    movq    \XOFF(%rsp), %rbx
    movq    \XOFF+8(%rsp), %rcx
    movq    \XOFF+16(%rsp), %rbp
    movq    \XOFF+24(%rsp), %r8
    movq    \XOFF+32(%rsp), %r9
    movq    \XOFF+40(%rsp), %r10
    movq    \XOFF+48(%rsp), %r11
    movq    \XOFF+56(%rsp), %r12
    xorl    %r15d, %r15d
.endm

/* V += X, V -= X (512-bit X at XOFF(%rsp)), modulo 2^576: a partial sum may wrap below zero,
   but every completed V is nonnegative and below 2^576, so the wrap cancels. */
.macro VS_V_ADD XOFF
    addq    \XOFF(%rsp), %rbx
    adcq    \XOFF+8(%rsp), %rcx
    adcq    \XOFF+16(%rsp), %rbp
    adcq    \XOFF+24(%rsp), %r8
    adcq    \XOFF+32(%rsp), %r9
    adcq    \XOFF+40(%rsp), %r10
    adcq    \XOFF+48(%rsp), %r11
    adcq    \XOFF+56(%rsp), %r12
    adcq    $0, %r15
.endm
.macro VS_V_SUB XOFF
    subq    \XOFF(%rsp), %rbx
    sbbq    \XOFF+8(%rsp), %rcx
    sbbq    \XOFF+16(%rsp), %rbp
    sbbq    \XOFF+24(%rsp), %r8
    sbbq    \XOFF+32(%rsp), %r9
    sbbq    \XOFF+40(%rsp), %r10
    sbbq    \XOFF+48(%rsp), %r11
    sbbq    \XOFF+56(%rsp), %r12
    sbbq    $0, %r15
.endm
/* V += M = p 2^256. */
.macro VS_V_ADD_M
    addq    .Lvs_fq_p(%rip), %r9
    adcq    .Lvs_fq_p+8(%rip), %r10
    adcq    .Lvs_fq_p+16(%rip), %r11
    adcq    .Lvs_fq_p+24(%rip), %r12
    adcq    $0, %r15
.endm

/* One Montgomery reduction row on T0..T3 (T0 zeroed, the row's top word left in T0). */
.macro VS_RED_ROW T0, T1, T2, T3
    movq    \T0, %rdx
    imulq   .Lvs_fq_inv(%rip), %rdx
    xorl    %r13d, %r13d
    mulxq   .Lvs_fq_p(%rip), %rax, %r14
    adcxq   %rax, \T0
    adoxq   %r14, \T1
    mulxq   .Lvs_fq_p+8(%rip), %rax, %r14
    adcxq   %rax, \T1
    adoxq   %r14, \T2
    mulxq   .Lvs_fq_p+16(%rip), %rax, %r14
    adcxq   %rax, \T2
    adoxq   %r14, \T3
    mulxq   .Lvs_fq_p+24(%rip), %rax, \T0
    adcxq   %rax, \T3
    adoxq   %r13, \T0
    adcxq   %r13, \T0
.endm

/* v mod p for the five-limb v = (r9, r10, r11, r12, r15) below 128p, stored at DOFF(DREG): the
   quotient estimate k = floor((v >> 250) 5416 / 2^16) of pairing.c's `fp_reduce5`, extended to
   v < 128p (v >> 250 < 2^11; 5416 / 2^16 < 2^250 / p, so k <= v / p, and v - k p < 2.11p over the
   whole range, checked exhaustively over v >> 250), then conditional subtractions of 2p and p.
   Clobbers rbx, rcx, rbp, r8, rax, rdx. */
.macro VS_RED5 DOFF, DREG
    movq    %r12, %rax
    shrq    $58, %rax
    movq    %r15, %rdx
    shlq    $6, %rdx
    orq     %rdx, %rax
    imulq   $5416, %rax, %rax
    shrq    $16, %rax
    leaq    (%rax,%rax,4), %rax
    leaq    .Lvs_fq_kp(%rip), %rdx
    leaq    (%rdx,%rax,8), %rdx
    subq    0(%rdx), %r9
    sbbq    8(%rdx), %r10
    sbbq    16(%rdx), %r11
    sbbq    24(%rdx), %r12
    movq    %r9, %rbx
    movq    %r10, %rcx
    movq    %r11, %rbp
    movq    %r12, %r8
    subq    .Lvs_fq_2p(%rip), %rbx
    sbbq    .Lvs_fq_2p+8(%rip), %rcx
    sbbq    .Lvs_fq_2p+16(%rip), %rbp
    sbbq    .Lvs_fq_2p+24(%rip), %r8
    cmovncq %rbx, %r9
    cmovncq %rcx, %r10
    cmovncq %rbp, %r11
    cmovncq %r8, %r12
    movq    %r9, %rbx
    movq    %r10, %rcx
    movq    %r11, %rbp
    movq    %r12, %r8
    subq    .Lvs_fq_p(%rip), %rbx
    sbbq    .Lvs_fq_p+8(%rip), %rcx
    sbbq    .Lvs_fq_p+16(%rip), %rbp
    sbbq    .Lvs_fq_p+24(%rip), %r8
    cmovncq %rbx, %r9
    cmovncq %rcx, %r10
    cmovncq %rbp, %r11
    cmovncq %r8, %r12
    movq    %r9, \DOFF(\DREG)
    movq    %r10, \DOFF+8(\DREG)
    movq    %r11, \DOFF+16(\DREG)
    movq    %r12, \DOFF+24(\DREG)
.endm

/* Montgomery reduction of V: (V + m p) / 2^256 (m < 2^256, so below V / 2^256 + p), left
   unreduced in the five limbs (r9, r10, r11, r12, r15). */
.macro VS_V_REDC
    VS_RED_ROW %rbx, %rcx, %rbp, %r8
    VS_RED_ROW %rcx, %rbp, %r8, %rbx
    VS_RED_ROW %rbp, %r8, %rbx, %rcx
    VS_RED_ROW %r8, %rbx, %rcx, %rbp
    addq    %rbx, %r9
    adcq    %rcx, %r10
    adcq    %rbp, %r11
    adcq    %r8, %r12
    adcq    $0, %r15
.endm

/* The same, stored as five limbs at DOFF(%rsp). */
.macro VS_V_REDC_STORE DOFF
    VS_V_REDC
    movq    %r9, \DOFF(%rsp)
    movq    %r10, \DOFF+8(%rsp)
    movq    %r11, \DOFF+16(%rsp)
    movq    %r12, \DOFF+24(%rsp)
    movq    %r15, \DOFF+32(%rsp)
.endm


/* Four-limb sums of an input Fq2 x at XOFF(%rsi) into the stack: x0 + x1 at D, x0 + p - x1 at
   D + 32, 2 x1 at D + 64 (each below 2p). */
.macro VS_SQR_SUMS XOFF, D
    movq    \XOFF(%rsi), %rax
    movq    \XOFF+8(%rsi), %rbx
    movq    \XOFF+16(%rsi), %rcx
    movq    \XOFF+24(%rsi), %rdx
    addq    \XOFF+32(%rsi), %rax
    adcq    \XOFF+40(%rsi), %rbx
    adcq    \XOFF+48(%rsi), %rcx
    adcq    \XOFF+56(%rsi), %rdx
    movq    %rax, \D(%rsp)
    movq    %rbx, \D+8(%rsp)
    movq    %rcx, \D+16(%rsp)
    movq    %rdx, \D+24(%rsp)
    movq    .Lvs_fq_p(%rip), %rax
    movq    .Lvs_fq_p+8(%rip), %rbx
    movq    .Lvs_fq_p+16(%rip), %rcx
    movq    .Lvs_fq_p+24(%rip), %rdx
    subq    \XOFF+32(%rsi), %rax
    sbbq    \XOFF+40(%rsi), %rbx
    sbbq    \XOFF+48(%rsi), %rcx
    sbbq    \XOFF+56(%rsi), %rdx
    addq    \XOFF(%rsi), %rax
    adcq    \XOFF+8(%rsi), %rbx
    adcq    \XOFF+16(%rsi), %rcx
    adcq    \XOFF+24(%rsi), %rdx
    movq    %rax, \D+32(%rsp)
    movq    %rbx, \D+40(%rsp)
    movq    %rcx, \D+48(%rsp)
    movq    %rdx, \D+56(%rsp)
    movq    \XOFF+32(%rsi), %rax
    movq    \XOFF+40(%rsi), %rbx
    movq    \XOFF+48(%rsi), %rcx
    movq    \XOFF+56(%rsi), %rdx
    addq    %rax, %rax
    adcq    %rbx, %rbx
    adcq    %rcx, %rcx
    adcq    %rdx, %rdx
    movq    %rax, \D+64(%rsp)
    movq    %rbx, \D+72(%rsp)
    movq    %rcx, \D+80(%rsp)
    movq    %rdx, \D+88(%rsp)
.endm

/* Stack of the cyclotomic squaring: sums of x at 0 (x0 + x1, x0 + p - x1, 2 x1) and of y at 96;
   products at 192: x^2.c0, x^2.c1, y^2.c0, y^2.c1, w^2.c0, w^2.c1 (64 bytes each); C0, C1 at 640;
   results at 768 (per pair: t.c0, t.c1, c.c0, c.c1, five limbs each, 160 bytes); sums of w at
   1248 (w0 + w1, w0 + 2p - w1, 2 w1, w0). */
#define CY_SX 0
#define CY_SY 96
#define CY_XX0 192
#define CY_XX1 256
#define CY_YY0 320
#define CY_YY1 384
#define CY_QQ0 448
#define CY_QQ1 512
#define CY_W 1248
#define CY_U0 640
#define CY_U1 704
#define CY_RES 768
#define CY_FRAME 1376

/* The Fq4 square of the pair (x, y) at XOFF, YOFF(%rsi): t and c = 2xy (or xi c when XI is 1) at
   RES(%rsp), each coefficient the five-limb Montgomery reduction of its V (below V / 2^256 + p:
   t.c0 < 9.6p, t.c1 < 5.6p, c.c0 < 3.2p, c.c1 < 1.8p, xi c: c0 < 21.2p, c1 < 9.9p), not yet
   reduced mod p (`VS_LIN_MINUS` and `VS_LIN_PLUS` do that once, after their sums). */
.macro VS_FQ4_SQR XOFF, YOFF, RES, XI
    VS_SQR_SUMS \XOFF, CY_SX
    VS_SQR_SUMS \YOFF, CY_SY
    /* w = x + y (coefficients below 2p): w0 + w1 at CY_W, w0 + 2p - w1 at +32, 2 w1 at +64, w0 at
       +96 (each below 4p < 2^256) */
    movq    \XOFF(%rsi), %r8
    movq    \XOFF+8(%rsi), %r9
    movq    \XOFF+16(%rsi), %r10
    movq    \XOFF+24(%rsi), %r11
    addq    \YOFF(%rsi), %r8
    adcq    \YOFF+8(%rsi), %r9
    adcq    \YOFF+16(%rsi), %r10
    adcq    \YOFF+24(%rsi), %r11
    movq    %r8, CY_W+96(%rsp)
    movq    %r9, CY_W+104(%rsp)
    movq    %r10, CY_W+112(%rsp)
    movq    %r11, CY_W+120(%rsp)
    movq    \XOFF+32(%rsi), %r12
    movq    \XOFF+40(%rsi), %r13
    movq    \XOFF+48(%rsi), %r14
    movq    \XOFF+56(%rsi), %r15
    addq    \YOFF+32(%rsi), %r12
    adcq    \YOFF+40(%rsi), %r13
    adcq    \YOFF+48(%rsi), %r14
    adcq    \YOFF+56(%rsi), %r15
    movq    %r8, %rax
    movq    %r9, %rbx
    movq    %r10, %rcx
    movq    %r11, %rdx
    addq    %r12, %rax
    adcq    %r13, %rbx
    adcq    %r14, %rcx
    adcq    %r15, %rdx
    movq    %rax, CY_W(%rsp)
    movq    %rbx, CY_W+8(%rsp)
    movq    %rcx, CY_W+16(%rsp)
    movq    %rdx, CY_W+24(%rsp)
    movq    .Lvs_fq_2p(%rip), %rax
    movq    .Lvs_fq_2p+8(%rip), %rbx
    movq    .Lvs_fq_2p+16(%rip), %rcx
    movq    .Lvs_fq_2p+24(%rip), %rdx
    subq    %r12, %rax
    sbbq    %r13, %rbx
    sbbq    %r14, %rcx
    sbbq    %r15, %rdx
    addq    %r8, %rax
    adcq    %r9, %rbx
    adcq    %r10, %rcx
    adcq    %r11, %rdx
    movq    %rax, CY_W+32(%rsp)
    movq    %rbx, CY_W+40(%rsp)
    movq    %rcx, CY_W+48(%rsp)
    movq    %rdx, CY_W+56(%rsp)
    addq    %r12, %r12
    adcq    %r13, %r13
    adcq    %r14, %r14
    adcq    %r15, %r15
    movq    %r12, CY_W+64(%rsp)
    movq    %r13, CY_W+72(%rsp)
    movq    %r14, CY_W+80(%rsp)
    movq    %r15, CY_W+88(%rsp)
    VS_MUL_WIDE CY_SX, %rsp, CY_SX+32, %rsp, CY_XX0, %rsp
    VS_MUL_WIDE \XOFF, %rsi, CY_SX+64, %rsp, CY_XX1, %rsp
    VS_MUL_WIDE CY_SY, %rsp, CY_SY+32, %rsp, CY_YY0, %rsp
    VS_MUL_WIDE \YOFF, %rsi, CY_SY+64, %rsp, CY_YY1, %rsp
    VS_MUL_WIDE CY_W, %rsp, CY_W+32, %rsp, CY_QQ0, %rsp
    VS_MUL_WIDE CY_W+96, %rsp, CY_W+64, %rsp, CY_QQ1, %rsp
    /* t.c0 = 9 y^2.c0 + x^2.c0 + M - y^2.c1 */
    VS_V_MUL 9, CY_YY0
    VS_V_ADD CY_XX0
    VS_V_ADD_M
    VS_V_SUB CY_YY1
    VS_V_REDC_STORE \RES
    /* t.c1 = 9 y^2.c1 + y^2.c0 + x^2.c1 */
    VS_V_MUL 9, CY_YY1
    VS_V_ADD CY_YY0
    VS_V_ADD CY_XX1
    VS_V_REDC_STORE \RES+40
    /* c = 2xy = w^2 - x^2 - y^2: C0 = w^2.c0 - x^2.c0 - y^2.c0 + M, C1 = w^2.c1 - x^2.c1 - y^2.c1 */
.if \XI
    /* then xi c = (9 C0 + M - C1, 9 C1 + C0) */
    VS_V_LOAD CY_QQ0
    VS_V_SUB CY_XX0
    VS_V_SUB CY_YY0
    VS_V_ADD_M
    movq    %rbx, CY_U0(%rsp)
    movq    %rcx, CY_U0+8(%rsp)
    movq    %rbp, CY_U0+16(%rsp)
    movq    %r8, CY_U0+24(%rsp)
    movq    %r9, CY_U0+32(%rsp)
    movq    %r10, CY_U0+40(%rsp)
    movq    %r11, CY_U0+48(%rsp)
    movq    %r12, CY_U0+56(%rsp)
    VS_V_LOAD CY_QQ1
    VS_V_SUB CY_XX1
    VS_V_SUB CY_YY1
    movq    %rbx, CY_U1(%rsp)
    movq    %rcx, CY_U1+8(%rsp)
    movq    %rbp, CY_U1+16(%rsp)
    movq    %r8, CY_U1+24(%rsp)
    movq    %r9, CY_U1+32(%rsp)
    movq    %r10, CY_U1+40(%rsp)
    movq    %r11, CY_U1+48(%rsp)
    movq    %r12, CY_U1+56(%rsp)
    VS_V_MUL 9, CY_U0
    VS_V_ADD_M
    VS_V_SUB CY_U1
    VS_V_REDC_STORE \RES+80
    VS_V_MUL 9, CY_U1
    VS_V_ADD CY_U0
    VS_V_REDC_STORE \RES+120
.else
    VS_V_LOAD CY_QQ0
    VS_V_SUB CY_XX0
    VS_V_SUB CY_YY0
    VS_V_ADD_M
    VS_V_REDC_STORE \RES+80
    VS_V_LOAD CY_QQ1
    VS_V_SUB CY_XX1
    VS_V_SUB CY_YY1
    VS_V_REDC_STORE \RES+120
.endif
.endm

/* %r9, %r10, %r11, %r12, %r15 = 3t, t the five-limb value at TOFF(%rsp) (the callers bound t so
   that 3t stays within five limbs). */
.macro VS_TRIPLE5 TOFF
    movq    \TOFF(%rsp), %r9
    movq    \TOFF+8(%rsp), %r10
    movq    \TOFF+16(%rsp), %r11
    movq    \TOFF+24(%rsp), %r12
    movq    \TOFF+32(%rsp), %r15
    addq    %r9, %r9
    adcq    %r10, %r10
    adcq    %r11, %r11
    adcq    %r12, %r12
    adcq    %r15, %r15
    addq    \TOFF(%rsp), %r9
    adcq    \TOFF+8(%rsp), %r10
    adcq    \TOFF+16(%rsp), %r11
    adcq    \TOFF+24(%rsp), %r12
    adcq    \TOFF+32(%rsp), %r15
.endm

/* r = 3t - 2z = 3t + 2(p - z) reduced, t the five-limb value at TOFF(%rsp) (below 9.6p: the sum
   is below 31p), z at ZOFF(%rsi), into ZOFF(%rdi). */
.macro VS_LIN_MINUS TOFF, ZOFF
    VS_TRIPLE5 \TOFF
    movq    .Lvs_fq_2p(%rip), %rbx
    movq    .Lvs_fq_2p+8(%rip), %rcx
    movq    .Lvs_fq_2p+16(%rip), %rbp
    movq    .Lvs_fq_2p+24(%rip), %r8
    subq    \ZOFF(%rsi), %rbx
    sbbq    \ZOFF+8(%rsi), %rcx
    sbbq    \ZOFF+16(%rsi), %rbp
    sbbq    \ZOFF+24(%rsi), %r8
    subq    \ZOFF(%rsi), %rbx
    sbbq    \ZOFF+8(%rsi), %rcx
    sbbq    \ZOFF+16(%rsi), %rbp
    sbbq    \ZOFF+24(%rsi), %r8
    addq    %rbx, %r9
    adcq    %rcx, %r10
    adcq    %rbp, %r11
    adcq    %r8, %r12
    adcq    $0, %r15
    VS_RED5 \ZOFF, %rdi
.endm

/* r = 3c + 2z reduced, c the five-limb value at TOFF(%rsp) (below 21.2p: the sum is below 66p),
   z at ZOFF(%rsi), into ZOFF(%rdi). */
.macro VS_LIN_PLUS TOFF, ZOFF
    VS_TRIPLE5 \TOFF
    movq    \ZOFF(%rsi), %rbx
    movq    \ZOFF+8(%rsi), %rcx
    movq    \ZOFF+16(%rsi), %rbp
    movq    \ZOFF+24(%rsi), %r8
    addq    %rbx, %rbx
    adcq    %rcx, %rcx
    adcq    %rbp, %rbp
    adcq    %r8, %r8
    addq    %rbx, %r9
    adcq    %rcx, %r10
    adcq    %rbp, %r11
    adcq    %r8, %r12
    adcq    $0, %r15
    VS_RED5 \ZOFF, %rdi
.endm

    .text
    .globl  vs_bn254_fq12_cyclotomic_sqr_adx
    .type   vs_bn254_fq12_cyclotomic_sqr_adx, @function
    .p2align 5
vs_bn254_fq12_cyclotomic_sqr_adx:
    .cfi_startproc
    VS_SAVE_CALLEE_SAVED CY_FRAME
    /* a.c0 = (z0, z4, z3) at 0, 64, 128; a.c1 = (z2, z1, z5) at 192, 256, 320 */
    VS_FQ4_SQR 0, 256, CY_RES, 0
    VS_FQ4_SQR 192, 128, CY_RES+160, 0
    VS_FQ4_SQR 64, 320, CY_RES+320, 1
    VS_LIN_MINUS CY_RES, 0
    VS_LIN_MINUS CY_RES+40, 32
    VS_LIN_PLUS CY_RES+80, 256
    VS_LIN_PLUS CY_RES+120, 288
    VS_LIN_MINUS CY_RES+160, 64
    VS_LIN_MINUS CY_RES+200, 96
    VS_LIN_PLUS CY_RES+240, 320
    VS_LIN_PLUS CY_RES+280, 352
    VS_LIN_MINUS CY_RES+320, 128
    VS_LIN_MINUS CY_RES+360, 160
    VS_LIN_PLUS CY_RES+400, 192
    VS_LIN_PLUS CY_RES+440, 224
    VS_RESTORE_CALLEE_SAVED_AND_RETURN CY_FRAME
    .cfi_endproc
    .size   vs_bn254_fq12_cyclotomic_sqr_adx, .-vs_bn254_fq12_cyclotomic_sqr_adx

    .section .rodata
    .p2align 5
.Lvs_fq_p:
    .quad   0x3c208c16d87cfd47, 0x97816a916871ca8d, 0xb85045b68181585d, 0x30644e72e131a029
.Lvs_fq_2p:
    .quad   0x7841182db0f9fa8e, 0x2f02d522d0e3951a, 0x70a08b6d0302b0bb, 0x60c89ce5c2634053
.Lvs_fq_inv:
    .quad   0x87d20782e4866389
    .p2align 3
/* k p for k = 0..127, five limbs each (the first 16 rows are pairing.c's KP). */
.Lvs_fq_kp:
    .quad   0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000, 0x0000000000000000
    .quad   0x3c208c16d87cfd47, 0x97816a916871ca8d, 0xb85045b68181585d, 0x30644e72e131a029, 0x0000000000000000
    .quad   0x7841182db0f9fa8e, 0x2f02d522d0e3951a, 0x70a08b6d0302b0bb, 0x60c89ce5c2634053, 0x0000000000000000
    .quad   0xb461a4448976f7d5, 0xc6843fb439555fa7, 0x28f0d12384840918, 0x912ceb58a394e07d, 0x0000000000000000
    .quad   0xf082305b61f3f51c, 0x5e05aa45a1c72a34, 0xe14116da06056176, 0xc19139cb84c680a6, 0x0000000000000000
    .quad   0x2ca2bc723a70f263, 0xf58714d70a38f4c2, 0x99915c908786b9d3, 0xf1f5883e65f820d0, 0x0000000000000000
    .quad   0x68c3488912edefaa, 0x8d087f6872aabf4f, 0x51e1a24709081231, 0x2259d6b14729c0fa, 0x0000000000000001
    .quad   0xa4e3d49feb6aecf1, 0x2489e9f9db1c89dc, 0x0a31e7fd8a896a8f, 0x52be2524285b6124, 0x0000000000000001
    .quad   0xe10460b6c3e7ea38, 0xbc0b548b438e5469, 0xc2822db40c0ac2ec, 0x83227397098d014d, 0x0000000000000001
    .quad   0x1d24eccd9c64e77f, 0x538cbf1cac001ef7, 0x7ad2736a8d8c1b4a, 0xb386c209eabea177, 0x0000000000000001
    .quad   0x594578e474e1e4c6, 0xeb0e29ae1471e984, 0x3322b9210f0d73a7, 0xe3eb107ccbf041a1, 0x0000000000000001
    .quad   0x956604fb4d5ee20d, 0x828f943f7ce3b411, 0xeb72fed7908ecc05, 0x144f5eefad21e1ca, 0x0000000000000002
    .quad   0xd186911225dbdf54, 0x1a10fed0e5557e9e, 0xa3c3448e12102463, 0x44b3ad628e5381f4, 0x0000000000000002
    .quad   0x0da71d28fe58dc9b, 0xb19269624dc7492c, 0x5c138a4493917cc0, 0x7517fbd56f85221e, 0x0000000000000002
    .quad   0x49c7a93fd6d5d9e2, 0x4913d3f3b63913b9, 0x1463cffb1512d51e, 0xa57c4a4850b6c248, 0x0000000000000002
    .quad   0x85e83556af52d729, 0xe0953e851eaade46, 0xccb415b196942d7b, 0xd5e098bb31e86271, 0x0000000000000002
    .quad   0xc208c16d87cfd470, 0x7816a916871ca8d3, 0x85045b68181585d9, 0x0644e72e131a029b, 0x0000000000000003
    .quad   0xfe294d84604cd1b7, 0x0f9813a7ef8e7360, 0x3d54a11e9996de37, 0x36a935a0f44ba2c5, 0x0000000000000003
    .quad   0x3a49d99b38c9cefe, 0xa7197e3958003dee, 0xf5a4e6d51b183694, 0x670d8413d57d42ee, 0x0000000000000003
    .quad   0x766a65b21146cc45, 0x3e9ae8cac072087b, 0xadf52c8b9c998ef2, 0x9771d286b6aee318, 0x0000000000000003
    .quad   0xb28af1c8e9c3c98c, 0xd61c535c28e3d308, 0x664572421e1ae74f, 0xc7d620f997e08342, 0x0000000000000003
    .quad   0xeeab7ddfc240c6d3, 0x6d9dbded91559d95, 0x1e95b7f89f9c3fad, 0xf83a6f6c7912236c, 0x0000000000000003
    .quad   0x2acc09f69abdc41a, 0x051f287ef9c76823, 0xd6e5fdaf211d980b, 0x289ebddf5a43c395, 0x0000000000000004
    .quad   0x66ec960d733ac161, 0x9ca09310623932b0, 0x8f364365a29ef068, 0x59030c523b7563bf, 0x0000000000000004
    .quad   0xa30d22244bb7bea8, 0x3421fda1caaafd3d, 0x4786891c242048c6, 0x89675ac51ca703e9, 0x0000000000000004
    .quad   0xdf2dae3b2434bbef, 0xcba36833331cc7ca, 0xffd6ced2a5a1a123, 0xb9cba937fdd8a412, 0x0000000000000004
    .quad   0x1b4e3a51fcb1b936, 0x6324d2c49b8e9258, 0xb82714892722f981, 0xea2ff7aadf0a443c, 0x0000000000000004
    .quad   0x576ec668d52eb67d, 0xfaa63d5604005ce5, 0x70775a3fa8a451de, 0x1a94461dc03be466, 0x0000000000000005
    .quad   0x938f527fadabb3c4, 0x9227a7e76c722772, 0x28c79ff62a25aa3c, 0x4af89490a16d8490, 0x0000000000000005
    .quad   0xcfafde968628b10b, 0x29a91278d4e3f1ff, 0xe117e5acaba7029a, 0x7b5ce303829f24b9, 0x0000000000000005
    .quad   0x0bd06aad5ea5ae52, 0xc12a7d0a3d55bc8d, 0x99682b632d285af7, 0xabc1317663d0c4e3, 0x0000000000000005
    .quad   0x47f0f6c43722ab99, 0x58abe79ba5c7871a, 0x51b87119aea9b355, 0xdc257fe94502650d, 0x0000000000000005
    .quad   0x841182db0f9fa8e0, 0xf02d522d0e3951a7, 0x0a08b6d0302b0bb2, 0x0c89ce5c26340537, 0x0000000000000006
    .quad   0xc0320ef1e81ca627, 0x87aebcbe76ab1c34, 0xc258fc86b1ac6410, 0x3cee1ccf0765a560, 0x0000000000000006
    .quad   0xfc529b08c099a36e, 0x1f30274fdf1ce6c1, 0x7aa9423d332dbc6e, 0x6d526b41e897458a, 0x0000000000000006
    .quad   0x3873271f9916a0b5, 0xb6b191e1478eb14f, 0x32f987f3b4af14cb, 0x9db6b9b4c9c8e5b4, 0x0000000000000006
    .quad   0x7493b33671939dfc, 0x4e32fc72b0007bdc, 0xeb49cdaa36306d29, 0xce1b0827aafa85dd, 0x0000000000000006
    .quad   0xb0b43f4d4a109b43, 0xe5b4670418724669, 0xa39a1360b7b1c586, 0xfe7f569a8c2c2607, 0x0000000000000006
    .quad   0xecd4cb64228d988a, 0x7d35d19580e410f6, 0x5bea591739331de4, 0x2ee3a50d6d5dc631, 0x0000000000000007
    .quad   0x28f5577afb0a95d1, 0x14b73c26e955db84, 0x143a9ecdbab47642, 0x5f47f3804e8f665b, 0x0000000000000007
    .quad   0x6515e391d3879318, 0xac38a6b851c7a611, 0xcc8ae4843c35ce9f, 0x8fac41f32fc10684, 0x0000000000000007
    .quad   0xa1366fa8ac04905f, 0x43ba1149ba39709e, 0x84db2a3abdb726fd, 0xc010906610f2a6ae, 0x0000000000000007
    .quad   0xdd56fbbf84818da6, 0xdb3b7bdb22ab3b2b, 0x3d2b6ff13f387f5a, 0xf074ded8f22446d8, 0x0000000000000007
    .quad   0x197787d65cfe8aed, 0x72bce66c8b1d05b9, 0xf57bb5a7c0b9d7b8, 0x20d92d4bd355e701, 0x0000000000000008
    .quad   0x559813ed357b8834, 0x0a3e50fdf38ed046, 0xadcbfb5e423b3016, 0x513d7bbeb487872b, 0x0000000000000008
    .quad   0x91b8a0040df8857b, 0xa1bfbb8f5c009ad3, 0x661c4114c3bc8873, 0x81a1ca3195b92755, 0x0000000000000008
    .quad   0xcdd92c1ae67582c2, 0x39412620c4726560, 0x1e6c86cb453de0d1, 0xb20618a476eac77f, 0x0000000000000008
    .quad   0x09f9b831bef28009, 0xd0c290b22ce42fee, 0xd6bccc81c6bf392e, 0xe26a6717581c67a8, 0x0000000000000008
    .quad   0x461a4448976f7d50, 0x6843fb439555fa7b, 0x8f0d12384840918c, 0x12ceb58a394e07d2, 0x0000000000000009
    .quad   0x823ad05f6fec7a97, 0xffc565d4fdc7c508, 0x475d57eec9c1e9e9, 0x433303fd1a7fa7fc, 0x0000000000000009
    .quad   0xbe5b5c76486977de, 0x9746d06666398f95, 0xffad9da54b434247, 0x7397526ffbb14825, 0x0000000000000009
    .quad   0xfa7be88d20e67525, 0x2ec83af7ceab5a22, 0xb7fde35bccc49aa5, 0xa3fba0e2dce2e84f, 0x0000000000000009
    .quad   0x369c74a3f963726c, 0xc649a589371d24b0, 0x704e29124e45f302, 0xd45fef55be148879, 0x0000000000000009
    .quad   0x72bd00bad1e06fb3, 0x5dcb101a9f8eef3d, 0x289e6ec8cfc74b60, 0x04c43dc89f4628a3, 0x000000000000000a
    .quad   0xaedd8cd1aa5d6cfa, 0xf54c7aac0800b9ca, 0xe0eeb47f5148a3bd, 0x35288c3b8077c8cc, 0x000000000000000a
    .quad   0xeafe18e882da6a41, 0x8ccde53d70728457, 0x993efa35d2c9fc1b, 0x658cdaae61a968f6, 0x000000000000000a
    .quad   0x271ea4ff5b576788, 0x244f4fced8e44ee5, 0x518f3fec544b5479, 0x95f1292142db0920, 0x000000000000000a
    .quad   0x633f311633d464cf, 0xbbd0ba6041561972, 0x09df85a2d5ccacd6, 0xc6557794240ca94a, 0x000000000000000a
    .quad   0x9f5fbd2d0c516216, 0x535224f1a9c7e3ff, 0xc22fcb59574e0534, 0xf6b9c607053e4973, 0x000000000000000a
    .quad   0xdb804943e4ce5f5d, 0xead38f831239ae8c, 0x7a80110fd8cf5d91, 0x271e1479e66fe99d, 0x000000000000000b
    .quad   0x17a0d55abd4b5ca4, 0x8254fa147aab791a, 0x32d056c65a50b5ef, 0x578262ecc7a189c7, 0x000000000000000b
    .quad   0x53c1617195c859eb, 0x19d664a5e31d43a7, 0xeb209c7cdbd20e4d, 0x87e6b15fa8d329f0, 0x000000000000000b
    .quad   0x8fe1ed886e455732, 0xb157cf374b8f0e34, 0xa370e2335d5366aa, 0xb84affd28a04ca1a, 0x000000000000000b
    .quad   0xcc02799f46c25479, 0x48d939c8b400d8c1, 0x5bc127e9ded4bf08, 0xe8af4e456b366a44, 0x000000000000000b
    .quad   0x082305b61f3f51c0, 0xe05aa45a1c72a34f, 0x14116da060561765, 0x19139cb84c680a6e, 0x000000000000000c
    .quad   0x444391ccf7bc4f07, 0x77dc0eeb84e46ddc, 0xcc61b356e1d76fc3, 0x4977eb2b2d99aa97, 0x000000000000000c
    .quad   0x80641de3d0394c4e, 0x0f5d797ced563869, 0x84b1f90d6358c821, 0x79dc399e0ecb4ac1, 0x000000000000000c
    .quad   0xbc84a9faa8b64995, 0xa6dee40e55c802f6, 0x3d023ec3e4da207e, 0xaa408810effceaeb, 0x000000000000000c
    .quad   0xf8a53611813346dc, 0x3e604e9fbe39cd83, 0xf552847a665b78dc, 0xdaa4d683d12e8b14, 0x000000000000000c
    .quad   0x34c5c22859b04423, 0xd5e1b93126ab9811, 0xada2ca30e7dcd139, 0x0b0924f6b2602b3e, 0x000000000000000d
    .quad   0x70e64e3f322d416a, 0x6d6323c28f1d629e, 0x65f30fe7695e2997, 0x3b6d73699391cb68, 0x000000000000000d
    .quad   0xad06da560aaa3eb1, 0x04e48e53f78f2d2b, 0x1e43559deadf81f5, 0x6bd1c1dc74c36b92, 0x000000000000000d
    .quad   0xe927666ce3273bf8, 0x9c65f8e56000f7b8, 0xd6939b546c60da52, 0x9c36104f55f50bbb, 0x000000000000000d
    .quad   0x2547f283bba4393f, 0x33e76376c872c246, 0x8ee3e10aede232b0, 0xcc9a5ec23726abe5, 0x000000000000000d
    .quad   0x61687e9a94213686, 0xcb68ce0830e48cd3, 0x473426c16f638b0d, 0xfcfead3518584c0f, 0x000000000000000d
    .quad   0x9d890ab16c9e33cd, 0x62ea389999565760, 0xff846c77f0e4e36b, 0x2d62fba7f989ec38, 0x000000000000000e
    .quad   0xd9a996c8451b3114, 0xfa6ba32b01c821ed, 0xb7d4b22e72663bc8, 0x5dc74a1adabb8c62, 0x000000000000000e
    .quad   0x15ca22df1d982e5b, 0x91ed0dbc6a39ec7b, 0x7024f7e4f3e79426, 0x8e2b988dbbed2c8c, 0x000000000000000e
    .quad   0x51eaaef5f6152ba2, 0x296e784dd2abb708, 0x28753d9b7568ec84, 0xbe8fe7009d1eccb6, 0x000000000000000e
    .quad   0x8e0b3b0cce9228e9, 0xc0efe2df3b1d8195, 0xe0c58351f6ea44e1, 0xeef435737e506cdf, 0x000000000000000e
    .quad   0xca2bc723a70f2630, 0x58714d70a38f4c22, 0x9915c908786b9d3f, 0x1f5883e65f820d09, 0x000000000000000f
    .quad   0x064c533a7f8c2377, 0xeff2b8020c0116b0, 0x51660ebef9ecf59c, 0x4fbcd25940b3ad33, 0x000000000000000f
    .quad   0x426cdf51580920be, 0x877422937472e13d, 0x09b654757b6e4dfa, 0x802120cc21e54d5d, 0x000000000000000f
    .quad   0x7e8d6b6830861e05, 0x1ef58d24dce4abca, 0xc2069a2bfcefa658, 0xb0856f3f0316ed86, 0x000000000000000f
    .quad   0xbaadf77f09031b4c, 0xb676f7b645567657, 0x7a56dfe27e70feb5, 0xe0e9bdb1e4488db0, 0x000000000000000f
    .quad   0xf6ce8395e1801893, 0x4df86247adc840e4, 0x32a72598fff25713, 0x114e0c24c57a2dda, 0x0000000000000010
    .quad   0x32ef0facb9fd15da, 0xe579ccd9163a0b72, 0xeaf76b4f8173af70, 0x41b25a97a6abce03, 0x0000000000000010
    .quad   0x6f0f9bc3927a1321, 0x7cfb376a7eabd5ff, 0xa347b10602f507ce, 0x7216a90a87dd6e2d, 0x0000000000000010
    .quad   0xab3027da6af71068, 0x147ca1fbe71da08c, 0x5b97f6bc8476602c, 0xa27af77d690f0e57, 0x0000000000000010
    .quad   0xe750b3f143740daf, 0xabfe0c8d4f8f6b19, 0x13e83c7305f7b889, 0xd2df45f04a40ae81, 0x0000000000000010
    .quad   0x237140081bf10af6, 0x437f771eb80135a7, 0xcc388229877910e7, 0x034394632b724eaa, 0x0000000000000011
    .quad   0x5f91cc1ef46e083d, 0xdb00e1b020730034, 0x8488c7e008fa6944, 0x33a7e2d60ca3eed4, 0x0000000000000011
    .quad   0x9bb25835cceb0584, 0x72824c4188e4cac1, 0x3cd90d968a7bc1a2, 0x640c3148edd58efe, 0x0000000000000011
    .quad   0xd7d2e44ca56802cb, 0x0a03b6d2f156954e, 0xf529534d0bfd1a00, 0x94707fbbcf072f27, 0x0000000000000011
    .quad   0x13f370637de50012, 0xa185216459c85fdc, 0xad7999038d7e725d, 0xc4d4ce2eb038cf51, 0x0000000000000011
    .quad   0x5013fc7a5661fd59, 0x39068bf5c23a2a69, 0x65c9deba0effcabb, 0xf5391ca1916a6f7b, 0x0000000000000011
    .quad   0x8c3488912edefaa0, 0xd087f6872aabf4f6, 0x1e1a247090812318, 0x259d6b14729c0fa5, 0x0000000000000012
    .quad   0xc85514a8075bf7e7, 0x68096118931dbf83, 0xd66a6a2712027b76, 0x5601b98753cdafce, 0x0000000000000012
    .quad   0x0475a0bedfd8f52e, 0xff8acba9fb8f8a11, 0x8ebaafdd9383d3d3, 0x866607fa34ff4ff8, 0x0000000000000012
    .quad   0x40962cd5b855f275, 0x970c363b6401549e, 0x470af59415052c31, 0xb6ca566d1630f022, 0x0000000000000012
    .quad   0x7cb6b8ec90d2efbc, 0x2e8da0cccc731f2b, 0xff5b3b4a9686848f, 0xe72ea4dff762904b, 0x0000000000000012
    .quad   0xb8d74503694fed03, 0xc60f0b5e34e4e9b8, 0xb7ab81011807dcec, 0x1792f352d8943075, 0x0000000000000013
    .quad   0xf4f7d11a41ccea4a, 0x5d9075ef9d56b445, 0x6ffbc6b79989354a, 0x47f741c5b9c5d09f, 0x0000000000000013
    .quad   0x31185d311a49e791, 0xf511e08105c87ed3, 0x284c0c6e1b0a8da7, 0x785b90389af770c9, 0x0000000000000013
    .quad   0x6d38e947f2c6e4d8, 0x8c934b126e3a4960, 0xe09c52249c8be605, 0xa8bfdeab7c2910f2, 0x0000000000000013
    .quad   0xa959755ecb43e21f, 0x2414b5a3d6ac13ed, 0x98ec97db1e0d3e63, 0xd9242d1e5d5ab11c, 0x0000000000000013
    .quad   0xe57a0175a3c0df66, 0xbb9620353f1dde7a, 0x513cdd919f8e96c0, 0x09887b913e8c5146, 0x0000000000000014
    .quad   0x219a8d8c7c3ddcad, 0x53178ac6a78fa908, 0x098d2348210fef1e, 0x39ecca041fbdf170, 0x0000000000000014
    .quad   0x5dbb19a354bad9f4, 0xea98f55810017395, 0xc1dd68fea291477b, 0x6a51187700ef9199, 0x0000000000000014
    .quad   0x99dba5ba2d37d73b, 0x821a5fe978733e22, 0x7a2daeb524129fd9, 0x9ab566e9e22131c3, 0x0000000000000014
    .quad   0xd5fc31d105b4d482, 0x199bca7ae0e508af, 0x327df46ba593f837, 0xcb19b55cc352d1ed, 0x0000000000000014
    .quad   0x121cbde7de31d1c9, 0xb11d350c4956d33d, 0xeace3a2227155094, 0xfb7e03cfa4847216, 0x0000000000000014
    .quad   0x4e3d49feb6aecf10, 0x489e9f9db1c89dca, 0xa31e7fd8a896a8f2, 0x2be2524285b61240, 0x0000000000000015
    .quad   0x8a5dd6158f2bcc57, 0xe0200a2f1a3a6857, 0x5b6ec58f2a18014f, 0x5c46a0b566e7b26a, 0x0000000000000015
    .quad   0xc67e622c67a8c99e, 0x77a174c082ac32e4, 0x13bf0b45ab9959ad, 0x8caaef2848195294, 0x0000000000000015
    .quad   0x029eee434025c6e5, 0x0f22df51eb1dfd72, 0xcc0f50fc2d1ab20b, 0xbd0f3d9b294af2bd, 0x0000000000000015
    .quad   0x3ebf7a5a18a2c42c, 0xa6a449e3538fc7ff, 0x845f96b2ae9c0a68, 0xed738c0e0a7c92e7, 0x0000000000000015
    .quad   0x7ae00670f11fc173, 0x3e25b474bc01928c, 0x3cafdc69301d62c6, 0x1dd7da80ebae3311, 0x0000000000000016
    .quad   0xb7009287c99cbeba, 0xd5a71f0624735d19, 0xf500221fb19ebb23, 0x4e3c28f3ccdfd33a, 0x0000000000000016
    .quad   0xf3211e9ea219bc01, 0x6d2889978ce527a6, 0xad5067d633201381, 0x7ea07766ae117364, 0x0000000000000016
    .quad   0x2f41aab57a96b948, 0x04a9f428f556f234, 0x65a0ad8cb4a16bdf, 0xaf04c5d98f43138e, 0x0000000000000016
    .quad   0x6b6236cc5313b68f, 0x9c2b5eba5dc8bcc1, 0x1df0f3433622c43c, 0xdf69144c7074b3b8, 0x0000000000000016
    .quad   0xa782c2e32b90b3d6, 0x33acc94bc63a874e, 0xd64138f9b7a41c9a, 0x0fcd62bf51a653e1, 0x0000000000000017
    .quad   0xe3a34efa040db11d, 0xcb2e33dd2eac51db, 0x8e917eb0392574f7, 0x4031b13232d7f40b, 0x0000000000000017
    .quad   0x1fc3db10dc8aae64, 0x62af9e6e971e1c69, 0x46e1c466baa6cd55, 0x7095ffa514099435, 0x0000000000000017
    .quad   0x5be46727b507abab, 0xfa3108ffff8fe6f6, 0xff320a1d3c2825b2, 0xa0fa4e17f53b345e, 0x0000000000000017
    .quad   0x9804f33e8d84a8f2, 0x91b273916801b183, 0xb7824fd3bda97e10, 0xd15e9c8ad66cd488, 0x0000000000000017
    .quad   0xd4257f556601a639, 0x2933de22d0737c10, 0x6fd2958a3f2ad66e, 0x01c2eafdb79e74b2, 0x0000000000000018

#endif

#if defined(__ELF__)
    .section .note.GNU-stack, "", @progbits
#endif
