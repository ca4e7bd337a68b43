/* FCRN interleave (CPU): the exact placement of the four maps (as the authors'
 * unpool_as_conv indexes them), the backward as the exact adjoint and inverse
 * of the forward, NULL gradients, argument errors. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "ops/fcrn_ops.h"
#include "tap.h"

/* value encoding (map, n, c, i, j): map 1..4 = a, b, c, d */
static float code(int map, int64_t n, int64_t c, int64_t i, int64_t j) {
  return (float)(map * 100000 + n * 10000 + c * 1000 + i * 30 + j);
}

static void fill_code(st_tensor *t, int map) {
  float *p = st_tensor_data(t);
  int64_t C = t->shape[1], H = t->shape[2], W = t->shape[3];
  for (int64_t n = 0; n < t->shape[0]; n++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t i = 0; i < H; i++)
        for (int64_t j = 0; j < W; j++) p[((n * C + c) * H + i) * W + j] = code(map, n, c, i, j);
}

int main(void) {
  const int64_t N = 2, C = 3, H = 5, W = 4;
  st_device cpu = st_cpu();
  st_tensor *q[4], *dq[4];
  for (int k = 0; k < 4; k++) {
    q[k] = st_tensor_new4(N, C, H, W, cpu);
    dq[k] = st_tensor_new4(N, C, H, W, cpu);
    fill_code(q[k], k + 1);
  }
  int64_t s[4];
  tap_ok(st_interleave_shape(q[0], s) == 0 && s[0] == N && s[1] == C && s[2] == 2 * H && s[3] == 2 * W,
         "shape: [N, C, 2H, 2W]");
  st_tensor *y = st_tensor_new(4, s, cpu);
  tap_ok(st_interleave_forward(y, q[0], q[1], q[2], q[3]) == 0, "forward runs");

  /* The authors' index construction: A at (even row, even col), B at (odd row,
   * even col), C at (even row, odd col), D at (odd row, odd col). */
  int bad = 0;
  const float *py = st_tensor_data(y);
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t r = 0; r < 2 * H; r++)
        for (int64_t col = 0; col < 2 * W; col++) {
          int map = (r % 2 == 0) ? (col % 2 == 0 ? 1 : 3) : (col % 2 == 0 ? 2 : 4);
          float want = code(map, n, c, r / 2, col / 2);
          if (py[((n * C + c) * 2 * H + r) * 2 * W + col] != want) bad++;
        }
  tap_ok(bad == 0, "every output cell comes from the right map and position (%d wrong)", bad);
  tap_ok(py[0] == code(1, 0, 0, 0, 0) && py[1] == code(3, 0, 0, 0, 0) && py[2 * W] == code(2, 0, 0, 0, 0) &&
             py[2 * W + 1] == code(4, 0, 0, 0, 0),
         "top-left 2x2 block is [a c; b d]: the 2x3 conv (b) fills odd rows, the 3x2 conv (c) odd columns");

  /* Backward: the inverse of the forward. */
  tap_ok(st_interleave_backward(dq[0], dq[1], dq[2], dq[3], y) == 0, "backward runs");
  int same = 1;
  for (int k = 0; k < 4; k++)
    same = same && memcmp(st_tensor_data(dq[k]), st_tensor_data(q[k]), q[k]->numel * sizeof(float)) == 0;
  tap_ok(same, "backward of the forward's output gives the four maps back");

  /* Adjoint: <interleave(a,b,c,d), g> = sum_k <q_k, split(g)_k> for random g. */
  {
    st_tensor *g = st_tensor_new(4, s, cpu);
    float *pg = st_tensor_data(g);
    uint64_t r = 88172645463325252ull;
    for (int64_t i = 0; i < g->numel; i++) {
      r ^= r << 13, r ^= r >> 7, r ^= r << 17;
      pg[i] = (float)((double)(r >> 11) / 9007199254740992.0 - 0.5);
    }
    double lhs = 0, rhs = 0;
    for (int64_t i = 0; i < g->numel; i++) lhs += (double)py[i] * pg[i];
    st_interleave_backward(dq[0], dq[1], dq[2], dq[3], g);
    for (int k = 0; k < 4; k++)
      for (int64_t i = 0; i < q[k]->numel; i++) rhs += (double)st_tensor_data(q[k])[i] * st_tensor_data(dq[k])[i];
    tap_close(lhs, rhs, 0, 1e-12, "backward is the adjoint of the forward");

    /* NULL gradients are skipped; the others are unchanged. */
    st_tensor *keep = st_tensor_clone(dq[1]);
    st_tensor_fill(dq[0], -7.0f);
    tap_ok(st_interleave_backward(NULL, dq[1], NULL, NULL, g) == 0 &&
               memcmp(st_tensor_data(keep), st_tensor_data(dq[1]), keep->numel * sizeof(float)) == 0 &&
               st_tensor_data(dq[0])[5] == -7.0f,
           "NULL gradients are skipped without touching the others");
    tap_ok(st_interleave_backward(NULL, NULL, NULL, NULL, g) == 0, "all-NULL backward is a no-op");
    st_tensor_release(keep);
    st_tensor_release(g);
  }

  /* A larger map exercises the threaded loop against a straight gather. */
  {
    const int64_t BN = 2, BC = 16, BH = 37, BW = 45;
    st_tensor *b4[4];
    for (int k = 0; k < 4; k++) {
      b4[k] = st_tensor_new4(BN, BC, BH, BW, cpu);
      float *p = st_tensor_data(b4[k]);
      for (int64_t i = 0; i < b4[k]->numel; i++) p[i] = (float)(k * 7 + i % 1013) * 0.5f;
    }
    st_tensor *by = st_tensor_new4(BN, BC, 2 * BH, 2 * BW, cpu);
    st_interleave_forward(by, b4[0], b4[1], b4[2], b4[3]);
    int wrong = 0;
    for (int64_t p = 0; p < BN * BC; p++)
      for (int64_t r = 0; r < 2 * BH; r++)
        for (int64_t col = 0; col < 2 * BW; col++) {
          int k = (r % 2) + 2 * (col % 2); /* 0 a, 1 b, 2 c, 3 d */
          float want = st_tensor_data(b4[k])[(p * BH + r / 2) * BW + col / 2];
          if (st_tensor_data(by)[(p * 2 * BH + r) * 2 * BW + col] != want) wrong++;
        }
    tap_ok(wrong == 0, "2x16x37x45 maps interleave correctly (%d wrong)", wrong);
    for (int k = 0; k < 4; k++) st_tensor_release(b4[k]);
    st_tensor_release(by);
  }

  /* ---- argument errors ---- */
  {
    st_tensor *odd = st_tensor_new4(N, C, H + 1, W, cpu), *ybad = st_tensor_new4(N, C, 2 * H, 2 * W + 1, cpu);
    int rc = st_interleave_forward(y, q[0], odd, q[2], q[3]);
    tap_ok(rc == -1 && strstr(st_last_error(), "b (the 2x3 conv)") && strstr(st_last_error(), "[2, 3, 5, 4]"),
           "a mismatched b names b and the expected shape (%s)", st_last_error());
    rc = st_interleave_forward(y, q[0], q[1], q[2], NULL);
    tap_ok(rc == -1 && strstr(st_last_error(), "d"), "a missing d is an error (%s)", st_last_error());
    rc = st_interleave_forward(ybad, q[0], q[1], q[2], q[3]);
    tap_ok(rc == -1 && strstr(st_last_error(), "y") && strstr(st_last_error(), "[2, 3, 10, 8]"),
           "a wrong y shape names y and [N, C, 2H, 2W] (%s)", st_last_error());
    rc = st_interleave_backward(dq[0], NULL, NULL, NULL, ybad);
    tap_ok(rc == -1 && strstr(st_last_error(), "even"), "an odd-width dy is an error (%s)", st_last_error());
    rc = st_interleave_backward(odd, NULL, NULL, NULL, y);
    tap_ok(rc == -1 && strstr(st_last_error(), "da"), "a wrong da shape names da (%s)", st_last_error());
    st_tensor_release(odd), st_tensor_release(ybad);
  }

  for (int k = 0; k < 4; k++) st_tensor_release(q[k]), st_tensor_release(dq[k]);
  st_tensor_release(y);
  return tap_done();
}
