-- The `strata` command line: subcommands dispatched from bin/strata.
local core = require "strata.core"
local util = require "strata.util"

local cli = {}

local usage = [[
usage: strata <command> [arguments]

commands:
  run FILE.lua [args...]                  run a Lua file (an experiment or a script)
  eval EVAL.lua [--set key=value ...]     the paper's depth-map L2 comparison of two models
  sweep FILE.lua [--set k=v] [--devices D1,D2] [--slurm [--gpus N] [--submit] ] [--status]
                                          a grid of runs, summary.csv/.md and plots (--slurm: a job array
                                          script, --submit: sbatch it; --status: each run's state)
  stylize --model MODEL.h5 [--device D] [--size WxH] [--preserve-colors] [--lean-memory] IN OUT
                                          stylize an image with a trained transformer
                                          (IN.mp4 OUT.mp4: a video, through ffmpeg)
                                          (--preserve-colors: keep the photo's colours)
                                          (--lean-memory: less peak memory on large photos,
                                          a little slower)
                                          (OUT.npy: the unrounded float32 values)
  export onnx MODEL.h5 OUT.onnx           the transformer as an ONNX model (opset 13)
  export web MODEL.h5 DIR [--force]       a static page stylizing pictures in the browser (ONNX
                                          Runtime Web; serve DIR over http, file:// does not work;
                                          --force: write into a non-empty DIR)
  weights import engstrom DIR OUT.h5      convert an Engstrom/ml5 checkpoint folder
  weights import keras-vgg19 FILE.h5 OUT.h5
                                          convert Keras' VGG-19 notop weights
  weights import fcrn NYU_FCRN.ckpt OUT.h5
                                          convert the FCRN TensorFlow checkpoint (prefix or folder)
  weights random vgg19|fcrn OUT.h5 [--seed N] [--width-div N]
                                          He-initialised network (synthetic: results mean nothing)
  help                                    this text
]]

-- Splits "--name value" options (listed in `known`) from positional arguments;
-- an option whose `known` entry is "flag" takes no value (true when given).
local function parse_options(args, known, command)
  local opts, pos = {}, {}
  local i = 1
  while i <= #args do
    local a = args[i]
    local name = a:match("^%-%-([%w%-]+)$")
    if name then
      if not known[name] then
        local names = {}
        for k in pairs(known) do names[#names + 1] = k end
        local near = util.closest(name, names)
        util.fail("%s: unknown option --%s%s", command, name, near and (" (did you mean --" .. near .. "?)") or "")
      end
      if known[name] == "flag" then
        opts[name] = true
        i = i + 1
      else
        if i == #args then util.fail("%s: option --%s needs a value", command, name) end
        opts[name] = args[i + 1]
        i = i + 2
      end
    else
      pos[#pos + 1] = a
      i = i + 1
    end
  end
  return opts, pos
end

local function parse_size(s, command)
  local w, h = s:match("^(%d+)x(%d+)$")
  if not w then util.fail("%s: --size '%s' is not WIDTHxHEIGHT (e.g. 256x256)", command, s) end
  return { tonumber(w), tonumber(h) }
end

local function check_device(dev)
  if dev then -- the experiments' rule: cpu, cuda or cuda:N
    local _, want = require("strata.experiment_check").experiment.device(dev)
    if want then util.fail("stylize: --device '%s': expected %s", dev, want) end
  end
  if dev and dev ~= "cpu" then
    local ok, why = core.sys.cuda_available()
    if not ok then
      io.stderr:write(string.format("strata: %s requested but %s; running on the CPU\n", dev, why))
      return "cpu"
    end
  end
  return dev or "cpu"
end

function cli.run(args)
  local file = args[1]
  if not file then util.fail("run: which file? usage: strata run FILE.lua [args...]") end
  if not core.sys.exists(file) then util.fail("run: cannot open '%s': no such file", file) end
  local chunk, err = loadfile(file)
  if not chunk then util.fail("%s", err) end
  local script_args = { table.unpack(args, 2) }
  _G.arg = script_args
  _G.arg[0] = file
  local result = chunk(table.unpack(script_args))
  if type(result) == "table" then
    local ok, train = pcall(require, "strata.train")
    if not ok then util.fail("%s returns an experiment table, but this build has no trainer (strata.train)", file) end
    return train.main(result, file, script_args)
  end
  return 0
end

function cli.eval(args) return require("strata.eval").main(args) end

function cli.sweep(args) return require("strata.sweep").main(args) end

function cli.stylize(args)
  local opts, pos = parse_options(args, { model = true, device = true, size = true, ["preserve-colors"] = "flag",
    ["lean-memory"] = "flag" }, "stylize")
  if not opts.model then util.fail("stylize: --model MODEL.h5 is required") end
  if #pos ~= 2 then util.fail("stylize: expected an input and an output image, got %d paths", #pos) end
  local stylize = require "strata.stylize"
  local stages = require "strata.stages"
  stages.mark("Lua modules and arguments")
  local device = check_device(opts.device)
  local size = opts.size and parse_size(opts.size, "stylize")
  local video = require "strata.video"
  -- While the model loads (its file is parsed in a child process, forked
  -- first: threads started before a fork could leave locks held in the
  -- child), a thread decodes the image and, for a CPU pass, another faults
  -- in the pass's pages.
  local model = core.weights.load_async(opts.model)
  local pending, w, h
  if not video.is_video(pos[1]) then
    if device == "cpu" then
      w, h = core.image.size(pos[1])
      if size then w, h = size[1], size[2] end
      if w then stylize.prefault(h, w) end
    end
    pending = core.image.read_async(pos[1])
  end
  local net = stylize.model_from(model:wait(), device)
  if w then stylize.prefault_fit(net, h, w) end
  stages.mark("model loaded (" .. device .. ")")
  local t0 = core.sys.clock()
  if video.is_video(pos[1]) then
    if not video.is_video(pos[2]) then
      util.fail("stylize: '%s' is a video, so the output must be a video file too (video output: .mp4, .mkv, .mov, "
        .. ".avi, .webm, .m4v), got '%s'", pos[1], pos[2])
    end
    local n, info = video.file(pos[1], pos[2], function(frame)
      local img = size and core.ops.resize(frame, size[2], size[1]) or frame
      local y = stylize.image(net, img, device, opts["lean-memory"])
      if opts["preserve-colors"] then y = stylize.preserve_colors(y, img) end
      return y
    end)
    print(string.format("wrote %s: %d frames at %s fps in %.2f s", pos[2], n, info.rate, core.sys.clock() - t0))
    return 0
  end
  local y = stylize.file(net, pos[1], pos[2], { device = device, size = size, pending = pending,
    preserve_colors = opts["preserve-colors"], lean_memory = opts["lean-memory"], stage = stages.mark })
  print(string.format("wrote %s (%dx%d) in %.2f s", pos[2], y:size(3), y:size(2), core.sys.clock() - t0))
  stages.report("stylize")
  return 0
end

local exporters = {
  onnx = function(model, out)
    local g = require("strata.export_onnx").file(model, out)
    print(string.format("wrote %s: ONNX opset %d, %d nodes, %d initializers", out, g.opset, #g.nodes,
      #g.initializers))
  end,
  web = function(model, dir, opts)
    local r = require("strata.export_web").write(model, dir, opts)
    print(string.format("wrote %s: index.html, stylize.js, model.onnx (%d nodes), onnxruntime-web %s (wasm)", dir,
      #r.graph.nodes, r.ort_version))
    print(string.format("serve it over http, e.g. (cd %s && python3 -m http.server 8000), then open http://localhost:8000/",
      dir))
  end,
}
-- Fails unless `format` names an entry of `known`, listing them all and the
-- nearest name (a typo's likely meaning).
local function check_format(known, format, command)
  if known[format] then return end
  local names = {}
  for k in pairs(known) do names[#names + 1] = k end
  table.sort(names)
  local near = format and util.closest(format, names)
  util.fail("%s: unknown format '%s' (known: %s)%s", command, tostring(format), table.concat(names, ", "),
    near and (" — did you mean '" .. near .. "'?") or "")
end

-- Options each format takes (parse_options' form).
local export_options = { web = { force = "flag" } }

function cli.export(args)
  local format = args[1]
  check_format(exporters, format, "export")
  local rest = {}
  for i = 2, #args do rest[#rest + 1] = args[i] end
  local opts, pos = parse_options(rest, export_options[format] or {}, "export " .. format)
  local model, out = pos[1], pos[2]
  if not model or not out or pos[3] then util.fail("export %s: expected MODEL.h5 and one output path", format) end
  exporters[format](model, out, opts)
  return 0
end

local importers = {
  engstrom = function(src)
    local w = core.weights.import_engstrom(src)
    local transformer = require "strata.models.transformer"
    -- Building the network checks every imported name and shape.
    local net = transformer.from_weights(w)
    w.attrs = transformer.attrs(net.config)
    w.attrs.source = src
    return w
  end,
}

importers["keras-vgg19"] = function(src)
  local w = core.weights.import_keras_vgg19(src)
  local first = w.params["conv1_1.weight"]
  -- widths from the file (the published one is full width; test files are narrower)
  local div = first and math.max(64 // first:size(1), 1) or 1
  require("strata.models.vgg19").build({ width_div = div }):load_weights(w) -- checks names and shapes
  return w
end

importers.fcrn = function(src)
  local w = core.weights.import_fcrn(src)
  local first = w.params["conv1.weight"]
  local fcrn = require("strata.models.fcrn").build({ width_div = 64 // first:size(1) })
  fcrn:load_weights(w) -- checks names and shapes
  return w
end

-- `weights random vgg19|fcrn OUT.h5`: He-normal convolution weights, zero
-- biases, unit batch-norm statistics; seeded. For tests, demos and benchmarks
-- when the published weights are absent: the file is marked synthetic.
local function random_weights(args)
  local opts, pos = parse_options(args, { seed = true, ["width-div"] = true }, "weights random")
  local models = { vgg19 = "strata.models.vgg19", fcrn = "strata.models.fcrn" }
  if not models[pos[1] or ""] or not pos[2] then
    util.fail("weights random: expected 'weights random vgg19|fcrn OUT.h5 [--seed N] [--width-div N]'")
  end
  local net = require(models[pos[1]]).build({ width_div = tonumber(opts["width-div"] or "1") })
  local rng = core.rng(tonumber(opts.seed or "1"))
  for _, p in ipairs(net:named_parameters()) do
    local t = p.module.params[p.key]
    if t:dim() == 4 then
      rng:normal_(t, 0, math.sqrt(2 / (t:size(2) * t:size(3) * t:size(4))))
    elseif p.key == "running_var" or (p.key == "weight" and t:dim() == 1) then
      t:fill(1)
    else
      t:fill(0)
    end
  end
  local state = net:state()
  state.attrs = { network = pos[1], synthetic = "true", source = "random He-normal, seed " .. (opts.seed or "1") }
  core.weights.save(pos[2], state)
  print(string.format("wrote %s: RANDOM %s weights (synthetic; not trained)", pos[2], pos[1]))
  return 0
end

function cli.weights(args)
  local sub = args[1]
  if sub == "random" then return random_weights({ table.unpack(args, 2) }) end
  if sub ~= "import" then util.fail("weights: expected 'weights import FORMAT SRC OUT.h5' or 'weights random vgg19 OUT.h5'") end
  local format, src, out = args[2], args[3], args[4]
  check_format(importers, format, "weights import")
  if not src or not out then util.fail("weights import %s: expected SRC and OUT.h5", format) end
  local w = importers[format](src)
  core.weights.save(out, w)
  local n = 0
  for _, name in ipairs(w.order) do n = n + w.params[name]:numel() end
  print(string.format("wrote %s: %d tensors, %d parameters", out, #w.order, n))
  return 0
end

function cli.main(argv)
  local cmd = argv[1]
  local rest = { table.unpack(argv, 2) }
  if cmd == nil or cmd == "help" or cmd == "--help" or cmd == "-h" then
    io.write(usage)
    return cmd == nil and 1 or 0
  end
  local f = cli[cmd]
  if type(f) ~= "function" or cmd == "main" then
    local near = util.closest(cmd, { "run", "stylize", "export", "weights", "eval", "sweep", "help" })
    util.fail("unknown command '%s'%s; see 'strata help'", cmd, near and (" (did you mean '" .. near .. "'?)") or "")
  end
  return f(rest)
end

return cli
