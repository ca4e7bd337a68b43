-- Training checkpoints: the model, Adam's moments, the data position and RNG
-- state in one HDF5 file, written atomically (temp file + rename) so a crash
-- at any moment leaves the previous checkpoint intact.
--
-- A checkpoint is only written from finite state, and carries the SHA-256 of
-- every dataset (attribute `checksums`, lines "<sha256> <name>") and the
-- resolved experiment (attribute `experiment`, see exp_record.lua). Loading
-- verifies both the checksums and finiteness, so a flipped byte or a
-- truncated file is found before it is resumed.
local core = require "strata.core"

local M = {}

local PATTERN = "^ckpt_%d+%.h5$"

local function fname(dir, iteration) return string.format("%s/ckpt_%08d.h5", dir, iteration) end

local function on_cpu(t) return t:device() == "cpu" and t or t:to("cpu") end

-- The tensors of a checkpoint as { params = {key = t}, order = {...} }.
local function tensors(s)
  local params, order = {}, {}
  for _, p in ipairs(s.net:named_parameters()) do
    local t = p.module.params[p.key]
    for _, pair in ipairs({ { "model.", t }, { "adam_m.", s.adam.m[p.name] }, { "adam_v.", s.adam.v[p.name] } }) do
      local key = pair[1] .. p.name
      params[key] = pair[2]
      order[#order + 1] = key
    end
  end
  return params, order
end

-- The first non-finite tensor of the training state's, or nil.
function M.first_non_finite(s)
  local params, order = tensors(s)
  for _, key in ipairs(order) do
    if not on_cpu(params[key]):all_finite() then return key end
  end
  return nil
end

-- state = { net = module, adam = {m = {name = t}, v = {...}}, iteration, epoch,
--           batch_index, rng_state, experiment = record text, attrs = {...} }
-- Returns the path, or nil and the name of a non-finite tensor (nothing is
-- written then).
function M.save(dir, s)
  local params, order = tensors(s)
  local sums = {}
  for _, key in ipairs(order) do
    local t = on_cpu(params[key])
    if not t:all_finite() then return nil, key end
    sums[#sums + 1] = core.sys.sha256(t) .. " " .. key
  end
  local attrs = {}
  for k, v in pairs(s.attrs or {}) do attrs[k] = v end
  attrs.kind = "checkpoint"
  attrs.iteration = tostring(s.iteration)
  attrs.epoch = tostring(s.epoch)
  attrs.batch_index = tostring(s.batch_index)
  attrs.rng_state = s.rng_state
  attrs.checksums = table.concat(sums, "\n")
  attrs.experiment = s.experiment
  local path = fname(dir, s.iteration)
  core.weights.save(path, { params = params, order = order, attrs = attrs })
  return path
end

-- Checkpoint files in dir, oldest first (none when dir does not exist).
function M.list(dir)
  local ok, names = pcall(core.sys.list_dir, dir)
  if not ok then names = {} end
  local files = {}
  for _, name in ipairs(names) do
    if name:match(PATTERN) then files[#files + 1] = dir .. "/" .. name end
  end
  table.sort(files)
  return files
end

-- Loads and verifies a checkpoint: the file reads, it is a checkpoint, every
-- dataset matches its recorded checksum and is finite. Returns the loaded
-- weights, or nil and why not.
function M.load_verified(path)
  local ok, w = pcall(core.weights.load, path)
  if not ok then return nil, tostring(w) end
  if w.attrs.kind ~= "checkpoint" then return nil, "not a checkpoint (kind = " .. tostring(w.attrs.kind) .. ")" end
  if not tonumber(w.attrs.iteration or "") then return nil, "no iteration recorded" end
  if w.attrs.checksums then
    local want, n = {}, 0
    for sum, key in w.attrs.checksums:gmatch("(%x+) ([^\n]+)") do want[key], n = sum, n + 1 end
    for _, key in ipairs(w.order) do
      if not want[key] then return nil, string.format("dataset '%s' has no recorded checksum", key) end
    end
    for key, sum in pairs(want) do
      local t = w.params[key]
      if not t then return nil, string.format("dataset '%s' is missing", key) end
      if core.sys.sha256(t) ~= sum then return nil, string.format("dataset '%s' does not match its checksum", key) end
    end
  else
    w.unverified = true -- written before checksums were recorded
  end
  for _, key in ipairs(w.order) do
    if not w.params[key]:all_finite() then return nil, string.format("dataset '%s' holds NaN or Inf values", key) end
  end
  w.path = path
  return w
end

-- The newest checkpoint in dir that verifies: its weights (w.path set) or
-- nil, and the newer ones that did not, as { {path =, why =}, ... }.
function M.newest_good(dir)
  local files, skipped = M.list(dir), {}
  for i = #files, 1, -1 do
    local w, why = M.load_verified(files[i])
    if w then return w, skipped end
    skipped[#skipped + 1] = { path = files[i], why = why }
  end
  return nil, skipped
end

-- Copies a verified checkpoint's tensors into net and adam.
function M.restore(w, net, adam)
  for _, p in ipairs(net:named_parameters()) do
    for _, pair in ipairs({ { "model.", p.module.params[p.key] }, { "adam_m.", adam.m[p.name] }, { "adam_v.", adam.v[p.name] } }) do
      local t = w.params[pair[1] .. p.name]
      if not t then error(string.format("%s: missing '%s%s' (checkpoint of another model?)", w.path, pair[1], p.name), 0) end
      pair[2]:copy(t)
    end
  end
  local attrs = w.attrs
  attrs.path = w.path
  return attrs
end

-- Removes all but the newest `keep` (>= 1) checkpoints.
function M.prune(dir, keep)
  if math.type(keep) ~= "integer" or keep < 1 then
    error(string.format("schedule.keep_checkpoints: expected an integer >= 1, got %s", tostring(keep)), 0)
  end
  local files = M.list(dir)
  for i = 1, #files - keep do os.remove(files[i]) end
end

return M
