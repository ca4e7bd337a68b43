/* SHA-256 of bytes in memory (engine/io/checksum.c; files: st_file_sha256 in weights.h). */
#ifndef STRATA_IO_CHECKSUM_H
#define STRATA_IO_CHECKSUM_H

#include <stddef.h>

/* out_hex: 64 lowercase hex digits and a NUL. 0, or -1 with an error. */
int st_sha256_hex(const void *data, size_t n, char out_hex[65]);

#endif
