/* strata.npy.save(path, tensor): a float32 .npy file of the tensor's values. */
#include "../io/npy.h"
#include "lstrata.h"

static int l_save(lua_State *L) {
  if (st_npy_save(luaL_checkstring(L, 1), lst_check_tensor(L, 2))) return lst_error(L);
  return 0;
}

void lst_open_npy(lua_State *L) {
  static const luaL_Reg fns[] = { { "save", l_save }, { NULL, NULL } };
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "npy");
}
