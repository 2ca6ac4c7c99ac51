#ifndef VERISPLIT_CZLIB_SHIM_H
#define VERISPLIT_CZLIB_SHIM_H
/* zlib (zlib1g-dev): gzip decompression for IDX dataset files. */
#include <zlib.h>
#endif
