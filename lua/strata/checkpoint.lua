-- Training checkpoints: the model, Adam's moments, the data position and RNG
-- state in one HDF5 file, written atomically (temp file + rename) so a crash
-- at any moment leaves the previous checkpoint intact.
local core = require "strata.core"

local M = {}

local function fname(dir, iteration) return string.format("%s/ckpt_%08d.h5", dir, iteration) end

-- state = { net = module, adam = {m = {name = t}, v = {...}}, iteration, epoch,
--           batch_index, rng_state, attrs = {...} }
function M.save(dir, s)
  local params, order = {}, {}
  for _, p in ipairs(s.net:named_parameters()) do
    local t = p.module.params[p.key]
    for _, pair in ipairs({ { "model.", t }, { "adam_m.", s.adam.m[p.name] }, { "adam_v.", s.adam.v[p.name] } }) do
      local key = pair[1] .. p.name
      params[key] = pair[2]
      order[#order + 1] = key
    end
  end
  local attrs = {}
  for k, v in pairs(s.attrs or {}) do attrs[k] = v end
  attrs.kind = "checkpoint"
  attrs.iteration = tostring(s.iteration)
  attrs.epoch = tostring(s.epoch)
  attrs.batch_index = tostring(s.batch_index)
  attrs.rng_state = s.rng_state
  local path = fname(dir, s.iteration)
  core.weights.save(path, { params = params, order = order, attrs = attrs })
  return path
end

-- Checkpoint files in dir, oldest first.
function M.list(dir)
  local files = {}
  local p = io.popen(string.format("ls -1 '%s' 2>/dev/null", dir))
  if p then
    for line in p:lines() do
      if line:match("^ckpt_%d+%.h5$") then files[#files + 1] = dir .. "/" .. line end
    end
    p:close()
  end
  table.sort(files)
  return files
end

-- Removes all but the newest `keep` checkpoints.
function M.prune(dir, keep)
  local files = M.list(dir)
  for i = 1, #files - keep do os.remove(files[i]) end
end

-- Loads the newest checkpoint into net and adam; returns its attributes, or nil.
function M.restore_latest(dir, net, adam)
  local files = M.list(dir)
  local path = files[#files]
  if not path then return nil end
  local w = core.weights.load(path)
  for _, p in ipairs(net:named_parameters()) do
    for _, pair in ipairs({ { "model.", p.module.params[p.key] }, { "adam_m.", adam.m[p.name] }, { "adam_v.", adam.v[p.name] } }) do
      local t = w.params[pair[1] .. p.name]
      if not t then error(string.format("%s: missing '%s%s' (checkpoint of another model?)", path, pair[1], p.name), 0) end
      pair[2]:copy(t)
    end
  end
  w.attrs.path = path
  return w.attrs
end

return M
