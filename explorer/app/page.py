"""The explorer page: two latent maps side by side, decoding, sliders, interpolation.

Per-user state lives in ``st.session_state`` under these keys:

- ``sel``: the selected data index (highlighted in both maps).
- ``cursor``: ``{slot: z}``, the latent point each panel decodes.
- ``interp_a``, ``interp_b``, ``interp_method``, ``interp_steps``, ``interp_t``.
- ``ctx``: the dataset and checkpoints the state belongs to; a change resets it.
- ``view_<slot>``: the visible window of a map, once the user panned or zoomed.
- ``uploaded``: the user's image (name and bytes), if any.
- ``tab``: the open tab (only it runs).
- widget keys: ``map_<slot>`` (map clicks), ``live_<slot>`` (live sliders),
  ``s_<slot>_<i>`` (server sliders); ``seen_*`` hold the last handled event id.

The view (dataset, models, selection, cursors, interpolation, tab) is mirrored
in the URL (``explorer.urlstate``), so a link restores it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial

import numpy as np
import streamlit as st

from explorer import explore, urlstate
from explorer.checkpoint import CheckpointError
from explorer.data import DatasetError
from explorer.images import to_png
from explorer.latent import INTERPOLATIONS, interpolate
from explorer.space import LatentSpace
from explorer.ui import catalogue, sections
from explorer.ui.latent_map import latent_map
from explorer.ui.live import live_decoder
from explorer.ui.markdown import md

SLOTS = ("left", "right")
# Fragments (EXPLORER_FRAGMENTS=1) rerun only one panel per slider move. The
# maps are never rebuilt either way (the component keeps its figure and gets
# only overlay marks), and `python -m explorer bench` measured full reruns to
# be faster here (a fragment run costs a second round trip for a selection,
# and more per run); so they are off by default and kept as the comparison.
FRAGMENTS = os.environ.get("EXPLORER_FRAGMENTS", "0") == "1"
SCALE = 5  # on-screen pixels per image pixel


@dataclass(frozen=True)
class Settings:
    dataset: str
    splits: tuple[str, ...]
    checkpoints: dict[str, catalogue.Entry]
    n_shown: int
    colour: str
    rings: bool


@dataclass
class Panel:
    """One side of the page: a checkpoint, its space, and the shown points."""

    slot: str
    entry: catalogue.Entry
    space: LatentSpace | None = None
    points: object = None
    shown: np.ndarray | None = None
    error: str | None = None


# --- sidebar ---------------------------------------------------------------------


def sidebar(entries: list[catalogue.Entry]) -> Settings | None:
    """Dataset, the two checkpoints, how many points, colour by class."""
    st.sidebar.header("Data and models")
    names = catalogue.datasets(entries)
    if not names:
        st.sidebar.error(
            "No checkpoint here can be opened with its data."
            if any(e.dataset for e in entries)
            else "No readable checkpoints under weights/."
        )
        unopened_notes(entries)
        return None
    default = names.index("fashion-mnist") if "fashion-mnist" in names else 0
    dataset = st.sidebar.selectbox("Dataset", names, index=default, key="dataset")
    shown = catalogue.of_dataset(entries, dataset)  # readable ones first
    mine = [e for e in shown if not e.error]
    # Broken checkpoints are listed (and show their error) beside every dataset.
    by_name = {}
    for e in shown + [e for e in entries if e.error and e.dataset is None]:
        by_name.setdefault(e.name, e)
    options = list(by_name)
    first, second = catalogue.default_pair(mine)
    chosen = {}
    for slot, label, pick in zip(
        SLOTS, ("Left model", "Right model"), (first, second), strict=True
    ):
        name = st.sidebar.selectbox(
            label,
            options,
            index=options.index(pick),
            key=f"ckpt_{slot}_{dataset}",
            format_func=lambda n: by_name[n].label,
        )
        chosen[slot] = by_name[name]
    held, train = catalogue.display_splits(mine)
    is_store = any(e.store for e in mine)
    has_train = (
        not is_store and train != held and catalogue.on_this_machine(dataset, train)
    )
    with_train = False
    if not is_store:
        with_train = st.sidebar.toggle(
            f"Add the training images ({train} split)",
            value=False,
            key=f"with_train_{dataset}",
            disabled=not has_train,
            help="The images the models were trained on, drawn after the held-out ones."
            if has_train
            else f"The {train} split of {dataset} is not on this machine.",
        )
    splits = (held, train) if with_train and has_train else (held,)
    try:
        total = len(catalogue.get_dataset(dataset, splits))
        n_held = len(catalogue.get_dataset(dataset, (held,)))
    except DatasetError as e:
        st.sidebar.error(
            f"The {md(dataset)} data is not available: {md(catalogue.public(e))}"
        )
        return None
    n_shown = points_shown(dataset, total)
    colour = st.sidebar.selectbox(
        "Colour the points by",
        list(catalogue.COLOURINGS),
        format_func=catalogue.COLOURINGS.get,
        key="colour",
        help="A measure per image, on a continuous scale: where each model finds "
        "images hard (an AE has no KL: it shows its loss, the reconstruction error).",
    )
    rings = st.sidebar.toggle(
        "Prior's 1σ and 2σ rings",
        value=True,
        key="rings",
        help="The contours of N(0, I) on each map: where a VAE's codes should lie.",
    )
    st.sidebar.toggle(
        "Decode in the browser while dragging",
        value=True,
        key="live",
        help="The sliders decode in your browser at every movement; off, the "
        "server decodes when you release a slider.",
    )
    note = f"{n_held:,} held-out images ({dataset}, split *{held}*)"
    if is_store:
        note = (
            f"{total:,} image{'s' if total != 1 else ''}, encoded once into a store "
            "(`python -m explorer encode`)"
        )
    if len(splits) > 1:
        note += f" and {total - n_held:,} training images (*{train}*)"
    st.sidebar.caption(note + ".")
    unopened_notes(entries)
    return Settings(dataset, splits, chosen, n_shown, colour, rings)


def unopened_notes(entries: list[catalogue.Entry]) -> None:
    """Checkpoints trained on a folder that has no store yet, and the command
    that makes one (the app opens a folder's images through a store)."""
    for u in catalogue.unopened(entries):
        st.sidebar.warning(
            f"**{md(u.dataset)}** ({md(', '.join(u.checkpoints))}) was trained on a "
            "folder "
            "of images that is not encoded yet. To explore it, run once:"
        )
        st.sidebar.code(u.command, language="bash", wrap_lines=True)


def points_shown(dataset: str, total: int) -> int:
    """The "Points shown" slider, when the dataset has more images than its
    smallest sample; a smaller dataset shows every image."""
    lo = min(catalogue.MIN_SAMPLE, total)
    if total <= lo:
        return total
    return st.sidebar.slider(
        "Points shown",
        min_value=lo,
        max_value=total,
        value=total,
        step=50 if total - lo >= 500 else 1,
        key=f"n_{dataset}_{total}",
        help="A fixed random sample when fewer than all; each point is an image, "
        "drawn at its latent mean.",
    )


def load_panels(s: Settings) -> dict[str, Panel]:
    panels = {}
    for slot, entry in s.checkpoints.items():
        p = Panel(slot, entry)
        if entry.error:
            p.error = entry.error
        else:
            try:
                p.space = catalogue.get_space(str(entry.path), s.dataset, s.splits)
                # A large map draws the points of the visible window only.
                p.points, p.shown = catalogue.get_points(
                    str(entry.path),
                    s.dataset,
                    s.splits,
                    s.n_shown,
                    s.colour,
                    st.session_state.get(f"view_{slot}"),
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
            ss.url_problems.append(f"{key}={v} is not an image index (0 to {n - 1})")
        return int(v) if ok else default

    ss.setdefault("url_problems", [])
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
                    f"{p.entry.name} has {p.space.latent_dim} dimensions"
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
        set_cursor(p, p.space.from_map([ev["x"], ev["y"]]))


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
        problems.append(f"unknown dataset {ds!r}")
        ds = None
    if ds is not None:
        ss.dataset = ds
    names = {e.name for e in entries if e.dataset == (ds or ss.get("dataset"))}
    for slot in SLOTS:
        name = view.get(slot)
        if name is None:
            continue
        if ds is None or name not in names:
            problems.append(f"unknown {slot} model {name!r}")
        else:
            ss[f"ckpt_{slot}_{ds}"] = name
    for key in ("sel", "interp_a", "interp_b", "interp_steps", "interp_t"):
        if key in view:
            ss[key] = view[key]
    if view.get("interp_method") is not None:
        if view["interp_method"] in INTERPOLATIONS:
            ss.interp_method = view["interp_method"]
        else:
            problems.append(f"unknown path {view['interp_method']!r}")
    if "interp_steps" in view and not 3 <= view["interp_steps"] <= 20:
        problems.append("steps must be 3 to 20")
        del ss["interp_steps"]
    if "interp_t" in view and not 0 <= view["interp_t"] <= 1:
        problems.append("t must be 0 to 1")
        del ss["interp_t"]
    if view.get("tab") is not None:
        if view["tab"] in sections.TABS:
            ss.tab = view["tab"]
        else:
            problems.append(f"unknown tab {view['tab']!r}")
    ss.url_cursor = {
        slot: view[f"cursor_{slot}"] for slot in SLOTS if f"cursor_{slot}" in view
    }
    ss.url_problems = problems


def write_url(s: Settings, panels: dict[str, Panel]) -> None:
    """Mirrors the view into the URL (only when it changed)."""
    ss = st.session_state
    view = {
        "dataset": s.dataset,
        "left": panels["left"].entry.name,
        "right": panels["right"].entry.name,
        "sel": ss.sel,
        "interp_a": ss.interp_a,
        "interp_b": ss.interp_b,
        "interp_method": ss.interp_method,
        "interp_steps": ss.interp_steps,
        "interp_t": ss.interp_t,
        "tab": ss.get("tab"),
    }
    for slot, z in ss.cursor.items():
        view[f"cursor_{slot}"] = z
    q = urlstate.encode(view)
    if st.query_params.to_dict() != q:
        st.query_params.from_dict(q)


# --- drawing ---------------------------------------------------------------------


def class_name(ds, index: int) -> str:
    return sections.class_name(ds, index)


def decode_label(p: Panel, ds) -> np.ndarray | None:
    """The class a conditional model decodes with: the selected image's."""
    return sections.labels_for(p.space, ds, 1)


def show_image(img: np.ndarray, caption: str | None = None) -> bytes:
    return sections.show(img, caption)


def overlays(p: Panel, ds) -> dict:
    ss = st.session_state
    sp = p.space
    a, b = sp.z[ss.interp_a], sp.z[ss.interp_b]
    path = sp.to_map(
        interpolate(a, b, ss.get("interp_steps", 10), ss.get("interp_method", "linear"))
    )
    out = {
        "selected": sp.coords[ss.sel].tolist(),
        "cursor": sp.to_map(ss.cursor[p.slot])[0].tolist(),
        "a": sp.coords[ss.interp_a].tolist(),
        "b": sp.coords[ss.interp_b].tolist(),
        "path": path.tolist(),
    }
    if ss.get("rings", True):
        out["rings"] = [r.tolist() for r in explore.prior_rings(sp.projection)]
    if sp.logvar is not None:
        mu, lv = sp.z[ss.sel], sp.logvar[ss.sel].astype(np.float64)
        out["ellipses"] = [
            explore.posterior_ellipse(mu, lv, sp.projection, k).tolist() for k in (1, 2)
        ]
    if ss.get("tab") == "Prior samples":
        out["samples"] = sp.to_map(sections.prior_zs(sp)).tolist()
    img, _, _ = sections.prepared_upload(ds)
    if img is not None:
        out["upload"] = sp.to_map(sections.upload_code(sp, img, ds))[0].tolist()
    return out


def panel_header(p: Panel) -> None:
    kind = {
        "ae": "autoencoder",
        "vae": "variational autoencoder",
        "cvae": "conditional VAE",
    }
    if p.space is None:
        st.subheader(md(p.entry.name))
        return
    cfg = p.space.model.config
    st.subheader(md(p.entry.name))
    view = "PCA of the latent means" if p.space.projection.is_pca else "raw latent axes"
    marks = "× the decoded point, ○ the selected image"
    if p.space.logvar is not None:
        marks += " (red: its posterior's 1σ, 2σ)"
    if st.session_state.get("rings", True):
        marks += ", dashed: the prior's 1σ, 2σ"
    st.caption(
        f"{kind[cfg.model_type]}, {cfg.latent_dim}-D latent; map: {view}. {marks}."
    )
    if p.space.projection.note:
        st.caption(f"Note: {p.space.projection.note}.")
    if p.points is not None:
        sections.large_map_caption(p.points)


def fragment(fn):
    return st.fragment(fn) if FRAGMENTS else fn


@fragment
def model_panel(p: Panel, panels: dict[str, Panel], ds) -> None:
    """Map, decoded cursor, distance to the data, and the sliders of one model."""
    ss = st.session_state
    # A selection changes the other map and the panels below: rerun them all
    # (without fragments the whole page is rerunning already).
    if ss.pop("rerun_app", False) and FRAGMENTS:
        st.rerun(scope="app")
    panel_header(p)
    if p.error:
        st.error(md(catalogue.public(p.error)))
        return
    sp = p.space
    latent_map(
        p.points,
        overlays(p, ds),
        key=f"map_{p.slot}",
        on_change=partial(on_map_click, panels, p.slot),
    )
    z = ss.cursor[p.slot]
    label = decode_label(p, ds)
    if ss.get("live", True):
        live_decoder(
            sp,
            str(p.entry.path),
            z,
            None if label is None else int(label[0]),
            key=f"live_{p.slot}",
            on_change=partial(on_live, p),
            scale=sections.zoom(SCALE, ds),
        )
        # The server's decode of the same point: for export, and the reference.
        png = to_png(sp.decode(z[None], label)[0], sections.zoom(SCALE, ds))
        distance_note(p, ds, z)
        cursor_extras(p, ds, z, png)
        return
    left, right = st.columns([1, 2])
    with left:
        png = show_image(sp.decode(z[None], label)[0], "decoded at ×")
    with right:
        distance_note(p, ds, z)
        values = sp.basis.coordinates(z)
        for i, name in enumerate(sp.basis.labels):
            lo, hi = sp.basis.ranges[i]
            # A value the browser held for this key from another model may lie
            # outside this one's range: then the slider shows the cursor
            # (clipped). Otherwise it is left alone: setting it would send it
            # back to the browser and undo key presses still on their way.
            v = ss.get(f"s_{p.slot}_{i}")
            if v is None or not lo <= v <= hi:
                ss[f"s_{p.slot}_{i}"] = float(np.clip(values[i], lo, hi))
            st.slider(
                name,
                float(lo),
                float(hi),
                step=float(hi - lo) / 200,
                key=f"s_{p.slot}_{i}",
                on_change=on_slider,
                args=(p, i),
                format="%.2f",
            )
    cursor_extras(p, ds, z, png)


def cursor_extras(p: Panel, ds, z: np.ndarray, png: bytes) -> None:
    """The data nearest the decoded point, and its download."""
    sections.neighbour_strip(p.space, ds, z, k=6)
    point = "_".join(f"{v:.2f}" for v in z[:4])
    sections.download(
        "Download the decoded image (PNG)",
        png,
        f"{p.entry.name}-z_{point}.png",
        "image/png",
        f"dl_cursor_{p.slot}",
    )


def distance_note(p: Panel, ds, z: np.ndarray) -> None:
    """How far the cursor is from the data, and a warning when it is far."""
    sp = p.space
    j, d = sp.nearest_point(z)
    ratio = d / sp.spacing if sp.spacing > 0 else 0.0
    text = f"Nearest data point: #{j} ({class_name(ds, j)}), {d:.2f} away " + (
        f"({ratio:.1f}× the typical gap between neighbouring points)."
        if sp.spacing > 0
        else "(the codes have no gap between them to compare with)."
    )
    if sp.conditional:
        st.caption(
            f"Conditional model: decoding as class "
            f"**{class_name(ds, st.session_state.sel)}** (the selected image's)."
        )
    if ratio > sections.FAR:
        st.warning(text + " Far from the data: the decoder never saw anything here.")
    else:
        st.caption(text)


def init_defaults() -> None:
    ss = st.session_state
    ss.setdefault("interp_method", "linear")
    ss.setdefault("interp_steps", 10)
    ss.setdefault("interp_t", 0.5)
    ss.setdefault("tab", sections.TABS[0])


def tabs(panels: dict[str, Panel], ds, s: Settings, entries) -> None:
    """The tabs under the maps; only the open one runs."""
    mine = [e for e in entries if e.dataset == s.dataset]
    containers = st.tabs(list(sections.TABS), key="tab", on_change="rerun")
    body = {
        "Selected image": lambda: sections.selected_image(panels, ds),
        "Interpolation": lambda: sections.interpolation(panels, ds),
        "Manifold grid": lambda: sections.manifold(panels, ds),
        "Prior samples": lambda: sections.prior(panels, ds),
        "Unusual images": lambda: sections.unusual(panels, ds, s.splits),
        "Dimensions": lambda: sections.dimensions(mine, ds, s.splits),
        "Conditional": lambda: sections.conditional(mine, ds, s.splits),
        "Your image": lambda: sections.your_image(panels, ds),
        "Metrics": lambda: sections.metrics(panels),
    }
    for name, container in zip(sections.TABS, containers, strict=True):
        if container.open:
            with container:
                body[name]()


def render() -> None:
    """The whole page."""
    entries = catalogue.scan()
    apply_url(entries)
    init_defaults()
    settings = sidebar(entries)
    if settings is None:
        st.info(
            "Add a checkpoint folder under weights/ (see the README) to explore it."
        )
        return
    panels = load_panels(settings)
    ds = catalogue.get_dataset(settings.dataset, settings.splits)
    init_state(settings, panels)
    problems = st.session_state.get("url_problems")
    if problems:
        st.warning(
            md(
                "Part of the link could not be used, so defaults stand in for: "
                + "; ".join(problems)
                + "."
            )
        )
        st.session_state.url_problems = []
    cols = st.columns(2, gap="large")
    for col, p in zip(cols, panels.values(), strict=True):
        with col:
            model_panel(p, panels, ds)
    st.divider()
    tabs(panels, ds, settings, entries)
    write_url(settings, panels)
