// The selection: images picked with a lasso or a box on either map (or
// Python's), greyed around on every map.
import * as events from "./events.js";
import { fetchBuffer } from "./net.js";

// Per class trace, the positions of its points in the view's selection
// (null for every trace when there is none).
export function selectedPoints(mv, data) {
  const sel = mv.view.selection;
  return data.classIdx.map((ks) => {
    if (!sel) return null;
    const out = [];
    for (let p = 0; p < ks.length; p++) {
      const k = ks[p], i = data.index ? data.index[k] : k;
      if (sel.mask[i]) out.push(p);
    }
    return out;
  });
}

// Greys the points outside the view's selection (or shows all again).
// A lasso's outline stays only while the selection is the one plotly made
// of it on this page: plotly selects again from an outline at each redraw,
// by its own test in pixels, so under Python's selection (which can differ
// by an image on the outline's edge) or none, the outline goes first.
export async function showSelection(mv) {
  if (!mv.loaded || !mv.gd.data) return;
  const sel = mv.view.selection;
  const outline = mv.gd.layout && mv.gd.layout.selections;
  if ((!sel || sel.key !== "here") && outline && outline.length) {
    mv.removingOutline = true;  // not the user's deselect
    try {
      await Plotly.relayout(mv.gd, { selections: [] });
    } catch (e) {
      console.error(e);
    } finally {
      mv.removingOutline = false;
    }
  }
  const pts = selectedPoints(mv, mv.loaded);
  const idx = pts.map((_, c) => c);
  await Plotly.restyle(mv.gd, { selectedpoints: pts }, idx).catch((e) => console.error(e));
  mv.gd.dataset.selected = sel ? String(pts.reduce((a, q) => a + q.length, 0)) : "";
}

// A lasso or a box on ``mv``'s map: its images, greyed around in both maps
// at once (the drawn points), and the shape to Python, which selects every
// shown image inside it (on a large map, those not drawn too).
export function onSelected(mv, ev) {
  if (!ev || !(ev.lassoPoints || ev.range)) return;
  const mask = new Uint8Array(mv.view.d.n_images);
  let count = 0;
  for (const q of ev.points || []) {
    if (q.curveNumber >= mv.nClassTraces) continue;
    const k = mv.loaded.classIdx[q.curveNumber][q.pointNumber];
    mask[mv.loaded.index ? mv.loaded.index[k] : k] = 1;
    count++;
  }
  mv.gd.dataset.selected = String(count);
  // Python first (it works while this page redraws the other map)
  const shape = ev.lassoPoints
    ? { lasso: ev.lassoPoints.x.map((x, j) => [+x, +ev.lassoPoints.y[j]]) }
    : { box: [ev.range.x.map(Number), ev.range.y.map(Number)] };
  mv.view.tell(events.select(mv.m.slot, shape));
  // (plotly greyed this map itself; the others once the event is sent)
  setTimeout(() => mv.view.setSelection(mask, "here", mv), 0);
}

// The selection cleared on ``mv``'s map (a double click in select mode).
export function onDeselect(mv) {
  if (mv.removingOutline) return;
  mv.view.setSelection(null, "here");
  mv.view.tell(events.select(mv.m.slot, { clear: true }));
}

// The selection (a mask over the dataset's images, or null), shown in
// every map. ``key``: "here" (made on this page, Python to follow) or
// Python's.
export function setSelection(view, mask, key, drawn = null) {
  view.selection = mask ? { mask, key } : null;
  view.selectionKey = key;
  for (const mv of view.maps.values()) if (mv !== drawn) mv.showSelection();
}

// Python's selection; the maps are redrawn only where it differs from the
// one they show (a lasso's drawn points are usually all of it: redrawing
// a map of 70,000 points costs a frame of hundreds of milliseconds).
export async function loadSelection(view, sel) {
  if (!sel) {
    if (view.selection) view.setSelection(null, null);
    return;
  }
  const idx = new Int32Array(await fetchBuffer(sel.url));
  const mask = new Uint8Array(view.d.n_images);
  for (const i of idx) mask[i] = 1;
  const now = view.selection && view.selection.mask;
  if (now && now.length === mask.length && now.every((v, i) => v === mask[i])) {
    view.selection.key = view.selectionKey = sel.key;
    return;
  }
  view.setSelection(mask, sel.key);
}
