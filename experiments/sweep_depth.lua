-- The paper's question over depth-loss weights: the paper's experiment
-- (experiments/paper.lua) trained once per depth weight, 0 being the
-- baseline. bin/strata sweep experiments/sweep_depth.lua
-- -> results/sweep_depth/loss.depth.weight=<w>/ per run, and
--    results/sweep_depth/summary.csv, summary.md, plot_total.png (plus a plot
--    per numeric column of each run's eval.csv, e.g. depth_l2_ratio).
-- On a cluster: bin/strata sweep experiments/sweep_depth.lua --slurm
-- writes results/sweep_depth/sweep.slurm (a job array, one GPU per run).
return {
  name = "sweep_depth",
  base = "experiments/paper.lua",
  grid = { ["loss.depth.weight"] = { 0, 50, 100, 200, 400 } },
}
