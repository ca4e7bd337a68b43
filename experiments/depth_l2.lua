-- The paper's comparison: depth maps of images stylized by the baseline and
-- by the depth-aware model, against the original's (L2, si-log, SSIM).
return {
  name = "depth_l2",
  images = "data/samples/content",
  size = 256,
  baseline = "results/baseline/default/model.h5",
  depth_aware = "results/paper/default/model.h5",
  depth = { weights = "weights/fcrn.h5", layer = "depth" },
}
