// A map's marks (an SVG over its plot, in map coordinates): the selected
// image, the cursor, rings, ellipses, a path, endpoints, samples, a
// lesson's targets, an upload, the image under the mouse on the other map; and under them the
// large map's density layer and the thumbnails (thumbs.js).
import { drawThumbs } from "./thumbs.js";

export const SVG = "http://www.w3.org/2000/svg";
export const FOCUS = "lx-focus";  // the window event the graph shares (components/graph.py)

// A mark the graph can point at: ``data-mark`` names it, and the mark in
// focus (``mv.focusMark``) gets the class "focus" (view.css draws it
// thicker). Its shape is kept for hit-testing (``markAt``), since marks let
// the mouse through to the plot.
function named(e, mark, mv, shape) {
  e.setAttribute("data-mark", mark);
  if (mv.focusMark === mark) e.classList.add("focus");
  mv.hits.push(Object.assign({ mark }, shape));
  return e;
}

// The mark within a few pixels of (x, y) in the plot's pixels, or null.
export function markAt(mv, x, y) {
  let best = null, bestD = 8;
  const seg = (a, b) => {
    const dx = b[0] - a[0], dy = b[1] - a[1], l = dx * dx + dy * dy || 1;
    const t = Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / l));
    return Math.hypot(x - a[0] - t * dx, y - a[1] - t * dy);
  };
  for (const h of mv.hits || []) {
    let d = Infinity;
    if (h.pts) for (let i = 1; i < h.pts.length; i++) d = Math.min(d, seg(h.pts[i - 1], h.pts[i]));
    else if (h.ring) {  // a ring: its line, or (weaker than a line) inside it
      const c = Math.hypot(x - h.at[0], y - h.at[1]);
      d = c < h.r - 3 ? 3 : Math.abs(c - h.r);
    } else d = Math.max(0, Math.hypot(x - h.at[0], y - h.at[1]) - h.r);
    if (d <= bestD) { bestD = d; best = h.mark; }
  }
  return best;
}

function add(mv, tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  mv.marksEl.appendChild(e);
  return e;
}

// Every mark of ``mv`` again, at the plot's current (or live) axes.
export function drawMarks(mv) {
  const L = mv.gd._fullLayout;
  if (!L || !L._size) return;
  const s = L._size, o = mv.marks;
  const xr = (mv.liveRange && mv.liveRange.x) || L.xaxis.range;
  const yr = (mv.liveRange && mv.liveRange.y) || L.yaxis.range;
  const px = (x) => s.l + ((x - xr[0]) / (xr[1] - xr[0])) * s.w;
  const py = (y) => s.t + (1 - (y - yr[0]) / (yr[1] - yr[0])) * s.h;
  const mk = mv.marksEl;
  mk.style.left = s.l + "px"; mk.style.top = s.t + "px";
  mk.setAttribute("width", s.w); mk.setAttribute("height", s.h);
  mk.setAttribute("viewBox", `${s.l} ${s.t} ${s.w} ${s.h}`);
  mk.replaceChildren();
  mv.hits = [];
  drawThumbs(mv, xr, yr, s);
  const d = mv.density;
  if (d) {
    const u = mv.underEl;
    u.style.display = "block";
    u.style.left = s.l + "px"; u.style.top = s.t + "px"; u.style.width = s.w + "px"; u.style.height = s.h + "px";
    const layer = d.canvas ? mv.densityCanvas : mv.densityImg;
    mv.densityImg.style.display = d.canvas ? "none" : "block";
    mv.densityCanvas.style.display = d.canvas ? "block" : "none";
    if (!d.canvas && mv.densityImg.dataset.file !== d.url) { mv.densityImg.src = d.url; mv.densityImg.dataset.file = d.url; }
    const left = px(d.x[0]), right = px(d.x[1]), top = py(d.y[1]), bottom = py(d.y[0]);
    Object.assign(layer.style, { left: (left - s.l) + "px", top: (top - s.t) + "px",
      width: (right - left) + "px", height: (bottom - top) + "px" });
  } else {
    mv.underEl.style.display = "none";
  }
  const poly = (pts) => pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(" ");
  for (const ring of o.rings || []) {
    const pts = poly(ring);
    add(mv, "polyline", { points: pts, fill: "none", stroke: "#fff", "stroke-width": 3.5, "stroke-opacity": 0.8 });
    add(mv, "polyline", { points: pts, fill: "none", stroke: "#222", "stroke-width": 1.6, "stroke-dasharray": "6,4", class: "ring" });
  }
  for (const e of o.ellipses || []) {
    const pts = e.map((p) => [px(p[0]), py(p[1])]);
    named(add(mv, "polyline", { points: poly(e), fill: "none", stroke: "#d62728", "stroke-width": 2, class: "ellipse" }),
      "ellipse", mv, { pts });
  }
  if (o.path && o.path.length) {
    add(mv, "polyline", { points: poly(o.path), fill: "none", stroke: "#111", "stroke-width": 2, class: "path" });
    for (const p of o.path) add(mv, "circle", { cx: px(p[0]), cy: py(p[1]), r: 2.5, fill: "#111" });
  }
  for (const [name, p] of [["A", o.a], ["B", o.b]]) {
    if (!p) continue;
    add(mv, "circle", { cx: px(p[0]), cy: py(p[1]), r: 6, fill: "#fff", stroke: "#111", "stroke-width": 2, class: "endpoint" });
    const t = add(mv, "text", { x: px(p[0]), y: py(p[1]) - 10, "text-anchor": "middle", "font-size": 16,
      "font-weight": 600, fill: "#111", stroke: "#fff", "stroke-width": 3, "paint-order": "stroke" });
    t.textContent = name;
  }
  for (const p of o.samples || []) {
    const x = px(p[0]), y = py(p[1]);
    named(add(mv, "polygon", { points: `${x},${y - 5} ${x + 5},${y} ${x},${y + 5} ${x - 5},${y}`, fill: "#111",
      stroke: "#fff", "stroke-width": 1, class: "sample" }), "sample", mv, { at: [x, y], r: 5 });
  }
  for (const p of o.targets || []) {  // a lesson's spot to click: a ringed "?"
    const x = px(p[0]), y = py(p[1]);
    add(mv, "circle", { cx: x, cy: y, r: 13, fill: "#fff", "fill-opacity": 0.85, stroke: "#111",
      "stroke-width": 2.5, "stroke-dasharray": "4,3", class: "target" });
    const t = add(mv, "text", { x, y: y + 5.5, "text-anchor": "middle", "font-size": 16, "font-weight": 700,
      fill: "#111" });
    t.textContent = "?";
  }
  if (o.upload) {
    const x = px(o.upload[0]), y = py(o.upload[1]), pts = [];
    for (let i = 0; i < 10; i++) {
      const r = i % 2 ? 4.5 : 11, a = -Math.PI / 2 + (i * Math.PI) / 5;
      pts.push(`${(x + r * Math.cos(a)).toFixed(1)},${(y + r * Math.sin(a)).toFixed(1)}`);
    }
    add(mv, "polygon", { points: pts.join(" "), fill: "#ffbf00", stroke: "#111", "stroke-width": 1.5, class: "upload" });
  }
  if (mv.hoverAt) {  // the image under the mouse on the other map
    const [x, y] = mv.hoverAt;
    add(mv, "circle", { cx: px(x), cy: py(y), r: 9, fill: "none", stroke: "#fff", "stroke-width": 5 });
    add(mv, "circle", { cx: px(x), cy: py(y), r: 9, fill: "none", stroke: "#ff7f0e", "stroke-width": 3, class: "hover" });
  }
  if (o.selected) {
    const x = px(o.selected[0]), y = py(o.selected[1]);
    named(add(mv, "circle", { cx: x, cy: y, r: 10, fill: "none", stroke: "#111", "stroke-width": 3, class: "selected" }),
      "selected", mv, { at: [x, y], r: 10, ring: true });
  }
  if (o.cursor) {
    const x = px(o.cursor[0]), y = py(o.cursor[1]), k = 7;
    const path = `M${x - k},${y - k}L${x + k},${y + k}M${x - k},${y + k}L${x + k},${y - k}`;
    add(mv, "path", { d: path, stroke: "#fff", "stroke-width": 7, "stroke-linecap": "round" });
    named(add(mv, "path", { d: path, stroke: "#e00000", "stroke-width": 4, "stroke-linecap": "round", class: "cursor" }),
      "cursor", mv, { at: [x, y], r: k });
  }
}
