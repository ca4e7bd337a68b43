/* ops.preserve_colors(stylized, original) -> [3,H,W]: the stylized luminance
 * with the original's chroma (both [3,H,W] RGB 0..255, same size, CPU). */
#include "../ops/ops.h"
#include "lstrata.h"

static int l_preserve_colors(lua_State *L) {
  st_tensor *lum = lst_check_tensor(L, 1), *chroma = lst_check_tensor(L, 2);
  st_tensor *y = lst_new_tensor(L, lum->ndim, lum->shape, lum);
  return lst_push_result(L, st_preserve_colors(y, lum, chroma), y);
}

void lst_open_colour(lua_State *L) {
  static const luaL_Reg fns[] = { { "preserve_colors", l_preserve_colors }, { NULL, NULL } };
  lst_add_ops(L, fns);
}
