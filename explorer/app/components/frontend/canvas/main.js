// The canvas element (Streamlit components v2, components/canvas.py): maps
// whose points move from step to step, a curve panel with a per-step marker,
// a slider and Play/Pause, all in the browser (no rerun). Each step change
// tweens every point from where it is to the step's place, eased, over
// `tween_ms`, one requestAnimationFrame draw at a time on a <canvas>.
//
// The data (one JSON string, `canvas`): {steps: [label], start, texts:
// [line] | null, tween_ms, hold_ms, words: {play, pause, step}, panels:
// [{kind: "map" | "curve", row, width (a share of its row), height, ...}]}; a
// map's positions are base64 float32 [F, N, 2] (frames, pick[step] -> frame).
//
// What a test reads, on the root (div.lx-canvas): data-step (the step shown
// or being moved to), data-settled ("1" once its tween has ended, "0"
// while moving), data-playing ("1" | "0"), data-ready; and two read-only
// hooks: root.replayDrawn(i) -> panel i's drawn pixels (a map: {xy: [[x, y]]
// per point, transform: {x: [x0, x1], y: [y0, y1], left, top, width,
// height}} in CSS pixels of its canvas; a curve: {marker, value, transform}),
// root.replayStats() -> {draws, ms}: the draws made while tweening and the
// time the tweens took, summed since the element was drawn.
import { FONT, setFont } from "./axes.js";
import { CurvePanel, MapPanel } from "./panels.js";

const elements = new Map();  // one per component key
const ease = (p) => (p < 0.5 ? 4 * p * p * p : 1 - (-2 * p + 2) ** 3 / 2);

function el(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

export function render({ data, key, parentElement }) {
  let c = elements.get(key);
  if (!c || !parentElement.contains(c.root)) {
    c = new CanvasElement(parentElement);
    elements.set(key, c);
  }
  if (c.raw !== data.canvas) {
    c.raw = data.canvas;
    c.build(JSON.parse(data.canvas));
  }
}

class CanvasElement {
  constructor(parent) {
    if (!document.querySelector("link[data-lx-canvas]")) {
      const link = el("link", null, document.head);
      link.rel = "stylesheet"; link.dataset.lxCanvas = "1";
      link.href = new URL("./canvas.css", import.meta.url).href;
    }
    this.root = el("div", "lx-canvas", parent);
    this.root.replayDrawn = (i) => this.panels[i].drawn();
    this.root.replayStats = () => ({ draws: this.draws, ms: this.ms });
    setFont(getComputedStyle(this.root).fontFamily);
    this.draws = 0; this.ms = 0;
    new ResizeObserver(() => this.resize()).observe(this.root);
  }

  build(d) {
    this.stop();
    cancelAnimationFrame(this.raf);
    this.d = d;
    this.step = Math.min(d.start, d.steps.length - 1);
    this.root.replaceChildren();
    this.text = d.texts ? el("div", "lx-canvas-text", this.root) : null;
    const rows = new Map();  // panels in rows, by their row number
    for (const r of [...new Set(d.panels.map((p) => p.row || 0))].sort((a, b) => a - b)) {
      rows.set(r, el("div", "lx-canvas-panels", this.root));
    }
    this.panels = d.panels.map((p) => (p.kind === "map" ? new MapPanel(p, this.step) : new CurvePanel(p, this.step)));
    this.boxes = d.panels.map((p, i) => {
      const box = el("div", "lx-canvas-panel", rows.get(p.row || 0));
      box.style.flex = `${p.width} 1 0`; box.style.height = `${p.height}px`;
      const canvas = el("canvas", null, box);
      if (p.kind === "map") this.hover(box, canvas, this.panels[i]);
      // (a map's pixels are read and written each frame: a CPU canvas)
      const ctx = canvas.getContext("2d", { willReadFrequently: p.kind === "map" });
      return { box, canvas, ctx };
    });
    this.controls(d);
    this.root.dataset.steps = d.steps.length;
    this.resize();
    this.show(this.step, false);
    this.root.dataset.ready = "1";
    // the page's font may arrive after the first draw: drawn again with it
    document.fonts?.ready.then(() => { if (this.root.dataset.settled === "1") this.draw(1); });
  }

  controls(d) {
    const bar = el("div", "lx-canvas-controls", this.root);
    const play = el("button", "lx-canvas-play", bar), pause = el("button", "lx-canvas-pause", bar);
    play.type = pause.type = "button";
    play.textContent = "▶ " + d.words.play; pause.textContent = "❚❚ " + d.words.pause;
    play.addEventListener("click", () => this.play());
    pause.addEventListener("click", () => this.stop());
    this.slider = el("input", "lx-canvas-slider", bar);
    Object.assign(this.slider, { type: "range", min: 0, max: d.steps.length - 1, step: 1, value: this.step });
    this.slider.addEventListener("input", () => { this.stop(); this.show(+this.slider.value, true); });
    this.label = el("span", "lx-canvas-label", bar);
  }

  hover(box, canvas, panel) {
    const tip = el("div", "lx-canvas-tip", box);
    canvas.addEventListener("mousemove", (ev) => {
      const r = canvas.getBoundingClientRect();
      const i = panel.t ? panel.nearest(ev.clientX - r.left, ev.clientY - r.top) : -1;
      tip.style.display = i < 0 ? "none" : "block";
      if (i < 0) return;
      tip.textContent = panel.name(i);
      tip.style.left = `${panel.px[2 * i] + 10}px`; tip.style.top = `${panel.px[2 * i + 1] - 26}px`;
    });
    canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  }

  resize() {
    if (!this.boxes) return;
    this.dpr = window.devicePixelRatio || 1;
    for (const b of this.boxes) {
      const w = b.box.clientWidth, h = b.box.clientHeight;
      b.w = w; b.h = h;
      b.canvas.width = Math.round(w * this.dpr); b.canvas.height = Math.round(h * this.dpr);
      b.canvas.style.width = `${w}px`; b.canvas.style.height = `${h}px`;
    }
    if (this.root.dataset.settled === "1") this.draw(1);
  }

  // Moves to step k: tweened (the slider, Play) or at once (the first draw).
  show(k, tween) {
    this.step = k;
    this.slider.value = k;
    this.label.textContent = this.d.steps[k];
    if (this.text) this.text.textContent = this.d.texts[k];
    this.root.dataset.step = k;
    for (const p of this.panels) p.target(k);
    if (!tween) { this.draw(1); this.settle(); return; }
    this.root.dataset.settled = "0";
    const t0 = performance.now(), ms = this.d.tween_ms;
    cancelAnimationFrame(this.raf);
    const tick = (now) => {
      const p = Math.min(1, (now - t0) / ms);
      this.draw(ease(Math.max(0, p)));
      this.draws++;
      if (p < 1) { this.raf = requestAnimationFrame(tick); return; }
      this.ms += performance.now() - t0;
      this.settle();
    };
    this.raf = requestAnimationFrame(tick);
  }

  settle() {
    this.root.dataset.settled = "1";
    if (!this.playing) return;
    if (this.step >= this.d.steps.length - 1) { this.stop(); return; }
    this.timer = setTimeout(() => this.show(this.step + 1, true), this.d.hold_ms);
  }

  draw(e) {
    this.panels.forEach((p, i) => {
      const b = this.boxes[i];
      b.ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
      b.ctx.clearRect(0, 0, b.w, b.h);
      b.ctx.font = `12px ${FONT}`;
      p.draw(b.ctx, b.w, b.h, e, this.dpr);
    });
  }

  play() {
    if (this.playing) return;
    this.playing = true;
    this.root.dataset.playing = "1";
    const last = this.d.steps.length - 1;
    this.show(this.step >= last ? 0 : this.step + 1, true);
  }

  stop() {
    this.playing = false;
    clearTimeout(this.timer);
    this.root.dataset.playing = "0";
  }
}
