/* The image data of a PNG (its IDAT chunk's zlib stream), compressed on
 * several threads (engine/io/png.c writes it between libpng's header and end). */
#ifndef STRATA_IO_PNG_IDAT_H
#define STRATA_IO_PNG_IDAT_H

#include <stddef.h>

/* The zlib stream of w x h 8-bit RGB rows (row-major, w * 3 bytes each),
 * each row given PNG's Sub filter, at zlib level 1 with Huffman coding only.
 * The rows are cut into up to `parts` runs compressed at once, one deflate
 * stream each, joined byte-aligned (a full flush ends every run but the last);
 * the stream's Adler-32 is combined from the runs'. Returns *len bytes in a
 * block of the CPU caching allocator (st_mem_free(st_cpu(), p) frees it), or
 * NULL when out of memory (with an error when the block was refused). */
unsigned char *st_png_idat(const unsigned char *rgb, int w, int h, int parts, size_t *len);

#endif
