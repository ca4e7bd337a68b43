/* .npy writer: magic, version 1.0, a padded Python-dict header, raw data. */
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../error.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the header says '<f4' (little-endian); this writer copies host floats as they are"
#endif

int st_npy_save(const char *path, const st_tensor *t) {
  char dict[512];
  int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int i = 0; i < t->ndim; i++) n += snprintf(dict + n, sizeof dict - n, "%lld, ", (long long)t->shape[i]);
  if (t->ndim > 1) n -= 2; /* a 1-tuple keeps its comma: (5,) */
  else if (t->ndim == 1) n -= 1;
  n += snprintf(dict + n, sizeof dict - n, "), }");
  /* magic(6) + version(2) + length(2) + header, padded with spaces to 64 bytes, ending in '\n' */
  int total = 10 + n + 1;
  int pad = (64 - total % 64) % 64;
  char header[640];
  memcpy(header, "\x93NUMPY\x01\x00", 8);
  int hlen = n + pad + 1;
  header[8] = (char)(hlen & 0xff);
  header[9] = (char)(hlen >> 8);
  memcpy(header + 10, dict, n);
  memset(header + 10 + n, ' ', pad);
  header[10 + n + pad] = '\n';

  st_tensor *host = st_tensor_to(t, st_cpu());
  if (!host) return -1;
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    st_tensor_release(host);
    return st_error("%s: cannot write: %s", path, strerror(errno));
  }
  int ok = fwrite(header, 1, 10 + hlen, f) == (size_t)(10 + hlen) &&
           fwrite(st_tensor_data(host), sizeof(float), host->numel, f) == (size_t)host->numel;
  int err = ok ? 0 : (errno ? errno : EIO);
  st_tensor_release(host);
  if (fflush(f) != 0 && !err) err = errno;
  if (!err && fsync(fileno(f)) != 0) err = errno;
  if (fclose(f) != 0 && !err) err = errno;
  if (!err && rename(tmp, path) != 0) err = errno;
  if (err) {
    unlink(tmp);
    return st_error("%s: cannot write: %s", path, strerror(err));
  }
  return 0;
}
