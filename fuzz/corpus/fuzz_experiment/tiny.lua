-- A tiny experiment for end-to-end tests; paths come from --set.
return {
  name = "tiny",
  seed = 7,
  data = { size = 32, batch = 2 },
  model = { channels = { 8, 16, 16 }, blocks = 1 },
  loss = { style = { layers = { "relu1_1", "relu2_1", "relu3_1" } }, content = { layer = "relu3_1" } },
  optim = { lr = 1e-2 },
  schedule = { iterations = 40, log_every = 5, checkpoint_every = 10, sample_every = 0 },
  sample = { size = 32 },
}
