// The view: both maps, the strip and the sliders of one component key, what
// a click answers here, and what Python is told (events.js).
import { loadDecoder } from "./decoder.js";
import * as events from "./events.js";
import { inverse, project } from "./linalg.js";
import { MapView } from "./map.js";
import { SVG } from "./marks.js";
import { ensurePlotly, fetchBuffer } from "./net.js";
import { paint, paintUrl } from "./paint.js";
import { loadSelection, setSelection } from "./selection.js";
import { Decoded } from "./strip.js";
import { fill, words } from "./words.js";

export class View {
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
  tellAfterPaint(id, event) {
    const ev = Object.assign({ id }, event);
    requestAnimationFrame(() => setTimeout(() => this.setTriggerValue("event", ev), 0));
  }

  // Tells Python of an event; its reruns echo the newest id they handled.
  tell(event) {
    const id = this.newId();
    this.setTriggerValue("event", Object.assign({ id }, event));
    return id;
  }

  build(d) {
    const shape = JSON.stringify([d.maps.map((m) => m.slot), d.original !== false]);
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
    // the selected image, unless this view has none (the Conditional tab's)
    this.original = d.original === false ? null : fig("lx-original");
    for (const m of d.maps) {
      const el = document.createElement("div");
      el.className = "lx-map"; el.dataset.lxSlot = m.slot;
      el.innerHTML = '<div class="lx-density"><img alt=""><canvas></canvas></div><div class="lx-plot"></div>' +
        '<div class="lx-status"></div><div class="lx-map-note"></div>';
      el.querySelector(".lx-status").textContent = words(d).loading;
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
    if (!this.original) return;
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
    if (!this.original || this.original.dataset.index !== String(index)) return;  // a newer click
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

  // The selection (selection.js): made here (``key`` "here") or Python's.
  setSelection(mask, key, drawn = null) { setSelection(this, mask, key, drawn); }
  loadSelection(sel) { return loadSelection(this, sel); }

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
    const w = words(this.d);
    if (!(labels && names.length)) return fill(w.image, { index });
    return fill(w.image_class, { index, name: names[labels[index]] ?? labels[index] });
  }

  // ``at``: where the point was clicked on ``from``'s map (a non-linear map
  // cannot place a code itself; the other such map is placed by Python).
  // A map whose data says ``point_selects: false`` (the Conditional tab's)
  // only moves its × there and keeps decoding with its data's ``label``.
  async clickPoint(index, from, at) {
    const id = this.newId();
    this.root.dataset.answered = "";
    const t = performance.now();
    const jobs = [this.showOriginal(index, this.caption(index))];
    for (const [slot, mv] of this.maps) {
      const m = mv.m, dec = this.decoded.get(slot), selects = m.point_selects !== false;
      jobs.push((async () => {
        const means = new Float32Array(await fetchBuffer(m.means_url));
        const D = m.latent_dim, z = Array.from(means.subarray(index * D, index * D + D));
        const xy = m.projection ? project(m.projection, z) : mv === from ? at : null;
        if (xy) {
          const marks = selects ? { selected: xy, cursor: xy, ellipses: [] } : { cursor: xy };
          mv.marks = Object.assign({}, mv.marks, marks);
          mv.drawMarks();
        }
        dec.syncSliders(z);
        await dec.decode(z, !selects ? m.label : this.labels ? this.labels[index] : 0);
      })());
    }
    this.tellAfterPaint(id, events.point(from.m.slot, index));
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
      this.tellAfterPaint(id, events.space(m.slot, x, y));
      return;
    }
    const z = inverse(m.projection, x, y);
    dec.syncSliders(z);
    this.tellAfterPaint(id, events.space(m.slot, x, y));
    await dec.decode(z);
    this.root.dataset.answered = String(id);
    this.root.dataset.answerMs = String(performance.now() - t);
  }

  // Once everything a click's answer needs here is loaded (each map's means
  // and decoder, the labels), ``data-clickable`` says so: the view answers a
  // click by itself from then on (its ready signal, with ``data-ready``).
  whenClickable(d) {
    const decoders = d.maps.map((m) => m.decoder_url).filter(Boolean);
    const means = d.maps.map((m) => m.means_url).filter(Boolean);
    const key = JSON.stringify([decoders, means, d.labels_url]);
    if (key === this.clickKey) return;
    this.clickKey = key;
    delete this.root.dataset.clickable;
    this.afterDraw.then(() => Promise.all([
      ...decoders.map(loadDecoder), ...means.map(fetchBuffer), this.labelsReady,
    ])).then(() => { if (this.clickKey === key) this.root.dataset.clickable = "1"; })
      .catch((e) => console.error(e));
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
    this.whenClickable(d);
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
