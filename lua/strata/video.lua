-- Video stylization through ffmpeg: frames are decoded to raw rgb24 on a
-- pipe, stylized one by one and piped into a second ffmpeg that encodes them
-- (H.264) at the input's frame rate and copies the input's audio. Both are
-- started from argument vectors (strata.pipe, posix_spawn): no shell sees
-- the paths.
local core = require "strata.core"
local util = require "strata.util"

local M = {}

M.extensions = { mp4 = true, mkv = true, mov = true, avi = true, webm = true, m4v = true }

function M.is_video(path)
  local ext = path:match("%.([%w]+)$")
  return ext ~= nil and M.extensions[ext:lower()] == true
end

-- The program's path on PATH, or nil.
local function find_program(name)
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local p = dir .. "/" .. name
    if core.sys.exists(p) and not core.sys.is_dir(p) then return p end
  end
  return nil
end

local function need(name)
  local p = find_program(name)
  if not p then
    util.fail("stylize: video needs %s, which is not on PATH (Debian: apt-get install ffmpeg)", name)
  end
  return p
end

-- The first line of a file (ffmpeg's error message), or "".
local function first_line(path)
  local f = io.open(path, "r")
  if not f then return "" end
  local s = f:read("l") or ""
  f:close()
  return s
end

local function scratch(name)
  local base = os.tmpname()
  os.remove(base)
  return base .. "." .. name
end

-- Size, frame rate ("num/den"), frame count (nil when unknown) and whether
-- there is an audio stream, from ffprobe.
function M.probe(path)
  if not core.sys.exists(path) then util.fail("stylize: cannot open '%s': no such file", path) end
  local err = scratch("ffprobe.err")
  local p = core.pipe.open({ need("ffprobe"), "-v", "error", "-show_entries",
    "stream=codec_type,width,height,r_frame_rate,nb_frames:format=duration", "-of", "default=noprint_wrappers=0", path },
    "r", err)
  local text = p:read_all()
  local code = p:close()
  local why = first_line(err)
  os.remove(err)
  if code ~= 0 then
    util.fail("stylize: cannot read video '%s': %s", path, why ~= "" and why or ("ffprobe exited with " .. code))
  end
  local info = { audio = false }
  for block in text:gmatch("%[STREAM%](.-)%[/STREAM%]") do
    local kv = {}
    for k, v in block:gmatch("([%w_]+)=([^\n]*)") do kv[k] = v end
    if kv.codec_type == "video" and not info.width then
      info.width, info.height = tonumber(kv.width), tonumber(kv.height)
      info.rate = kv.r_frame_rate
      info.frames = tonumber(kv.nb_frames)
    elseif kv.codec_type == "audio" then
      info.audio = true
    end
  end
  info.duration = tonumber(text:match("duration=([%d%.]+)"))
  if not info.width or not info.rate or not info.rate:match("^%d+/%d+$") or info.rate:match("^0/") then
    util.fail("stylize: '%s' has no video stream that ffprobe can read", path)
  end
  local num, den = info.rate:match("^(%d+)/(%d+)$")
  info.fps = tonumber(num) / math.max(tonumber(den), 1)
  if not info.frames and info.duration then info.frames = math.floor(info.duration * info.fps + 0.5) end
  return info
end

local function clock_str(s)
  s = math.max(0, math.floor(s + 0.5))
  return string.format("%d:%02d", s // 60, s % 60)
end

-- Stylizes every frame of `input` into `output`; `transform(img)` maps a
-- [3,H,W] frame to its stylization. Returns the number of frames.
function M.file(input, output, transform, opts)
  opts = opts or {}
  local info = M.probe(input)
  local ffmpeg = need("ffmpeg")
  local dec_err, enc_err = scratch("decode.err"), scratch("encode.err")
  local dec = core.pipe.open({ ffmpeg, "-nostdin", "-v", "error", "-i", input, "-map", "0:v:0", "-f", "rawvideo",
    "-pix_fmt", "rgb24", "-" }, "r", dec_err)
  local frame = core.zeros({ 3, info.height, info.width })
  local enc
  local n, t0 = 0, core.sys.clock()
  local log = opts.log or io.stderr
  local ok, err = pcall(function()
    while dec:read_frame(frame) do
      local y = transform(frame)
      if not enc then
        -- The output size is the network's (a multiple of 4): known after the first frame.
        enc = core.pipe.open({ ffmpeg, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
          "-s", string.format("%dx%d", y:size(3), y:size(2)), "-framerate", info.rate, "-i", "-",
          "-i", input, "-map", "0:v:0", "-map", "1:a?", "-c:v", "libx264", "-pix_fmt", "yuv420p",
          "-c:a", "copy", "-shortest", output }, "w", enc_err)
      end
      enc:write_frame(y)
      n = n + 1
      local dt = core.sys.clock() - t0
      local fps = n / math.max(dt, 1e-9)
      local eta = info.frames and info.frames > n and string.format(", ETA %s", clock_str((info.frames - n) / fps)) or ""
      log:write(string.format("\rframe %d%s, %.2f fps%s   ", n, info.frames and ("/" .. info.frames) or "", fps, eta))
      log:flush()
    end
  end)
  local dec_code = dec:close()
  local enc_code = enc and enc:close() or 0
  if n > 0 then log:write("\n") end
  local dec_why, enc_why = first_line(dec_err), first_line(enc_err)
  os.remove(dec_err)
  os.remove(enc_err)
  if not ok then
    util.fail("stylize: %s%s", tostring(err), enc_why ~= "" and (" (ffmpeg: " .. enc_why .. ")") or "")
  end
  if dec_code ~= 0 then util.fail("stylize: cannot decode '%s': %s", input, dec_why ~= "" and dec_why or ("ffmpeg exited with " .. dec_code)) end
  if n == 0 then util.fail("stylize: '%s' has no frames", input) end
  if enc_code ~= 0 then util.fail("stylize: cannot write '%s': %s", output, enc_why ~= "" and enc_why or ("ffmpeg exited with " .. enc_code)) end
  return n, info
end

return M
