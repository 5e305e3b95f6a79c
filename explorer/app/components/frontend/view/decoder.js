// Decoding in the browser: the exported MLP (see explorer/model/export.py),
// each layer's weights float32 or float16 (widened here: the arithmetic is
// float32 either way).
import { fetchBuffer } from "./net.js";

const decoders = new Map();// url -> Promise of a decoder
let halves = null;         // every float16 bit pattern's value

function halfTable() {
  if (!halves) {
    halves = new Float32Array(65536);
    for (let u = 0; u < 65536; u++) {
      const s = u & 0x8000 ? -1 : 1, e = (u >> 10) & 0x1f, m = u & 0x3ff;
      halves[u] = s * (e === 0 ? m * 2 ** -24 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15));
    }
  }
  return halves;
}

// ``n`` numbers at byte ``off`` of ``buf`` as float32, and the offset after
// them (each array padded to 4 bytes). float16: the low bytes, then the high.
function readArray(buf, off, n, dtype) {
  if (dtype === "f2") {
    const t = halfTable(), lo = new Uint8Array(buf, off, n), hi = new Uint8Array(buf, off + n, n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = t[lo[i] | (hi[i] << 8)];
    return [out, off + 2 * n + ((2 * n) % 4)];
  }
  if (dtype !== undefined && dtype !== "f4") throw new Error(`unknown dtype ${dtype}`);
  return [new Float32Array(buf, off, n), off + 4 * n];
}

export function loadDecoder(url) {
  if (!decoders.has(url)) {
    decoders.set(url, fetchBuffer(url).then((buf) => {
      const magic = String.fromCharCode(...new Uint8Array(buf, 0, 4));
      if (magic !== "LXD1") throw new Error("not an exported decoder");
      const n = new DataView(buf).getUint32(4, true);
      const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
      let off = 8 + n;
      const layers = header.layers.map((L) => {
        let W, b;
        [W, off] = readArray(buf, off, L.in * L.out, L.dtype);
        [b, off] = readArray(buf, off, L.out, L.dtype);
        return { W, b, in: L.in, out: L.out };
      });
      return { header, layers };
    }));
  }
  return decoders.get(url);
}

export function forward(dec, z, onehot) {
  let h = new Float32Array(z.length + onehot.length);
  h.set(z); h.set(onehot, z.length);
  dec.layers.forEach((L, li) => {
    const out = new Float32Array(L.out), W = L.W, x = h, n = L.in;
    const last = li === dec.layers.length - 1;
    for (let o = 0; o < L.out; o++) {
      let s = L.b[o];
      const r = o * n;
      for (let i = 0; i < n; i++) s += W[r + i] * x[i];
      out[o] = last ? 1 / (1 + Math.exp(-s)) : (s > 0 ? s : 0);
    }
    h = out;
  });
  return h;
}

