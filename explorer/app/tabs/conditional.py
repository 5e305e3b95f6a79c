"""Conditional generation: a class and a style z, decoded by a CVAE."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from explorer.app import catalogue
from explorer.app import keys as K
from explorer.app.components.latent_map import latent_map
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context
from explorer.app.widgets import (
    large_map_lines,
    show,
    zoom,
)
from explorer.data.images import strip

NAME = "Conditional"


def _cvae_click(sp) -> None:
    ss = st.session_state
    ev = ss.get(K.MAP_CVAE)
    if not ev or ev.get("id") == ss.get(K.SEEN_CVAE):
        return
    ss[K.SEEN_CVAE] = ev["id"]
    if ev["kind"] == "view":  # a large map draws the points of the window
        ss[K.VIEW_CVAE] = (tuple(ev["x"]), tuple(ev["y"]))
        return
    z = sp.from_map([ev["x"], ev["y"]])
    for d in range(sp.latent_dim):
        lo, hi = sp.basis.ranges[d] if d < len(sp.basis.ranges) else (-4, 4)
        ss[K.CVAE_Z(d)] = float(np.clip(z[d], lo, hi))


def _style_of_selected(sp) -> None:
    ss = st.session_state
    for d in range(sp.latent_dim):
        lo, hi = sp.basis.ranges[d]
        ss[K.CVAE_Z(d)] = float(np.clip(sp.z[ss[K.SEL]][d], lo, hi))


def render(ctx: Context) -> None:
    entries, ds, splits = ctx.dataset_entries, ctx.ds, ctx.settings.splits
    ss = st.session_state
    st.caption(
        "A conditional VAE gets the class y as well as z, so z only has to hold "
        "the style. Pick a class and a z (sliders, or click the map), or take the "
        "style of the selected image; the row below decodes one z with every class."
    )
    cvaes = [e for e in entries if e.model_type == "cvae" and not e.error]
    if not cvaes or ds.labels is None:
        others = ", ".join(e.label for e in entries if not e.error)
        why = (
            "the data has no labels"
            if ds.labels is None
            else f"{verbatim(others)} take{'s' if ', ' not in others else ''} no "
            "class label"
        )
        st.info(
            f"No conditional VAE for {verbatim(catalogue.dataset_label(ds.name))}: "
            f"{why}."
        )
        return
    names = [e.name for e in cvaes]
    label = {e.name: e.label for e in cvaes}
    name = st.selectbox(
        "Model", names, key=K.CVAE_MODEL(ds.name), format_func=label.get
    )
    entry = cvaes[names.index(name)]
    sp = catalogue.get_space(str(entry.path), ds.name, splits)
    if sp.latent_dim > len(sp.basis.ranges):
        st.warning("This CVAE has more dimensions than sliders; the rest stay at 0.")
    for d in range(len(sp.basis.ranges)):
        # Start at 0 (the prior's mean) and keep a value from another model
        # inside this one's range.
        lo, hi = sp.basis.ranges[d]
        ss[K.CVAE_Z(d)] = float(np.clip(ss.get(K.CVAE_Z(d), 0.0), lo, hi))
    left, right = st.columns([3, 2])
    with left:
        pts, _ = catalogue.get_points(
            str(entry.path), ds.name, splits, len(ds), "class", ss.get(K.VIEW_CVAE)
        )
        z = np.zeros(sp.latent_dim)
        for d in range(len(sp.basis.ranges)):
            z = sp.basis.move(z, d, ss[K.CVAE_Z(d)])
        latent_map(
            pts,
            {"cursor": sp.to_map(z)[0].tolist()},
            key=K.MAP_CVAE,
            height=380,
            on_change=partial(_cvae_click, sp),
        )
        st.caption("A CVAE's map mixes the classes: z holds the style, not the class.")
        for _, text in large_map_lines(pts):
            st.caption(text)
    with right:
        k = st.selectbox(
            "Class",
            range(len(ds.class_names)),
            format_func=lambda c: ds.class_names[c],
            key=K.CVAE_CLASS,
        )
        for d in range(len(sp.basis.ranges)):
            lo, hi = sp.basis.ranges[d]
            st.slider(
                sp.basis.labels[d],
                float(lo),
                float(hi),
                step=float(hi - lo) / 200,
                key=K.CVAE_Z(d),
                format="%.2f",
            )
        st.button(
            "Style of the selected image", on_click=_style_of_selected, args=(sp,)
        )
        show(
            sp.decode(z[None], np.array([k]))[0], f"{verbatim(ds.class_names[k])} at z"
        )
    every = sp.decode(
        np.repeat(z[None], len(ds.class_names), 0), np.arange(len(ds.class_names))
    )
    st.markdown("**Same style, every class**")
    show(strip(every), scale=zoom(3, ds))
    st.caption(" · ".join(verbatim(c) for c in ds.class_names))
