-- The VGG-19 loss network and the content, style and TV losses against an
-- independent implementation: PyTorch (float64) on a width/16 VGG-19 stored in
-- the Keras notop layout (tests/fixtures/gen_vgg_fixture.py made both files).
-- This checks the Keras importer (HWIO->OIHW, BGR->RGB), the mean subtraction,
-- the loss normalisations of ANCHORS.md and every backward pass of the chain.
local strata = require "strata"
local tap = require "strata.tap"
local vgg19 = require "strata.models.vgg19"
local losses = require "strata.loss"

local fx = strata.weights.load("tests/fixtures/vgg19_tiny_losses.h5").params
local w = strata.weights.import_keras_vgg19("tests/fixtures/vgg19_tiny_keras.h5")
local vgg = vgg19.build({ width_div = 16, pool = "floor" }) -- the fixture is Keras (floor pooling)
vgg:load_weights(w)
tap.ok(true, "Keras-layout fixture imports into a width/16 VGG-19")

local function rel_err(a, b)
  return (a - b):abs():max() / math.max(b:abs():max(), 1e-30)
end

-- The registered terms with the experiment defaults (content 7.5 at relu4_2,
-- style 100 at relu1_1..relu5_1, TV 200; depth is off).
local terms = {}
for _, t in ipairs(losses.build(require("strata.experiment").defaults())) do terms[t.name] = t end
local content, style, tv = terms.content, terms.style, terms.tv
tap.ok(content and style and tv and not terms.depth, "the defaults build the content, style and TV terms, not depth")

vgg:train(false)
local style_target = losses.style_target(style, vgg:features(fx.style, style.layers))
local target = vgg:features(fx.content, content.layers)
vgg:train(true)
local layers = { "relu4_2" }
for _, l in ipairs(style.layers) do layers[#layers + 1] = l end
local feats = vgg:features(fx.stylized, layers)
local f1 = vgg19.build({ width_div = 16, pool = "floor" })
f1:load_weights(w)
local dbg = f1:features(fx.stylized, { "relu1_1", "relu5_1" })
tap.ok(rel_err(dbg.relu1_1, fx.feat_relu1_1) < 1e-5, "relu1_1 features match PyTorch")
tap.ok(rel_err(dbg.relu5_1, fx.feat_relu5_1) < 1e-4, "relu5_1 features match PyTorch")

local image = { image = fx.stylized }
local c = losses.value(content, feats, target)
local s = losses.value(style, feats, style_target)
local t = losses.value(tv, image)
tap.close(c, fx.content_loss:get(1), 0, 1e-4, "content loss (relu4_2 MSE)")
tap.close(s, fx.style_loss:get(1), 0, 1e-4, "style loss (5 Gram layers)")
tap.close(t, fx.tv_loss:get(1), 0, 1e-4, "total variation loss")
tap.close(7.5 * c + 100 * s + 200 * t, fx.total:get(1), 0, 1e-4, "weighted total 7.5/100/200")

local grads = losses.grad(content, feats, target)
for l, g in pairs(losses.grad(style, feats, style_target)) do
  grads[l] = grads[l] and strata.ops.add(grads[l], g) or g
end
local d = strata.ops.add(vgg:backward(grads), losses.grad(tv, image).image)
local e = rel_err(d, fx.grad_stylized)
tap.diag("relative error of d total / d stylized: %.2e", e)
tap.ok(e < 1e-4, "gradient of the total with respect to the stylized image matches PyTorch")

tap.done()
