/* libFuzzer target: resuming training from a checkpoint file. The input is
 * written as the only checkpoint (ckpt_00000001.h5) of a run's checkpoint
 * folder, and the resume path of a run takes it from there:
 * strata.checkpoint.newest_good (load, kind, checksums, finiteness), the
 * comparison of its recorded settings with the experiment
 * (strata.exp_record.diff, as run_dir.lua's check_resume), the restore into
 * a small transformer (channels 2, 2, 2, one residual block) and its Adam
 * moments (checkpoint.restore), and the bookkeeping that reads the rest
 * (iteration, epoch, batch, RNG state).
 * A Lua error is a refusal and fine (the input is hostile); a crash, a
 * sanitizer report, a refusal without a reason, or a restore that leaves a
 * non-finite parameter or moment is a finding. Seeds: checkpoints of that
 * network as training writes them (fuzz/gen_corpus.sh). */
#include "fuzz_common.h"
#include "fuzz_lua.h"
#include "fuzz_tree.h"

static const char *driver =
    "local dir = ...\n"
    "local core = require 'strata.core'\n"
    "local checkpoint = require 'strata.checkpoint'\n"
    "local exp_record = require 'strata.exp_record'\n"
    "local experiment = require 'strata.experiment'\n"
    "local transformer = require 'strata.models.transformer'\n"
    "for _, f in ipairs({ 'newest_good', 'restore' }) do\n"
    "  if type(checkpoint[f]) ~= 'function' then\n"
    "    return 'BUG: strata.checkpoint.' .. f .. ' is gone: update fuzz/fuzz_checkpoint.c'\n"
    "  end\n"
    "end\n"
    "local w, skipped = checkpoint.newest_good(dir)\n"
    "if not w then\n"
    "  if #skipped ~= 1 or type(skipped[1].why) ~= 'string' or skipped[1].why == '' then\n"
    "    return 'BUG: a checkpoint that does not verify must say why'\n"
    "  end\n"
    "  return 'refused'\n"
    "end\n"
    "local exp = experiment.resolve({ name = 'fz', model = { channels = { 2, 2, 2 }, blocks = 1 } }, 'fuzz', {})\n"
    "if w.attrs.experiment then pcall(exp_record.diff, w.attrs.experiment, exp, 'computed') end\n"
    "local net = transformer.build({ channels = { 2, 2, 2 }, blocks = 1 })\n"
    "local adam = { m = {}, v = {} }\n"
    "for _, p in ipairs(net:named_parameters()) do\n"
    "  local t = p.module.params[p.key]\n"
    "  adam.m[p.name], adam.v[p.name] = core.zeros(t:shape()), core.zeros(t:shape())\n"
    "end\n"
    "local ok, attrs = pcall(checkpoint.restore, w, net, adam)\n"
    "if not ok then return 'refused' end\n"
    "for _, p in ipairs(net:named_parameters()) do\n"
    "  local t = p.module.params[p.key]\n"
    "  if not t:all_finite() or not adam.m[p.name]:all_finite() or not adam.v[p.name]:all_finite() then\n"
    "    return 'BUG: restored a non-finite value into ' .. p.name\n"
    "  end\n"
    "end\n"
    "pcall(function()\n"
    "  local rng = core.rng(1)\n"
    "  rng:set_state(attrs.rng_state)\n"
    "  rng:uniform_(core.zeros({ 4 }), 0, 1)\n"
    "  local it, e, b = tonumber(attrs.iteration), tonumber(attrs.epoch), tonumber(attrs.batch_index)\n"
    "  return string.format('%d %d %d', it, e, b)\n"
    "end)\n"
    "return 'restored'\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char dir[512], path[600];
  if (!fuzz_tree_fresh(dir, sizeof dir, "checkpoint")) return 0;
  snprintf(path, sizeof path, "%s/ckpt_00000001.h5", dir);
  if (fuzz_write_file(path, data, size) != 0) return 0;
  lua_State *L = fuzz_lua_new();
  if (!L) return 0;
  fuzz_lua_load(L, driver, "=fuzz_checkpoint");
  lua_pushstring(L, dir);
  int rc = fuzz_lua_run(L, 1);
  fuzz_lua_check(L, rc, "fuzz_checkpoint");
  lua_close(L);
  fuzz_tree_remove(dir);
  return 0;
}
