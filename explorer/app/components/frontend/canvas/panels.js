// The canvas element's panels (frontend/canvas/): a map (points coloured by
// class, moving between steps) and a curve panel (lines with a legend and a
// per-step marker). Each keeps where it is now and where it is going; the
// element (main.js) sets a step and calls draw(ctx, w, h, e) with the eased
// fraction e of the tween, and reads back what was drawn (drawn()).
import { FONT, area, drawAxes, equalAspect, transform } from "./axes.js";

const R = 2.2;  // a point's radius (CSS pixels)
const ALPHA = 0.8;

export function decode(b64, Type) {
  const s = atob(b64), bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return new Type(bytes.buffer);
}

const lerp = (a, b, e) => a + (b - a) * e;

// A disc's pixels at radius r (device pixels): offsets and coverage (its
// anti-aliased edge), stamped at every point.
function disc(r) {
  const out = [], n = Math.ceil(r + 1);
  for (let dy = -n; dy <= n; dy++) {
    for (let dx = -n; dx <= n; dx++) {
      const cover = Math.min(1, Math.max(0, r + 0.5 - Math.hypot(dx, dy)));
      if (cover > 0) out.push(dx, dy, cover);
    }
  }
  return Float32Array.from(out);
}

function rgb(colour) {
  const h = colour.replace("#", "");
  return [0, 2, 4].map((k) => parseInt(h.slice(k, k + 2), 16));
}

export class MapPanel {
  constructor(spec, start) {
    this.spec = spec;
    this.n = spec.n;
    this.frames = decode(spec.frames, Float32Array);  // [F, N, 2]
    this.labels = spec.labels ? decode(spec.labels, Uint8Array) : new Uint8Array(this.n);
    // the points' indices grouped by class: one fill style per class
    const byClass = new Map();
    this.labels.forEach((c, i) => { if (!byClass.has(c)) byClass.set(c, []); byClass.get(c).push(i); });
    this.classes = [...byClass.entries()].sort((a, b) => a[0] - b[0])
      .map(([c, idx]) => ({ c, idx: Int32Array.from(idx) }));
    this.cur = this.frame(start).slice();
    this.from = this.cur.slice();
    this.to = this.frame(start);
    this.range = this.rangeAt(start).slice();
    this.rangeFrom = this.range.slice();
    this.rangeTo = this.rangeAt(start);
    this.px = new Float32Array(2 * this.n);
    this.ink = null;
  }

  frame(step) {
    const f = this.spec.pick[step], m = 2 * this.n;
    return this.frames.subarray(f * m, (f + 1) * m);
  }

  rangeAt(step) {
    return this.spec.ranges ? this.spec.ranges[step] : this.spec.range;
  }

  target(step) {  // from wherever the points are now
    this.from.set(this.cur); this.to = this.frame(step);
    this.rangeFrom = this.range.slice(); this.rangeTo = this.rangeAt(step);
  }

  draw(ctx, w, h, e, dpr) {
    const { cur, from, to } = this;
    if (e >= 1) cur.set(to);
    else for (let i = 0; i < cur.length; i++) cur[i] = from[i] + (to[i] - from[i]) * e;
    this.range = this.rangeFrom.map((v, k) => lerp(v, this.rangeTo[k], e));
    const a = area(w, h);
    const r = this.spec.equal ? equalAspect(this.range, a) : this.range;
    const t = (this.t = transform(r, a));
    ctx.fillStyle = "#fff"; ctx.fillRect(t.left, t.top, t.width, t.height);
    drawAxes(ctx, t, { title: this.spec.title, x: this.spec.axes[0], y: this.spec.axes[1] }, w, h);
    ctx.save();
    ctx.beginPath(); ctx.rect(t.left, t.top, t.width, t.height); ctx.clip();
    this.circles(ctx, t);
    this.points(ctx, t, dpr);
    ctx.restore();
  }

  circles(ctx, t) {
    if (!this.spec.circles) return;
    ctx.save(); ctx.strokeStyle = "#999"; ctx.setLineDash([3, 3]); ctx.lineWidth = 1;
    for (const k of this.spec.circles) {
      const cx = t.px(0), cy = t.py(0);
      const rx = Math.abs(t.px(k) - cx), ry = Math.abs(t.py(k) - cy);
      ctx.beginPath(); ctx.ellipse(cx, cy, rx, ry, 0, 0, 2 * Math.PI); ctx.stroke();
    }
    ctx.restore();
  }

  // The points, blended into the plot area's pixels (drawn already: the
  // grid, the circles) in one pass: canvas calls per point (a path, an
  // image each) draw 10,000 points at well under 30 frames/s in Chromium's
  // software canvas; this draws them at 60.
  points(ctx, t, dpr) {
    if (!this.ink || this.ink.dpr !== dpr) {
      const pal = this.spec.palette;
      this.ink = { dpr, disc: disc(R * dpr), of: this.classes.map(({ c }) => rgb(pal[c % pal.length])) };
    }
    const X0 = Math.round(t.left * dpr), Y0 = Math.round(t.top * dpr);
    const W = Math.round(t.width * dpr), H = Math.round(t.height * dpr);
    const img = ctx.getImageData(X0, Y0, W, H), px8 = img.data;
    const { cur, px } = this, d = this.ink.disc;
    const ax = t.width / (t.x[1] - t.x[0]), ay = t.height / (t.y[1] - t.y[0]);
    const x0 = t.x[0], y1 = t.y[1];
    this.classes.forEach(({ idx }, k) => {
      const [r, g, b] = this.ink.of[k];
      for (let j = 0; j < idx.length; j++) {
        const i = idx[j];
        const x = t.left + (cur[2 * i] - x0) * ax, y = t.top + (y1 - cur[2 * i + 1]) * ay;
        px[2 * i] = x; px[2 * i + 1] = y;
        const cx = Math.round(x * dpr) - X0, cy = Math.round(y * dpr) - Y0;
        for (let m = 0; m < d.length; m += 3) {
          const u = cx + d[m], v = cy + d[m + 1];
          if (u < 0 || v < 0 || u >= W || v >= H) continue;
          const o = 4 * (v * W + u), a = ALPHA * d[m + 2], q = 1 - a;
          px8[o] = px8[o] * q + r * a; px8[o + 1] = px8[o + 1] * q + g * a;
          px8[o + 2] = px8[o + 2] * q + b * a; px8[o + 3] = 255;
        }
      }
    });
    ctx.putImageData(img, X0, Y0);
  }

  nearest(x, y, within = 8) {  // the point drawn nearest (x, y), or -1
    let best = -1, d = within * within;
    for (let i = 0; i < this.n; i++) {
      const dx = this.px[2 * i] - x, dy = this.px[2 * i + 1] - y, q = dx * dx + dy * dy;
      if (q < d) { d = q; best = i; }
    }
    return best;
  }

  name(i) {
    const c = this.labels[i];
    return this.spec.names[c] ?? String(c);
  }

  drawn() {
    const { x, y, left, top, width, height } = this.t;
    return { xy: Array.from({ length: this.n }, (_, i) => [this.px[2 * i], this.px[2 * i + 1]]),
      transform: { x, y, left, top, width, height } };
  }
}

function autoRange(values, log) {
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0));
  let lo = Math.min(...v), hi = Math.max(...v);
  if (!v.length) { lo = log ? 1 : 0; hi = log ? 10 : 1; }
  if (log) {
    const a = Math.log10(lo), b = Math.log10(hi), pad = 0.05 * (b - a || 1);
    return [10 ** (a - pad), 10 ** (b + pad)];
  }
  const pad = 0.06 * (hi - lo || Math.abs(hi) || 1);
  return [lo - pad, hi + pad];
}

export class CurvePanel {
  constructor(spec, start) {
    this.spec = spec;
    const xs = spec.series.flatMap((s) => s.x), ys = spec.series.flatMap((s) => s.y);
    const mk = spec.marker || { x: [] };
    this.range = [...autoRange(xs.concat(mk.x), spec.log_x),
      ...autoRange(ys.concat(mk.y || []), false)];
    this.mark = this.markAt(start); this.from = this.mark; this.to = this.mark;
  }

  markAt(step) {
    const m = this.spec.marker;
    return m ? [m.x[step], m.y ? m.y[step] : null] : null;
  }

  target(step) { this.from = this.mark; this.to = this.markAt(step); }

  draw(ctx, w, h, e) {
    const s = this.spec, log = s.log_x;
    if (this.to) {
      const fx = log ? Math.log10 : (v) => v, gx = log ? (v) => 10 ** v : (v) => v;
      this.mark = [gx(lerp(fx(this.from[0]), fx(this.to[0]), e)),
        this.to[1] === null ? null : lerp(this.from[1], this.to[1], e)];
    }
    const t = (this.t = transform(this.range, area(w, h), log));
    drawAxes(ctx, t, { title: s.title, x: s.axes[0], y: s.axes[1] }, w, h);
    ctx.save();
    ctx.beginPath(); ctx.rect(t.left, t.top, t.width, t.height); ctx.clip();
    for (const line of s.series) this.line(ctx, t, line);
    this.marker(ctx, t);
    ctx.restore();
    this.legend(ctx, t);
  }

  line(ctx, t, s) {
    ctx.strokeStyle = ctx.fillStyle = s.colour; ctx.lineWidth = 1.8;
    ctx.beginPath();
    s.x.forEach((x, i) => (i ? ctx.lineTo(t.px(x), t.py(s.y[i])) : ctx.moveTo(t.px(x), t.py(s.y[i]))));
    ctx.stroke();
    s.x.forEach((x, i) => {
      ctx.beginPath(); ctx.arc(t.px(x), t.py(s.y[i]), 2.6, 0, 2 * Math.PI); ctx.fill();
    });
    if (s.labels) this.labels(ctx, t, s);
  }

  // Each point's text beside it, at the first of four places that stays in
  // the plot and clear of the texts placed so far (none where none does).
  labels(ctx, t, s) {
    ctx.save(); ctx.font = `12px ${FONT}`; ctx.fillStyle = "#31333f"; ctx.textBaseline = "top";
    const placed = [], h = 13;
    s.x.forEach((v, i) => {
      const x = t.px(v), y = t.py(s.y[i]), w = ctx.measureText(s.labels[i]).width;
      const spots = [[x + 5, y - h - 2], [x + 5, y + 2], [x - w - 5, y - h - 2], [x - w - 5, y + 2]];
      const free = spots.find(([a, b]) => a >= t.left && a + w <= t.left + t.width && b >= t.top
        && b + h <= t.top + t.height && placed.every(([c, d, e]) => a + w < c || c + e < a || b + h < d || d + h < b));
      if (!free) return;
      placed.push([free[0], free[1], w]);
      ctx.fillText(s.labels[i], free[0], free[1]);
    });
    ctx.restore();
  }

  marker(ctx, t) {
    if (!this.mark) return;
    const [x, y] = this.mark;
    ctx.save(); ctx.strokeStyle = "#111";
    if (y === null) {  // a cursor across the panel
      ctx.setLineDash([3, 3]); ctx.lineWidth = 1.5; ctx.beginPath();
      ctx.moveTo(t.px(x), t.top); ctx.lineTo(t.px(x), t.top + t.height); ctx.stroke();
    } else {  // a ring at the point
      ctx.lineWidth = 3; ctx.beginPath(); ctx.arc(t.px(x), t.py(y), 9, 0, 2 * Math.PI); ctx.stroke();
    }
    ctx.restore();
  }

  legend(ctx, t) {
    const named = this.spec.series.filter((s) => s.name);
    if (!named.length) return;
    ctx.save(); ctx.font = `12px ${FONT}`; ctx.textBaseline = "middle"; ctx.textAlign = "left";
    const wide = Math.max(...named.map((s) => ctx.measureText(s.name).width)) + 34;
    const hgt = 18 * named.length + 6;
    // the corner whose box covers the fewest of the lines' points
    const corners = [[t.left + t.width - wide - 6, t.top + 6], [t.left + 6, t.top + 6],
      [t.left + t.width - wide - 6, t.top + t.height - hgt - 6], [t.left + 6, t.top + t.height - hgt - 6]];
    const covered = ([cx, cy]) => this.spec.series.reduce((n, s) => n + s.x.filter((v, i) => {
      const px = t.px(v), py = t.py(s.y[i]);
      return px > cx - 8 && px < cx + wide + 8 && py > cy - 8 && py < cy + hgt + 8;
    }).length, 0);
    const [x, y] = corners.reduce((best, c) => (covered(c) < covered(best) ? c : best));
    ctx.fillStyle = "rgba(255,255,255,0.85)"; ctx.fillRect(x, y, wide, hgt);
    ctx.strokeStyle = "#dcdfe5"; ctx.strokeRect(x + 0.5, y + 0.5, wide - 1, hgt - 1);
    named.forEach((s, i) => {
      const ly = y + 12 + 18 * i;
      ctx.strokeStyle = s.colour; ctx.lineWidth = 2.5;
      ctx.beginPath(); ctx.moveTo(x + 6, ly); ctx.lineTo(x + 24, ly); ctx.stroke();
      ctx.fillStyle = "#31333f"; ctx.fillText(s.name, x + 29, ly);
    });
    ctx.restore();
  }

  drawn() {
    const { x, y, left, top, width, height } = this.t;
    const m = this.mark;
    return { marker: m && [this.t.px(m[0]), m[1] === null ? null : this.t.py(m[1])],
      value: m, transform: { x, y, left, top, width, height, logX: this.t.logX } };
  }
}
