-- The paper's baseline: Engstrom's fast style transfer without the depth loss.
-- content 7.5, style 100, TV 200; Adam lr 1e-3; batch 4 of 256x256 COCO-2014
-- images (squashed); 2 epochs; checkpoint every 2000 iterations.
-- Needs data/train2014 (COCO) and weights/vgg19.h5 ('make weights').
return {
  name = "baseline",
  data = { train = "data/train2014", size = 256, batch = 4 },
  style = { image = "data/samples/styles/wave.jpg" },
  vgg = { weights = "weights/vgg19.h5" },
  loss = {
    content = { weight = 7.5, layer = "relu4_2" },
    style = { weight = 100, layers = { "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1" } },
    tv = { weight = 200 },
  },
  optim = { lr = 1e-3 },
  schedule = { epochs = 2, checkpoint_every = 2000, log_every = 20, sample_every = 1000 },
}
