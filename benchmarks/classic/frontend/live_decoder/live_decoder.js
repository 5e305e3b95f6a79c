// Live decoding for Streamlit (components v1 protocol). The decoder MLP's
// weights come once as a binary file (see explorer/model/export.py); every
// slider movement decodes in this page, at most once per animation frame,
// and only the released value goes back to Python.
"use strict";

const view = document.getElementById("img");
const slidersEl = document.getElementById("sliders");
const statusEl = document.getElementById("status");
const small = document.createElement("canvas");
let dec = null, decFile = null, args = null, values = null, structure = null;
let dragging = false, pending = false;
const stats = { frames: 0, ms: 0, inputs: 0 };
window.liveStats = stats;

function send(type, data) {
  window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type }, data), "*");
}

async function loadDecoder(file) {
  const res = await fetch(file);
  if (!res.ok) throw new Error(`could not load ${file}: HTTP ${res.status}`);
  const buf = await res.arrayBuffer();
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
}

function forward(z, onehot) {
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

// z for the current slider values: the cursor moved along each slider's direction.
function latent() {
  const z = args.z0.slice();
  values.forEach((v, k) => {
    const d = v - args.s0[k];
    const c = args.components[k];
    for (let j = 0; j < z.length; j++) z[j] += d * c[j];
  });
  return z;
}

function draw() {
  pending = false;
  const t = performance.now();
  const z = latent();
  const x = forward(z, args.onehot);
  const [C, H, W] = dec.header.image_shape;
  small.width = W; small.height = H;
  const g = small.getContext("2d");
  const img = g.createImageData(W, H);
  const bytes = new Uint8Array(C * H * W);
  for (let p = 0; p < H * W; p++) {
    for (let c = 0; c < C; c++) bytes[c * H * W + p] = Math.floor(x[c * H * W + p] * 255 + 0.5);
    const r = bytes[p], gr = C === 3 ? bytes[H * W + p] : r, bl = C === 3 ? bytes[2 * H * W + p] : r;
    img.data.set([r, gr, bl, 255], 4 * p);
  }
  g.putImageData(img, 0, 0);
  const v = view.getContext("2d");
  v.imageSmoothingEnabled = false;
  v.drawImage(small, 0, 0, view.width, view.height);
  stats.frames++; stats.ms += performance.now() - t;
}

function schedule() {
  if (!pending) { pending = true; requestAnimationFrame(draw); }
}

function buildSliders() {
  slidersEl.replaceChildren();
  args.labels.forEach((label, k) => {
    // Built from nodes, labels as text: nothing in a label is read as HTML.
    const row = document.createElement("div");
    row.className = "row";
    const [lo, hi] = args.ranges[k];
    const head = document.createElement("label"), name = document.createElement("span");
    const out = document.createElement("span");
    name.textContent = label;
    out.className = "v";
    head.append(name, out);
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: lo, max: hi, step: args.step[k] });
    input.setAttribute("aria-label", `live ${label}`);
    row.append(head, input);
    input.addEventListener("pointerdown", () => { dragging = true; });
    input.addEventListener("input", () => {
      values[k] = +input.value; out.textContent = values[k].toFixed(2);
      stats.inputs++; schedule();
    });
    input.addEventListener("change", () => {
      dragging = false;
      const id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
      send("streamlit:setComponentValue", { value: { values: values.slice(), id }, dataType: "json" });
    });
    slidersEl.appendChild(row);
  });
}

function syncSliders() {
  const shown = args.s0.map((v, k) => Math.min(Math.max(v, args.ranges[k][0]), args.ranges[k][1]));
  values = args.s0.slice();
  slidersEl.querySelectorAll(".row").forEach((row, k) => {
    row.querySelector("input").value = shown[k];
    row.querySelector(".v").textContent = args.s0[k].toFixed(2);
  });
}

async function render(a) {
  if (a.decoder_file !== decFile) {
    dec = await loadDecoder(a.decoder_file);
    decFile = a.decoder_file;
  }
  args = a;
  const key = JSON.stringify([a.labels, a.ranges]);
  if (key !== structure) { structure = key; buildSliders(); }
  if (!dragging) syncSliders();
  const [, H, W] = dec.header.image_shape;
  view.width = W * a.scale; view.height = H * a.scale;
  statusEl.textContent = "";
  send("streamlit:setFrameHeight", { height: Math.max(H * a.scale + 28, 52 * a.labels.length + 8) });
  draw();
  document.body.dataset.ready = "1";
}

let queue = Promise.resolve();
window.addEventListener("message", (event) => {
  if (event.data && event.data.type === "streamlit:render") {
    const a = event.data.args;
    queue = queue.then(() => render(a)).catch((err) => { statusEl.textContent = String(err); console.error(err); });
  }
});
send("streamlit:componentReady", { apiVersion: 1 });
