/* File checksums (SHA-256) through OpenSSL's libcrypto, which libhdf5-dev
 * already depends on: no crypto of our own. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "../error.h"
#include "checksum.h"
#include "weights.h"

int st_file_sha256(const char *path, char out_hex[65]) {
  if (!path || !out_hex) return st_error("file_sha256: no file name given");
  out_hex[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (!f) return st_error("cannot open '%s': %s", path, strerror(errno));
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return st_error("%s: cannot start a SHA-256 digest", path);
  }
  unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  size_t n;
  int rc = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    if (EVP_DigestUpdate(ctx, buf, n) != 1) {
      rc = st_error("%s: SHA-256 digest failed", path);
      break;
    }
  if (rc == 0 && ferror(f)) rc = st_error("%s: read error: %s", path, strerror(errno));
  if (rc == 0 && (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32))
    rc = st_error("%s: SHA-256 digest failed", path);
  EVP_MD_CTX_free(ctx);
  fclose(f);
  if (rc != 0) return rc;
  for (unsigned i = 0; i < 32; i++) snprintf(out_hex + 2 * i, 3, "%02x", md[i]);
  return 0;
}

int st_sha256_hex(const void *data, size_t n, char out_hex[65]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  if (EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
    return st_error("SHA-256 digest failed");
  for (unsigned i = 0; i < 32; i++) snprintf(out_hex + 2 * i, 3, "%02x", md[i]);
  return 0;
}
