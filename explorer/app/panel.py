"""One model's panel: its map, the decoded cursor, the distance to the data,
and its sliders (in the browser, or the server's)."""

from __future__ import annotations

import os
from functools import partial

import numpy as np
import streamlit as st

from explorer.app import catalogue
from explorer.app.components.latent_map import latent_map
from explorer.app.components.live import live_decoder
from explorer.app.markdown import md
from explorer.app.state import Panel, on_live, on_map_click, on_slider
from explorer.app.tabs.prior import prior_zs
from explorer.app.tabs.your_image import prepared_upload, upload_code
from explorer.app.widgets import (
    FAR,
    class_name,
    download,
    labels_for,
    large_map_caption,
    neighbour_strip,
    show,
    zoom,
)
from explorer.data.images import to_png
from explorer.latent.paths import interpolate
from explorer.latent.posterior import posterior_ellipse
from explorer.latent.prior import prior_rings

# Fragments (EXPLORER_FRAGMENTS=1) rerun only one panel per slider move. The
# maps are never rebuilt either way (the component keeps its figure and gets
# only overlay marks), and `python -m benchmarks` measured full reruns to
# be faster here (a fragment run costs a second round trip for a selection,
# and more per run); so they are off by default and kept as the comparison.
FRAGMENTS = os.environ.get("EXPLORER_FRAGMENTS", "0") == "1"
SCALE = 5  # on-screen pixels per image pixel


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
        out["rings"] = [r.tolist() for r in prior_rings(sp.projection)]
    if sp.logvar is not None:
        mu, lv = sp.z[ss.sel], sp.logvar[ss.sel].astype(np.float64)
        out["ellipses"] = [
            posterior_ellipse(mu, lv, sp.projection, k).tolist() for k in (1, 2)
        ]
    if ss.get("tab") == "Prior samples":
        out["samples"] = sp.to_map(prior_zs(sp)).tolist()
    img, _, _ = prepared_upload(ds)
    if img is not None:
        out["upload"] = sp.to_map(upload_code(sp, img, ds))[0].tolist()
    return out


def panel_header(p: Panel) -> None:
    kind = {
        "ae": "autoencoder",
        "vae": "variational autoencoder",
        "cvae": "conditional VAE",
    }
    if p.space is None:
        st.subheader(md(p.entry.label))
        return
    model = p.space.model
    st.subheader(md(p.entry.label))
    view = "PCA of the latent means" if p.space.projection.is_pca else "raw latent axes"
    marks = "× the decoded point, ○ the selected image"
    if p.space.logvar is not None:
        marks += " (red: its posterior's 1σ, 2σ)"
    if st.session_state.get("rings", True):
        marks += ", dashed: the prior's 1σ, 2σ"
    st.caption(
        f"{kind[model.kind]}, {model.latent_dim}-D latent; map: {view}. {marks}."
    )
    if p.space.projection.note:
        st.caption(f"Note: {p.space.projection.note}.")
    about = []  # what an adapter did to a model it did not train
    shape = getattr(model, "latent_shape", ())
    if len(shape) > 1:
        about.append(
            f"spatial latent {' × '.join(map(str, shape))}, flattened to "
            f"{model.latent_dim}-D for the map and reshaped to decode"
        )
    if getattr(model, "note", None):
        about.append(model.note)
    if about:
        text = "; ".join(about)
        st.caption(md(text[0].upper() + text[1:] + "."))
    if p.points is not None:
        large_map_caption(p.points)


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
    label = labels_for(p.space, ds, 1)
    if ss.get("live", True) and sp.model.exportable:
        live_decoder(
            sp,
            str(p.entry.path),
            z,
            None if label is None else int(label[0]),
            key=f"live_{p.slot}",
            on_change=partial(on_live, p),
            scale=zoom(SCALE, ds),
        )
        # The server's decode of the same point: for export, and the reference.
        png = to_png(sp.decode(z[None], label)[0], zoom(SCALE, ds))
        distance_note(p, ds, z)
        cursor_extras(p, ds, z, png)
        return
    if ss.get("live", True):  # asked for, but this decoder cannot run there
        st.caption(
            "This model's decoder cannot run in the browser (only an MLP "
            "decoder is exported), so the server decodes when you release a slider."
        )
    left, right = st.columns([1, 2])
    with left:
        png = show(sp.decode(z[None], label)[0], "decoded at ×")
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
    neighbour_strip(p.space, ds, z, k=6)
    point = "_".join(f"{v:.2f}" for v in z[:4])
    download(
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
    if ratio > FAR:
        st.warning(text + " Far from the data: the decoder never saw anything here.")
    else:
        st.caption(text)
