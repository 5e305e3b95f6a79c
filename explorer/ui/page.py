"""The explorer page: two latent maps side by side, decoding, sliders, interpolation.

Per-user state lives in ``st.session_state`` under these keys:

- ``sel``: the selected data index (highlighted in both maps).
- ``cursor``: ``{slot: z}``, the latent point each panel decodes.
- ``interp_a``, ``interp_b``, ``interp_method``, ``interp_steps``, ``interp_t``.
- ``decoded``: ``{name: PNG bytes}`` of every image on the page (for export
  and tests).
- ``ctx``: the dataset and checkpoints the state belongs to; a change resets it.
- widget keys: ``map_<slot>`` (map clicks), ``live_<slot>`` (live sliders),
  ``s_<slot>_<i>`` (server sliders); ``seen_*`` hold the last handled event id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial

import numpy as np
import streamlit as st

from explorer.checkpoint import CheckpointError
from explorer.data import DatasetError
from explorer.images import grid, to_png
from explorer.latent import INTERPOLATIONS, interpolate
from explorer.space import LatentSpace
from explorer.ui import catalogue
from explorer.ui.latent_map import latent_map
from explorer.ui.live import live_decoder

SLOTS = ("left", "right")
# Fragments (EXPLORER_FRAGMENTS=1) rerun only one panel per slider move. The
# maps are never rebuilt either way (the component keeps its figure and gets
# only overlay marks), and `python -m explorer bench` measured full reruns to
# be faster here (a fragment run costs a second round trip for a selection,
# and more per run); so they are off by default and kept as the comparison.
FRAGMENTS = os.environ.get("EXPLORER_FRAGMENTS", "0") == "1"
SCALE = 5  # on-screen pixels per image pixel
FAR = 3.0  # "far from the data": this many typical neighbour gaps away


@dataclass(frozen=True)
class Settings:
    dataset: str
    splits: tuple[str, ...]
    checkpoints: dict[str, catalogue.Entry]
    n_shown: int
    by_class: bool


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
        st.sidebar.error("No readable checkpoints under weights/.")
        return None
    default = names.index("fashion-mnist") if "fashion-mnist" in names else 0
    dataset = st.sidebar.selectbox("Dataset", names, index=default, key="dataset")
    mine = [e for e in entries if e.dataset == dataset]
    broken = [e for e in entries if e.error]
    options = [e.name for e in mine] + [e.name for e in broken]
    first, second = catalogue.default_pair(mine)
    by_name = {e.name: e for e in mine + broken}
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
    has_train = train != held and catalogue.on_this_machine(dataset, train)
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
        st.sidebar.error(f"The {dataset} data is not available: {e}")
        return None
    n_shown = st.sidebar.slider(
        "Points shown",
        min_value=min(500, total),
        max_value=total,
        value=total,
        step=max(1, min(500, total) // 10),
        key=f"n_{dataset}_{total}",
        help="A fixed random sample when fewer than all; each point is an image, "
        "drawn at its latent mean.",
    )
    by_class = st.sidebar.toggle("Colour by class", value=True, key="by_class")
    st.sidebar.toggle(
        "Decode in the browser while dragging",
        value=True,
        key="live",
        help="The sliders decode in your browser at every movement; off, the "
        "server decodes when you release a slider.",
    )
    note = f"{n_held:,} held-out images ({dataset}, split *{held}*)"
    if len(splits) > 1:
        note += f" and {total - n_held:,} training images (*{train}*)"
    st.sidebar.caption(note + ".")
    return Settings(dataset, splits, chosen, n_shown, by_class)


def load_panels(s: Settings) -> dict[str, Panel]:
    panels = {}
    for slot, entry in s.checkpoints.items():
        p = Panel(slot, entry)
        if entry.error:
            p.error = entry.error
        else:
            try:
                p.space = catalogue.get_space(str(entry.path), s.dataset, s.splits)
                p.points, p.shown = catalogue.get_points(
                    str(entry.path), s.dataset, s.splits, s.n_shown, s.by_class
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
        return int(v) if ok else default

    ss.sel = valid("sel", 0)
    ss.interp_a = valid("interp_a", 0)
    ss.interp_b = valid("interp_b", default_b(ds))
    ss.cursor = {}
    ss.decoded = {}
    for p in panels.values():
        if p.space is not None:
            set_cursor(p, p.space.z[ss.sel])


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
    """A click on a map: select a data point, or decode the exact spot."""
    ss = st.session_state
    ev = ss.get(f"map_{slot}")
    p = panels[slot]
    if not ev or p.space is None or ev.get("id") == ss.get(f"seen_{slot}"):
        return
    ss[f"seen_{slot}"] = ev["id"]
    if ev["kind"] == "point":
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


# --- drawing ---------------------------------------------------------------------


def class_name(ds, index: int) -> str:
    return ds.class_names[ds.labels[index]] if ds.labels is not None else "unlabelled"


def decode_label(p: Panel, ds) -> np.ndarray | None:
    """The class a conditional model decodes with: the selected image's."""
    if not p.space.conditional:
        return None
    return np.array([ds.labels[st.session_state.sel]])


def show_image(
    name: str, img: np.ndarray, caption: str | None = None, scale: int = SCALE
) -> None:
    png = to_png(img, scale)
    st.session_state.decoded[name] = png
    st.image(png, caption=caption, width=img.shape[-1] * scale)


def overlays(p: Panel) -> dict:
    ss = st.session_state
    sp = p.space
    a, b = sp.z[ss.interp_a], sp.z[ss.interp_b]
    path = sp.to_map(
        interpolate(a, b, ss.get("interp_steps", 10), ss.get("interp_method", "linear"))
    )
    return {
        "selected": sp.coords[ss.sel].tolist(),
        "cursor": sp.to_map(ss.cursor[p.slot])[0].tolist(),
        "a": sp.coords[ss.interp_a].tolist(),
        "b": sp.coords[ss.interp_b].tolist(),
        "path": path.tolist(),
    }


def panel_header(p: Panel) -> None:
    kind = {
        "ae": "autoencoder",
        "vae": "variational autoencoder",
        "cvae": "conditional VAE",
    }
    if p.space is None:
        st.subheader(p.entry.name)
        return
    cfg = p.space.model.config
    st.subheader(p.entry.name)
    view = "PCA of the latent means" if p.space.projection.is_pca else "raw latent axes"
    st.caption(f"{kind[cfg.model_type]}, {cfg.latent_dim}-D latent; map: {view}.")


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
        st.error(p.error)
        return
    sp = p.space
    latent_map(
        p.points,
        overlays(p),
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
            scale=SCALE,
        )
        # The server's decode of the same point: for export, and the reference.
        ss.decoded[f"cursor_{p.slot}"] = to_png(sp.decode(z[None], label)[0], SCALE)
        distance_note(p, ds, z)
        return
    left, right = st.columns([1, 2])
    with left:
        show_image(f"cursor_{p.slot}", sp.decode(z[None], label)[0], "decoded at ×")
    with right:
        distance_note(p, ds, z)
        for i, name in enumerate(sp.basis.labels):
            lo, hi = sp.basis.ranges[i]
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


def distance_note(p: Panel, ds, z: np.ndarray) -> None:
    """How far the cursor is from the data, and a warning when it is far."""
    sp = p.space
    j, d = sp.nearest_point(z)
    ratio = d / sp.spacing if sp.spacing > 0 else 0.0
    text = (
        f"Nearest data point: #{j} ({class_name(ds, j)}), {d:.2f} away "
        f"({ratio:.1f}× the typical gap between neighbouring points)."
    )
    if sp.conditional:
        st.caption(
            f"Conditional model: decoding as class "
            f"**{class_name(ds, st.session_state.sel)}** (the selected image's)."
        )
    if ratio > FAR:
        st.warning(text + " Far from the data: the decoder never saw anything here.")
    else:
        st.caption(text)


def selection_panel(panels: dict[str, Panel], ds) -> None:
    ss = st.session_state
    i = ss.sel
    st.subheader(f"Selected image #{i}: {class_name(ds, i)}")
    st.caption(
        "Click a point on either map to select it; both maps mark it with a ring."
    )
    cols = st.columns(1 + len(panels))
    with cols[0]:
        show_image("original", ds.images[i], "original")
    for col, p in zip(cols[1:], panels.values(), strict=True):
        with col:
            if p.space is None:
                st.caption(f"{p.entry.name}: unavailable")
                continue
            label = np.array([ds.labels[i]]) if p.space.conditional else None
            show_image(
                f"recon_{p.slot}",
                p.space.decode(p.space.z[i][None], label)[0],
                f"{p.entry.name} reconstruction",
            )


def _set_endpoint(which: str) -> None:
    st.session_state[f"interp_{which}"] = st.session_state.sel


def interpolation_controls(n: int) -> None:
    st.subheader("Interpolation")
    st.caption(
        "Decode the straight (or spherical) path between two images' latent means. "
        "An AE's decoder has seen nothing between the codes, so halfway it often "
        "draws nonsense; a VAE's morphs smoothly."
    )
    c = st.columns([1, 1, 1, 1, 1.3, 1.3])
    c[0].number_input("A (index)", 0, n - 1, key="interp_a")
    c[1].number_input("B (index)", 0, n - 1, key="interp_b")
    c[2].button("A ← selected", on_click=_set_endpoint, args=("a",), width="stretch")
    c[3].button("B ← selected", on_click=_set_endpoint, args=("b",), width="stretch")
    c[4].radio("Path", list(INTERPOLATIONS), key="interp_method", horizontal=True)
    c[5].slider("Steps in the strip", 3, 20, key="interp_steps")


@fragment
def interpolation_view(panels: dict[str, Panel], ds) -> None:
    """The image at t for both models, and a film strip of each, one above the other."""
    ss = st.session_state
    t = st.slider("Position t along the path", 0.0, 1.0, step=0.01, key="interp_t")
    live = [p for p in panels.values() if p.space is not None]
    cols = st.columns(len(live) + 1, vertical_alignment="center")
    strips = []
    for col, p in zip(cols, live, strict=False):
        sp = p.space
        a, b = sp.z[ss.interp_a], sp.z[ss.interp_b]
        label = decode_label(p, ds)
        zt = INTERPOLATIONS[ss.interp_method](a, b, np.array([t]))
        with col:
            show_image(
                f"interp_{p.slot}",
                sp.decode(zt, label)[0],
                f"{p.entry.name} at t = {t:.2f}",
            )
        path = interpolate(a, b, ss.interp_steps, ss.interp_method)
        strips.append((p, sp.decode(path, label)))
    with cols[-1]:
        st.caption(
            f"A = #{ss.interp_a} ({class_name(ds, ss.interp_a)}), "
            f"B = #{ss.interp_b} ({class_name(ds, ss.interp_b)}); "
            f"{ss.interp_method} path, drawn on both maps."
        )
    for p, frames in strips:
        st.markdown(f"**{p.entry.name}**: A → B in {len(frames)} steps")
        show_image(f"strip_{p.slot}", grid(frames[None]), scale=3)


def init_interpolation_defaults() -> None:
    ss = st.session_state
    ss.setdefault("interp_method", "linear")
    ss.setdefault("interp_steps", 10)
    ss.setdefault("interp_t", 0.5)


def render() -> None:
    """The whole page."""
    entries = catalogue.scan()
    settings = sidebar(entries)
    if settings is None:
        st.info(
            "Add a checkpoint folder under weights/ (see the README) to explore it."
        )
        return
    panels = load_panels(settings)
    ds = catalogue.get_dataset(settings.dataset, settings.splits)
    init_state(settings, panels)
    init_interpolation_defaults()
    cols = st.columns(2, gap="large")
    for col, p in zip(cols, panels.values(), strict=True):
        with col:
            model_panel(p, panels, ds)
    st.divider()
    selection_panel(panels, ds)
    st.divider()
    interpolation_controls(len(ds))
    interpolation_view(panels, ds)
