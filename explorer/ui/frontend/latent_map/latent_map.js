// A latent map for Streamlit (components v1 protocol): a WebGL scatter of the
// dataset's latent means, drawn once and kept (with the user's zoom) across
// reruns, with a few overlay marks redrawn cheaply. Clicking a point reports
// its index; clicking anywhere else reports the exact data coordinates
// (plotly.js `clickanywhere`).
"use strict";

const gd = document.getElementById("map");
const statusEl = document.getElementById("status");
let loaded = null;        // {file, classIdx: [Int32Array per class]}
let nClassTraces = 0;
let height = 0;
let overlayKey = null;

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
        colorbar: { title: { text: args.values_title, side: "right" }, thickness: 12, len: 0.9 } },
      hovertemplate: args.values_title + ": %{marker.color:.1f}<extra></extra>",
      showlegend: false,
    }];
  }
  const names = args.class_names.length ? args.class_names : ["data"];
  return names.map((name, c) => ({
    type: "scattergl", mode: "markers", name: name,
    x: data.cx[c], y: data.cy[c],
    marker: { size: args.marker_size, color: args.colors[c % args.colors.length], opacity: 0.75 },
    hovertemplate: name + "<extra></extra>",
  }));
}

// Overlays: a few marks drawn in the same WebGL context after the points, so
// they are always on top; they never take hover or clicks.
function overlayTraces(o) {
  const pts = (list) => ({ x: list.map((p) => p[0]), y: list.map((p) => p[1]) });
  // several polylines in one trace, separated by gaps
  const lines = (polys) => {
    const x = [], y = [];
    for (const poly of polys || []) {
      for (const p of poly) { x.push(p[0]); y.push(p[1]); }
      x.push(null); y.push(null);
    }
    return { x, y };
  };
  const path = o.path || [];
  const ab = [o.a, o.b].filter(Boolean);
  const samples = o.samples || [];
  const base = { type: "scattergl", showlegend: false, hoverinfo: "skip" };
  return [
    Object.assign({}, base, { mode: "lines", name: "prior rings", connectgaps: false,
      line: { color: "#555", width: 1.5, dash: "dash" } }, lines(o.rings)),
    Object.assign({}, base, { mode: "lines", name: "posterior", connectgaps: false,
      line: { color: "#d62728", width: 2 } }, lines(o.ellipses)),
    Object.assign({}, base, { mode: "lines+markers", name: "path",
      line: { color: "#111", width: 2 }, marker: { size: 5, color: "#111" } }, pts(path)),
    Object.assign({}, base, { mode: "markers+text", name: "A/B",
      text: [o.a ? "A" : null, o.b ? "B" : null].filter((t) => t),
      textposition: "top center", textfont: { size: 16, color: "#111" },
      marker: { size: 12, color: "#fff", line: { color: "#111", width: 2 } } }, pts(ab)),
    Object.assign({}, base, { mode: "markers", name: "samples",
      marker: { size: 8, symbol: "diamond", color: "#111", line: { color: "#fff", width: 1 } } },
      pts(samples)),
    Object.assign({}, base, { mode: "markers", name: "upload",
      marker: { size: 18, symbol: "star", color: "#ffbf00", line: { color: "#111", width: 1.5 } } },
      pts(o.upload ? [o.upload] : [])),
    Object.assign({}, base, { mode: "markers", name: "selected",
      marker: { size: 20, symbol: "circle-open", color: "#111", line: { width: 3 } } },
      pts(o.selected ? [o.selected] : [])),
    Object.assign({}, base, { mode: "markers", name: "cursor",
      marker: { size: 20, symbol: "x", color: "#e00000", line: { color: "#fff", width: 1.5 } } },
      pts(o.cursor ? [o.cursor] : [])),
  ];
}

function layout(args) {
  return {
    height: args.height,
    margin: { l: 56, r: 12, t: 8, b: 40 },
    xaxis: { title: { text: args.axis_titles[0] }, zeroline: true, zerolinecolor: "#ccc", gridcolor: "#eee" },
    yaxis: { title: { text: args.axis_titles[1] }, zeroline: true, zerolinecolor: "#ccc", gridcolor: "#eee" },
    plot_bgcolor: "#fff", paper_bgcolor: "rgba(0,0,0,0)",
    legend: { orientation: "h", y: -0.14, x: 0, font: { size: 11 }, itemsizing: "constant" },
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

async function render(args) {
  setHeight(args.height);
  if (!loaded || loaded.file !== args.points_file) {
    loaded = await loadPoints(args);
    performance.mark("points-loaded");
    const traces = classTraces(args, loaded);
    nClassTraces = traces.length;
    overlayKey = JSON.stringify(args.overlays);
    const config = { responsive: true, displaylogo: false, scrollZoom: true,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"] };
    await Plotly.react(gd, traces.concat(overlayTraces(args.overlays)), layout(args), config);
    if (!gd._explorerBound) {
      gd.on("plotly_click", onClick);
      gd.on("plotly_relayout", (e) => {
        const keys = Object.keys(e || {});
        if (keys.some((k) => k.startsWith("xaxis.") || k.startsWith("yaxis."))) onRelayout();
      });
      gd._explorerBound = true;
    }
    performance.mark("drawn");
    statusEl.style.display = "none";
    gd.dataset.classTraces = String(nClassTraces);
    gd.dataset.ready = "1";
  } else {
    const key = JSON.stringify(args.overlays);
    if (key !== overlayKey) {
      overlayKey = key;
      const o = overlayTraces(args.overlays);
      const idx = o.map((_, i) => nClassTraces + i);
      await Plotly.restyle(gd, { x: o.map((t) => t.x), y: o.map((t) => t.y), text: o.map((t) => t.text || null) }, idx);
    }
  }
  gd.dataset.overlays = overlayKey;
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
