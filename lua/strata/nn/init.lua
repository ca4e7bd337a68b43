-- Network building blocks (engine ops wrapped as modules with forward/backward).
local act = require "strata.nn.activations"

return {
  Module = require "strata.nn.module",
  Sequential = require "strata.nn.sequential",
  Residual = require "strata.nn.residual",
  Conv2d = require "strata.nn.conv2d",
  ConvTranspose2d = require "strata.nn.conv_transpose2d",
  InstanceNorm = require "strata.nn.instance_norm",
  ReLU = act.ReLU,
  Tanh = act.Tanh,
  Affine = act.Affine,
  MaxPool2d = require "strata.nn.maxpool2d",
}
