// The explorer's view (Streamlit components v2): both latent maps, the image
// strip (the selected image and each model's decode at its ×) and the live
// sliders, in one element of the page (no iframe).
//
// A click is answered here, before Python hears of it: the clicked point (or
// the exact spot in empty space, through the inverse PCA), both models'
// decodes with their exported decoders, the original image from the dataset's
// uint8 chunks, both maps' marks and the sliders. Then one trigger tells
// Python, whose rerun fills in the rest (neighbours, tabs, the URL); its data
// echoes the last event it handled, so an answer to an older click never
// overwrites a newer one drawn here. Models whose decoder cannot run in a
// browser (conv nets, diffusers, a user's module) get their decode from Python
// (a PNG in the data), through the same element.
//
// Everything large arrives by URL from the app's routes (explorer/app/routes.py),
// named by content and cached by the browser: plotly.js, points, latent means,
// decoders, image chunks. A large map (components/density.py) arrives drawn for
// its full view; every shown point's coordinates follow in the background, and
// from then on each pan or zoom is drawn here (the window's points, by the same
// fixed priority as the server's, and its density layer), with no round trip.
// The module stays loaded between reruns, and so do its plots (one WebGL
// context per map), typed arrays and caches.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const CONFIG = { responsive: true, displaylogo: false, scrollZoom: true,
  modeBarButtonsToRemove: ["toImage"] };
// a selection's other points: grey, behind (plotly's own style for them)
const UNSELECTED = { marker: { color: "#c4c4c4", opacity: 0.35 } };
const SELECTED = { marker: { opacity: 0.9 } };
const THUMBS_MAX = 500;    // at most this many points in view: images instead of dots
const THUMB_PX = [32, 56]; // a thumbnail's side on screen (CSS pixels): many, few
const views = new Map();   // one per component key
const cache = new Map();   // url -> Promise of its ArrayBuffer
const decoders = new Map();// url -> Promise of a decoder
let plotlyReady = null;

const CSS = `
.lx-root { font-family: "Source Sans Pro", "Source Sans 3", sans-serif; color: #31333f; }
.lx-row { display: grid; grid-template-columns: repeat(var(--lx-cols), minmax(0, 1fr)); column-gap: 3rem; }
.lx-map { position: relative; min-width: 0; overflow: hidden; }
.lx-plot { width: 100%; }
.lx-status { position: absolute; top: 45%; width: 100%; text-align: center; color: #666;
  font-size: 14px; pointer-events: none; }
.lx-marks { position: absolute; left: 0; top: 0; pointer-events: none; overflow: hidden; }
.lx-thumbs { position: absolute; left: 0; top: 0; pointer-events: none; image-rendering: pixelated; }
.lx-density { position: absolute; left: 0; top: 0; overflow: hidden; pointer-events: none; display: none; }
.lx-density img, .lx-density canvas { position: absolute; max-width: none; }
.lx-map-note { font-size: 13px; color: #6b6f7b; margin: 0 0 4px 56px; min-height: 1em; }
.lx-strip { display: flex; gap: 22px; align-items: flex-start; justify-content: center;
  margin: 6px 0 10px 0; flex-wrap: wrap; }
.lx-strip figure { margin: 0; display: flex; flex-direction: column; align-items: center; gap: 4px; }
.lx-strip figcaption { font-size: 13px; color: #6b6f7b; max-width: 220px; text-align: center;
  overflow-wrap: anywhere; }
.lx-strip canvas { image-rendering: pixelated; border-radius: 6px; background: #000; }
.lx-strip canvas.lx-waiting { opacity: 0.45; transition: opacity 0.2s; }
.lx-sliders { display: flex; flex-direction: column; gap: 6px; min-width: 0; }
.lx-sliders .lx-srow label { display: flex; justify-content: space-between; font-size: 14px; }
.lx-sliders .lx-srow span.lx-v { color: #ff4b4b; font-variant-numeric: tabular-nums; }
.lx-sliders input { width: 100%; accent-color: #ff4b4b; margin: 2px 0 0 0; }
.lx-note { font-size: 13px; color: #6b6f7b; margin: 2px 0 6px 0; }
`;

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = url;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${url}`));
    document.head.appendChild(s);
  });
}

function ensurePlotly(url) {
  if (!plotlyReady) {
    // the loader (components/view.py) has started it; else load it here
    plotlyReady = window.Plotly ? Promise.resolve() : (window.lxPlotly || loadScript(url));
    if (!document.getElementById("lx-style")) {
      const st = document.createElement("style");
      st.id = "lx-style";
      st.textContent = CSS;
      document.head.appendChild(st);
    }
  }
  return plotlyReady;
}

function fetchBuffer(url) {
  if (!cache.has(url)) {
    const p = fetch(url).then((r) => {
      if (!r.ok) throw new Error(`could not load ${url}: HTTP ${r.status}`);
      return r.arrayBuffer();
    });
    p.catch(() => cache.delete(url));
    cache.set(url, p);
  }
  return cache.get(url);
}

// --- decoding (the exported MLP, see explorer/model/export.py) -------------------

function loadDecoder(url) {
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

function forward(dec, z, onehot) {
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

// Paints planar pixels [C, H, W] (uint8, or floats in [0, 1]) onto a canvas.
function paint(canvas, pixels, shape, scale, isFloat) {
  const [C, H, W] = shape;
  const small = document.createElement("canvas");
  small.width = W; small.height = H;
  const g = small.getContext("2d");
  const img = g.createImageData(W, H);
  const at = isFloat ? (k) => Math.floor(pixels[k] * 255 + 0.5) : (k) => pixels[k];
  for (let p = 0; p < H * W; p++) {
    const r = at(p), gr = C === 3 ? at(H * W + p) : r, bl = C === 3 ? at(2 * H * W + p) : r;
    img.data[4 * p] = r; img.data[4 * p + 1] = gr; img.data[4 * p + 2] = bl; img.data[4 * p + 3] = 255;
  }
  g.putImageData(img, 0, 0);
  canvas.width = W * scale; canvas.height = H * scale;
  const v = canvas.getContext("2d");
  v.imageSmoothingEnabled = false;
  v.drawImage(small, 0, 0, canvas.width, canvas.height);
}

function paintUrl(canvas, src, shape, scale) {
  return new Promise((resolve) => {
    const im = new Image();
    im.onload = () => {
      canvas.width = shape[2] * scale; canvas.height = shape[1] * scale;
      const v = canvas.getContext("2d");
      v.imageSmoothingEnabled = false;
      v.drawImage(im, 0, 0, canvas.width, canvas.height);
      resolve();
    };
    im.onerror = () => resolve();
    im.src = src;
  });
}

// --- small linear algebra ----------------------------------------------------------

const dot = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
// A linear map (projection.Projection, or one aligned to the other map):
// p = (z - mean) @ components.T + offset, and z = mean + (p - offset) @ back.
function project(pr, z) {  // map coordinates of z
  const c = z.map((v, i) => v - pr.mean[i]);
  return [dot(c, pr.components[0]) + pr.offset[0], dot(c, pr.components[1]) + pr.offset[1]];
}
function inverse(pr, x, y) {  // the latent point on the map's plane under (x, y)
  const u = x - pr.offset[0], v = y - pr.offset[1];
  return pr.mean.map((m, j) => m + u * pr.back[0][j] + v * pr.back[1][j]);
}
const coordinates = (basis, z) => basis.components.map((c) => dot(z.map((v, i) => v - basis.mean[i]), c));
function setAll(basis, z, values) {
  const now = coordinates(basis, z), out = z.slice();
  values.forEach((v, k) => { const d = v - now[k]; basis.components[k].forEach((c, j) => { out[j] += d * c; }); });
  return out;
}

// A map's points as plotly traces want them: one per class (``labelOf(i)``,
// the last class taking any larger label), or, coloured by a measure, one
// trace of every point with its ``values``. ``classIdx[c][j]`` is the point's
// row in ``xs``.
function splitByClass(xs, ys, labelOf, k, values) {
  const n = xs.length;
  if (values) {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    return { classIdx: [idx], cx: [xs], cy: [ys], values };
  }
  const cls = (i) => Math.min(labelOf(i), k - 1);
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) counts[cls(i)]++;
  const classIdx = [], cx = [], cy = [];
  for (let c = 0; c < k; c++) {
    classIdx.push(new Int32Array(counts[c])); cx.push(new Float32Array(counts[c])); cy.push(new Float32Array(counts[c]));
  }
  const fill = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = cls(i), j = fill[c]++;
    classIdx[c][j] = i; cx[c][j] = xs[i]; cy[c][j] = ys[i];
  }
  return { classIdx, cx, cy };
}

function hexRgb(h) {
  const v = parseInt(h.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function plotlyText(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// --- one map -----------------------------------------------------------------------

class MapView {
  constructor(view, el) {
    this.view = view;
    this.el = el;
    this.gd = el.querySelector(".lx-plot");
    this.statusEl = el.querySelector(".lx-status");
    this.marksEl = el.querySelector(".lx-marks");
    this.thumbsEl = el.querySelector(".lx-thumbs");
    this.thumbs = new Map();  // dataset index -> a canvas of its image
    this.underEl = el.querySelector(".lx-density");
    this.densityImg = this.underEl.querySelector("img");
    this.densityCanvas = this.underEl.querySelector("canvas");
    this.noteEl = el.querySelector(".lx-map-note");
    this.all = null;         // a large map's every shown point, once fetched
    this.windowBusy = false;   // a window is being drawn
    this.windowAgain = false;  // and the map moved meanwhile
    this.loaded = null;
    this.liveRange = null;
    this.marks = {};
    this.density = null;
    this.viewTimer = null;
    // plotly.js follows the window's size only: the map follows its column
    // (the page's layout moves as Streamlit adds elements or a scrollbar).
    new ResizeObserver(() => {
      const L = this.gd._fullLayout;
      if (this.bound && L && Math.abs(L.width - this.el.clientWidth) > 1) {
        Plotly.Plots.resize(this.gd).catch(() => {});
      }
    }).observe(this.el);
  }

  async loadPoints(m) {
    const pts = m.points;
    const [buf, index] = await Promise.all([
      fetchBuffer(pts.url),
      pts.index_url ? fetchBuffer(pts.index_url).then((b) => new Int32Array(b)) : null,
    ]);
    const n = pts.n, withValues = Boolean(pts.values_title);
    const expected = (withValues ? 13 : 9) * n;
    if (buf.byteLength !== expected) throw new Error(`points file has ${buf.byteLength} bytes, expected ${expected}`);
    const xs = new Float32Array(buf, 0, n), ys = new Float32Array(buf, 4 * n, n);
    const labels = new Uint8Array(buf, 8 * n, n);
    const out = { url: pts.url, index, n, xs, ys };
    if (withValues) return Object.assign(out, splitByClass(xs, ys, null, 1, new Float32Array(buf.slice(9 * n, 13 * n))));
    return Object.assign(out, splitByClass(xs, ys, (i) => labels[i], Math.max(pts.class_names.length, 1), null));
  }

  // Per class trace, the positions of its points in the view's selection
  // (null for every trace when there is none).
  selectedPoints(data) {
    const sel = this.view.selection;
    return data.classIdx.map((ks) => {
      if (!sel) return null;
      const out = [];
      for (let p = 0; p < ks.length; p++) {
        const k = ks[p], i = data.index ? data.index[k] : k;
        if (sel.mask[i]) out.push(p);
      }
      return out;
    });
  }

  // Greys the points outside the view's selection (or shows all again).
  // A lasso's outline stays only while the selection is the one plotly made
  // of it on this page: plotly selects again from an outline at each redraw,
  // by its own test in pixels, so under Python's selection (which can differ
  // by an image on the outline's edge) or none, the outline goes first.
  async showSelection() {
    if (!this.loaded || !this.gd.data) return;
    const sel = this.view.selection;
    const outline = this.gd.layout && this.gd.layout.selections;
    if ((!sel || sel.key !== "here") && outline && outline.length) {
      this.removingOutline = true;  // not the user's deselect
      try {
        await Plotly.relayout(this.gd, { selections: [] });
      } catch (e) {
        console.error(e);
      } finally {
        this.removingOutline = false;
      }
    }
    const pts = this.selectedPoints(this.loaded);
    const idx = pts.map((_, c) => c);
    await Plotly.restyle(this.gd, { selectedpoints: pts }, idx).catch((e) => console.error(e));
    this.gd.dataset.selected = sel ? String(pts.reduce((a, q) => a + q.length, 0)) : "";
  }

  traces(m, data) {
    const sel = this.selectedPoints(data);
    const withSel = (t, c) => Object.assign(t, sel[c] ? { selectedpoints: sel[c] } : {},
      { selected: SELECTED, unselected: UNSELECTED });
    return this.traces_(m, data).map(withSel);
  }

  traces_(m, data) {
    const pts = m.points;
    if (data.values) {
      const vr = pts.density && pts.density.value_range;
      return [{
        type: "scattergl", mode: "markers", name: pts.values_title, x: data.cx[0], y: data.cy[0],
        marker: { size: m.marker_size, color: data.values, colorscale: "Viridis", opacity: 0.8, showscale: true,
          ...(vr ? { cmin: vr[0], cmax: vr[1] } : {}),
          colorbar: { title: { text: pts.values_title, side: "right" }, thickness: 12, len: 0.9 } },
        hovertemplate: pts.values_title + ": %{marker.color:.1f}<extra></extra>", showlegend: false,
      }];
    }
    const names = pts.class_names.length ? pts.class_names : ["data"];
    return names.map((name, c) => ({
      type: "scattergl", mode: "markers", name: plotlyText(name), x: data.cx[c], y: data.cy[c],
      marker: { size: m.marker_size, color: m.colors[c % m.colors.length], opacity: 0.75 },
      hovertemplate: "%{fullData.name}<extra></extra>", legendrank: c,
    }));
  }

  layout(m) {
    const pts = m.points;
    const out = {
      height: m.height, margin: { l: 56, r: 12, t: 8, b: 40 },
      xaxis: { title: { text: pts.axis_titles[0] }, zeroline: true, zerolinecolor: "#ccc", gridcolor: "#eee" },
      yaxis: { title: { text: pts.axis_titles[1] }, zeroline: true, zerolinecolor: "#ccc", gridcolor: "#eee" },
      plot_bgcolor: pts.density ? "rgba(0,0,0,0)" : "#fff", paper_bgcolor: "rgba(0,0,0,0)",
      // below the x axis title (fitLegend corrects it if the plot's size differs)
      legend: { orientation: "h", y: -52 / (m.height - 48), yanchor: "top", x: 0, font: { size: 11 },
        itemsizing: "constant" },
      showlegend: pts.class_names.length > 1 && !pts.values_title,
      dragmode: "pan", hovermode: "closest", hoverdistance: 4, clickanywhere: true,
      uirevision: pts.view_key || pts.url,
    };
    if (this.range) {  // a window this view zoomed to itself (wheelZoom)
      out.xaxis.range = this.range.x.slice(); out.yaxis.range = this.range.y.slice();
    }
    return out;
  }

  async update(m) {
    this.m = m;
    if (!this.loaded || this.loaded.url !== m.points.url) {
      if (m.points.view_key !== this.viewKey) { this.zoomed = false; this.range = null; }  // a new map autoranges
      this.viewKey = m.points.view_key;
      const data = await this.loadPoints(m);
      const traces = this.traces(m, data);
      this.nClassTraces = traces.length;
      await Plotly.react(this.gd, traces, this.layout(m), CONFIG);
      this.loaded = data;
      await this.fitLegend();
      if (!this.bound) this.bind();
      this.statusEl.style.display = "none";
      this.gd.dataset.classTraces = String(this.nClassTraces);
      this.gd.dataset.points = String(m.points.n);
      this.gd.dataset.ready = "1";
      this.density = m.points.density || null;
      this.note(m.points.density && m.points.density.in_window, m.points.n);
    }
    const d = m.points.density;
    const allKey = d && d.order ? JSON.stringify([d.order, d.coords, d.values, this.view.labelsUrl]) : null;
    if (allKey !== (this.all && this.all.key)) {
      this.all = null;
      delete this.gd.dataset.all;
      if (allKey) this.loadAll(d, allKey).catch((e) => console.error(e));
    }
  }

  // "N images: too many to draw one by one …" under a large map.
  note(inWindow, drawn) {
    const d = this.m.points.density;
    this.noteEl.style.display = d ? "block" : "none";
    if (!d) return;
    const fmt = (n) => Number(n).toLocaleString("en-US");
    this.noteEl.textContent = `${fmt(d.shown)} images: too many to draw one by one, so the shaded ` +
      `layer shows where they all lie (${fmt(inWindow)} in view), and ${fmt(drawn)} of them are drawn as ` +
      `points` + (drawn === inWindow ? " (all of those in view)." : ", a fixed sample: zoom in to draw every one.");
  }

  // Every shown point of a large map (order of priority, every image's map
  // coordinates, its labels or measure), fetched after the map is drawn.
  async loadAll(d, key) {
    await this.view.afterDraw;  // the first view's files go first
    const t = performance.now();
    const [order, coords, values, labels] = await Promise.all([
      fetchBuffer(d.order).then((b) => new Int32Array(b)),
      fetchBuffer(d.coords).then((b) => new Float32Array(b)),
      d.values ? fetchBuffer(d.values).then((b) => new Float32Array(b)) : null,
      this.view.labelsReady,
    ]);
    const now = this.m.points.density;
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
    this.all = { key, order, xy, values: val, labels: lab };
    this.gd.dataset.all = String(Math.round(performance.now() - t));
    // a window the user moved to while these were on their way
    if (this.zoomed) this.redrawWindow();
  }

  // The window's points and density, picked and binned here as
  // components/density.py does it for the server's full view.
  // One window in flight at a time: zoom steps that come while one is drawn
  // are drawn once, at the range the map has when it is done.
  redrawWindow() {
    if (this.windowBusy) { this.windowAgain = true; return; }
    this.windowBusy = true;
    this.gd.dataset.windowBusy = "1";
    requestAnimationFrame(async () => {
      do {
        this.windowAgain = false;
        try { await this.drawWindow(); } catch (e) { console.error(e); }
      } while (this.windowAgain);
      this.windowBusy = false;
      delete this.gd.dataset.windowBusy;
    });
  }

  async drawWindow() {
    const all = this.all, m = this.m, d = m.points.density;
    if (!all || !d) return;
    const t = performance.now();
    const L = this.gd._fullLayout, want = this.range || { x: L.xaxis.range, y: L.yaxis.range };
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
    this.paintDensity(count, sum, byClass, d, bx, by);
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
    this.loaded = data;
    this.density = Object.assign({}, d, { x: [x0, x1], y: [y0, y1], canvas: true, in_window: inWindow });
    await Plotly.react(this.gd, this.traces(m, data), this.layout(m), CONFIG);
    this.note(inWindow, n);
    this.gd.dataset.points = String(n);
    this.gd.dataset.window = JSON.stringify([x0, x1, y0, y1]);
    this.gd.dataset.windowMs = String(Math.round(performance.now() - t));
  }

  // The density layer's pixels, as density_image (components/density.py)
  // computes them: the count-weighted mix of the class colours, or the mean
  // measure on Viridis; more opaque where more points fall.
  paintDensity(count, sum, byClass, d, bx, by) {
    const cv = this.densityCanvas;
    cv.width = bx; cv.height = by;
    const g = cv.getContext("2d"), img = g.createImageData(bx, by), px = img.data;
    let most = 1;
    for (let c = 0; c < count.length; c++) if (count[c] > most) most = count[c];
    const norm = Math.log1p(most);
    const rgbs = this.m.colors.map(hexRgb), K = rgbs.length;
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

  bind() {
    const gd = this.gd;
    gd.on("plotly_click", (ev) => this.onClick(ev));
    // The image chunk under the mouse is fetched on hover, before a click.
    // The other maps ring the same image.
    gd.on("plotly_hover", (ev) => {
      const i = this.indexOf(ev);
      if (i === null) return;
      this.view.prefetch(i);
      this.view.hover(i, this);
    });
    gd.on("plotly_unhover", () => this.view.hover(null, this));
    // A lasso or a box: its images, greyed around in both maps at once (the
    // drawn points), and the shape to Python, which selects every shown
    // image inside it (on a large map, those not drawn too).
    gd.on("plotly_selected", (ev) => {
      if (!ev || !(ev.lassoPoints || ev.range)) return;
      const mask = new Uint8Array(this.view.d.n_images);
      let count = 0;
      for (const q of ev.points || []) {
        if (q.curveNumber >= this.nClassTraces) continue;
        const k = this.loaded.classIdx[q.curveNumber][q.pointNumber];
        mask[this.loaded.index ? this.loaded.index[k] : k] = 1;
        count++;
      }
      this.gd.dataset.selected = String(count);
      // Python first (it works while this page redraws the other map)
      const shape = ev.lassoPoints
        ? { lasso: ev.lassoPoints.x.map((x, j) => [+x, +ev.lassoPoints.y[j]]) }
        : { box: [ev.range.x.map(Number), ev.range.y.map(Number)] };
      this.view.tell(Object.assign({ kind: "select", slot: this.m.slot }, shape));
      // (plotly greyed this map itself; the others once the event is sent)
      setTimeout(() => this.view.setSelection(mask, "here", this), 0);
    });
    gd.on("plotly_deselect", () => {
      if (this.removingOutline) return;
      this.view.setSelection(null, "here");
      this.view.tell({ kind: "select", slot: this.m.slot, clear: true });
    });
    gd.on("plotly_afterplot", () => { this.liveRange = null; this.drawMarks(); });
    gd.on("plotly_relayouting", (e) => {
      const L = gd._fullLayout;
      const r = (ax) => (e[`${ax}.range[0]`] !== undefined ? [e[`${ax}.range[0]`], e[`${ax}.range[1]`]]
        : (e[`${ax}.range`] || L[ax].range));
      this.liveRange = { x: r("xaxis"), y: r("yaxis") };
      this.drawMarks();
    });
    gd.on("plotly_relayout", (e) => {
      const keys = Object.keys(e || {});
      if (keys.some((k) => k.startsWith("xaxis.") || k.startsWith("yaxis."))) {
        this.zoomed = true;
        // plotly moved the axes (a pan, a double click's autorange): the
        // window follows them
        const L = gd._fullLayout;
        this.range = keys.some((k) => k.endsWith(".autorange")) ? null
          : { x: L.xaxis.range.slice(), y: L.yaxis.range.slice() };
        if (this.all) this.redrawWindow();
        this.tellView();
      }
    });
    // Once every point is here, the wheel zooms in one redraw: the window's
    // points with the new range, where plotly's own wheel zoom redraws the
    // old points twice (at once, then 50 ms later) before the window can.
    gd.addEventListener("wheel", (ev) => this.wheelZoom(ev), { capture: true, passive: false });
    this.bound = true;
  }

  tellView() {
    clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => {
      const L = this.gd._fullLayout;
      this.view.tell({ kind: "view", slot: this.m.slot, x: L.xaxis.range.slice(), y: L.yaxis.range.slice() });
    }, 400);
  }

  // plotly's wheel zoom (dragbox.js), about the mouse: each wheel event
  // scales both ranges by exp(clamped deltaY / 200).
  wheelZoom(ev) {
    const box = ev.target;
    if (!this.all || !box.classList || !box.classList.contains("nsewdrag")) return;
    const dy = Number.isFinite(ev.deltaY) ? ev.deltaY : 0;
    if (!dy) return;
    ev.preventDefault();
    ev.stopPropagation();  // plotly's own handler, on the drag box, never runs
    const L = this.gd._fullLayout, r = this.range || { x: L.xaxis.range, y: L.yaxis.range };
    const zoom = Math.exp(Math.min(Math.max(dy, -20), 20) / 200);
    const bb = box.getBoundingClientRect();
    const fx = (ev.clientX - bb.left) / bb.width, fy = (bb.bottom - ev.clientY) / bb.height;
    const scale = (ax, f) => {
      const v = ax[0] + (ax[1] - ax[0]) * f;
      return [v + (ax[0] - v) * zoom, v + (ax[1] - v) * zoom];
    };
    this.range = { x: scale(r.x.map(Number), fx), y: scale(r.y.map(Number), fy) };
    this.zoomed = true;
    this.redrawWindow();
    this.tellView();
  }

  async fitLegend() {
    const L = this.gd._fullLayout;
    if (!L.showlegend || !L._size) return;
    const want = -52 / L._size.h;
    if (Math.abs(L.legend.y - want) > 0.005) await Plotly.relayout(this.gd, { "legend.y": want });
  }

  // The dataset index of the data point an event is about, or null.
  indexOf(ev) {
    const p = ev && ev.points && ev.points.find((q) => q.curveNumber < this.nClassTraces);
    if (!p || !this.loaded) return null;
    const k = this.loaded.classIdx[p.curveNumber][p.pointNumber];
    return this.loaded.index ? this.loaded.index[k] : k;
  }

  // Where image ``i`` is on this map: among the drawn points, or (a large
  // map) among every shown point once they are here; else null.
  positionOf(i) {
    const d = this.loaded;
    if (d) {
      if (!d.slotOf) {  // dataset index -> position, once per drawn set
        d.slotOf = new Map();
        if (d.index) for (let k = 0; k < d.index.length; k++) d.slotOf.set(d.index[k], k);
      }
      const k = d.index ? d.slotOf.get(i) : i < d.n ? i : undefined;
      if (k !== undefined) return [d.xs[k], d.ys[k]];
    }
    const all = this.all;
    if (all) {
      if (!all.rank) {
        all.rank = new Map();
        for (let j = 0; j < all.order.length; j++) all.rank.set(all.order[j], j);
      }
      const j = all.rank.get(i);
      if (j !== undefined) return [all.xy[2 * j], all.xy[2 * j + 1]];
    }
    return null;
  }

  onClick(ev) {
    const p = ev.points && ev.points.find((q) => q.curveNumber < this.nClassTraces);
    if (p) {
      const k = this.loaded.classIdx[p.curveNumber][p.pointNumber];
      const index = this.loaded.index ? this.loaded.index[k] : k;
      this.view.clickPoint(index, this, [p.x, p.y]);
    } else if (ev.xvals && ev.yvals) {
      this.view.clickSpace(this, ev.xvals[0], ev.yvals[0]);
    }
  }

  // Zoomed in to at most THUMBS_MAX points in view, each drawn point is
  // shown as its image (from the dataset's chunks, as the strip's), framed
  // in its class colour; images outside a selection are faint.
  drawThumbs(xr, yr, s) {
    const cv = this.thumbsEl, data = this.loaded, im = this.view.d && this.view.d.images;
    const off = () => {
      if (cv.style.display !== "none") { cv.style.display = "none"; this.gd.dataset.thumbs = "0"; }
    };
    if (!data || !im || !this.view.d.thumbnails) return off();
    const [x0, x1] = xr[0] <= xr[1] ? xr : [xr[1], xr[0]], [y0, y1] = yr[0] <= yr[1] ? yr : [yr[1], yr[0]];
    const inView = [];
    for (let k = 0; k < data.n; k++) {
      const x = data.xs[k], y = data.ys[k];
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) {
        inView.push(k);
        if (inView.length > THUMBS_MAX) return off();
      }
    }
    if (!inView.length) return off();
    const ratio = window.devicePixelRatio || 1;
    cv.style.display = "block";
    cv.style.left = s.l + "px"; cv.style.top = s.t + "px";
    cv.style.width = s.w + "px"; cv.style.height = s.h + "px";
    if (cv.width !== Math.round(s.w * ratio)) cv.width = Math.round(s.w * ratio);
    if (cv.height !== Math.round(s.h * ratio)) cv.height = Math.round(s.h * ratio);
    const g = cv.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, s.w, s.h);
    g.imageSmoothingEnabled = false;
    const sel = this.view.selection, colors = this.m.colors, labels = this.view.labels;
    // larger when there is room: the side shrinks as more images share the view
    const side = Math.round(Math.min(THUMB_PX[1], Math.max(THUMB_PX[0],
      0.5 * Math.sqrt((s.w * s.h) / inView.length))));
    const half = side / 2, missing = new Set();
    let drawn = 0;
    for (const k of inView) {
      const i = data.index ? data.index[k] : k;
      const t = this.thumbs.get(i);
      if (!t) { missing.add(Math.floor(i / im.chunk)); continue; }
      const px = ((data.xs[k] - xr[0]) / (xr[1] - xr[0])) * s.w;
      const py = (1 - (data.ys[k] - yr[0]) / (yr[1] - yr[0])) * s.h;
      g.globalAlpha = sel && !sel.mask[i] ? 0.25 : 1;
      g.fillStyle = labels ? colors[labels[i] % colors.length] : "#666";
      g.fillRect(px - half - 2, py - half - 2, side + 4, side + 4);
      g.drawImage(t, px - half, py - half, side, side);
      drawn++;
    }
    g.globalAlpha = 1;
    this.gd.dataset.thumbs = String(drawn);
    if (missing.size && !this.thumbsBusy) {
      this.thumbsBusy = true;
      this.loadThumbs(missing, inView).catch((e) => console.error(e))
        .finally(() => { this.thumbsBusy = false; });
    }
  }

  // The images of ``inView`` from their chunks; then the thumbnails again.
  async loadThumbs(chunks, inView) {
    const im = this.view.d.images, data = this.loaded;
    const [C, H, W] = im.shape, size = C * H * W;
    const bufs = new Map();
    await Promise.all([...chunks].map(async (c) => bufs.set(c, await fetchBuffer(`${im.url}/${c}`))));
    if (this.loaded !== data) return;  // redrawn meanwhile (drawn again then)
    for (const k of inView) {
      const i = data.index ? data.index[k] : k;
      const c = Math.floor(i / im.chunk), buf = bufs.get(c);
      if (!buf || this.thumbs.has(i)) continue;
      const canvas = document.createElement("canvas");
      paint(canvas, new Uint8Array(buf, (i - c * im.chunk) * size, size), im.shape, 1, false);
      this.thumbs.set(i, canvas);
    }
    if (this.thumbs.size > 4 * THUMBS_MAX) {  // keep the newest
      const keys = [...this.thumbs.keys()];
      for (const key of keys.slice(0, keys.length - 2 * THUMBS_MAX)) this.thumbs.delete(key);
    }
    this.thumbsBusy = false;
    this.drawMarks();
  }

  el_(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    this.marksEl.appendChild(e);
    return e;
  }

  drawMarks() {
    const L = this.gd._fullLayout;
    if (!L || !L._size) return;
    const s = L._size, o = this.marks;
    const xr = (this.liveRange && this.liveRange.x) || L.xaxis.range;
    const yr = (this.liveRange && this.liveRange.y) || L.yaxis.range;
    const px = (x) => s.l + ((x - xr[0]) / (xr[1] - xr[0])) * s.w;
    const py = (y) => s.t + (1 - (y - yr[0]) / (yr[1] - yr[0])) * s.h;
    const mk = this.marksEl;
    mk.style.left = s.l + "px"; mk.style.top = s.t + "px";
    mk.setAttribute("width", s.w); mk.setAttribute("height", s.h);
    mk.setAttribute("viewBox", `${s.l} ${s.t} ${s.w} ${s.h}`);
    mk.replaceChildren();
    this.drawThumbs(xr, yr, s);
    const d = this.density;
    if (d) {
      const u = this.underEl;
      u.style.display = "block";
      u.style.left = s.l + "px"; u.style.top = s.t + "px"; u.style.width = s.w + "px"; u.style.height = s.h + "px";
      const layer = d.canvas ? this.densityCanvas : this.densityImg;
      this.densityImg.style.display = d.canvas ? "none" : "block";
      this.densityCanvas.style.display = d.canvas ? "block" : "none";
      if (!d.canvas && this.densityImg.dataset.file !== d.url) { this.densityImg.src = d.url; this.densityImg.dataset.file = d.url; }
      const left = px(d.x[0]), right = px(d.x[1]), top = py(d.y[1]), bottom = py(d.y[0]);
      Object.assign(layer.style, { left: (left - s.l) + "px", top: (top - s.t) + "px",
        width: (right - left) + "px", height: (bottom - top) + "px" });
    } else {
      this.underEl.style.display = "none";
    }
    const poly = (pts) => pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(" ");
    for (const ring of o.rings || []) {
      const pts = poly(ring);
      this.el_("polyline", { points: pts, fill: "none", stroke: "#fff", "stroke-width": 3.5, "stroke-opacity": 0.8 });
      this.el_("polyline", { points: pts, fill: "none", stroke: "#222", "stroke-width": 1.6, "stroke-dasharray": "6,4", class: "ring" });
    }
    for (const e of o.ellipses || [])
      this.el_("polyline", { points: poly(e), fill: "none", stroke: "#d62728", "stroke-width": 2, class: "ellipse" });
    if (o.path && o.path.length) {
      this.el_("polyline", { points: poly(o.path), fill: "none", stroke: "#111", "stroke-width": 2, class: "path" });
      for (const p of o.path) this.el_("circle", { cx: px(p[0]), cy: py(p[1]), r: 2.5, fill: "#111" });
    }
    for (const [name, p] of [["A", o.a], ["B", o.b]]) {
      if (!p) continue;
      this.el_("circle", { cx: px(p[0]), cy: py(p[1]), r: 6, fill: "#fff", stroke: "#111", "stroke-width": 2, class: "endpoint" });
      const t = this.el_("text", { x: px(p[0]), y: py(p[1]) - 10, "text-anchor": "middle", "font-size": 16,
        "font-weight": 600, fill: "#111", stroke: "#fff", "stroke-width": 3, "paint-order": "stroke" });
      t.textContent = name;
    }
    for (const p of o.samples || []) {
      const x = px(p[0]), y = py(p[1]);
      this.el_("polygon", { points: `${x},${y - 5} ${x + 5},${y} ${x},${y + 5} ${x - 5},${y}`, fill: "#111",
        stroke: "#fff", "stroke-width": 1, class: "sample" });
    }
    if (o.upload) {
      const x = px(o.upload[0]), y = py(o.upload[1]), pts = [];
      for (let i = 0; i < 10; i++) {
        const r = i % 2 ? 4.5 : 11, a = -Math.PI / 2 + (i * Math.PI) / 5;
        pts.push(`${(x + r * Math.cos(a)).toFixed(1)},${(y + r * Math.sin(a)).toFixed(1)}`);
      }
      this.el_("polygon", { points: pts.join(" "), fill: "#ffbf00", stroke: "#111", "stroke-width": 1.5, class: "upload" });
    }
    if (this.hoverAt) {  // the image under the mouse on the other map
      const [x, y] = this.hoverAt;
      this.el_("circle", { cx: px(x), cy: py(y), r: 9, fill: "none", stroke: "#fff", "stroke-width": 5 });
      this.el_("circle", { cx: px(x), cy: py(y), r: 9, fill: "none", stroke: "#ff7f0e", "stroke-width": 3, class: "hover" });
    }
    if (o.selected)
      this.el_("circle", { cx: px(o.selected[0]), cy: py(o.selected[1]), r: 10, fill: "none", stroke: "#111",
        "stroke-width": 3, class: "selected" });
    if (o.cursor) {
      const x = px(o.cursor[0]), y = py(o.cursor[1]), k = 7;
      const path = `M${x - k},${y - k}L${x + k},${y + k}M${x - k},${y + k}L${x + k},${y - k}`;
      this.el_("path", { d: path, stroke: "#fff", "stroke-width": 7, "stroke-linecap": "round" });
      this.el_("path", { d: path, stroke: "#e00000", "stroke-width": 4, "stroke-linecap": "round", class: "cursor" });
    }
  }
}

// --- one model's decode at its × and its sliders -----------------------------------

class Decoded {
  constructor(view, figure, slidersEl) {
    this.view = view;
    this.canvas = figure.querySelector("canvas");
    this.caption = figure.querySelector("figcaption");
    this.slidersEl = slidersEl;
    this.structure = null;
    this.dragging = false;
    this.pending = false;
    this.z = null;
    this.stats = { frames: 0, ms: 0, inputs: 0 };
  }

  get live() { return Boolean(this.m.decoder_url); }

  // Decodes this model's z here (a live model), or marks the image as waiting
  // for the server's decode (the others).
  async decode(z, label) {
    this.z = z;
    if (label !== undefined) this.label = label;
    if (!this.live) { this.canvas.classList.add("lx-waiting"); return false; }
    const dec = await loadDecoder(this.m.decoder_url);
    const t = performance.now();
    const onehot = new Float32Array(dec.header.cond_dim || 0);
    if (onehot.length) onehot[Math.min(Math.max(this.label | 0, 0), onehot.length - 1)] = 1;
    paint(this.canvas, forward(dec, this.z, onehot), dec.header.image_shape, this.view.scale, true);
    this.canvas.classList.remove("lx-waiting");
    this.stats.frames++; this.stats.ms += performance.now() - t;
    this.canvas.dataset.drawn = String(++this.view.paints);
    return true;
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      const z = setAll(this.m.basis, this.z0, this.values);
      this.decode(z);
      this.view.moveCursor(this.m.slot, z);
    });
  }

  buildSliders() {
    this.slidersEl.replaceChildren();
    const b = this.m.basis;
    b.labels.forEach((label, k) => {
      const row = document.createElement("div"); row.className = "lx-srow";
      const [lo, hi] = b.ranges[k];
      const head = document.createElement("label"), name = document.createElement("span");
      const out = document.createElement("span");
      name.textContent = label; out.className = "lx-v";
      head.append(name, out);
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min: lo, max: hi, step: (hi - lo) / 200 });
      // "live z[0]" while it decodes here; "z[0]" when the server decodes
      input.setAttribute("aria-label", this.live ? `live ${label}` : label);
      row.append(head, input);
      input.addEventListener("pointerdown", () => { this.dragging = true; });
      input.addEventListener("input", () => {
        if (!this.values) return;
        this.values[k] = +input.value; out.textContent = this.values[k].toFixed(2);
        this.stats.inputs++;
        if (this.live) this.schedule();
      });
      input.addEventListener("change", () => {
        this.dragging = false;
        const z = setAll(this.m.basis, this.z0, this.values);
        this.z = z;
        if (!this.live) this.canvas.classList.add("lx-waiting");
        this.view.moveCursor(this.m.slot, z);
        this.view.tell({ kind: "slider", slot: this.m.slot, values: this.values.slice() });
      });
      this.slidersEl.appendChild(row);
    });
  }

  // The sliders at z (the browser's or Python's cursor), unless being dragged.
  syncSliders(z) {
    if (this.dragging) return;
    const b = this.m.basis;
    this.z0 = z.slice();
    this.values = coordinates(b, z);
    this.slidersEl.querySelectorAll(".lx-srow").forEach((row, k) => {
      const [lo, hi] = b.ranges[k];
      row.querySelector("input").value = Math.min(Math.max(this.values[k], lo), hi);
      row.querySelector(".lx-v").textContent = this.values[k].toFixed(2);
    });
  }

  async update(m, fromPython) {
    this.m = m;
    this.caption.textContent = m.caption;
    const key = JSON.stringify([m.basis.labels, m.basis.ranges, this.live]);
    if (key !== this.structure) { this.structure = key; this.buildSliders(); }
    if (!fromPython) return;
    this.syncSliders(m.cursor);
    if (m.image) {  // the server's decode (or a first paint's saved one)
      this.z = m.cursor;
      this.label = m.label;
      if (this.canvas.dataset.src !== m.image) {
        this.canvas.dataset.src = m.image;
        await paintUrl(this.canvas, m.image, m.image_shape, this.view.scale);
        this.canvas.dataset.drawn = String(++this.view.paints);
      }
      this.canvas.classList.remove("lx-waiting");
    } else if (!this.z || this.z.some((v, i) => Math.abs(v - m.cursor[i]) > 1e-9) || this.label !== m.label) {
      await this.decode(m.cursor, m.label);
    }
  }
}

// --- the view ----------------------------------------------------------------------

class View {
  constructor(root, setTriggerValue) {
    this.root = root;
    this.setTriggerValue = setTriggerValue;
    this.maps = new Map();
    this.decoded = new Map();
    this.paints = 0;
    this.latest = 0;      // the newest event answered here
    this.afterDraw = new Promise((resolve) => { this.drawn = resolve; });
    this.scale = 5;
    window.latentExplorer = window.latentExplorer || { views: {} };
  }

  // Each input the page takes (a click, a slider, a zoom) gets a new id; the
  // newest is on the root, so a test can tell an input the page never took.
  newId() {
    this.latest = Math.max(Date.now(), this.latest + 1);
    this.root.dataset.latest = String(this.latest);
    return this.latest;
  }

  // Tells Python of an answered click once the frame with the answer is on
  // screen: Streamlit's work for a trigger (the page marks itself running)
  // would otherwise come between the click and its paint.
  tellAfterPaint(event) {
    requestAnimationFrame(() => setTimeout(() => this.setTriggerValue("event", event), 0));
  }

  // Tells Python of an event; its reruns echo the newest id they handled.
  tell(event) {
    const id = this.newId();
    this.setTriggerValue("event", Object.assign({ id }, event));
    return id;
  }

  build(d) {
    const shape = JSON.stringify(d.maps.map((m) => m.slot));
    if (this.shape === shape) return;
    this.shape = shape;
    this.root.replaceChildren();
    this.maps.clear(); this.decoded.clear();
    const cols = d.maps.length;
    this.root.style.setProperty("--lx-cols", cols);
    const row = (cls) => { const e = document.createElement("div"); e.className = `lx-row ${cls}`; this.root.appendChild(e); return e; };
    const mapsRow = row("lx-maps");
    const strip = document.createElement("div"); strip.className = "lx-strip";
    this.root.appendChild(strip);
    const slidersRow = row("lx-slider-row");
    const fig = (cls, slot) => {
      const f = document.createElement("figure");
      f.className = cls;
      if (slot) f.dataset.lxSlot = slot;
      f.append(document.createElement("canvas"), document.createElement("figcaption"));
      strip.appendChild(f);
      return f;
    };
    this.original = fig("lx-original");
    for (const m of d.maps) {
      const el = document.createElement("div");
      el.className = "lx-map"; el.dataset.lxSlot = m.slot;
      el.innerHTML = '<div class="lx-density"><img alt=""><canvas></canvas></div><div class="lx-plot"></div>' +
        '<div class="lx-status">Loading the latent map…</div><div class="lx-map-note"></div>';
      const thumbs = document.createElement("canvas");
      thumbs.className = "lx-thumbs";
      el.appendChild(thumbs);
      const marks = document.createElementNS(SVG, "svg");
      marks.setAttribute("class", "lx-marks");
      el.appendChild(marks);
      mapsRow.appendChild(el);
      this.maps.set(m.slot, new MapView(this, el));
      const sl = document.createElement("div");
      sl.className = "lx-sliders"; sl.dataset.lxSlot = m.slot;
      slidersRow.appendChild(sl);
      this.decoded.set(m.slot, new Decoded(this, fig("lx-decoded", m.slot), sl));
    }
    window.latentExplorer.views[this.key] = this;
  }

  // The selected image, from the dataset's chunks.
  async showOriginal(index, caption, src) {
    const im = this.d.images;
    const canvas = this.original.querySelector("canvas");
    this.original.querySelector("figcaption").textContent = caption;
    this.original.dataset.index = String(index);
    if (src) {  // a first paint's saved image
      await paintUrl(canvas, src, im.shape, this.scale);
      canvas.dataset.drawn = String(++this.paints);
      return;
    }
    if (!im) return;
    const chunk = Math.floor(index / im.chunk);
    const buf = await fetchBuffer(`${im.url}/${chunk}`);
    const [C, H, W] = im.shape, size = C * H * W;
    const pixels = new Uint8Array(buf, (index - chunk * im.chunk) * size, size);
    if (this.original.dataset.index !== String(index)) return;  // a newer click
    paint(canvas, pixels, im.shape, this.scale, false);
    canvas.dataset.drawn = String(++this.paints);
  }

  prefetch(index) {
    const im = this.d && this.d.images;
    if (im) fetchBuffer(`${im.url}/${Math.floor(index / im.chunk)}`).catch(() => {});
  }

  // Rings image ``i`` (null: none) on every map but ``from``.
  hover(i, from) {
    for (const mv of this.maps.values()) {
      if (mv === from) continue;
      const at = i === null ? null : mv.positionOf(i);
      if (at === mv.hoverAt || (at && mv.hoverAt && at[0] === mv.hoverAt[0] && at[1] === mv.hoverAt[1])) continue;
      mv.hoverAt = at;
      mv.gd.dataset.hover = at ? String(i) : "";
      mv.drawMarks();
    }
  }

  // The selection (a mask over the dataset's images, or null), shown in
  // every map. ``key``: "here" (made on this page, Python to follow) or
  // Python's.
  setSelection(mask, key, drawn = null) {
    this.selection = mask ? { mask, key } : null;
    this.selectionKey = key;
    for (const mv of this.maps.values()) if (mv !== drawn) mv.showSelection();
  }

  // Python's selection; the maps are redrawn only where it differs from the
  // one they show (a lasso's drawn points are usually all of it: redrawing
  // a map of 70,000 points costs a frame of hundreds of milliseconds).
  async loadSelection(sel) {
    if (!sel) {
      if (this.selection) this.setSelection(null, null);
      return;
    }
    const idx = new Int32Array(await fetchBuffer(sel.url));
    const mask = new Uint8Array(this.d.n_images);
    for (const i of idx) mask[i] = 1;
    const now = this.selection && this.selection.mask;
    if (now && now.length === mask.length && now.every((v, i) => v === mask[i])) {
      this.selection.key = this.selectionKey = sel.key;
      return;
    }
    this.setSelection(mask, sel.key);
  }

  moveCursor(slot, z) {
    for (const [s, mv] of this.maps) {
      if (s !== slot) continue;
      if (!mv.m.projection) continue;  // a non-linear map: Python places it
      mv.marks = Object.assign({}, mv.marks, { cursor: project(mv.m.projection, z) });
      mv.drawMarks();
    }
  }

  caption(index) {
    const names = this.d.class_names, labels = this.labels;
    const cls = labels && names.length ? ` (${names[labels[index]] ?? labels[index]})` : "";
    return `Image #${index}${cls}`;
  }

  // ``at``: where the point was clicked on ``from``'s map (a non-linear map
  // cannot place a code itself; the other such map is placed by Python).
  async clickPoint(index, from, at) {
    const id = this.newId();
    this.root.dataset.answered = "";
    const t = performance.now();
    const jobs = [this.showOriginal(index, this.caption(index))];
    for (const [slot, mv] of this.maps) {
      const m = mv.m, dec = this.decoded.get(slot);
      jobs.push((async () => {
        const means = new Float32Array(await fetchBuffer(m.means_url));
        const D = m.latent_dim, z = Array.from(means.subarray(index * D, index * D + D));
        const xy = m.projection ? project(m.projection, z) : mv === from ? at : null;
        if (xy) {
          mv.marks = Object.assign({}, mv.marks, { selected: xy, cursor: xy, ellipses: [] });
          mv.drawMarks();
        }
        dec.syncSliders(z);
        await dec.decode(z, this.labels ? this.labels[index] : 0);
      })());
    }
    this.tellAfterPaint({ id, kind: "point", slot: from.m.slot, index });
    await Promise.all(jobs);
    this.root.dataset.answered = String(id);
    this.root.dataset.answerMs = String(performance.now() - t);
  }

  async clickSpace(mv, x, y) {
    const id = this.newId();
    this.root.dataset.answered = "";
    const t = performance.now();
    const m = mv.m, dec = this.decoded.get(m.slot);
    mv.marks = Object.assign({}, mv.marks, { cursor: [x, y] });
    mv.drawMarks();
    if (!m.projection) {  // a non-linear map: Python inverts it, then the view decodes
      this.tellAfterPaint({ id, kind: "space", slot: m.slot, x, y });
      return;
    }
    const z = inverse(m.projection, x, y);
    dec.syncSliders(z);
    this.tellAfterPaint({ id, kind: "space", slot: m.slot, x, y });
    await dec.decode(z);
    this.root.dataset.answered = String(id);
    this.root.dataset.answerMs = String(performance.now() - t);
  }

  async update(d) {
    this.d = d;
    this.scale = d.scale;
    this.build(d);
    // Every file the maps need is asked for at once, while plotly.js loads.
    for (const m of d.maps) {
      for (const u of [m.points.url, m.points.index_url]) {
        if (u) fetchBuffer(u).catch(() => {});
      }
      // what a click needs, once the maps are drawn (a million points' means
      // are megabytes: they must not hold up the first view)
      this.afterDraw.then(() => {
        for (const u of [m.means_url, m.decoder_url]) if (u) fetchBuffer(u).catch(() => {});
      });
    }
    if (d.labels_url && this.labelsUrl !== d.labels_url) {
      this.labelsUrl = d.labels_url;
      this.labelsReady = this.afterDraw.then(() => fetchBuffer(d.labels_url)).then((b) => new Uint8Array(b));
      this.labelsReady.then((l) => { if (this.labelsUrl === d.labels_url) this.labels = l; }).catch(() => {});
    } else if (!d.labels_url) {
      this.labels = null;
      this.labelsUrl = null;
      this.labelsReady = Promise.resolve(null);
    }
    await ensurePlotly(d.plotly_url);
    // Python's state is applied unless it answers an older event than one
    // this page has answered since (it is then on its way).
    const current = (d.echo || 0) >= this.latest;
    const jobs = [];
    for (const m of d.maps) {
      const mv = this.maps.get(m.slot), dec = this.decoded.get(m.slot);
      jobs.push(mv.update(m).then(() => {
        if (current || !mv.marks.cursor) mv.marks = m.overlays;
        mv.drawMarks();
      }));
      jobs.push(dec.update(m, current));
    }
    // Python's selection, once it has handled this page's newest event.
    const selKey = d.selection ? d.selection.key : null;
    if (current && selKey !== this.selectionKey) {
      this.selectionKey = selKey;
      jobs.push(Promise.all(jobs.slice()).then(() => this.loadSelection(d.selection)));
    }
    // The selected image comes when its chunk does (on a first paint, once
    // the page has registered the dataset): the maps do not wait for it.
    if (current && d.selected) {
      const sel = d.selected;
      this.showOriginal(sel.index, sel.caption, sel.image).catch((e) => console.error(e));
    }
    await Promise.all(jobs);
    // The server may wait for this beacon (a first paint; a session's first
    // view, whose data carries a token): sent once drawn, for each token.
    if (!this.root.dataset.ready || (d.drawn_token && d.drawn_token !== this.beaconFor)) {
      const drawn = new URL(d.module_url.split("/files/")[0] + "/drawn", document.baseURI);
      if (d.drawn_token) drawn.searchParams.set("t", d.drawn_token);
      this.beaconFor = d.drawn_token;
      fetch(drawn, { method: "POST" }).catch(() => {});
    }
    this.root.dataset.ready = "1";
    this.drawn();
    this.root.dataset.echo = String(d.echo || 0);
  }
}

export function render({ data, key, parentElement, setTriggerValue }) {
  let v = views.get(key);
  let root = parentElement.querySelector(":scope > .lx-root");
  if (!v || v.root !== root || !root) {
    if (!root) {
      root = document.createElement("div");
      root.className = "lx-root";
      parentElement.appendChild(root);
    }
    v = new View(root, setTriggerValue);
    v.key = key;
    views.set(key, v);
  }
  v.setTriggerValue = setTriggerValue;
  // the page's data is one JSON string (components/view.py says why)
  const d = Object.assign(JSON.parse(data.view), { module_url: data.module_url, plotly_url: data.plotly_url });
  v.queue = (v.queue || Promise.resolve()).then(() => v.update(d)).catch((err) => {
    console.error(err);
    root.dataset.error = String(err);
    let e = root.querySelector(".lx-error");
    if (!e) { e = document.createElement("div"); e.className = "lx-note lx-error"; root.prepend(e); }
    e.textContent = `The view could not be drawn: ${err}`;
  });
}
