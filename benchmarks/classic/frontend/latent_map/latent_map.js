// A latent map for Streamlit (components v1 protocol): a WebGL scatter of the
// dataset's latent means, drawn once and kept (with the user's zoom) across
// reruns, with a few overlay marks in an SVG layer above it. Clicking a point reports
// its index; clicking anywhere else reports the exact data coordinates
// (plotly.js `clickanywhere`).
"use strict";

const gd = document.getElementById("map");
const statusEl = document.getElementById("status");
let loaded = null;        // {file, classIdx: [Int32Array per class]}
let nClassTraces = 0;
let height = 0;

function send(type, data) {
  window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type }, data), "*");
}

function setHeight(h) {
  if (h !== height) {
    height = h;
    send("streamlit:setFrameHeight", { height: h });
  }
}

// points file: float32 x[n], float32 y[n], uint8 label[n], then (colour by a
// measure) float32 value[n]
async function loadPoints(args) {
  const res = await fetch(args.points_file);
  if (!res.ok) throw new Error(`could not load ${args.points_file}: HTTP ${res.status}`);
  const buf = await res.arrayBuffer();
  const n = args.n;
  const withValues = Boolean(args.values_title);
  const expected = (withValues ? 13 : 9) * n;
  if (buf.byteLength !== expected) throw new Error(`points file has ${buf.byteLength} bytes, expected ${expected}`);
  const xs = new Float32Array(buf, 0, n);
  const ys = new Float32Array(buf, 4 * n, n);
  const labels = new Uint8Array(buf, 8 * n, n);
  if (withValues) {
    // one trace coloured by the measure; a float32 array needs 4-byte alignment
    const values = new Float32Array(buf.slice(9 * n, 13 * n));
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    return { file: args.points_file, classIdx: [idx], cx: [xs], cy: [ys], values };
  }
  const k = Math.max(args.class_names.length, 1);
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) counts[Math.min(labels[i], k - 1)]++;
  const classIdx = [], cx = [], cy = [];
  for (let c = 0; c < k; c++) {
    classIdx.push(new Int32Array(counts[c]));
    cx.push(new Float32Array(counts[c]));
    cy.push(new Float32Array(counts[c]));
  }
  const fill = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = Math.min(labels[i], k - 1), j = fill[c]++;
    classIdx[c][j] = i; cx[c][j] = xs[i]; cy[c][j] = ys[i];
  }
  return { file: args.points_file, classIdx, cx, cy };
}

function classTraces(args, data) {
  if (data.values) {
    return [{
      type: "scattergl", mode: "markers", name: args.values_title,
      x: data.cx[0], y: data.cy[0],
      marker: { size: args.marker_size, color: data.values, colorscale: "Viridis",
        opacity: 0.8, showscale: true,
        ...(args.density && args.density.value_range
          ? { cmin: args.density.value_range[0], cmax: args.density.value_range[1] } : {}),
        colorbar: { title: { text: args.values_title, side: "right" }, thickness: 12, len: 0.9 } },
      hovertemplate: args.values_title + ": %{marker.color:.1f}<extra></extra>",
      showlegend: false,
    }];
  }
  const names = args.class_names.length ? args.class_names : ["data"];
  return names.map((name, c) => ({
    type: "scattergl", mode: "markers", name: plotlyText(name),
    x: data.cx[c], y: data.cy[c],
    marker: { size: args.marker_size, color: args.colors[c % args.colors.length], opacity: 0.75 },
    // The name is filled in, not part of the template: a "%{...}" in it stays text.
    hovertemplate: "%{fullData.name}<extra></extra>", legendrank: c,
  }));
}

// Plotly reads its labels as a little HTML (<a href>, <b>, entities). Class
// names come from users' folders, so their markup characters become entities
// and show as typed.
function plotlyText(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// Overlays: a few marks drawn in an SVG layer above the plot, not as plotly
// traces. Changing a plotly trace redraws every WebGL point (tens of ms per
// map in software WebGL, more with 70,000 points); moving an SVG mark costs
// nothing. The layer follows pans and zooms, and never takes the mouse.
const SVG = "http://www.w3.org/2000/svg";
const marksEl = document.createElementNS(SVG, "svg");
marksEl.setAttribute("id", "marks");
marksEl.style.cssText = "position:absolute;left:0;top:0;pointer-events:none;overflow:hidden";
document.body.appendChild(marksEl);
let marks = {};
let liveRange = null;  // axis ranges while a pan or zoom is in progress

// A large map's density layer: an image of where all its points lie, under the
// plot (whose background is then clear), placed and clipped like the marks.
const underEl = document.createElement("div");
underEl.id = "density";
underEl.style.cssText = "position:absolute;left:0;top:0;overflow:hidden;pointer-events:none;display:none";
const densityImg = document.createElement("img");
densityImg.style.cssText = "position:absolute;max-width:none";
densityImg.alt = "";
underEl.appendChild(densityImg);
document.body.insertBefore(underEl, gd);
let density = null;

function el(tag, attrs, parent) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  parent.appendChild(e);
  return e;
}

function drawMarks() {
  const L = gd._fullLayout;
  if (!L || !L._size) return;
  const s = L._size;
  const xr = (liveRange && liveRange.x) || L.xaxis.range;
  const yr = (liveRange && liveRange.y) || L.yaxis.range;
  const px = (x) => s.l + ((x - xr[0]) / (xr[1] - xr[0])) * s.w;
  const py = (y) => s.t + (1 - (y - yr[0]) / (yr[1] - yr[0])) * s.h;
  marksEl.style.left = s.l + "px";
  marksEl.style.top = s.t + "px";
  marksEl.setAttribute("width", s.w);
  marksEl.setAttribute("height", s.h);
  marksEl.setAttribute("viewBox", `${s.l} ${s.t} ${s.w} ${s.h}`);
  marksEl.replaceChildren();
  if (density) {
    underEl.style.display = "block";
    underEl.style.left = s.l + "px";
    underEl.style.top = s.t + "px";
    underEl.style.width = s.w + "px";
    underEl.style.height = s.h + "px";
    const file = density.file;
    if (densityImg.dataset.file !== file) {
      densityImg.src = file;
      densityImg.dataset.file = file;
    }
    const left = px(density.x[0]), right = px(density.x[1]);
    const top = py(density.y[1]), bottom = py(density.y[0]);
    densityImg.style.left = (left - s.l) + "px";
    densityImg.style.top = (top - s.t) + "px";
    densityImg.style.width = (right - left) + "px";
    densityImg.style.height = (bottom - top) + "px";
  } else {
    underEl.style.display = "none";
  }
  const o = marks;
  const poly = (pts) => pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(" ");
  for (const ring of o.rings || []) {
    const pts = poly(ring);  // a white halo keeps the dashes visible over the points
    el("polyline", { points: pts, fill: "none", stroke: "#fff", "stroke-width": 3.5,
      "stroke-opacity": 0.8 }, marksEl);
    el("polyline", { points: pts, fill: "none", stroke: "#222", "stroke-width": 1.6,
      "stroke-dasharray": "6,4", class: "ring" }, marksEl);
  }
  for (const e of o.ellipses || [])
    el("polyline", { points: poly(e), fill: "none", stroke: "#d62728", "stroke-width": 2,
      class: "ellipse" }, marksEl);
  if (o.path && o.path.length) {
    el("polyline", { points: poly(o.path), fill: "none", stroke: "#111", "stroke-width": 2,
      class: "path" }, marksEl);
    for (const p of o.path) el("circle", { cx: px(p[0]), cy: py(p[1]), r: 2.5, fill: "#111" }, marksEl);
  }
  for (const [name, p] of [["A", o.a], ["B", o.b]]) {
    if (!p) continue;
    el("circle", { cx: px(p[0]), cy: py(p[1]), r: 6, fill: "#fff", stroke: "#111",
      "stroke-width": 2, class: "endpoint" }, marksEl);
    const t = el("text", { x: px(p[0]), y: py(p[1]) - 10, "text-anchor": "middle",
      "font-size": 16, "font-weight": 600, fill: "#111", stroke: "#fff", "stroke-width": 3,
      "paint-order": "stroke" }, marksEl);
    t.textContent = name;
  }
  for (const p of o.samples || []) {
    const x = px(p[0]), y = py(p[1]);
    el("polygon", { points: `${x},${y - 5} ${x + 5},${y} ${x},${y + 5} ${x - 5},${y}`,
      fill: "#111", stroke: "#fff", "stroke-width": 1, class: "sample" }, marksEl);
  }
  if (o.upload) {
    const x = px(o.upload[0]), y = py(o.upload[1]);
    const pts = [];
    for (let i = 0; i < 10; i++) {
      const r = i % 2 ? 4.5 : 11, a = -Math.PI / 2 + (i * Math.PI) / 5;
      pts.push(`${(x + r * Math.cos(a)).toFixed(1)},${(y + r * Math.sin(a)).toFixed(1)}`);
    }
    el("polygon", { points: pts.join(" "), fill: "#ffbf00", stroke: "#111",
      "stroke-width": 1.5, class: "upload" }, marksEl);
  }
  if (o.selected)
    el("circle", { cx: px(o.selected[0]), cy: py(o.selected[1]), r: 10, fill: "none",
      stroke: "#111", "stroke-width": 3, class: "selected" }, marksEl);
  if (o.cursor) {
    const x = px(o.cursor[0]), y = py(o.cursor[1]), d = 7;
    const path = `M${x - d},${y - d}L${x + d},${y + d}M${x - d},${y + d}L${x + d},${y - d}`;
    el("path", { d: path, stroke: "#fff", "stroke-width": 7, "stroke-linecap": "round" }, marksEl);
    el("path", { d: path, stroke: "#e00000", "stroke-width": 4, "stroke-linecap": "round",
      class: "cursor" }, marksEl);
  }
}

function layout(args) {
  return {
    height: args.height,
    margin: { l: 56, r: 12, t: 8, b: 40 },
    xaxis: { title: { text: args.axis_titles[0] }, zeroline: true, zerolinecolor: "#ccc", gridcolor: "#eee" },
    yaxis: { title: { text: args.axis_titles[1] }, zeroline: true, zerolinecolor: "#ccc", gridcolor: "#eee" },
    plot_bgcolor: args.density ? "rgba(0,0,0,0)" : "#fff", paper_bgcolor: "rgba(0,0,0,0)",
    legend: { orientation: "h", y: -0.17, yanchor: "top", x: 0, font: { size: 11 }, itemsizing: "constant" },
    showlegend: args.class_names.length > 1 && !args.values_title,
    dragmode: "pan", hovermode: "closest", hoverdistance: 4,
    clickanywhere: true,
    // Keep the user's zoom and legend toggles across every update.
    uirevision: args.view_key || args.points_file,
  };
}

// The visible window, reported when a pan or zoom ends (debounced), so the
// app can decode a grid over exactly what the user sees.
let viewTimer = null;
function onRelayout() {
  clearTimeout(viewTimer);
  viewTimer = setTimeout(() => {
    const L = gd._fullLayout;
    const value = { kind: "view", x: L.xaxis.range.slice(), y: L.yaxis.range.slice(),
      id: `${Date.now()}-${Math.random().toString(36).slice(2)}` };
    send("streamlit:setComponentValue", { value, dataType: "json" });
  }, 400);
}

function onClick(ev) {
  const p = ev.points && ev.points.find((q) => q.curveNumber < nClassTraces);
  let value;
  if (p) {
    const index = loaded.classIdx[p.curveNumber][p.pointNumber];
    value = { kind: "point", index, x: p.x, y: p.y };
  } else if (ev.xvals && ev.yvals) {
    value = { kind: "space", x: ev.xvals[0], y: ev.yvals[0] };
  } else {
    return;
  }
  value.id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  send("streamlit:setComponentValue", { value, dataType: "json" });
}

// The legend hangs below the x axis title, whatever the plot's height (a
// legend placed at a fixed fraction overlaps the title on a short plot).
async function fitLegend() {
  const L = gd._fullLayout;
  if (!L.showlegend || !L._size) return;
  const want = -52 / L._size.h;
  if (Math.abs(L.legend.y - want) > 0.005) await Plotly.relayout(gd, { "legend.y": want });
}

async function render(args) {
  setHeight(args.height);
  if (!loaded || loaded.file !== args.points_file) {
    loaded = await loadPoints(args);
    performance.mark("points-loaded");
    const traces = classTraces(args, loaded);
    nClassTraces = traces.length;
    const config = { responsive: true, displaylogo: false, scrollZoom: true,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"] };
    await Plotly.react(gd, traces, layout(args), config);
    await fitLegend();
    if (!gd._explorerBound) {
      gd.on("plotly_click", onClick);
      gd.on("plotly_afterplot", () => { liveRange = null; drawMarks(); });
      gd.on("plotly_relayouting", (e) => {
        const L = gd._fullLayout;
        const r = (ax) => (e[`${ax}.range[0]`] !== undefined
          ? [e[`${ax}.range[0]`], e[`${ax}.range[1]`]]
          : (e[`${ax}.range`] || L[ax].range));
        liveRange = { x: r("xaxis"), y: r("yaxis") };
        drawMarks();
      });
      gd.on("plotly_relayout", (e) => {
        const keys = Object.keys(e || {});
        if (keys.some((k) => k.startsWith("xaxis.") || k.startsWith("yaxis."))) onRelayout();
      });
      gd._explorerBound = true;
    }
    performance.mark("drawn");
    statusEl.style.display = "none";
    gd.dataset.classTraces = String(nClassTraces);
    gd.dataset.points = String(args.n);
    gd.dataset.ready = "1";
  }
  marks = args.overlays;
  density = args.density || null;
  drawMarks();
}

let queue = Promise.resolve();
window.addEventListener("message", (event) => {
  if (event.data && event.data.type === "streamlit:render") {
    const args = event.data.args;
    queue = queue.then(() => render(args)).catch((err) => {
      statusEl.style.display = "block";
      statusEl.textContent = String(err);
      console.error(err);
    });
  }
});
send("streamlit:componentReady", { apiVersion: 1 });
