// Reads a float32 little-endian C-order .npy file (as strata's npy.save writes).
'use strict';
const fs = require('fs');

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${path}: expected little-endian float32 in C order, header ${header.trim()}`);
  }
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const data = buf.subarray(start + hlen);
  const floats = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
  const n = shape.reduce((a, b) => a * b, 1);
  if (floats.length !== n) throw new Error(`${path}: ${floats.length} values for shape (${shape})`);
  return { shape, data: floats };
}

module.exports = { readNpy };
