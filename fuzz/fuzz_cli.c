/* libFuzzer target: the command line (lua/strata/cli.lua's cli.main, as
 * bin/strata calls it through the embedded Lua). The input is the argument
 * list, NUL-separated (at most 12 arguments of at most 200 bytes). Each input
 * runs in a fresh folder holding small valid files to name: exp.lua (an
 * experiment), sweep.lua (a two-run sweep of it), eval.lua, model.h5 (a tiny
 * transformer), in.png. Option parsing, --set values, experiment and sweep
 * resolution, image and model loading run for real; the work behind them is
 * replaced: training (strata.train.train), evaluation (strata.eval.run),
 * writing weights files (core.weights.save checks its table, writes nothing).
 *
 * Arguments holding '/' are not run (every path stays in the folder), nor
 * are --devices (it spawns processes). A Lua error is a refusal and fine; a
 * crash, a sanitizer report, or an error without a message is a finding. */
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "fuzz_lua.h"
#include "fuzz_tree.h"

#define MAX_ARGS 12
#define MAX_ARG 200

static char fixtures[512], cwd[4096];

/* The fixture files, made once with the strata library itself. */
static const char *make_fixtures =
    "local dir = ...\n"
    "local core = require 'strata.core'\n"
    "local transformer = require 'strata.models.transformer'\n"
    "local net = transformer.build({ channels = { 2, 2, 2 }, blocks = 1 })\n"
    "local state = net:state()\n"
    "state.attrs = transformer.attrs(net.config)\n"
    "core.weights.save(dir .. '/model.h5', state)\n"
    "core.image.write(dir .. '/in.png', core.full({ 3, 9, 7 }, 90))\n"
    "local function put(name, text) local f = assert(io.open(dir .. '/' .. name, 'w')); f:write(text); f:close() end\n"
    "put('exp.lua', 'return { name = \"fz\", run = \"r\", schedule = { iterations = 2 } }\\n')\n"
    "put('sweep.lua', 'return { name = \"sw\", base = \"exp.lua\", grid = { [\"loss.tv.weight\"] = { 1, 2 } } }\\n')\n"
    "put('eval.lua', 'return { baseline = \"model.h5\", depth_aware = \"model.h5\" }\\n')\n"
    "return 'ok'\n";

/* Runs cli.main(args) with the heavy work replaced. */
static const char *driver =
    "local args = ...\n"
    "local core = require 'strata.core'\n"
    "local train = require 'strata.train'\n"
    "local eval = require 'strata.eval'\n"
    "train.train = function(exp) assert(type(exp) == 'table') return 0 end\n"
    "eval.run = function(cfg) assert(type(cfg) == 'table') end\n"
    "core.weights.save = function(path, t)\n"
    "  assert(type(path) == 'string' and type(t) == 'table' and type(t.params) == 'table')\n"
    "end\n"
    "local cli = require 'strata.cli'\n"
    "local ok, err = pcall(cli.main, args)\n"
    "if not ok and (err == nil or tostring(err) == '') then return 'BUG: an error without a message' end\n"
    "return ok and 'ran' or 'refused'\n";

static int setup(void) {
  if (fixtures[0]) return 0;
  if (!getcwd(cwd, sizeof cwd)) return -1;
  if (!freopen("/dev/null", "w", stdout)) return -1; /* the commands' own output */
  if (!fuzz_tree_fresh(fixtures, sizeof fixtures, "cli-fixtures")) return -1;
  lua_State *L = fuzz_lua_new();
  if (!L) return -1;
  fuzz_lua_load(L, make_fixtures, "=fuzz_cli fixtures");
  lua_pushstring(L, fixtures);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_cli: making the fixtures failed: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_close(L);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (setup() != 0) return 0;
  /* split on NUL */
  const char *args[MAX_ARGS];
  size_t lens[MAX_ARGS];
  int n = 0;
  for (size_t i = 0; i < size && n < MAX_ARGS;) {
    const uint8_t *end = memchr(data + i, 0, size - i);
    size_t len = end ? (size_t)(end - (data + i)) : size - i;
    if (len > MAX_ARG || memchr(data + i, '/', len)) return 0;
    args[n] = (const char *)data + i, lens[n] = len;
    if (len == 9 && memcmp(args[n], "--devices", 9) == 0) return 0;
    n++;
    i += len + 1;
  }

  char work[512], link[1024], target[1024];
  if (!fuzz_tree_fresh(work, sizeof work, "cli")) return 0;
  static const char *const files[] = {"exp.lua", "sweep.lua", "eval.lua", "model.h5", "in.png"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(link, sizeof link, "%s/%s", work, files[i]);
    snprintf(target, sizeof target, "%s/%s", fixtures, files[i]);
    if (symlink(target, link) != 0) return 0;
  }
  if (chdir(work) != 0) return 0;

  lua_State *L = fuzz_lua_new();
  if (L) {
    fuzz_lua_load(L, driver, "=fuzz_cli");
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
      lua_pushlstring(L, args[i], lens[i]);
      lua_rawseti(L, -2, i + 1);
    }
    int rc = fuzz_lua_run(L, 1);
    fuzz_lua_check(L, rc, "fuzz_cli");
    lua_close(L);
  }
  /* Back where libFuzzer writes its corpus, before anything else happens. */
  if (chdir(cwd) != 0) abort();
  fuzz_tree_remove(work);
  return 0;
}
