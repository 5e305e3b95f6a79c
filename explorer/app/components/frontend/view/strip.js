// One model's part of the strip: its decode at its × (here, with its
// exported decoder, or the server's PNG) and its sliders (sliders.js).
import { forward, loadDecoder } from "./decoder.js";
import { setAll } from "./linalg.js";
import { paint, paintUrl } from "./paint.js";
import { buildSliders, syncSliders } from "./sliders.js";
import { words } from "./words.js";

export class Decoded {
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

  syncSliders(z) { syncSliders(this, z); }

  async update(m, fromPython) {
    this.m = m;
    this.caption.textContent = m.caption;
    const key = JSON.stringify([m.basis.labels, m.basis.ranges, this.live, words(this.view.d).live]);
    if (key !== this.structure) { this.structure = key; buildSliders(this); }
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
