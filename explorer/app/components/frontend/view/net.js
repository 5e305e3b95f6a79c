// What the view fetches: scripts, its stylesheet and binary files (each
// file's ArrayBuffer once per URL, shared by every map and the strip).

const cache = new Map();   // url -> Promise of its ArrayBuffer
let plotlyReady = null;

export function loadScript(url) {
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = url;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${url}`));
    document.head.appendChild(s);
  });
}

// The view's stylesheet, from this folder (so under the same version as the
// modules): its maps are laid out once it is applied.
function loadStyle() {
  if (document.getElementById("lx-style")) return Promise.resolve();
  return new Promise((resolve) => {
    const link = document.createElement("link");
    link.id = "lx-style";
    link.rel = "stylesheet";
    link.href = new URL("./view.css", import.meta.url).href;
    link.onload = resolve;
    link.onerror = () => { console.error(`could not load ${link.href}`); resolve(); };
    document.head.appendChild(link);
  });
}

// plotly.js and the stylesheet, both loaded before the maps are drawn.
export function ensurePlotly(url) {
  if (!plotlyReady) {
    // the loader (components/view.py) has started it; else load it here
    const plotly = window.Plotly ? Promise.resolve() : (window.lxPlotly || loadScript(url));
    plotlyReady = Promise.all([plotly, loadStyle()]);
  }
  return plotlyReady;
}

export function fetchBuffer(url) {
  if (!cache.has(url)) {
    const p = fetch(url).then((r) => {
      if (!r.ok) throw new Error(`could not load ${url}: HTTP ${r.status}`);
      return r.arrayBuffer();
    });
    p.catch(() => cache.delete(url));
    cache.set(url, p);
  }
  return cache.get(url);
}
