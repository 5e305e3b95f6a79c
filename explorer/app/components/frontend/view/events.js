// The events this view sends to Python (``setTriggerValue("event", ...)``),
// each built here: explorer/app/components/events.py declares the same kinds
// and fields (tests/app/test_events.py checks that they agree). Each event
// also carries the ``id`` the view gave it (``View.newId``); Python echoes
// the newest it handled.

export const POINT = "point";    // a data point clicked
export const SPACE = "space";    // empty space clicked
export const SLIDER = "slider";  // a slider released
export const SELECT = "select";  // a lasso or box drawn, or the selection cleared
export const VIEW = "view";      // the map panned or zoomed

// Each kind's fields besides ``id`` and ``kind``; "?" marks an optional one.
export const FIELDS = {
  point: ["slot", "index"],
  space: ["slot", "x", "y"],
  slider: ["slot", "values"],
  select: ["slot", "lasso?", "box?", "clear?"],
  view: ["slot", "x", "y"],
};

// A data point of map ``slot``, by dataset index.
export const point = (slot, index) => ({ kind: POINT, slot, index });
// Map coordinates (x, y) of empty space on map ``slot``.
export const space = (slot, x, y) => ({ kind: SPACE, slot, x, y });
// The sliders' values (coordinates in the map's basis), once released.
export const slider = (slot, values) => ({ kind: SLIDER, slot, values });
// ``shape``: { lasso: [[x, y], ...] }, { box: [[x0, x1], [y0, y1]] } or
// { clear: true }.
export const select = (slot, shape) => ({ kind: SELECT, slot, ...shape });
// The visible window: x: [x0, x1], y: [y0, y1].
export const view = (slot, x, y) => ({ kind: VIEW, slot, x, y });
