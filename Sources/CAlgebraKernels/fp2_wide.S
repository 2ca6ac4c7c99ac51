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
    subq    $192, %rsp
    .cfi_adjust_cfa_offset 192
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

    addq    $192, %rsp
    .cfi_adjust_cfa_offset -192
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

    .section .rodata
    .p2align 5
.Lvs_fq_p:
    .quad   0x3c208c16d87cfd47, 0x97816a916871ca8d, 0xb85045b68181585d, 0x30644e72e131a029

#endif

#if defined(__ELF__)
    .section .note.GNU-stack, "", @progbits
#endif
