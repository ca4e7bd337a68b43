/* libFuzzer target: the Engstrom/ml5 manifest importer (st_import_engstrom)
 * with arbitrary manifest.json text. The folder also holds raw float32 files
 * named n<count> (n1, n3, n9, n243, ...) so that manifests naming them reach
 * the shape checks and the weight conversion. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/error.h"
#include "engine/io/import_engstrom.h"
#include "fuzz_common.h"

static char dir[512];

static void remove_dir(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[1024];
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(dir);
}

/* The folder with data files of the sizes a tiny transformer needs (1, 2 or 3
 * channels: 3x3 and 9x9 kernels, vectors). */
static int setup(void) {
  if (dir[0]) return 0;
  fuzz_temp_path(dir, sizeof dir, "engstrom", "");
  if (mkdir(dir, 0700) != 0) return -1;
  atexit(remove_dir);
  const int counts[] = {1, 2, 3, 4, 6, 9, 18, 27, 36, 54, 81, 162, 243, 324, 486, 729};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
    char p[1024];
    snprintf(p, sizeof p, "%s/n%d", dir, counts[i]);
    FILE *f = fopen(p, "wb");
    if (!f) return -1;
    for (int k = 0; k < counts[i]; k++) {
      float v = 0.25f * (float)(k % 7) - 0.5f;
      fwrite(&v, sizeof v, 1, f);
    }
    fclose(f);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (setup() != 0) return 0;
  char manifest[1024];
  snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
  if (fuzz_write_file(manifest, data, size) != 0) return 0;
  st_weights *w = st_import_engstrom(dir);
  if (w) {
    /* 18 + 6 per block tensors, named as the transformer expects */
    int n = st_weights_count(w);
    if (n < 18 || (n - 18) % 6 != 0 || !st_weights_get(w, "conv1.weight") || !st_weights_get(w, "conv4.weight"))
      abort();
    st_weights_free(w);
  } else if (!st_last_error()[0]) {
    abort(); /* a failure must say why */
  }
  st_clear_error();
  return 0;
}
