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
from explorer.app import selection as selecting
from explorer.app import tabs as tab_registry
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
                window = None if instant() else st.session_state.get(f"view_{slot}")
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
    if ss.get("ctx") == ctx:
        return
    # On the first run, keep any valid preset (from a test or a shared link).
    keep = "ctx" not in ss
    ss.ctx = ctx
    ds = catalogue.get_dataset(s.dataset, s.splits)
    n = len(ds)

    def valid(key: str, default: int) -> int:
        v = ss.get(key)
        ok = keep and isinstance(v, int | np.integer) and 0 <= v < n
        if keep and v is not None and not ok:
            ss.url_problems.append(
                f"{key}={urlstate.quoted(v)} is not an image index (0 to {n - 1})"
            )
        return int(v) if ok else default

    ss.setdefault("url_problems", [])
    # a selection is of images: it outlives a change of model, not of data
    if ss.get("selection_data") != (s.dataset, s.splits):
        ss.selection_data = (s.dataset, s.splits)
        selecting.set_selection(selecting.EMPTY, by_user=False)
    if keep:
        selecting.from_link(ss.pop("url_selection", None), n)
    ss.sel = valid("sel", 0)
    ss.interp_a = valid("interp_a", 0)
    ss.interp_b = valid("interp_b", default_b(ds))
    ss.cursor = {}
    linked = ss.pop("url_cursor", {}) if keep else {}
    for p in panels.values():
        if p.space is not None:
            z = linked.get(p.slot)
            if z is not None and len(z) != p.space.latent_dim:
                ss.url_problems.append(
                    f"the {p.slot} point has {len(z)} numbers; "
                    f"{verbatim(p.entry.name)} has {p.space.latent_dim} dimensions"
                )
                z = None
            set_cursor(p, p.space.z[ss.sel] if z is None else np.asarray(z))


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
    ss.pop(f"outside_{p.slot}", None)
    ss.pop(f"cursor_xy_{p.slot}", None)
    ss.cursor[p.slot] = np.asarray(z, dtype=np.float64).copy()
    basis = p.space.basis
    for i, v in enumerate(basis.coordinates(ss.cursor[p.slot])):
        lo, hi = basis.ranges[i]
        ss[f"s_{p.slot}_{i}"] = float(np.clip(v, lo, hi))


def select(panels: dict[str, Panel], index: int) -> None:
    st.session_state.sel = int(index)
    for p in panels.values():
        if p.space is not None:
            set_cursor(p, p.space.z[index])


def on_map_click(panels: dict[str, Panel], slot: str) -> None:
    """A click on a map: select a data point, or decode the exact spot; or the
    visible window changed (kept for the manifold grid)."""
    ss = st.session_state
    ev = ss.get(f"map_{slot}")
    p = panels[slot]
    if not ev or p.space is None or ev.get("id") == ss.get(f"seen_{slot}"):
        return
    ss[f"seen_{slot}"] = ev["id"]
    if ev["kind"] == "view":
        ss[f"view_{slot}"] = (tuple(ev["x"]), tuple(ev["y"]))
    elif ev["kind"] == "point":
        select(panels, int(p.shown[int(ev["index"])]))
        ss.rerun_app = True  # the other map and the selection panel change too
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
        ss[f"cursor_xy_{p.slot}"] = (proj.kind, [float(v) for v in xy])
        if not proj.inside(np.asarray([xy], dtype=np.float64))[0]:
            ss[f"outside_{p.slot}"] = proj.kind


def on_this_map(p: Panel, key: str):
    """The value of a note about ``p``'s map (``cursor_xy_<slot>``,
    ``outside_<slot>``) when it was made on the map shown now, else None."""
    note = st.session_state.get(f"{key}_{p.slot}")
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
    if not isinstance(ev, dict) or ev.get("id") == ss.get("view_echo"):
        return
    ss.view_echo = int(ev["id"])
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
        set_cursor(p, p.space.basis.set_all(ss.cursor[p.slot], ev["values"]))
    elif kind == "select":
        selecting.select_area(p, ev)
    # (a pan or zoom's window never comes here: the view's callback stores it)


def on_live(p: Panel) -> None:
    """A live slider was released: the server takes over the point."""
    ss = st.session_state
    ev = ss.get(f"live_{p.slot}")
    if not ev or ev.get("id") == ss.get(f"seen_live_{p.slot}"):
        return
    ss[f"seen_live_{p.slot}"] = ev["id"]
    set_cursor(p, p.space.basis.set_all(ss.cursor[p.slot], ev["values"]))


def on_slider(p: Panel, i: int) -> None:
    ss = st.session_state
    ss.cursor[p.slot] = p.space.basis.move(ss.cursor[p.slot], i, ss[f"s_{p.slot}_{i}"])


# --- the shared link -------------------------------------------------------------


def apply_url(entries: list[catalogue.Entry]) -> None:
    """On a session's first run, takes the view from the URL into the state.

    Values that cannot apply (a malformed number, an unknown dataset or
    checkpoint, an index out of range) are dropped and listed in a notice.
    """
    ss = st.session_state
    if ss.get("url_read"):
        return
    ss.url_read = True
    view, problems = urlstate.decode(st.query_params.to_dict())
    datasets = catalogue.datasets(entries)
    ds = view.get("dataset")
    if ds is not None and ds not in datasets:
        problems.append(f"unknown dataset {urlstate.quoted(ds)}")
        ds = None
    if ds is not None:
        ss.dataset = ds
    names = {e.name for e in entries if e.dataset == (ds or ss.get("dataset"))}
    for slot in SLOTS:
        name = view.get(slot)
        if name is None:
            continue
        if ds is None or name not in names:
            problems.append(f"unknown {slot} model {urlstate.quoted(name)}")
        else:
            ss[f"ckpt_{slot}_{ds}"] = name
    for key in ("sel", "interp_a", "interp_b", "interp_steps", "interp_t"):
        if key in view:
            ss[key] = view[key]
    if view.get("interp_method") is not None:
        if view["interp_method"] in INTERPOLATIONS:
            ss.interp_method = view["interp_method"]
        else:
            problems.append(f"unknown path {urlstate.quoted(view['interp_method'])}")
    if "interp_steps" in view and not 3 <= view["interp_steps"] <= 20:
        problems.append("steps must be 3 to 20")
        del ss["interp_steps"]
    if "interp_t" in view and not 0 <= view["interp_t"] <= 1:
        problems.append("t must be 0 to 1")
        del ss["interp_t"]
    if view.get("tab") is not None:
        if view["tab"] in tab_registry.names():
            ss.tab = view["tab"]
        else:
            problems.append(f"unknown tab {urlstate.quoted(view['tab'])}")
    for slot in SLOTS:
        kind = view.get(f"map_{slot}")
        if kind is None:
            continue
        if kind in KINDS:
            ss[f"url_map_{slot}"] = kind  # the sidebar's choice, once shown
        else:
            problems.append(
                f"unknown map {urlstate.quoted(kind)} (one of {', '.join(KINDS)})"
            )
    if view.get("selection"):
        ss.url_selection = view["selection"]
    if "align" in view:
        if view["align"] in (0, 1):
            ss.align = bool(view["align"])
        else:
            problems.append("al must be 0 or 1")
    ss.url_cursor = {
        slot: view[f"cursor_{slot}"] for slot in SLOTS if f"cursor_{slot}" in view
    }
    ss.url_problems = problems


def write_url(s: Settings, panels: dict[str, Panel]) -> None:
    """Mirrors the view into the URL (only when it changed)."""
    ss = st.session_state
    view = {
        "dataset": s.dataset,
        **{slot: p.entry.name for slot, p in panels.items()},
        "sel": ss.sel,
        "interp_a": ss.interp_a,
        "interp_b": ss.interp_b,
        "interp_method": ss.interp_method,
        "interp_steps": ss.interp_steps,
        "interp_t": ss.interp_t,
        "tab": ss.get("tab"),
    }
    for slot, kind in s.maps.items():
        if kind != "pca":
            view[f"map_{slot}"] = kind
    for slot, z in ss.cursor.items():
        view[f"cursor_{slot}"] = z
    view["selection"] = selecting.to_link(
        len(catalogue.get_dataset(s.dataset, s.splits))
    )
    view["align"] = 1 if s.align else None
    q = urlstate.encode(view)
    if st.query_params.to_dict() != q:
        st.query_params.from_dict(q)


def init_defaults() -> None:
    ss = st.session_state
    ss.setdefault("interp_method", "linear")
    ss.setdefault("interp_steps", 10)
    ss.setdefault("interp_t", 0.5)
    ss.setdefault("tab", tab_registry.names()[0])
