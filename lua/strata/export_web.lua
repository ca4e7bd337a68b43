-- `strata export web MODEL.h5 DIR [--force]`: a static page that stylizes a
-- picture the user picks, entirely in the browser. DIR gets
--   index.html, stylize.js        the page (web/page in the strata tree)
--   model.onnx                    the transformer, from strata.export_onnx
--   ort.wasm.min.mjs, ort-wasm-simd-threaded.mjs/.wasm
--                                 onnxruntime-web's WebAssembly build, copied
--                                 from <strata home>/web/node_modules (make web-deps)
--   LICENSE.onnxruntime-web.txt   its licence (MIT)
-- DIR's parent must exist; a DIR that exists must be empty unless `force`
-- (then files of these names are replaced and others left alone).
local core = require "strata.core"
local export_onnx = require "strata.export_onnx"
local util = require "strata.util"

local M = {}

-- From onnxruntime-web's dist/: the wasm-only ES module and the runtime it
-- loads beside itself (the WebGPU/WebGL/JSEP builds are not needed).
M.ort_files = { "ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm" }
M.page_files = { "index.html", "stylize.js" }
M.license = "LICENSE.onnxruntime-web.txt"

-- The strata tree (bin/strata sets STRATA_HOME to $STRATA_HOME or <bin>/..),
-- without a trailing "/bin/.." so that messages show a plain path.
function M.home()
  local home = STRATA_HOME or "."
  return home:match("^(.+)/bin/%.%.$") or home
end

local function read_text(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function package_version(path)
  local s = read_text(path)
  return s and s:match('"version"%s*:%s*"([^"]+)"')
end

-- The folder holding onnxruntime-web's dist files, checked: installed, and
-- the version web/package.json pins. Returns dist, version.
function M.ort_dist(home)
  local web = home .. "/web"
  local install = string.format("npm ci --ignore-scripts --prefix '%s' (or, in the strata folder: make web-deps)", web)
  local pkg = web .. "/node_modules/onnxruntime-web"
  local dist = pkg .. "/dist"
  for _, f in ipairs(M.ort_files) do
    if not core.sys.exists(dist .. "/" .. f) then
      util.fail("export web: onnxruntime-web is not installed (no %s/%s); install it with: %s", dist, f, install)
    end
  end
  local want = (read_text(web .. "/package.json") or ""):match('"onnxruntime%-web"%s*:%s*"([^"]+)"')
  local have = package_version(pkg .. "/package.json")
  if want and have ~= want then
    util.fail("export web: %s holds onnxruntime-web %s but web/package.json pins %s; reinstall with: %s", pkg,
      tostring(have), want, install)
  end
  return dist, have
end

-- Checks that `dir` can be written: a folder that is empty (or `force`), or
-- a new name in an existing folder. Returns true when it must be created.
function M.check_dir(dir, force)
  if core.sys.exists(dir) then
    if not core.sys.is_dir(dir) then util.fail("export web: '%s' exists and is not a folder", dir) end
    if #core.sys.list_dir(dir) > 0 and not force then
      util.fail("export web: folder '%s' is not empty (--force writes the page into it, replacing files of the same names)",
        dir)
    end
    return false
  end
  local parent = dir:gsub("/+$", ""):match("^(.*)/[^/]*$") or "."
  if parent == "" then parent = "/" end
  if not core.sys.is_dir(parent) then
    util.fail("export web: cannot create '%s': its parent folder '%s' does not exist", dir, parent)
  end
  return true
end

-- Writes the page for MODEL.h5 into DIR. Everything is checked before DIR is
-- touched; the page files come last, so a page that opens is complete.
function M.write(model_path, dir, opts)
  opts = opts or {}
  local g = export_onnx.load(model_path, "export web")
  local home = M.home()
  local dist, version = M.ort_dist(home)
  local page = home .. "/web/page"
  for _, f in ipairs(M.page_files) do
    if not core.sys.exists(page .. "/" .. f) then util.fail("export web: the page template %s/%s is missing", page, f) end
  end
  if M.check_dir(dir, opts.force) then core.sys.mkdir_p(dir) end
  core.onnx.write(dir .. "/model.onnx", g)
  for _, f in ipairs(M.ort_files) do core.sys.copy_file(dist .. "/" .. f, dir .. "/" .. f) end
  core.sys.copy_file(home .. "/web/LICENSE.onnxruntime-web", dir .. "/" .. M.license)
  for _, f in ipairs(M.page_files) do core.sys.copy_file(page .. "/" .. f, dir .. "/" .. f) end
  return { graph = g, ort_version = version }
end

return M
