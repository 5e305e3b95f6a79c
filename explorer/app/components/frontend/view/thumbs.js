// Thumbnails: zoomed in far enough, a map's points drawn as their images.
// Only the images in view are fetched, in one request (``pickPath``): the
// images near each other on a map are spread over the whole dataset, so the
// chunks that hold them would be nearly all of its pixels.
import { paint } from "./paint.js";

const THUMBS_MAX = 500;    // at most this many points in view: images instead of dots
const THUMB_PX = [32, 56]; // a thumbnail's side on screen (CSS pixels): many, few

// Zoomed in to at most THUMBS_MAX points in view, each drawn point is
// shown as its image (from the dataset's chunks, as the strip's), framed
// in its class colour; images outside a selection are faint.
export function drawThumbs(mv, xr, yr, s) {
  const cv = mv.thumbsEl, data = mv.loaded, im = mv.view.d && mv.view.d.images;
  const off = () => {
    if (cv.style.display !== "none") { cv.style.display = "none"; mv.gd.dataset.thumbs = "0"; }
  };
  if (!data || !im || !mv.view.d.thumbnails) return off();
  const [x0, x1] = xr[0] <= xr[1] ? xr : [xr[1], xr[0]], [y0, y1] = yr[0] <= yr[1] ? yr : [yr[1], yr[0]];
  const inView = [];
  for (let k = 0; k < data.n; k++) {
    const x = data.xs[k], y = data.ys[k];
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1) {
      inView.push(k);
      if (inView.length > THUMBS_MAX) return off();
    }
  }
  if (!inView.length) return off();
  const ratio = window.devicePixelRatio || 1;
  cv.style.display = "block";
  cv.style.left = s.l + "px"; cv.style.top = s.t + "px";
  cv.style.width = s.w + "px"; cv.style.height = s.h + "px";
  if (cv.width !== Math.round(s.w * ratio)) cv.width = Math.round(s.w * ratio);
  if (cv.height !== Math.round(s.h * ratio)) cv.height = Math.round(s.h * ratio);
  const g = cv.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, s.w, s.h);
  g.imageSmoothingEnabled = false;
  const sel = mv.view.selection, colors = mv.m.colors, labels = mv.view.labels;
  // larger when there is room: the side shrinks as more images share the view
  const side = Math.round(Math.min(THUMB_PX[1], Math.max(THUMB_PX[0],
    0.5 * Math.sqrt((s.w * s.h) / inView.length))));
  const half = side / 2, missing = new Set();
  let drawn = 0;
  for (const k of inView) {
    const i = data.index ? data.index[k] : k;
    const t = mv.thumbs.get(i);
    if (!t) { missing.add(i); continue; }
    const px = ((data.xs[k] - xr[0]) / (xr[1] - xr[0])) * s.w;
    const py = (1 - (data.ys[k] - yr[0]) / (yr[1] - yr[0])) * s.h;
    g.globalAlpha = sel && !sel.mask[i] ? 0.25 : 1;
    g.fillStyle = labels ? colors[labels[i] % colors.length] : "#666";
    g.fillRect(px - half - 2, py - half - 2, side + 4, side + 4);
    g.drawImage(t, px - half, py - half, side, side);
    drawn++;
  }
  g.globalAlpha = 1;
  mv.gd.dataset.thumbs = String(drawn);
  if (missing.size && !mv.thumbsBusy) {
    mv.thumbsBusy = true;
    loadThumbs(mv, missing).catch((e) => console.error(e))
      .finally(() => { mv.thumbsBusy = false; });
  }
}

// The dataset indices ``ids`` (ascending) as a path: the first, then each
// difference from the one before, in base 36, joined by dots (routes.py's
// ``picked`` reads it).
export function pickPath(ids) {
  return ids.map((v, k) => (k ? v - ids[k - 1] : v).toString(36)).join(".");
}

// The images ``ids`` in one request (not kept by net.js: each window asks
// for other images); then the thumbnails again.
async function loadThumbs(mv, ids) {
  const im = mv.view.d.images, data = mv.loaded;
  const [C, H, W] = im.shape, size = C * H * W;
  const sorted = [...ids].sort((a, b) => a - b);
  const r = await fetch(`${im.url}/pick/${pickPath(sorted)}`);
  if (!r.ok) throw new Error(`could not load images: HTTP ${r.status}`);
  const buf = await r.arrayBuffer();
  if (mv.loaded !== data) return;  // redrawn meanwhile (drawn again then)
  sorted.forEach((i, k) => {
    if (mv.thumbs.has(i)) return;
    const canvas = document.createElement("canvas");
    paint(canvas, new Uint8Array(buf, k * size, size), im.shape, 1, false);
    mv.thumbs.set(i, canvas);
  });
  if (mv.thumbs.size > 4 * THUMBS_MAX) {  // keep the newest
    const keys = [...mv.thumbs.keys()];
    for (const key of keys.slice(0, keys.length - 2 * THUMBS_MAX)) mv.thumbs.delete(key);
  }
  mv.thumbsBusy = false;
  mv.drawMarks();
}
