/* strata.image: read and write PNG/JPEG as [3, H, W] tensors in 0..255. */
#include "../error.h"
#include "../io/image.h"
#include "../io/image_async.h"
#include "lstrata.h"

static int l_read(lua_State *L) {
  lst_push_tensor(L, st_image_read(luaL_checkstring(L, 1)));
  return 1;
}

/* write(path, t): t is [3,H,W] or [1,3,H,W]; a tensor on a GPU is copied back first. */
static int l_write(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  st_tensor *t = lst_check_tensor(L, 2), *host = t;
  if (st_tensor_device(t).kind != ST_CPU && !(host = st_tensor_to(t, st_cpu()))) return lst_error(L);
  int rc = st_image_write(path, host);
  if (host != t) st_tensor_release(host);
  if (rc != 0) return lst_error(L);
  return 0;
}

/* size(path) -> width, height from the header alone; nil and the error when
 * the file cannot be read as an image (read() then reports it in full). */
static int l_size(lua_State *L) {
  int w, h;
  if (st_image_decode_size(luaL_checkstring(L, 1), &w, &h) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, st_last_error());
    return 2;
  }
  lua_pushinteger(L, w);
  lua_pushinteger(L, h);
  return 2;
}

/* read_async(path) -> pending: read(path) on a background thread;
 * pending:wait() returns the image or raises read's error (l_pending.c). */
static int finish_read(lua_State *L, void *work, const char *path) {
  (void)path;
  lst_push_tensor(L, st_image_read_finish(work));
  return 1;
}

static void abandon_read(void *work) { st_image_read_abandon(work); }

static int l_read_async(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lst_pending *u = lst_new_pending(L, "image read_async", path, finish_read, abandon_read);
  if (!(u->work = st_image_read_start(path))) return lst_error(L);
  return 1;
}

static const luaL_Reg functions[] = {{"read", l_read}, {"read_async", l_read_async}, {"write", l_write},
                                     {"size", l_size},  {NULL, NULL}};

void lst_open_image(lua_State *L) {
  luaL_newlib(L, functions);
  lua_setfield(L, -2, "image");
}
