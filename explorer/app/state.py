"""Per-user state: the session keys, the handlers that change them, and the
shared link.

Per-user state lives in ``st.session_state`` under these keys:

- ``sel``: the selected data index (highlighted in both maps).
- ``cursor``: ``{slot: z}``, the latent point each panel decodes.
- ``interp_a``, ``interp_b``, ``interp_method``, ``interp_steps``, ``interp_t``.
- ``ctx``: the dataset and checkpoints the state belongs to; a change resets it.
- ``view_<slot>``: the visible window of a map, once the user panned or zoomed.
- ``uploaded``: the user's image (name and bytes), if any.
- ``selection``: the images of a lasso or box on a map (``app.selection``).
- ``tab``: the open tab (only it runs).
- widget keys: ``view`` (the instant design's maps, strip and sliders;
  ``view_echo`` is the id of the last event handled, sent back to it), or in
  the classic design ``map_<slot>`` (map clicks), ``live_<slot>`` (live
  sliders), ``s_<slot>_<i>`` (server sliders); ``seen_*`` hold the last
  handled event id.

The view (dataset, models, selection, cursors, interpolation, tab) is mirrored
in the URL (``urlstate``), so a link restores it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from explorer.app import catalogue, urlstate
from explorer.app import keys as K
from explorer.app import selection as selecting
from explorer.app.components.view import instant
from explorer.app.markdown import verbatim
from explorer.data.dataset import DatasetError
from explorer.latent.maps import KINDS
from explorer.latent.paths import INTERPOLATIONS
from explorer.latent.space import LatentSpace
from explorer.model.checkpoint import CheckpointError

SLOTS = ("left", "right")


@dataclass(frozen=True)
class Settings:
    dataset: str
    splits: tuple[str, ...]
    checkpoints: dict[str, catalogue.Entry]
    n_shown: int
    colour: str
    rings: bool
    maps: dict[str, str] = field(default_factory=dict)  # slot -> "pca", "umap", "tsne"
    align: bool = False  # the right map aligned to the left (align.py)


@dataclass
class Panel:
    """One side of the page: a checkpoint, its space, and the shown points."""

    slot: str
    entry: catalogue.Entry
    space: LatentSpace | None = None
    points: object = None
    shown: np.ndarray | None = None
    error: str | None = None
    fit: object = None  # fits.Fit of a non-linear map (running, done or failed)
    alignment: object = None  # align.Alignment onto the left map, if aligned


def load_panels(s: Settings) -> dict[str, Panel]:
    panels = {}
    for slot, entry in s.checkpoints.items():
        left = panels.get("left")
        target = None  # the map this one is aligned to
        if s.align and slot == "right" and left is not None and left.space is not None:
            # (the left map as drawn now: its PCA while its fit runs)
            target = (str(left.entry.path), left.space.projection.kind)
        p = Panel(slot, entry)
        if entry.error:
            p.error = entry.error
        else:
            try:
                p.space, p.fit = catalogue.get_mapped(
                    str(entry.path), s.dataset, s.splits, s.maps.get(slot, "pca")
                )
                kind = p.space.projection.kind  # (the PCA while a fit runs)
                if target is not None:
                    p.space, p.alignment = catalogue.get_aligned(
                        str(entry.path), s.dataset, s.splits, kind, target
                    )
                # A large map draws the points of the visible window only:
                # the view picks them in the browser, the classic maps ask.
                window = (
                    None if instant() else st.session_state.get(K.VIEW_WINDOW(slot))
                )
                p.points, p.shown = catalogue.get_points(
                    str(entry.path),
                    s.dataset,
                    s.splits,
                    s.n_shown,
                    s.colour,
                    window,
                    kind,
                    target,
                )
            except (CheckpointError, DatasetError, ValueError) as e:
                p.error = str(e)
        panels[slot] = p
    return panels


# --- state -----------------------------------------------------------------------


def init_state(s: Settings, panels: dict[str, Panel]) -> None:
    """Fresh state whenever the dataset or a checkpoint changes."""
    ss = st.session_state
    ctx = (s.dataset, s.splits, tuple(p.entry.name for p in panels.values()))
    if ss.get(K.CTX) == ctx:
        return
    # On the first run, keep any valid preset (from a test or a shared link).
    keep = K.CTX not in ss
    ss[K.CTX] = ctx
    ds = catalogue.get_dataset(s.dataset, s.splits)
    n = len(ds)

    def valid(key: str, default: int) -> int:
        v = ss.get(key)
        ok = keep and isinstance(v, int | np.integer) and 0 <= v < n
        if keep and v is not None and not ok:
            ss[K.URL_PROBLEMS].append(
                f"{key}={urlstate.quoted(v)} is not an image index (0 to {n - 1})"
            )
        return int(v) if ok else default

    ss.setdefault(K.URL_PROBLEMS, [])
    # a selection is of images: it outlives a change of model, not of data
    if ss.get(K.SELECTION_DATA) != (s.dataset, s.splits):
        ss[K.SELECTION_DATA] = (s.dataset, s.splits)
        selecting.set_selection(selecting.EMPTY, by_user=False)
    if keep:
        selecting.from_link(ss.pop(K.URL_SELECTION, None), n)
    ss[K.SEL] = valid(K.SEL, 0)
    ss[K.INTERP_A] = valid(K.INTERP_A, 0)
    ss[K.INTERP_B] = valid(K.INTERP_B, default_b(ds))
    ss[K.CURSOR] = {}
    linked = ss.pop(K.URL_CURSOR, {}) if keep else {}
    for p in panels.values():
        if p.space is not None:
            z = linked.get(p.slot)
            if z is not None and len(z) != p.space.latent_dim:
                ss[K.URL_PROBLEMS].append(
                    f"the {p.slot} point has {len(z)} numbers; "
                    f"{verbatim(p.entry.name)} has {p.space.latent_dim} dimensions"
                )
                z = None
            set_cursor(p, p.space.z[ss[K.SEL]] if z is None else np.asarray(z))


def default_b(ds) -> int:
    """An image of a quite different class from image 0 (half the classes away)."""
    if ds.labels is None or len(ds.class_names) < 2:
        return min(1, len(ds) - 1)
    target = (ds.labels[0] + len(ds.class_names) // 2) % len(ds.class_names)
    hits = np.flatnonzero(ds.labels == target)
    return int(hits[0]) if len(hits) else min(1, len(ds) - 1)


def set_cursor(p: Panel, z: np.ndarray) -> None:
    """Moves a panel's cursor and its sliders (clipped to their range) there."""
    ss = st.session_state
    ss.pop(K.OUTSIDE(p.slot), None)
    ss.pop(K.CURSOR_XY(p.slot), None)
    ss[K.CURSOR][p.slot] = np.asarray(z, dtype=np.float64).copy()
    basis = p.space.basis
    for i, v in enumerate(basis.coordinates(ss[K.CURSOR][p.slot])):
        lo, hi = basis.ranges[i]
        ss[K.SLIDER(p.slot, i)] = float(np.clip(v, lo, hi))


def select(panels: dict[str, Panel], index: int) -> None:
    st.session_state[K.SEL] = int(index)
    for p in panels.values():
        if p.space is not None:
            set_cursor(p, p.space.z[index])


def on_map_click(panels: dict[str, Panel], slot: str) -> None:
    """A click on a map: select a data point, or decode the exact spot; or the
    visible window changed (kept for the manifold grid)."""
    ss = st.session_state
    ev = ss.get(K.MAP_EVENT(slot))
    p = panels[slot]
    if not ev or p.space is None or ev.get("id") == ss.get(K.SEEN(slot)):
        return
    ss[K.SEEN(slot)] = ev["id"]
    if ev["kind"] == "view":
        ss[K.VIEW_WINDOW(slot)] = (tuple(ev["x"]), tuple(ev["y"]))
    elif ev["kind"] == "point":
        select(panels, int(p.shown[int(ev["index"])]))
        ss[K.RERUN_APP] = True  # the other map and the selection panel change too
    else:
        place(p, [ev["x"], ev["y"]])


def place(p: Panel, xy: list[float]) -> None:
    """Moves a panel's cursor under a map point. On a non-linear map, a point
    outside the data's hull is marked (``outside_<slot>``): the inverse only
    repeats the nearest image's code there."""
    set_cursor(p, p.space.from_map(xy))
    proj = p.space.projection
    if not proj.is_linear:
        # the × stays where it was clicked (placing its code again would
        # move it: a non-linear map's forward and inverse are not exact
        # inverses between the data's points); both notes name their map
        ss = st.session_state
        ss[K.CURSOR_XY(p.slot)] = (proj.kind, [float(v) for v in xy])
        if not proj.inside(np.asarray([xy], dtype=np.float64))[0]:
            ss[K.OUTSIDE(p.slot)] = proj.kind


def on_this_map(p: Panel, family: K.Family):
    """The value of a note about ``p``'s map (``K.CURSOR_XY``, ``K.OUTSIDE``)
    when it was made on the map shown now, else None."""
    note = st.session_state.get(family(p.slot))
    kind = p.space.projection.kind
    if isinstance(note, tuple) and note[0] == kind:
        return note[1]
    return note if note == kind else None


def apply_view_event(panels: dict[str, Panel], ev: dict) -> None:
    """An event from the view (``components.view``), which has drawn its
    answer already: the same change to the state, so that this rerun's
    neighbours, tabs and link follow, and its id echoed back (the view's
    callback kept it; the page applies it once the panels are loaded)."""
    ss = st.session_state
    if not isinstance(ev, dict) or ev.get("id") == ss.get(K.VIEW_ECHO):
        return
    ss[K.VIEW_ECHO] = int(ev["id"])
    p = panels.get(ev.get("slot"))
    if p is None or p.space is None:
        return
    kind = ev.get("kind")
    if kind == "point":
        index = int(ev["index"])
        if 0 <= index < len(p.space.z):
            select(panels, index)
    elif kind == "space":
        place(p, [float(ev["x"]), float(ev["y"])])
    elif kind == "slider":
        set_cursor(p, p.space.basis.set_all(ss[K.CURSOR][p.slot], ev["values"]))
    elif kind == "select":
        selecting.select_area(p, ev)
    # (a pan or zoom's window never comes here: the view's callback stores it)


def on_live(p: Panel) -> None:
    """A live slider was released: the server takes over the point."""
    ss = st.session_state
    ev = ss.get(K.LIVE_EVENT(p.slot))
    if not ev or ev.get("id") == ss.get(K.SEEN_LIVE(p.slot)):
        return
    ss[K.SEEN_LIVE(p.slot)] = ev["id"]
    set_cursor(p, p.space.basis.set_all(ss[K.CURSOR][p.slot], ev["values"]))


def on_slider(p: Panel, i: int) -> None:
    ss = st.session_state
    ss[K.CURSOR][p.slot] = p.space.basis.move(
        ss[K.CURSOR][p.slot], i, ss[K.SLIDER(p.slot, i)]
    )


# --- the shared link -------------------------------------------------------------


def apply_url(entries: list[catalogue.Entry], tabs: list[str]) -> None:
    """On a session's first run, takes the view from the URL into the state.

    Values that cannot apply (a malformed number, an unknown dataset or
    checkpoint, an index out of range) are dropped and listed in a notice.
    """
    ss = st.session_state
    if ss.get(K.URL_READ):
        return
    ss[K.URL_READ] = True
    view, problems = urlstate.decode(st.query_params.to_dict())
    datasets = catalogue.datasets(entries)
    ds = view.get("dataset")
    if ds is not None and ds not in datasets:
        problems.append(f"unknown dataset {urlstate.quoted(ds)}")
        ds = None
    if ds is not None:
        ss[K.DATASET] = ds
    names = {e.name for e in entries if e.dataset == (ds or ss.get(K.DATASET))}
    for slot in SLOTS:
        name = view.get(slot)
        if name is None:
            continue
        if ds is None or name not in names:
            problems.append(f"unknown {slot} model {urlstate.quoted(name)}")
        else:
            ss[K.CHECKPOINT(slot, ds)] = name
    for key in (K.SEL, K.INTERP_A, K.INTERP_B, K.INTERP_STEPS, K.INTERP_T):
        if key in view:
            ss[key] = view[key]
    if view.get("interp_method") is not None:
        if view["interp_method"] in INTERPOLATIONS:
            ss[K.INTERP_METHOD] = view["interp_method"]
        else:
            problems.append(f"unknown path {urlstate.quoted(view['interp_method'])}")
    if "interp_steps" in view and not 3 <= view["interp_steps"] <= 20:
        problems.append("steps must be 3 to 20")
        del ss[K.INTERP_STEPS]
    if "interp_t" in view and not 0 <= view["interp_t"] <= 1:
        problems.append("t must be 0 to 1")
        del ss[K.INTERP_T]
    if view.get("tab") is not None:
        if view["tab"] in tabs:
            ss[K.TAB] = view["tab"]
        else:
            problems.append(f"unknown tab {urlstate.quoted(view['tab'])}")
    for slot in SLOTS:
        kind = view.get(f"map_{slot}")
        if kind is None:
            continue
        if kind in KINDS:
            ss[K.URL_MAP(slot)] = kind  # the sidebar's choice, once shown
        else:
            problems.append(
                f"unknown map {urlstate.quoted(kind)} (one of {', '.join(KINDS)})"
            )
    if view.get("selection"):
        ss[K.URL_SELECTION] = view["selection"]
    if "align" in view:
        if view["align"] in (0, 1):
            ss[K.ALIGN] = bool(view["align"])
        else:
            problems.append("al must be 0 or 1")
    ss[K.URL_CURSOR] = {
        slot: view[f"cursor_{slot}"] for slot in SLOTS if f"cursor_{slot}" in view
    }
    ss[K.URL_PROBLEMS] = problems


def write_url(s: Settings, panels: dict[str, Panel]) -> None:
    """Mirrors the view into the URL (only when it changed)."""
    ss = st.session_state
    view = {
        "dataset": s.dataset,
        **{slot: p.entry.name for slot, p in panels.items()},
        "sel": ss[K.SEL],
        "interp_a": ss[K.INTERP_A],
        "interp_b": ss[K.INTERP_B],
        "interp_method": ss[K.INTERP_METHOD],
        "interp_steps": ss[K.INTERP_STEPS],
        "interp_t": ss[K.INTERP_T],
        "tab": ss.get(K.TAB),
    }
    for slot, kind in s.maps.items():
        if kind != "pca":
            view[f"map_{slot}"] = kind
    for slot, z in ss[K.CURSOR].items():
        view[f"cursor_{slot}"] = z
    view["selection"] = selecting.to_link(
        len(catalogue.get_dataset(s.dataset, s.splits))
    )
    view["align"] = 1 if s.align else None
    q = urlstate.encode(view)
    if st.query_params.to_dict() != q:
        st.query_params.from_dict(q)


def init_defaults(first_tab: str) -> None:
    ss = st.session_state
    ss.setdefault(K.INTERP_METHOD, "linear")
    ss.setdefault(K.INTERP_STEPS, 10)
    ss.setdefault(K.INTERP_T, 0.5)
    ss.setdefault(K.TAB, first_tab)
