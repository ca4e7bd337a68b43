// node web_page_check.js DIR PICTURE.png REFERENCE.npy SHOTS_DIR PROFILE_DIR
// Opens the page `strata export web` wrote in DIR in headless Chromium
// (puppeteer-core driving $CHROMIUM, default /usr/bin/chromium), served
// twice: by static_server.js and by `python3 -m http.server` (what the README
// suggests). Each time it picks PICTURE through the page's file input, waits
// for the result and compares the output canvas with REFERENCE (strata
// stylize's unrounded [3,H,W] values, rounded and clamped as strata writes
// them). Saves a screenshot SHOTS_DIR/web-<server>.png. Prints one JSON line
// per server; exits non-zero on any failure, and within a fixed time.
'use strict';
const { spawn } = require('child_process');
const http = require('http');
const path = require('path');
const puppeteer = require('puppeteer-core');
const { readNpy } = require('./npy');
const { serve } = require('./static_server');

const [dir, picture, refPath, shots, profile] = process.argv.slice(2);
const LOAD_MS = 30000, RUN_MS = 60000;
// A last resort: whatever hangs, end (puppeteer kills its browser on exit).
setTimeout(() => { console.error('web_page_check: timed out'); process.exit(3); }, 170000).unref();

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => { req.destroy(); resolve(0); });
  });
}

// python3 -m http.server on a free port; resolves to { url, close }.
async function pythonServer() {
  const probe = await serve(dir, 0);
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  const child = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir],
    { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    if (await get(url) === 200) return { url, close: () => child.kill() };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('python3 -m http.server did not answer within 10 s');
}

async function nodeServer() {
  const s = await serve(dir, 0);
  return { url: `http://127.0.0.1:${s.address().port}/`, close: () => s.close() };
}

// Max and mean |canvas - round(clamp(ref))| over RGB, and max |canvas - ref|.
function compare(canvas, ref) {
  const [c, h, w] = ref.shape;
  if (c !== 3 || canvas.width !== w || canvas.height !== h) {
    throw new Error(`output canvas is ${canvas.width}x${canvas.height}, strata's result ${w}x${h} (${c} channels)`);
  }
  const px = Buffer.from(canvas.rgba, 'base64');
  let max = 0, sum = 0, maxRaw = 0, alpha = 255;
  for (let i = 0, n = w * h; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const v = ref.data[k * n + i];
      const want = !(v > 0) ? 0 : v >= 254.5 ? 255 : Math.floor(v + 0.5);
      const d = Math.abs(px[4 * i + k] - want);
      max = Math.max(max, d);
      sum += d;
      maxRaw = Math.max(maxRaw, Math.abs(px[4 * i + k] - Math.min(255, Math.max(0, v))));
    }
    alpha = Math.min(alpha, px[4 * i + 3]);
  }
  return { max_abs_diff: max, mean_abs_diff: sum / (3 * w * h), max_abs_diff_unrounded: maxRaw, min_alpha: alpha };
}

async function check(browser, name, server, ref) {
  const page = await browser.newPage();
  const log = [];
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => log.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  try {
    await page.setViewport({ width: 1200, height: 700 });
    await page.goto(server.url, { waitUntil: 'load', timeout: LOAD_MS });
    const state = () => document.body.dataset.state !== 'loading';
    await page.waitForFunction(state, { timeout: LOAD_MS });
    const ready = await page.$eval('body', (b) => [b.dataset.state, document.getElementById('status').textContent]);
    if (ready[0] !== 'ready') throw new Error(`page not ready: ${ready.join(': ')}`);
    const picker = await page.$('#picker');
    await picker.uploadFile(picture);
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), { timeout: RUN_MS });
    const [st, text, href, download] = await page.$eval('body', (b) => [b.dataset.state,
      document.getElementById('status').textContent, document.getElementById('download').href,
      document.getElementById('download').download]);
    if (st !== 'done') throw new Error(`page error: ${text}`);
    if (!href.startsWith('blob:') || !download.endsWith('-stylized.png')) {
      throw new Error(`no download link for the result (href '${href}', name '${download}')`);
    }
    const canvas = await page.$eval('#output', (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let s = '';
      for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode.apply(null, d.subarray(i, i + 8192));
      return { width: c.width, height: c.height, rgba: btoa(s) };
    });
    const shot = path.join(shots, `web-${name}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    return { server: name, status: text, width: canvas.width, height: canvas.height, ...compare(canvas, ref), screenshot: shot };
  } catch (e) {
    throw new Error(`${name} server: ${e.message}${log.length ? '\n' + log.join('\n') : ''}`);
  } finally {
    await page.close().catch(() => {});
  }
}

async function main() {
  const ref = readNpy(refPath);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    userDataDir: profile,
    timeout: LOAD_MS,
    protocolTimeout: RUN_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  let failed = false;
  try {
    for (const [name, start] of [['node', nodeServer], ['python3', pythonServer]]) {
      const server = await start();
      try {
        console.log(JSON.stringify(await check(browser, name, server, ref)));
      } catch (e) {
        console.error(e.message);
        failed = true;
      } finally {
        server.close();
      }
    }
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(`web_page_check: ${e.stack || e}`); process.exit(2); });
