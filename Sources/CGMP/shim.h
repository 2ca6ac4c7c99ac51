#ifndef VERISPLIT_CGMP_SHIM_H
#define VERISPLIT_CGMP_SHIM_H
/* GMP's public API is mostly macros over __gmpz_* symbols; Swift calls those symbols directly. */
#include <gmp.h>
#endif
