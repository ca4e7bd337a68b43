-- The paper's depth-aware style transfer: the baseline's perceptual losses
-- plus the depth loss on the FCRN depth network's output map.
-- content 7.5, style 100, TV 200, depth 200; Adam lr 1e-3; batch 4 of 256x256
-- COCO-2014 images (squashed); 2 epochs (~41.4k iterations); checkpoint every 2000.
-- Needs data/train2014 (COCO), weights/vgg19.h5 and weights/fcrn.h5 ('make weights').
local base = dofile("experiments/baseline.lua")
base.name = "paper"
base.loss.depth = { weight = 200, layer = "depth" }
base.depth = { weights = "weights/fcrn.h5" }
return base
