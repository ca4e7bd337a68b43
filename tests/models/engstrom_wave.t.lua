-- Conformance with a published result: Engstrom's pretrained 'wave' network,
-- imported from its released checkpoint folder, stylizes chicago.jpg as in
-- Engstrom's published example (rows 2..475 of our 712x476 output against
-- the 712x474 JPEG, mean absolute error below 2.5/255).
local strata = require "strata"
local tap = require "strata.tap"

local ckpt = tap.sample("reference/engstrom-wave") -- the original manifest + raw-variable form
local chicago = tap.sample("content/chicago.jpg")
local published = tap.sample("reference/chicago_wave.jpg")

local tmp = os.tmpname()
os.remove(tmp)
strata.sys.mkdir_p(tmp)
local model = tmp .. "/wave.h5"

local w = strata.weights.import_engstrom(ckpt)
local n = 0
for _, name in ipairs(w.order) do n = n + w.params[name]:numel() end
tap.is(n, 1677638, "imported checkpoint has 1,677,638 parameters")

local st = os.execute(string.format("bin/strata weights import engstrom %s %s >/dev/null",
  ckpt, model))
tap.ok(st, "strata weights import engstrom converts the folder")

local stylize = require "strata.stylize"
local net = stylize.load_model(model)
local t0 = strata.sys.clock()
local out = tmp .. "/chicago_wave.png"
local y = stylize.file(net, chicago, out)
tap.diag("stylized 712x474 in %.2f s", strata.sys.clock() - t0)
tap.is(y:size(3), 712, "output width 712")
tap.is(y:size(2), 476, "output height 476")

local mine = strata.image.read(out)
local ref = strata.image.read(published)
tap.is(ref:size(2), 474, "reference is 474 rows")
local a, b = mine:to_list(), ref:to_list()
local H, W, Href = 476, 712, 474
local sum, cnt = 0, 0
for c = 0, 2 do
  for r = 0, Href - 1 do
    local ra = (c * H + r + 2) * W -- rows 2..475 of ours
    local rb = (c * Href + r) * W
    for x = 1, W do
      sum = sum + math.abs(a[ra + x] - b[rb + x])
      cnt = cnt + 1
    end
  end
end
local mae = sum / cnt
tap.diag("mean absolute error against the published image: %.3f / 255", mae)
tap.ok(mae < 2.5, "matches Engstrom's published chicago_wave.jpg (MAE < 2.5/255)")

-- The same network on the same image with the rows misaligned by one must be
-- clearly worse: the comparison is sensitive to what it checks.
local sum2 = 0
for c = 0, 2 do
  for r = 0, Href - 1 do
    local ra, rb = (c * H + r + 1) * W, (c * Href + r) * W
    for x = 1, W do sum2 = sum2 + math.abs(a[ra + x] - b[rb + x]) end
  end
end
tap.ok(sum2 / cnt > mae + 1, string.format("a one-row misalignment scores worse (%.2f)", sum2 / cnt))

os.remove(model)
os.remove(out)
os.remove(tmp)
tap.done()
