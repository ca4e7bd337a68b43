/* The C module "strata.core": tensors, ops, RNG, datasets, image and weight I/O, ONNX export, .npy output, system helpers. */
#include "lstrata.h"

int luaopen_strata_core(lua_State *L) {
  lua_newtable(L);
  lst_open_tensor(L);
  lst_open_ops(L);
  lst_open_train_ops(L);
  lst_open_fcrn_ops(L);
  lst_open_rng(L);
  lst_open_data(L);
  lst_open_image(L);
  lst_open_weights(L);
  lst_open_sys(L);
  lst_open_onnx(L);
  lst_open_npy(L);
  lst_open_pipe(L);
  lst_open_colour(L);
  return 1;
}
