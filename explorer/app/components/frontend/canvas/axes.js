// Axes for the canvas element (frontend/canvas/): a panel's plot area, the
// pixel transform of its ranges (linear, or log for a curve's x), "nice"
// ticks and the frame, ticks and titles drawn on a 2-D context.
export const MARGIN = { left: 58, right: 14, top: 30, bottom: 44 };
// the page's own font (Streamlit's), once the element has read it (setFont)
export let FONT = '"Source Sans", "Source Sans Pro", sans-serif';
export function setFont(family) {
  if (family) FONT = family;
}
const INK = "#31333f", GRID = "#eceef2", FRAME = "#c9ccd3";

// The plot area of a panel of w x h CSS pixels.
export function area(w, h) {
  return { left: MARGIN.left, top: MARGIN.top,
    width: Math.max(10, w - MARGIN.left - MARGIN.right),
    height: Math.max(10, h - MARGIN.top - MARGIN.bottom) };
}

// Ranges [x0, x1, y0, y1] grown so one unit is as long on both axes.
export function equalAspect(r, a) {
  let [x0, x1, y0, y1] = r;
  const sx = (x1 - x0) / a.width, sy = (y1 - y0) / a.height;
  if (sx > sy) { const m = (y0 + y1) / 2, h = (sx * a.height) / 2; y0 = m - h; y1 = m + h; }
  else { const m = (x0 + x1) / 2, h = (sy * a.width) / 2; x0 = m - h; x1 = m + h; }
  return [x0, x1, y0, y1];
}

// The pixel transform: {x, y, left, top, width, height, logX}; px(x), py(y).
export function transform(r, a, logX = false) {
  const f = logX ? Math.log10 : (v) => v;
  const X0 = f(r[0]), X1 = f(r[1]);
  return {
    x: [r[0], r[1]], y: [r[2], r[3]], logX, ...a,
    px: (v) => a.left + ((f(v) - X0) / (X1 - X0)) * a.width,
    py: (v) => a.top + ((r[3] - v) / (r[3] - r[2])) * a.height,
  };
}

export function niceTicks(lo, hi, n = 5) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / n, p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || 10 * p;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of hi / lo < 100 ? [1, 2, 5] : [1]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

export function tickText(v) {
  return String(+v.toPrecision(4));
}

// The panel's title, frame, grid, ticks and axis titles.
export function drawAxes(ctx, t, titles, w, h) {
  ctx.save();
  ctx.font = `12px ${FONT}`;
  const xs = t.logX ? logTicks(t.x[0], t.x[1]) : niceTicks(t.x[0], t.x[1], Math.max(2, t.width / 90));
  const ys = niceTicks(t.y[0], t.y[1], Math.max(2, t.height / 60));
  ctx.strokeStyle = GRID; ctx.lineWidth = 1; ctx.beginPath();
  for (const v of xs) { const x = Math.round(t.px(v)) + 0.5; ctx.moveTo(x, t.top); ctx.lineTo(x, t.top + t.height); }
  for (const v of ys) { const y = Math.round(t.py(v)) + 0.5; ctx.moveTo(t.left, y); ctx.lineTo(t.left + t.width, y); }
  ctx.stroke();
  ctx.strokeStyle = FRAME;
  ctx.strokeRect(t.left + 0.5, t.top + 0.5, t.width - 1, t.height - 1);
  ctx.fillStyle = INK; ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const v of xs) ctx.fillText(tickText(v), t.px(v), t.top + t.height + 4);
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const v of ys) ctx.fillText(tickText(v), t.left - 5, t.py(v));
  ctx.font = `13px ${FONT}`; ctx.textAlign = "center"; ctx.textBaseline = "bottom";
  ctx.fillText(titles.x || "", t.left + t.width / 2, h - 3);
  ctx.save(); ctx.translate(13, t.top + t.height / 2); ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle"; ctx.fillText(titles.y || "", 0, 0); ctx.restore();
  ctx.font = `600 14px ${FONT}`; ctx.textAlign = "left"; ctx.textBaseline = "middle";
  ctx.fillText(titles.title || "", t.left, t.top / 2, w - t.left - 4);
  ctx.restore();
}
