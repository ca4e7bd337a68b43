-- The demo's short training run (make demo): the paper's losses at a small
-- scale on a handful of sample photos; demo/run.sh sets the data, weights and
-- loss.depth.weight (0 for the baseline, 200 for the depth-aware model).
return {
  name = "demo",
  seed = 1,
  data = { size = 128, batch = 2 },
  model = { channels = { 16, 32, 64 }, blocks = 3 },
  loss = {
    content = { weight = 7.5, layer = "relu4_2" },
    style = { weight = 100 },
    tv = { weight = 200 },
    depth = { weight = 0, layer = "depth" },
  },
  optim = { lr = 1e-2 },
  schedule = { iterations = 150, log_every = 10, checkpoint_every = 50, sample_every = 50 },
  sample = { size = 128 },
}
