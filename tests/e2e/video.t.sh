#!/usr/bin/env bash
# strata stylize on video through ffmpeg: a 6-frame 64x48 testsrc clip at
# 12 fps with a sine soundtrack, and one without sound. The output has as
# many frames, the same frame rate, the audio stream when the input has one;
# its first frame is the stylization of the input's first frame (within
# H.264's loss, Engstrom's wave network); the progress line gives fps and ETA; missing ffmpeg and an
# unreadable video are clear errors.
. tests/tap.sh
if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  echo "1..0 # SKIP ffmpeg/ffprobe not installed (Debian: apt-get install ffmpeg)"
  exit 0
fi
ff() { ffmpeg -nostdin -v error -y "$@"; }
probe() { ffprobe -v error -select_streams "$1" -show_entries "$2" -of default=noprint_wrappers=1:nokey=1 "$3"; }

ff -f lavfi -i testsrc=size=64x48:rate=12 -f lavfi -i sine=frequency=440:sample_rate=22050 -t 0.5 \
  -c:v libx264 -pix_fmt yuv420p -c:a aac -shortest "$tmp/clip.mp4"
ok $? "a test clip (testsrc + sine) is made"
ff -f lavfi -i testsrc=size=64x48:rate=12 -frames:v 6 -c:v libx264 -pix_fmt yuv420p "$tmp/mute.mp4"
bin/strata run tests/export/random_transformer.lua "$tmp/net.h5" same

frames() { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$1"; }
n_in=$(frames "$tmp/clip.mp4")
bin/strata stylize --model "$tmp/net.h5" "$tmp/clip.mp4" "$tmp/out.mp4" >"$tmp/out.txt" 2>"$tmp/err.txt"
ok $? "strata stylize writes a video"
n_out=$(frames "$tmp/out.mp4")
[ -n "$n_in" ] && [ "$n_in" -ge 5 ] && [ "$n_in" = "$n_out" ]; ok $? "as many frames as the input ($n_in in, $n_out out)"
rate=$(probe v:0 stream=r_frame_rate "$tmp/out.mp4")
[ "$rate" = 12/1 ]; ok $? "the frame rate is kept (12/1, got $rate)"
[ "$(probe a stream=codec_type "$tmp/out.mp4")" = audio ]; ok $? "the audio stream is copied"
size=$(probe v:0 stream=width,height "$tmp/out.mp4" | paste -sd x)
[ "$size" = 64x48 ]; ok $? "the frames are the network's output size (64x48, got $size)"
tr '\r' '\n' <"$tmp/err.txt" | grep -Eq "^frame [0-9]+/$n_in, [0-9.]+ fps, ETA [0-9]+:[0-9]{2}"
ok $? "a progress line with frames per second and ETA ($(tr '\r' '\n' <"$tmp/err.txt" | grep -m1 ETA))"

# The first output frame against strata stylizing the first input frame
# (Engstrom's wave network: a smooth picture H.264 keeps; a random network's
# noise it does not). H.264 loses detail at 64x48, so the check is relative
# too: much closer than the same picture upside down or with red and blue swapped.
bin/strata weights import engstrom data/samples/reference/engstrom-wave "$tmp/wave.h5" >/dev/null
bin/strata stylize --model "$tmp/wave.h5" "$tmp/mute.mp4" "$tmp/wave.mp4" >/dev/null 2>&1
ff -i "$tmp/mute.mp4" -frames:v 1 "$tmp/in1.png"
ff -i "$tmp/wave.mp4" -frames:v 1 "$tmp/out1.png"
bin/strata stylize --model "$tmp/wave.h5" "$tmp/in1.png" "$tmp/ref1.png" >/dev/null
cat >"$tmp/mae.lua" <<'LUA'
local core = require "strata.core"
local a, b = core.image.read(arg[1]):to_list(), core.image.read(arg[2]):to_list()
local H, W = 48, 64
local function mae(map)
  local s = 0
  for c = 0, 2 do for y = 0, H - 1 do for x = 0, W - 1 do
    local c2, y2 = map(c, y)
    s = s + math.abs(a[(c * H + y) * W + x + 1] - b[(c2 * H + y2) * W + x + 1])
  end end end
  return s / (3 * H * W)
end
print(string.format("%.1f %.1f %.1f", mae(function(c, y) return c, y end), mae(function(c, y) return c, H - 1 - y end),
  mae(function(c, y) return 2 - c, y end)))
LUA
set -- $(bin/strata run "$tmp/mae.lua" "$tmp/out1.png" "$tmp/ref1.png")
awk -v m="${1:-999}" -v f="${2:-0}" -v s="${3:-0}" 'BEGIN { exit !(m < 25 && m < 0.7 * f && m < 0.7 * s) }'
ok $? "frame 1 is strata's stylization of frame 1 (mean abs diff $1 levels after H.264; upside down $2, red/blue swapped $3)"

bin/strata stylize --model "$tmp/net.h5" "$tmp/mute.mp4" "$tmp/mute_out.mp4" >/dev/null 2>&1
ok $? "a clip without sound"
[ "$(frames "$tmp/mute_out.mp4")" = 6 ] && [ -z "$(probe a stream=codec_type "$tmp/mute_out.mp4")" ]
ok $? "gives 6 frames and no audio stream"

bin/strata stylize --model "$tmp/net.h5" --preserve-colors "$tmp/mute.mp4" "$tmp/kept.mp4" >/dev/null 2>&1
ok $? "--preserve-colors on video"

# Errors.
echo "not a video" >"$tmp/bad.mp4"
out=$(bin/strata stylize --model "$tmp/net.h5" "$tmp/bad.mp4" "$tmp/x.mp4" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "cannot read video '$tmp/bad.mp4'" && [ "$(echo "$out" | wc -l)" -eq 1 ]
ok $? "an unreadable video is one clear error ($out)"
out=$(bin/strata stylize --model "$tmp/net.h5" "$tmp/none.mp4" "$tmp/x.mp4" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "none.mp4': no such file"
ok $? "a missing video is one clear error ($out)"
mkdir "$tmp/empty_path"
out=$(PATH=$tmp/empty_path bin/strata stylize --model "$tmp/net.h5" "$tmp/mute.mp4" "$tmp/x.mp4" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "not on PATH (Debian: apt-get install ffmpeg)"
ok $? "without ffmpeg on PATH: one clear error ($out)"
out=$(bin/strata stylize --model "$tmp/net.h5" "$tmp/mute.mp4" "$tmp/x.png" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "video output"
ok $? "a video into an image file is refused ($out)"
tap_end
