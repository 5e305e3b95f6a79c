// A map's plotly figure: its points as traces (a selection's other points
// greyed) and its layout.
import { selectedPoints } from "./selection.js";
import { words } from "./words.js";

const CONFIG = { responsive: true, displaylogo: false, scrollZoom: true,
  modeBarButtonsToRemove: ["toImage"] };

// Map ``m``'s plotly config: without the lasso and box tools when its data
// says ``lasso: false`` (the Conditional tab's map selects nothing); plotly's
// own words (its mode bar's titles, its notices) in the page's language, as
// plotly takes them, a locale's dictionary (``w``: the view's words).
export function config(m, w) {
  const out = Object.assign({}, CONFIG,
    { locale: w.locale, locales: { [w.locale]: { dictionary: w.plotly || {} } } });
  if (m.lasso !== false) return out;
  return Object.assign(out, { modeBarButtonsToRemove: ["toImage", "lasso2d", "select2d"] });
}
// a selection's other points: grey, behind (plotly's own style for them)
const UNSELECTED = { marker: { color: "#c4c4c4", opacity: 0.35 } };
const SELECTED = { marker: { opacity: 0.9 } };

// A map's points as plotly traces want them: one per class (``labelOf(i)``,
// the last class taking any larger label), or, coloured by a measure, one
// trace of every point with its ``values``. ``classIdx[c][j]`` is the point's
// row in ``xs``.
export function splitByClass(xs, ys, labelOf, k, values) {
  const n = xs.length;
  if (values) {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    return { classIdx: [idx], cx: [xs], cy: [ys], values };
  }
  const cls = (i) => Math.min(labelOf(i), k - 1);
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) counts[cls(i)]++;
  const classIdx = [], cx = [], cy = [];
  for (let c = 0; c < k; c++) {
    classIdx.push(new Int32Array(counts[c])); cx.push(new Float32Array(counts[c])); cy.push(new Float32Array(counts[c]));
  }
  const fill = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = cls(i), j = fill[c]++;
    classIdx[c][j] = i; cx[c][j] = xs[i]; cy[c][j] = ys[i];
  }
  return { classIdx, cx, cy };
}

function plotlyText(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// ``mv``: the map (MapView) whose points ``data`` are.
export function traces(mv, m, data) {
  const sel = selectedPoints(mv, data);
  const withSel = (t, c) => Object.assign(t, sel[c] ? { selectedpoints: sel[c] } : {},
    { selected: SELECTED, unselected: UNSELECTED });
  return classTraces(m, data, words(mv.view.d)).map(withSel);
}

function classTraces(m, data, w) {
  const pts = m.points;
  if (data.values) {
    const vr = pts.density && pts.density.value_range;
    return [{
      type: "scattergl", mode: "markers", name: pts.values_title, x: data.cx[0], y: data.cy[0],
      marker: { size: m.marker_size, color: data.values, colorscale: "Viridis", opacity: 0.8, showscale: true,
        ...(vr ? { cmin: vr[0], cmax: vr[1] } : {}),
        colorbar: { title: { text: pts.values_title, side: "right" }, thickness: 12, len: 0.9 } },
      hovertemplate: pts.values_title + ": %{marker.color:.1f}<extra></extra>", showlegend: false,
    }];
  }
  const names = pts.class_names.length ? pts.class_names : [w.data];
  return names.map((name, c) => ({
    type: "scattergl", mode: "markers", name: plotlyText(name), x: data.cx[c], y: data.cy[c],
    marker: { size: m.marker_size, color: m.colors[c % m.colors.length], opacity: 0.75 },
    hovertemplate: "%{fullData.name}<extra></extra>", legendrank: c,
  }));
}

export function layout(mv, m) {
  const pts = m.points;
  const out = {
    height: m.height, margin: { l: 56, r: 12, t: 8, b: 40 },
    xaxis: { title: { text: pts.axis_titles[0] }, zeroline: true, zerolinecolor: "#ccc", gridcolor: "#eee" },
    yaxis: { title: { text: pts.axis_titles[1] }, zeroline: true, zerolinecolor: "#ccc", gridcolor: "#eee" },
    plot_bgcolor: pts.density ? "rgba(0,0,0,0)" : "#fff", paper_bgcolor: "rgba(0,0,0,0)",
    // below the x axis title (fitLegend corrects it if the plot's size differs)
    legend: { orientation: "h", y: -52 / (m.height - 48), yanchor: "top", x: 0, font: { size: 11 },
      itemsizing: "constant" },
    showlegend: pts.class_names.length > 1 && !pts.values_title,
    dragmode: "pan", hovermode: "closest", hoverdistance: 4, clickanywhere: true,
    uirevision: pts.view_key || pts.url,
  };
  if (mv.range) {  // a window this view zoomed to itself (wheelZoom)
    out.xaxis.range = mv.range.x.slice(); out.yaxis.range = mv.range.y.slice();
  }
  return out;
}
