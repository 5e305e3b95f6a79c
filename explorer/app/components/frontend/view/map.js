// One map: its scatter (plotly.js, WebGL), its clicks, hovers and zooms, and
// the layers over it (the large map's windows, thumbnails, marks), each drawn
// by its own module.
import * as events from "./events.js";
import { drawMarks, FOCUS, markAt } from "./marks.js";
import { fill, words } from "./words.js";
import { fetchBuffer } from "./net.js";
import { onDeselect, onSelected, showSelection } from "./selection.js";
import { config, layout, splitByClass, traces } from "./traces.js";
import { loadAll, redrawWindow, wheelZoom } from "./window.js";


// A window as text, to a millionth of its span: the same axes give the same
// key whichever float rounding plotly's relayout reports them with.
function windowKey(L) {
  const r = (a) => { const s = Math.abs(a[1] - a[0]) || 1; return a.map((v) => Math.round(v / s * 1e6)); };
  return JSON.stringify([r(L.xaxis.range), r(L.yaxis.range)]);
}

export class MapView {
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

  async update(m) {
    this.m = m;
    // (the legend's names and the note follow the page's language)
    const said = JSON.stringify([m.points.class_names, words(this.view.d)]);
    if (!this.loaded || this.loaded.url !== m.points.url || this.said !== said) {
      this.said = said;
      if (m.points.view_key !== this.viewKey) { this.zoomed = false; this.range = null; }  // a new map autoranges
      this.viewKey = m.points.view_key;
      const data = await this.loadPoints(m);
      const tr = traces(this, m, data);
      this.nClassTraces = tr.length;
      await Plotly.react(this.gd, tr, layout(this, m), config(m, words(this.view.d)));
      this.loaded = data;
      await this.fitLegend();
      if (!this.zoomed) this.toldKey = windowKey(this.gd._fullLayout);  // Python's: the whole map
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
      if (allKey) loadAll(this, d, allKey).catch((e) => console.error(e));
    }
  }

  // "N images: too many to draw one by one …" under a large map.
  note(inWindow, drawn) {
    const d = this.m.points.density;
    this.noteEl.style.display = d ? "block" : "none";
    if (!d) return;
    const w = words(this.view.d), fmt = (n) => Number(n).toLocaleString(w.locale);
    this.noteEl.textContent = fill(drawn === inWindow ? w.large_all : w.large_sample,
      { shown: fmt(d.shown), in_view: fmt(inWindow), drawn: fmt(drawn) });
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
    // A lasso or a box (selection.js)
    gd.on("plotly_selected", (ev) => onSelected(this, ev));
    gd.on("plotly_deselect", () => onDeselect(this));
    gd.on("plotly_afterplot", () => {
      this.liveRange = null;
      // Python's window is the whole map until a zoom or a pan: when plotly
      // sizes the map anew (the page settling its layout), the whole map's
      // axes move with it, and they are still what Python has.
      if (!this.zoomed) this.toldKey = windowKey(gd._fullLayout);
      this.drawMarks();
    });
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
        if (this.all) redrawWindow(this);
        this.tellView();
      }
    });
    // Once every point is here, the wheel zooms in one redraw: the window's
    // points with the new range, where plotly's own wheel zoom redraws the
    // old points twice (at once, then 50 ms later) before the window can.
    gd.addEventListener("wheel", (ev) => wheelZoom(this, ev), { capture: true, passive: false });
    this.bindFocus();
    this.bound = true;
  }

  // The graph's hovers light up a mark here; a mark under the mouse (hit-
  // tested from the map's own mousemove: marks let clicks through to the
  // plot) is told to the graph. One window event, "lx-focus", both ways.
  bindFocus() {
    window.addEventListener(FOCUS, (ev) => {
      const f = ev.detail || {};
      const mark = f.slot === this.m.slot ? f.mark || null : null;
      if (mark === this.focusMark) return;
      this.focusMark = mark;
      this.el.dataset.focusMark = mark || "";
      this.drawMarks();
    });
    const tell = (mark) => {
      if (mark === this.hovered) return;
      this.hovered = mark;
      window.dispatchEvent(new CustomEvent(FOCUS, { detail: { slot: this.m.slot, mark, node: null, source: "view" } }));
    };
    this.el.addEventListener("mousemove", (ev) => {
      const r = this.gd.getBoundingClientRect();
      tell(markAt(this, ev.clientX - r.left, ev.clientY - r.top));
    }, { passive: true });
    this.el.addEventListener("mouseleave", () => tell(null), { passive: true });
  }

  // Tells Python the axes' window once they rest, unless it is the window
  // Python has already: plotly reports a relayout of the very same axes
  // (a double click on a whole map resets it to itself), and each report
  // was a whole rerun for nothing. The counts on the plot are for tests:
  // windows that came to rest, and those told.
  tellView() {
    clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => {
      const L = this.gd._fullLayout, count = (k) => { this.gd.dataset[k] = String(+(this.gd.dataset[k] || 0) + 1); };
      count("windowsSeen");
      const key = windowKey(L);
      if (key === this.toldKey) return;
      this.toldKey = key;
      count("windowsTold");
      this.view.tell(events.view(this.m.slot, L.xaxis.range.slice(), L.yaxis.range.slice()));
    }, 400);
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

  // Called by the other modules: the selection (selection.js), the large
  // map's window (window.js), the marks and thumbnails (marks.js).
  showSelection() { return showSelection(this); }
  redrawWindow() { redrawWindow(this); }
  drawMarks() { drawMarks(this); }
}
