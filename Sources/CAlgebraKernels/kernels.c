#include "CAlgebraKernels.h"

int vs_algebra_kernel = VS_KERNEL_PORTABLE;
int vs_msm_kernel = VS_MSM_SCALAR;

int vs_algebra_best_kernel(void) {
#if VS_HAVE_ADX_ASM
    __builtin_cpu_init();
    if (__builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx")) return VS_KERNEL_ADX;
#endif
    return VS_KERNEL_PORTABLE;
}

int vs_algebra_set_kernel(int level) {
    int best = vs_algebra_best_kernel();
    int chosen = level < best ? (level < 0 ? VS_KERNEL_PORTABLE : level) : best;
    __atomic_store_n(&vs_algebra_kernel, chosen, __ATOMIC_RELAXED);
    return chosen;
}

int vs_msm_set_kernel(int level) {
    int best = vs_ifma_supported() ? VS_MSM_IFMA : VS_MSM_SCALAR;
    int chosen = level < best ? (level < 0 ? VS_MSM_SCALAR : level) : best;
    __atomic_store_n(&vs_msm_kernel, chosen, __ATOMIC_RELAXED);
    return chosen;
}

/* Chosen once when the library loads, before any Swift code runs. */
__attribute__((constructor)) static void vs_algebra_select_kernel(void) {
    __atomic_store_n(&vs_algebra_kernel, vs_algebra_best_kernel(), __ATOMIC_RELAXED);
    __atomic_store_n(&vs_msm_kernel, vs_ifma_supported() ? VS_MSM_IFMA : VS_MSM_SCALAR, __ATOMIC_RELAXED);
}
