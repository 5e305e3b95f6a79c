// Decoding in the browser: the exported MLP (see explorer/model/export.py).
import { fetchBuffer } from "./net.js";

const decoders = new Map();// url -> Promise of a decoder

export function loadDecoder(url) {
  if (!decoders.has(url)) {
    decoders.set(url, fetchBuffer(url).then((buf) => {
      const magic = String.fromCharCode(...new Uint8Array(buf, 0, 4));
      if (magic !== "LXD1") throw new Error("not an exported decoder");
      const n = new DataView(buf).getUint32(4, true);
      const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
      let off = 8 + n;
      const layers = header.layers.map((L) => {
        const W = new Float32Array(buf, off, L.in * L.out); off += 4 * L.in * L.out;
        const b = new Float32Array(buf, off, L.out); off += 4 * L.out;
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

