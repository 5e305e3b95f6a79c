// The computation graph (Streamlit components v2, components/graph.py): one
// image's way through a model as an SVG drawn from the data (nodes, edges,
// values), beside the model's code as text. Hovers stay in the browser: a
// node, a code line or (from the view) a mark on the maps is put in focus by
// a window CustomEvent "lx-focus" with {slot, mark, node, source}, which the
// graph and the view (frontend/view/) both send and listen to.
const SVG = "http://www.w3.org/2000/svg";
const FOCUS = "lx-focus";
const W = 144, H = 30, LINE = 15, GAP_X = 38, GAP_Y = 26, PAD = 30;

const graphs = new Map();  // one per component key

function el(tag, attrs, parent, ns = SVG) {
  const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

export function render({ data, key, parentElement }) {
  let g = graphs.get(key);
  if (!g || !parentElement.contains(g.root)) {
    g = new Graph(parentElement);
    graphs.set(key, g);
  }
  if (g.raw !== data.graph) {
    g.raw = data.graph;
    g.draw(JSON.parse(data.graph));
  }
}

class Graph {
  constructor(parent) {
    if (!document.querySelector("link[data-lx-graph]")) {
      const link = el("link", { rel: "stylesheet", "data-lx-graph": "1",
        href: new URL("./graph.css", import.meta.url).href }, document.head, null);
      link.dataset.lxGraph = "1";
    }
    this.root = el("div", { class: "lx-graph" }, parent, null);
    window.addEventListener(FOCUS, (ev) => this.focus(ev.detail || {}));
  }

  draw(d) {
    this.d = d;
    this.root.replaceChildren();
    this.root.dataset.slot = d.slot;
    this.root.dataset.kind = d.kind;
    const row = el("div", { class: "lx-graph-row" }, this.root, null);
    const fig = el("div", { class: "lx-graph-fig" }, row, null);
    this.svg = this.drawSvg(d, fig);
    this.hint = el("div", { class: "lx-graph-hint" }, fig, null);
    this.hint.textContent = d.words.hint;
    this.code = this.drawCode(d, row);
    this.root.dataset.ready = "1";
  }

  // Node boxes are as tall as their most lines in that row.
  layout(d) {
    const rows = new Map();
    for (const n of d.nodes) rows.set(n.row, Math.max(rows.get(n.row) || 0, n.value.length));
    const heights = [], tops = [];
    let y = PAD;
    const maxRow = Math.max(...d.nodes.map((n) => n.row));
    for (let r = 0; r <= maxRow; r++) {
      heights[r] = H + LINE * (rows.get(r) || 1);
      tops[r] = y;
      y += heights[r] + GAP_Y;
    }
    const box = {};
    for (const n of d.nodes) {
      box[n.id] = { x: PAD + n.col * (W + GAP_X), y: tops[n.row], w: W, h: heights[n.row] };
    }
    const cols = Math.max(...d.nodes.map((n) => n.col)) + 1;
    return { box, width: 2 * PAD + cols * W + (cols - 1) * GAP_X, height: y - GAP_Y + PAD };
  }

  drawSvg(d, parent) {
    const { box, width, height } = this.layout(d);
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "lx-graph-svg", role: "img" }, parent);
    svg.style.maxWidth = width + "px";
    const defs = el("defs", {}, svg);
    const m = el("marker", { id: "lx-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
      markerHeight: 7, orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0,0L10,5L0,10z", fill: "#6b6f7b" }, m);
    for (const [a, b] of d.edges) {
      const p = box[a], q = box[b];
      const x1 = p.x + p.w, y1 = p.y + p.h / 2, x2 = q.x, y2 = q.y + q.h / 2, xm = (x1 + x2) / 2;
      const path = p.x === q.x  // one above the other
        ? `M${p.x + p.w / 2},${p.y < q.y ? p.y + p.h : p.y}V${p.y < q.y ? q.y : q.y + q.h}`
        : `M${x1},${y1}C${xm},${y1} ${xm},${y2} ${x2},${y2}`;
      el("path", { d: path, class: "lx-edge",
        "marker-end": "url(#lx-arrow)", "data-from": a, "data-to": b }, svg);
    }
    for (const [a, b, side] of d.lanes) {  // a loss's other input, along a lane
      const p = box[a], q = box[b];
      const top = side === "top";
      const lane = top ? PAD / 2 - 4 : height - PAD / 2 + 4;
      const ax = p.x + p.w / 2 + (a === "mu" ? -20 : 20), qx = q.x + q.w / 2 + (a === "mu" ? -20 : 20);
      const y1 = top ? p.y : p.y + p.h, y2 = top ? q.y : q.y + q.h;
      const start = a === "mu" ? `M${p.x},${p.y + p.h / 2}H${p.x - GAP_X / 2}V${lane}` : `M${ax},${y1}V${lane}`;
      el("path", { d: `${start}H${qx}V${y2}`, class: "lx-edge lx-lane", "marker-end": "url(#lx-arrow)",
        "data-from": a, "data-to": b }, svg);
    }
    for (const n of d.nodes) this.drawNode(svg, n, box[n.id]);
    return svg;
  }

  drawNode(svg, n, b) {
    const kind = ["encoder", "decoder"].includes(n.id) ? "net" : ["recon", "kl"].includes(n.id) ? "loss" : "tensor";
    const g = el("g", { class: `lx-node lx-${kind}`, "data-node": n.id, "data-mark": n.mark || "", tabindex: 0 }, svg);
    el("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: kind === "net" ? 14 : 6 }, g);
    const t = el("text", { x: b.x + b.w / 2, y: b.y + 19, class: "lx-label" }, g);
    t.textContent = n.label;
    n.value.forEach((v, k) => {
      const s = el("text", { x: b.x + b.w / 2, y: b.y + 19 + LINE * (k + 1) + 2, class: "lx-value" }, g);
      s.textContent = v;
    });
    const title = el("title", {}, g);
    title.textContent = `${n.label}: ${n.about}. ${n.hover}`;
    const send = (on) => this.send(on ? n : null);
    g.addEventListener("mouseenter", () => send(true));
    g.addEventListener("mouseleave", () => send(false));
    g.addEventListener("focus", () => send(true));
    g.addEventListener("blur", () => send(false));
  }

  drawCode(d, parent) {
    const box = el("div", { class: "lx-code" }, parent, null);
    const head = el("div", { class: "lx-code-title" }, box, null);
    head.textContent = d.words.code;
    const byLine = new Map();
    for (const n of d.nodes) {
      if (n.line === null || n.line === undefined) continue;
      if (!byLine.has(n.line)) byLine.set(n.line, []);
      byLine.get(n.line).push(n);
    }
    const pre = el("pre", {}, box, null);
    for (const b of d.blocks) {
      const t = el("code", { class: "lx-block" }, pre, null);  // (code: as typed)
      t.textContent = "# " + b.title;
      for (let i = b.start; i < b.start + b.n; i++) {
        const line = el("div", { class: "lx-line", "data-line": i }, pre, null);
        const src = el("code", { class: "lx-src" }, line, null);
        src.textContent = d.lines[i] || " ";  // text, never markup
        const here = byLine.get(i);
        if (!here) continue;
        line.dataset.node = here.map((n) => n.id).join(" ");
        const note = el("span", { class: "lx-ann" }, line, null);
        note.textContent = "← " + here.map((n) => `${n.label}: ${n.about}`).join("; ");
        line.addEventListener("mouseenter", () => this.send(here[0]));
        line.addEventListener("mouseleave", () => this.send(null));
      }
    }
    return box;
  }

  send(n) {
    window.dispatchEvent(new CustomEvent(FOCUS, { detail: {
      slot: this.d.slot, source: "graph", node: n ? n.id : null, mark: n ? n.mark : null } }));
  }

  // Lights up the node in focus (or every node of the mark in focus), its
  // code lines, and says what the node is and where its mark is.
  focus(f) {
    if (!this.d || !this.svg) return;
    const mine = f.slot === this.d.slot;
    const ids = new Set();
    if (mine && f.node) ids.add(f.node);
    else if (mine && f.mark) for (const n of this.d.nodes) if (n.mark === f.mark) ids.add(n.id);
    for (const g of this.svg.querySelectorAll(".lx-node")) g.classList.toggle("focus", ids.has(g.dataset.node));
    for (const l of this.code.querySelectorAll(".lx-line")) {
      const on = (l.dataset.node || "").split(" ").some((id) => ids.has(id));
      l.classList.toggle("focus", on);
    }
    this.root.dataset.focus = [...ids].join(" ");
    const n = this.d.nodes.find((m) => ids.has(m.id));
    this.hint.textContent = n ? `${n.label}: ${n.about}. ${n.hover}` : this.d.words.hint;
  }
}
