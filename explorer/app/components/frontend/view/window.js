// A large map's windows (components/density.py draws its full view): every
// shown point, fetched after the first view, and each pan or zoom's window
// of them drawn here (its points by the server's fixed priority, and its
// density layer), with no round trip.
import { fetchBuffer } from "./net.js";
import { config, layout, splitByClass, traces } from "./traces.js";
import { words } from "./words.js";

function hexRgb(h) {
  const v = parseInt(h.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

// Every shown point of a large map (order of priority, every image's map
// coordinates, its labels or measure), fetched after the map is drawn.
export async function loadAll(mv, d, key) {
  await mv.view.afterDraw;  // the first view's files go first
  const t = performance.now();
  const [order, coords, values, labels] = await Promise.all([
    fetchBuffer(d.order).then((b) => new Int32Array(b)),
    fetchBuffer(d.coords).then((b) => new Float32Array(b)),
    d.values ? fetchBuffer(d.values).then((b) => new Float32Array(b)) : null,
    mv.view.labelsReady,
  ]);
  const now = mv.m.points.density;
  if (!now || now.order !== d.order || now.coords !== d.coords || now.values !== d.values) return;
  // In priority order, so that a window's pass reads memory in sequence
  // (read through `order`, a million points cost ~10x more in cache misses).
  const n = order.length, xy = new Float32Array(2 * n);
  const val = values ? new Float32Array(n) : null, lab = !values && labels ? new Uint8Array(n) : null;
  for (let j = 0; j < n; j++) {
    const i = order[j];
    xy[2 * j] = coords[2 * i]; xy[2 * j + 1] = coords[2 * i + 1];
    if (val) val[j] = values[i];
    else if (lab) lab[j] = labels[i];
  }
  mv.all = { key, order, xy, values: val, labels: lab };
  mv.gd.dataset.all = String(Math.round(performance.now() - t));
  // a window the user moved to while these were on their way
  if (mv.zoomed) redrawWindow(mv);
}

// The window's points and density, picked and binned here as
// components/density.py does it for the server's full view.
// One window in flight at a time: zoom steps that come while one is drawn
// are drawn once, at the range the map has when it is done.
export function redrawWindow(mv) {
  if (mv.windowBusy) { mv.windowAgain = true; return; }
  mv.windowBusy = true;
  mv.gd.dataset.windowBusy = "1";
  requestAnimationFrame(async () => {
    do {
      mv.windowAgain = false;
      try { await drawWindow(mv); } catch (e) { console.error(e); }
    } while (mv.windowAgain);
    mv.windowBusy = false;
    delete mv.gd.dataset.windowBusy;
  });
}

async function drawWindow(mv) {
  const all = mv.all, m = mv.m, d = m.points.density;
  if (!all || !d) return;
  const t = performance.now();
  const L = mv.gd._fullLayout, want = mv.range || { x: L.xaxis.range, y: L.yaxis.range };
  const sorted = (r) => (r[0] <= r[1] ? [+r[0], +r[1]] : [+r[1], +r[0]]);
  const [x0, x1] = sorted(want.x), [y0, y1] = sorted(want.y);
  const [bx, by] = d.bins, limit = d.limit;
  const { order, xy, values, labels } = all;
  const count = new Float64Array(bx * by), sum = values ? new Float64Array(bx * by) : null;
  const k = Math.max(m.points.class_names.length, 1), colors = m.colors, K = colors.length;
  const byClass = values ? null : new Float64Array(bx * by * K);
  const picked = new Int32Array(Math.min(limit, order.length));  // positions in `order`
  let nPicked = 0, inWindow = 0;
  const sx = bx / (x1 - x0), sy = by / (y1 - y0);
  for (let j = 0, n = order.length; j < n; j++) {
    const x = xy[2 * j], y = xy[2 * j + 1];
    if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) continue;
    inWindow++;
    if (nPicked < limit) picked[nPicked++] = j;
    const ix = Math.min(Math.floor((x - x0) * sx), bx - 1);
    const iy = Math.min(Math.floor((y - y0) * sy), by - 1);
    const cell = (by - 1 - iy) * bx + ix;
    count[cell]++;
    if (values) sum[cell] += values[j];
    else byClass[cell * K + (labels ? labels[j] % K : 0)]++;
  }
  paintDensity(mv, count, sum, byClass, d, bx, by);
  // the picked points, as traces
  const n = nPicked, pos = picked;
  const index = new Int32Array(n), xs = new Float32Array(n), ys = new Float32Array(n);
  for (let q = 0; q < n; q++) {
    const j = pos[q];
    index[q] = order[j]; xs[q] = xy[2 * j]; ys[q] = xy[2 * j + 1];
  }
  const data = { url: m.points.url, index, n, xs, ys };
  if (values) {
    const vals = new Float32Array(n);
    for (let q = 0; q < n; q++) vals[q] = values[pos[q]];
    Object.assign(data, splitByClass(xs, ys, null, 1, vals));
  } else {
    Object.assign(data, splitByClass(xs, ys, labels ? (q) => labels[pos[q]] : () => 0, k, null));
  }
  mv.loaded = data;
  mv.density = Object.assign({}, d, { x: [x0, x1], y: [y0, y1], canvas: true, in_window: inWindow });
  await Plotly.react(mv.gd, traces(mv, m, data), layout(mv, m), config(m, words(mv.view.d)));
  mv.note(inWindow, n);
  mv.gd.dataset.points = String(n);
  mv.gd.dataset.window = JSON.stringify([x0, x1, y0, y1]);
  mv.gd.dataset.windowMs = String(Math.round(performance.now() - t));
}

// The density layer's pixels, as density_image (components/density.py)
// computes them: the count-weighted mix of the class colours, or the mean
// measure on Viridis; more opaque where more points fall.
function paintDensity(mv, count, sum, byClass, d, bx, by) {
  const cv = mv.densityCanvas;
  cv.width = bx; cv.height = by;
  const g = cv.getContext("2d"), img = g.createImageData(bx, by), px = img.data;
  let most = 1;
  for (let c = 0; c < count.length; c++) if (count[c] > most) most = count[c];
  const norm = Math.log1p(most);
  const rgbs = mv.m.colors.map(hexRgb), K = rgbs.length;
  const [lo, hi] = d.value_range || [0, 1];
  for (let c = 0; c < count.length; c++) {
    const n = count[c];
    if (!n) { px[4 * c + 3] = 0; continue; }
    let r = 0, gr = 0, b = 0;
    if (sum) {
      const level = Math.min(Math.max((sum[c] / n - lo) / Math.max(hi - lo, 1e-12), 0), 1);
      [r, gr, b] = d.viridis[Math.floor(level * 255)];
    } else {
      for (let q = 0; q < K; q++) {
        const w = byClass[c * K + q];
        if (w) { r += w * rgbs[q][0]; gr += w * rgbs[q][1]; b += w * rgbs[q][2]; }
      }
      r /= n; gr /= n; b /= n;
    }
    const a = 0.2 + (0.75 * Math.log1p(n)) / norm;
    px[4 * c] = Math.floor(r + 0.5); px[4 * c + 1] = Math.floor(gr + 0.5);
    px[4 * c + 2] = Math.floor(b + 0.5); px[4 * c + 3] = Math.floor(a * 255 + 0.5);
  }
  g.putImageData(img, 0, 0);
}

// plotly's wheel zoom (dragbox.js), about the mouse: each wheel event
// scales both ranges by exp(clamped deltaY / 200).
export function wheelZoom(mv, ev) {
  const box = ev.target;
  if (!mv.all || !box.classList || !box.classList.contains("nsewdrag")) return;
  const dy = Number.isFinite(ev.deltaY) ? ev.deltaY : 0;
  if (!dy) return;
  ev.preventDefault();
  ev.stopPropagation();  // plotly's own handler, on the drag box, never runs
  const L = mv.gd._fullLayout, r = mv.range || { x: L.xaxis.range, y: L.yaxis.range };
  const zoom = Math.exp(Math.min(Math.max(dy, -20), 20) / 200);
  const bb = box.getBoundingClientRect();
  const fx = (ev.clientX - bb.left) / bb.width, fy = (bb.bottom - ev.clientY) / bb.height;
  const scale = (ax, f) => {
    const v = ax[0] + (ax[1] - ax[0]) * f;
    return [v + (ax[0] - v) * zoom, v + (ax[1] - v) * zoom];
  };
  mv.range = { x: scale(r.x.map(Number), fx), y: scale(r.y.map(Number), fy) };
  mv.zoomed = true;
  redrawWindow(mv);
  mv.tellView();
}
