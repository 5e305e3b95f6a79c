// The explorer's view (Streamlit components v2): both latent maps, the image
// strip (the selected image and each model's decode at its ×) and the live
// sliders, in one element of the page (no iframe).
//
// A click is answered here, before Python hears of it: the clicked point (or
// the exact spot in empty space, through the inverse PCA), both models'
// decodes with their exported decoders, the original image from the dataset's
// uint8 chunks, both maps' marks and the sliders. Then one trigger tells
// Python, whose rerun fills in the rest (neighbours, tabs, the URL); its data
// echoes the last event it handled, so an answer to an older click never
// overwrites a newer one drawn here. Models whose decoder cannot run in a
// browser (conv nets, diffusers, a user's module) get their decode from Python
// (a PNG in the data), through the same element.
//
// Everything large arrives by URL from the app's routes (explorer/app/routes.py),
// named by content and cached by the browser: plotly.js, points, latent means,
// decoders, image chunks. A large map (components/density.py) arrives drawn for
// its full view; every shown point's coordinates follow in the background, and
// from then on each pan or zoom is drawn here (the window's points, by the same
// fixed priority as the server's, and its density layer), with no round trip.
// The module stays loaded between reruns, and so do its plots (one WebGL
// context per map), typed arrays and caches.
//
// This module is the entry the loader (components/view.py) imports; the
// others each do one job: view.js (the View), map.js (a map's scatter),
// window.js (a large map's windows), thumbs.js, marks.js, selection.js,
// strip.js and sliders.js (a model's decode and sliders), decoder.js,
// paint.js, linalg.js, net.js, traces.js, events.js (what Python is told),
// words.js (what it writes itself, in the page's language, from Python),
// and view.css. The folder is served under a name made of its content
// (view-<hash>), so their relative imports share one version.
//
// Each component key is a View of its own: the page's (the two main maps)
// and the Conditional tab's (one CVAE map; its data says ``original: false``,
// no selected image in its strip, and per map ``point_selects: false``, a
// click moves its × and keeps the class, and ``lasso: false``).
import { View } from "./view.js";
import { fill, words } from "./words.js";

const views = new Map();   // one per component key

function safeParse(text) {
  try { return JSON.parse(text); } catch (e) { return null; }
}

export function render({ data, key, parentElement, setTriggerValue }) {
  let v = views.get(key);
  let root = parentElement.querySelector(":scope > .lx-root");
  if (!v || v.root !== root || !root) {
    if (!root) {
      root = document.createElement("div");
      root.className = "lx-root";
      parentElement.appendChild(root);
    }
    v = new View(root, setTriggerValue);
    v.key = key;
    views.set(key, v);
  }
  v.setTriggerValue = setTriggerValue;
  // the page's data is one JSON string (components/view.py says why)
  const d = Object.assign(JSON.parse(data.view), { module_url: data.module_url, plotly_url: data.plotly_url });
  v.queue = (v.queue || Promise.resolve()).then(() => v.update(d)).catch((err) => {
    console.error(err);
    root.dataset.error = String(err);
    let e = root.querySelector(".lx-error");
    if (!e) { e = document.createElement("div"); e.className = "lx-note lx-error"; root.prepend(e); }
    e.textContent = fill(words(v.d || safeParse(data.view)).error, { error: err });
  });
  return v.queue;  // drawn (the loader's data-lx-drawn)
}
