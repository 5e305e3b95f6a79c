// The words the view writes itself (its status line, the selected image's
// caption, a large map's note, a live slider's label, its error) and
// plotly's own (``plotly``: a locale's dictionary, traces.js): Python's, in
// the page's language (``viewdata.words``), with ``{fields}`` filled here.

// Until the view's data has come (an error before it), English.
const ENGLISH = {
  locale: "en-US",
  loading: "Loading the latent map…",
  image: "Image #{index}",
  image_class: "Image #{index} ({name})",
  data: "data",
  live: "live {label}",
  error: "The view could not be drawn: {error}",
  plotly: {},
};

// The view's data ``d``'s words (any missing, in English).
export function words(d) {
  return Object.assign({}, ENGLISH, d && d.words);
}

// ``template`` with its ``{fields}`` filled from ``values`` (a field not
// given stays as written).
export function fill(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (all, k) => (k in values ? String(values[k]) : all));
}
