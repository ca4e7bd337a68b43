// The page written by `strata export web`: runs model.onnx (strata's
// transformer: input "image" [1,3,H,W] RGB 0..255, output "stylized"
// [1,3,H',W'] unclipped) on a picked picture with ONNX Runtime Web's
// WebAssembly backend, and shows the result rounded and clamped to 0..255 as
// `strata stylize` writes it.
import * as ort from './ort.wasm.min.mjs';

const picker = document.getElementById('picker');
const status = document.getElementById('status');
const inputCanvas = document.getElementById('input');
const outputCanvas = document.getElementById('output');
const download = document.getElementById('download');

// document.body.dataset.state (loading, ready, running, done, error) lets
// scripts, such as strata's browser test, wait for a result.
function show(state, text) {
  document.body.dataset.state = state;
  status.textContent = text;
}

// One thread: more need cross-origin isolation (COOP/COEP headers), which an
// ordinary static server does not send. The runtime files lie beside this one.
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL('./', import.meta.url).href;

const session = ort.InferenceSession.create('model.onnx', { executionProviders: ['wasm'] });
session.then(
  () => show('ready', 'Model loaded. Pick a picture.'),
  (e) => show('error', `Cannot load model.onnx: ${e.message || e}`));

// The picture's RGB as planar float32 0..255. colorSpaceConversion 'none'
// keeps the stored values (no colour-profile or gamma conversion), as strata
// reads them.
async function readPicture(file) {
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const w = bitmap.width, h = bitmap.height;
  inputCanvas.width = w;
  inputCanvas.height = h;
  const ctx = inputCanvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const planar = new Float32Array(3 * w * h);
  for (let i = 0, n = w * h; i < n; i++) {
    planar[i] = rgba[4 * i];
    planar[n + i] = rgba[4 * i + 1];
    planar[2 * n + i] = rgba[4 * i + 2];
  }
  return new ort.Tensor('float32', planar, [1, 3, h, w]);
}

// Draws [1,3,H,W] float values on the output canvas, rounded and clamped.
function drawResult(tensor) {
  const [, , h, w] = tensor.dims;
  const v = tensor.data, n = w * h;
  outputCanvas.width = w;
  outputCanvas.height = h;
  const ctx = outputCanvas.getContext('2d', { willReadFrequently: true });
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) img.data[4 * i + c] = Math.min(255, Math.max(0, Math.round(v[c * n + i])));
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

async function stylize(file) {
  download.hidden = true;
  show('running', `Stylizing ${file.name}...`);
  const t0 = performance.now();
  const image = await readPicture(file);
  const s = await session;
  const out = await s.run({ image });
  drawResult(out.stylized);
  const [, , h, w] = out.stylized.dims;
  out.stylized.dispose();
  const blob = await new Promise((resolve) => outputCanvas.toBlob(resolve, 'image/png'));
  if (download.href) URL.revokeObjectURL(download.href);
  download.href = URL.createObjectURL(blob);
  download.download = file.name.replace(/\.[^.]*$/, '') + '-stylized.png';
  download.hidden = false;
  show('done', `${file.name}: ${w}x${h} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
}

picker.addEventListener('change', () => {
  const file = picker.files[0];
  if (file) stylize(file).catch((e) => show('error', `Cannot stylize ${file.name}: ${e.message || e}`));
});
