"""Interpolation between two images, decoded by both models."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app.markdown import md
from explorer.app.widgets import (
    class_name,
    download,
    labels_for,
    live_panels,
    show,
    zoom,
)
from explorer.data.images import grid, to_gif
from explorer.latent.paths import INTERPOLATIONS, interpolate


def _set_endpoint(which: str) -> None:
    st.session_state[f"interp_{which}"] = st.session_state.sel


def interpolation(panels, ds) -> None:
    ss = st.session_state
    st.caption(
        "Decode the straight (or spherical) path between two images' latent means. "
        "An AE's decoder has seen nothing between the codes, so halfway it often "
        "draws nonsense; a VAE's morphs smoothly."
    )
    n = len(ds)
    for key in ("interp_a", "interp_b"):  # kept inside this dataset's indices
        ss[key] = int(np.clip(ss[key], 0, n - 1))
    c = st.columns([1, 1, 1, 1, 1.3, 1.3])
    c[0].number_input("A (index)", 0, n - 1, key="interp_a")
    c[1].number_input("B (index)", 0, n - 1, key="interp_b")
    c[2].button("A ← selected", on_click=_set_endpoint, args=("a",), width="stretch")
    c[3].button("B ← selected", on_click=_set_endpoint, args=("b",), width="stretch")
    c[4].radio("Path", list(INTERPOLATIONS), key="interp_method", horizontal=True)
    c[5].slider("Steps in the strip", 3, 20, key="interp_steps")
    t = st.slider("Position t along the path", 0.0, 1.0, step=0.01, key="interp_t")
    live = live_panels(panels)
    cols = st.columns(len(live) + 1, vertical_alignment="center")
    strips = []
    for col, p in zip(cols, live, strict=False):
        sp = p.space
        a, b = sp.z[ss.interp_a], sp.z[ss.interp_b]
        zt = INTERPOLATIONS[ss.interp_method](a, b, np.array([t]))
        with col:
            show(
                sp.decode(zt, labels_for(sp, ds, 1))[0],
                f"{p.entry.label} at t = {t:.2f}",
            )
        path = interpolate(a, b, ss.interp_steps, ss.interp_method)
        strips.append((p, sp.decode(path, labels_for(sp, ds, len(path)))))
    with cols[-1]:
        st.caption(
            f"A = #{ss.interp_a} ({class_name(ds, ss.interp_a)}), "
            f"B = #{ss.interp_b} ({class_name(ds, ss.interp_b)}); "
            f"{ss.interp_method} path, drawn on both maps."
        )
    for p, frames in strips:
        st.markdown(f"**{md(p.entry.label)}**: A → B in {len(frames)} steps")
        png = show(grid(frames[None]), scale=zoom(3, ds))
        gif = to_gif(frames, scale=zoom(4, ds))
        d = st.columns([1, 1, 4])
        with d[0]:
            download(
                "Strip (PNG)",
                png,
                f"{p.entry.name}-strip.png",
                "image/png",
                f"dl_strip_{p.slot}",
            )
        with d[1]:
            download(
                "Animation (GIF)",
                gif,
                f"{p.entry.name}-morph.gif",
                "image/gif",
                f"dl_gif_{p.slot}",
            )
