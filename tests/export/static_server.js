// A minimal static file server for the web page test: GET/HEAD of files
// under one folder, with the MIME types browsers insist on for modules
// (.mjs/.js) and streaming WebAssembly compilation (.wasm).
//   node static_server.js DIR [PORT]    (prints the URL; PORT 0 = any free one)
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
};

// Starts serving `root` on 127.0.0.1:`port`; resolves to the http.Server.
function serve(root, port = 0) {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = path.join(base, rel.endsWith('/') ? rel + 'index.html' : rel);
    if (file !== base && !file.startsWith(base + path.sep)) file = null;
    fs.stat(file || '', (err, st) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
      } else if (err || !st.isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      } else {
        res.writeHead(200, {
          'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
          'Content-Length': st.size,
        });
        if (req.method === 'HEAD') res.end();
        else fs.createReadStream(file).pipe(res);
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

module.exports = { serve };

if (require.main === module) {
  serve(process.argv[2], Number(process.argv[3] || 0)).then((s) => {
    console.log(`http://127.0.0.1:${s.address().port}/`);
  });
}
