"""The classic page, the benchmark's baseline: the product's page with its
maps drawn the way they were before the view (``explorer.app.components.view``):
an iframe per map (``components.latent_map``) and per live decoder
(``components.live_decoder``), every click answered by a rerun, a large map's
window asked of the server, and server sliders when decoding in the browser
is off. Everything else (the sidebar, the state, the tabs, the link) is the
product's own.

``streamlit run benchmarks/classic/app.py`` serves it with the product's
routes; ``benchmarks.classic`` measures it.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from benchmarks.classic.components import latent_map, live_decoder
from explorer.app import catalogue, page
from explorer.app import keys as K
from explorer.app.actions import place, select, set_cursor
from explorer.app.keys import Family
from explorer.app.markdown import verbatim
from explorer.app.panel import (
    ONE_MODEL,
    cursor_extras,
    distance_note,
    emit,
    header_lines,
    overlays,
)
from explorer.app.records import Panel
from explorer.app.script import header
from explorer.app.tabs import Context
from explorer.app.viewdata import SCALE
from explorer.app.widgets import labels_for, large_map_lines, show, zoom

# The classic widgets' keys (the product's are declared in explorer.app.keys).
MAP_EVENT = Family("map_{}", dict, "a map's last click or window event")
SEEN = Family("seen_{}", int, "id of a map's last handled event")
LIVE_EVENT = Family("live_{}", dict, "a slot's live sliders' release")
SEEN_LIVE = Family("seen_live_{}", int, "id of the last handled release")
SLIDER = Family("s_{}_{}", float, "a slot's server slider i (cursor coordinates)")


def on_map_click(panels: dict[str, Panel], slot: str) -> None:
    """A click on a map: select a data point, or decode the exact spot; or the
    visible window changed (its points are drawn next run)."""
    ss = st.session_state
    ev = ss.get(MAP_EVENT(slot))
    p = panels[slot]
    if not ev or p.space is None or ev.get("id") == ss.get(SEEN(slot)):
        return
    ss[SEEN(slot)] = ev["id"]
    if ev["kind"] == "view":
        ss[K.VIEW_WINDOW(slot)] = (tuple(ev["x"]), tuple(ev["y"]))
    elif ev["kind"] == "point":
        select(panels, int(p.shown[int(ev["index"])]))
    else:
        place(p, [ev["x"], ev["y"]])


def on_live(p: Panel) -> None:
    """A live slider was released: the server takes over the point."""
    ss = st.session_state
    ev = ss.get(LIVE_EVENT(p.slot))
    if not ev or ev.get("id") == ss.get(SEEN_LIVE(p.slot)):
        return
    ss[SEEN_LIVE(p.slot)] = ev["id"]
    set_cursor(p, p.space.basis.set_all(ss[K.CURSOR][p.slot], ev["values"]))


def on_slider(p: Panel, i: int) -> None:
    ss = st.session_state
    ss[K.CURSOR][p.slot] = p.space.basis.move(
        ss[K.CURSOR][p.slot], i, ss[SLIDER(p.slot, i)]
    )


def model_panel(ctx: Context, p: Panel) -> None:
    """Map, decoded cursor, distance to the data, and the sliders of one model."""
    emit(header_lines(p) + ([] if p.points is None else large_map_lines(p.points)))
    if p.error:
        st.error(verbatim(catalogue.public(p.error)))
        return
    latent_map(
        p.points,
        overlays(ctx, p),
        key=MAP_EVENT(p.slot),
        on_change=partial(on_map_click, ctx.panels, p.slot),
    )
    ss, ds, sp = st.session_state, ctx.ds, p.space
    z = ss[K.CURSOR][p.slot]
    label = labels_for(sp, ds, 1)
    if ss.get(K.LIVE, True) and sp.model.exportable:
        live_decoder(
            sp,
            str(p.entry.path),
            z,
            None if label is None else int(label[0]),
            key=LIVE_EVENT(p.slot),
            on_change=partial(on_live, p),
            scale=zoom(SCALE, ds),
        )
        distance_note(p, ds, z)
    else:
        left, right = st.columns([1, 2])
        with left:
            show(sp.decode(z[None], label)[0], "decoded at ×")
        with right:
            distance_note(p, ds, z)
            server_sliders(p, z)
    cursor_extras(p, ds, z)  # (its download decodes when pressed)


def server_sliders(p: Panel, z: np.ndarray) -> None:
    """One Streamlit slider per basis direction, at the cursor's coordinates:
    a slider is set only when the cursor moved without it (a click), since
    setting it sends it back to the browser and would undo key presses still
    on their way."""
    ss, basis = st.session_state, p.space.basis
    for i, (name, v) in enumerate(zip(basis.labels, basis.coordinates(z), strict=True)):
        lo, hi = basis.ranges[i]
        want = float(np.clip(v, lo, hi))
        if abs(ss.get(SLIDER(p.slot, i), np.inf) - want) > 1e-9:
            ss[SLIDER(p.slot, i)] = want
        st.slider(
            name,
            float(lo),
            float(hi),
            step=float(hi - lo) / 200,
            key=SLIDER(p.slot, i),
            on_change=on_slider,
            args=(p, i),
            format="%.2f",
        )


def main() -> None:
    header()
    ss = st.session_state
    windows = {slot: ss.get(K.VIEW_WINDOW(slot)) for slot in ("left", "right")}
    run = page.start(windows)
    if run is None:
        return
    cols = st.columns(2, gap="large")
    for col, p in zip(cols, run.panels.values(), strict=False):
        with col:
            model_panel(run.ctx, p)
    if len(run.panels) == 1:
        with cols[1]:
            st.info(ONE_MODEL)
    page.finish(run)


if __name__ == "__main__":
    main()
