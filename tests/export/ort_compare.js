// node ort_compare.js MODEL.onnx INPUT.npy EXPECTED.npy
// Runs MODEL.onnx in ONNX Runtime (CPU) on INPUT [3,H,W] (0..255) and prints
// one JSON line: the output shape and the largest absolute difference from
// EXPECTED [3,H',W'] (strata's unrounded result), and EXPECTED's value range. Exit status 2 on a shape mismatch.
'use strict';
const ort = require('onnxruntime-node');
const { readNpy } = require('./npy');

async function main() {
  const [modelPath, inputPath, expectedPath] = process.argv.slice(2);
  const input = readNpy(inputPath);
  const expected = readNpy(expectedPath);
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  const x = new ort.Tensor('float32', input.data, [1, ...input.shape]);
  const t0 = Date.now();
  const out = await session.run({ [session.inputNames[0]]: x });
  const ms = Date.now() - t0;
  const y = out[session.outputNames[0]];
  const shape = y.dims.slice(1);
  if (shape.join(',') !== expected.shape.join(',')) {
    console.log(JSON.stringify({ shape, expected: expected.shape }));
    process.exit(2);
  }
  let maxDiff = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of expected.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  for (let i = 0; i < y.data.length; i++) {
    const d = Math.abs(y.data[i] - expected.data[i]);
    if (!(d <= maxDiff)) maxDiff = d; // NaN propagates as a failure
  }
  console.log(JSON.stringify({ shape, max_abs_diff: maxDiff, range: hi - lo, ms, inputs: session.inputNames, outputs: session.outputNames }));
}

main().catch((e) => {
  console.error(`ort_compare: ${e.message}`);
  process.exit(1);
});
