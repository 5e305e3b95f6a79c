"""The tabs under the maps. Only the open tab runs (``st.tabs`` tracks state),
so a click on a map costs the same however many tabs there are.

Each section takes the page's panels (``page.Panel``) and the dataset; the
latent-space work is in ``explorer.explore`` and ``explorer.upload``.
"""

from __future__ import annotations

import hashlib
from functools import partial
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from explorer import explore
from explorer.images import grid, strip, to_gif, to_png
from explorer.latent import INTERPOLATIONS, interpolate
from explorer.ui import catalogue
from explorer.ui.latent_map import latent_map
from explorer.ui.markdown import md
from explorer.upload import UploadError, preprocess

TABS = (
    "Selected image",
    "Interpolation",
    "Manifold grid",
    "Prior samples",
    "Unusual images",
    "Dimensions",
    "Conditional",
    "Your image",
    "Metrics",
)
FAR = 3.0  # "far from the data": this many typical neighbour gaps away
NO_MODEL = "No model could be opened for this dataset (see the errors above)."
NO_GAP = (
    "The images' codes have no gap between them (one image, or all at one "
    "point), so there is no scale to judge how far from the data a point is."
)
THUMB = 2  # on-screen pixels per image pixel in thumbnails and rows
N_NEIGHBOURS = 8
N_RESAMPLE = 8
N_UNUSUAL = 12


# --- shared helpers --------------------------------------------------------------


def class_name(ds, index: int) -> str:
    """An image's class name, as Markdown text (names come from users' folders)."""
    return (
        md(ds.class_names[ds.labels[index]]) if ds.labels is not None else "unlabelled"
    )


def labels_for(sp, ds, n: int) -> np.ndarray | None:
    """The labels a conditional model decodes with: the selected image's class
    (or the class picked in the Conditional tab); None for other models."""
    if not sp.conditional:
        return None
    return np.full(n, int(ds.labels[st.session_state.sel]))


def zoom(scale: int, ds) -> int:
    """On-screen pixels per image pixel for ``ds``'s images: ``scale`` is for
    28-pixel images (the MNIST family); smaller images get more, larger ones
    fewer."""
    return _zoom(scale, ds.image_shape[-1])


def _zoom(scale: int, width: int) -> int:
    return max(1, round(scale * 28 / width))


def show(
    img: np.ndarray, caption: str | None = None, scale: int | None = None
) -> bytes:
    """Shows an image ``scale`` times its size (default: one image at about
    140 pixels; see ``zoom``); returns its PNG (for a download button)."""
    if scale is None:
        scale = _zoom(5, img.shape[-1])
    png = to_png(img, scale)
    # PNG as made: st.image would otherwise re-encode it as a lossy JPEG.
    st.image(png, caption=caption, width=img.shape[-1] * scale, output_format="PNG")
    return png


def download(label: str, data: bytes, file_name: str, mime: str, key: str) -> None:
    st.download_button(
        label, data, file_name=file_name, mime=mime, key=key, on_click="ignore"
    )


def live_panels(panels) -> list:
    return [p for p in panels.values() if p.space is not None]


def neighbour_strip(sp, ds, z: np.ndarray, k: int = N_NEIGHBOURS) -> None:
    """The ``k`` dataset images nearest ``z`` in latent space, as one row."""
    idx, dist = explore.nearest_images(sp.nearest, z, k)
    show(strip(ds.images[idx]), scale=zoom(THUMB, ds))
    st.caption(
        (
            "Nearest images"
            if len(idx) == k
            else "The only image"
            if len(idx) == 1
            else f"All {len(idx)} images, nearest first"
        )
        + ": "
        + ", ".join(
            f"#{i} {class_name(ds, i)} ({d:.2f})"
            for i, d in zip(idx, dist, strict=True)
        )
    )


# --- selected image: reconstructions, posterior resamples, neighbours -----------


def selected_image(panels, ds) -> None:
    ss = st.session_state
    i = ss.sel
    st.subheader(f"Selected image #{i}: {class_name(ds, i)}")
    st.caption(
        "Click a point on either map to select it; both maps ring it. On a VAE's "
        "map the red ellipses are q(z|x)'s 1σ and 2σ contours."
    )
    live = live_panels(panels)
    cols = st.columns(1 + len(live))
    with cols[0]:
        show(ds.images[i], "original")
    for col, p in zip(cols[1:], live, strict=True):
        with col:
            sp = p.space
            show(
                sp.decode(sp.z[i][None], labels_for(sp, ds, 1))[0],
                f"{p.entry.name} reconstruction",
            )
    for p in live:
        sp = p.space
        st.markdown(f"**{md(p.entry.name)}**")
        if sp.logvar is not None:
            seed = int(ss.get("resample_seed", 0))
            zs = explore.posterior_samples(sp.z[i], sp.logvar[i], N_RESAMPLE, seed)
            show(
                strip(sp.decode(zs, labels_for(sp, ds, N_RESAMPLE))),
                scale=zoom(3, ds),
            )
            sigma = np.exp(0.5 * sp.logvar[i])
            st.caption(
                f"Decoded from z = μ + σ·ε for {N_RESAMPLE} draws of ε (seed {seed}):"
                f" what the decoder sees while training. σ = "
                + ", ".join(f"{s:.3f}" for s in sigma[:4])
                + ("…" if len(sigma) > 4 else "")
            )
        else:
            st.caption("An autoencoder gives one code per image: nothing to resample.")
        neighbour_strip(sp, ds, sp.z[i])
    if any(p.space.logvar is not None for p in live):
        st.button(
            "Resample ε",
            on_click=lambda: ss.update(resample_seed=ss.get("resample_seed", 0) + 1),
        )


# --- interpolation ---------------------------------------------------------------


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
                f"{p.entry.name} at t = {t:.2f}",
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
        st.markdown(f"**{md(p.entry.name)}**: A → B in {len(frames)} steps")
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


# --- manifold grid ---------------------------------------------------------------


def manifold(panels, ds) -> None:
    ss = st.session_state
    st.caption(
        "Decode an N × N grid over each map. A VAE's grid is spaced by its prior's "
        "quantiles (the inverse normal CDF, as in Kingma & Welling 2013, Fig. 4), "
        "so each cell holds equal prior mass; an AE's spans the data evenly. "
        "Where an AE's codes leave holes, its grid shows what fills them."
    )
    c = st.columns([2, 3])
    n = c[0].slider("Images per side (N)", 5, 30, 15, key="grid_n")
    extent = c[1].radio(
        "Over",
        ("the visible part of each map", "the whole prior (VAE) or data (AE)"),
        key="grid_extent",
        horizontal=True,
        help="Pan or zoom a map and the grid follows what you see.",
    )
    live = live_panels(panels)
    if not live:
        st.info(NO_MODEL)
        return
    cols = st.columns(len(live))
    for col, p in zip(cols, live, strict=True):
        sp = p.space
        quantiles = sp.logvar is not None
        view = ss.get(f"view_{p.slot}") if extent.startswith("the visible") else None
        g = explore.manifold_grid(
            sp.projection,
            n,
            view,
            quantiles,
            explore.data_range(sp.coords),
        )
        rows = n
        if sp.latent_dim == 1:  # the map's y means nothing: one row along z[0]
            rows, g = 1, explore.Grid(g.z[:n], g.xs, g.ys[:1])
        imgs = sp.decode(g.z, labels_for(sp, ds, len(g.z)))
        with col:
            st.markdown(f"**{md(p.entry.name)}**")
            if rows == 1:
                st.caption("A 1-D latent has no second axis: one row along z[0].")
            png = show(
                grid(imgs.reshape(rows, n, *imgs.shape[1:]), 1),
                f"{rows} × {n} grid" if rows == 1 else f"{n} × {n} grid",
                scale=zoom(1 if n > 20 else 2, ds),
            )
            spacing = "prior quantiles" if quantiles else "even steps"
            where = (
                "visible window"
                if view
                else ("prior's 5–95%" if quantiles else "data's range")
            )
            st.caption(
                f"{spacing} over the {where}: x {g.xs[0]:.2f} … {g.xs[-1]:.2f}, "
                f"y {g.ys[-1]:.2f} … {g.ys[0]:.2f}"
            )
            download(
                "Grid (PNG)",
                png,
                f"{p.entry.name}-grid.png",
                "image/png",
                f"dl_grid_{p.slot}",
            )


# --- prior samples ---------------------------------------------------------------


def prior_zs(sp) -> np.ndarray:
    ss = st.session_state
    return explore.prior_samples(
        sp.latent_dim,
        int(ss.get("prior_n", 16)),
        float(ss.get("prior_tau", 1.0)),
        int(ss.get("prior_seed", 0)),
    )


def prior(panels, ds) -> None:
    ss = st.session_state
    st.caption(
        "Draw z ~ N(0, τ² I) and decode it with both models; the diamonds on the "
        "maps show where the draws fall, the dashed rings the prior's 1σ and 2σ "
        f"contours ({explore.RING_MASS[1]:.0%} and {explore.RING_MASS[2]:.0%} of its "
        "mass on a 2-D map). A VAE was trained to decode these; an AE was not, so "
        "where its codes do not look like N(0, I), its samples are garbage."
    )
    c = st.columns([2, 2, 1])
    c[0].slider("Temperature τ", 0.0, 2.0, 1.0, 0.05, key="prior_tau")
    c[1].slider("Samples", 4, 32, 16, 4, key="prior_n")
    c[2].button(
        "New samples",
        on_click=lambda: ss.update(prior_seed=ss.get("prior_seed", 0) + 1),
    )
    live = live_panels(panels)
    if not live:
        st.info(NO_MODEL)
        return
    cols = st.columns(len(live))
    for col, p in zip(cols, live, strict=True):
        sp = p.space
        zs = prior_zs(sp)
        imgs = sp.decode(zs, labels_for(sp, ds, len(zs)))
        rows = (
            imgs.reshape(-1, 8, *imgs.shape[1:]) if len(imgs) % 8 == 0 else imgs[None]
        )
        with col:
            st.markdown(f"**{md(p.entry.name)}**")
            show(grid(rows), scale=zoom(3, ds))
            if sp.spacing > 0:
                far = np.mean([sp.nearest_point(z)[1] / sp.spacing > FAR for z in zs])
                st.caption(
                    f"{far:.0%} of the draws land far from any data point (more "
                    f"than {FAR:g}× the typical gap between neighbours)."
                )
            else:
                st.caption(NO_GAP)


# --- unusual images --------------------------------------------------------------


def _select(panels, index: int) -> None:
    from explorer.ui.page import select

    select(panels, index)


def unusual(panels, ds, splits) -> None:
    st.caption(
        "The images each model finds hardest: the largest loss (reconstruction "
        "error plus KL for a VAE). Colour the maps by a measure in the sidebar "
        "to see where they sit. Select one to inspect it."
    )
    measure = st.radio(
        "Rank by",
        list(explore.MEASURES),
        format_func=lambda k: explore.MEASURES[k],
        key="unusual_by",
        horizontal=True,
    )
    for p in live_panels(panels):
        m = catalogue.get_measures(str(p.entry.path), ds.name, splits)
        key = measure if measure in m else "loss"
        top = explore.most_unusual(m[key], N_UNUSUAL)
        st.markdown(
            f"**{p.entry.name}**: top {len(top)} by {explore.MEASURES[key]} "
            f"(median over the data {np.median(m[key]):.1f})"
        )
        cols = st.columns(len(top))
        for col, i in zip(cols, top, strict=True):
            with col:
                k = zoom(3, ds)
                st.image(
                    to_png(ds.images[i], k),
                    width=ds.images.shape[-1] * k,
                    output_format="PNG",
                )
                st.caption(f"#{i} {class_name(ds, i)}\n\n{m[key][i]:.1f}")
                st.button(
                    "Select",
                    key=f"pick_{p.slot}_{i}",
                    on_click=_select,
                    args=(panels, int(i)),
                )


# --- dimensions ------------------------------------------------------------------


def dimensions(entries, ds, splits) -> None:
    st.caption(
        "How much each latent dimension of a VAE carries: its KL to the prior, "
        "averaged over the data. A dimension with KL near 0 has collapsed: its "
        "posterior is the prior whatever the image, and the decoder ignores it "
        "(its traversal row is constant). The VAE's sliders come in this order."
    )
    vaes = [e for e in entries if e.model_type in ("vae", "cvae") and not e.error]
    if not vaes:
        st.info(f"No VAE checkpoint for {md(ds.name)}.")
        return
    names = [e.name for e in vaes]
    wide = [e.name for e in vaes if (e.latent_dim or 0) > 2]
    name = st.selectbox(
        "Model",
        names,
        index=names.index(wide[0]) if wide else 0,
        key=f"dims_model_{ds.name}",
    )
    entry = vaes[names.index(name)]
    sp = catalogue.get_space(str(entry.path), ds.name, splits)
    r = sp.dims
    order = r.order
    fig = go.Figure(
        go.Bar(
            x=[f"z[{d}]" for d in order],
            y=r.kl[order],
            marker_color=["#4e79a7" if r.active[d] else "#bab0ac" for d in order],
            hovertemplate="%{x}: KL %{y:.3f} nats<extra></extra>",
        )
    )
    fig.update_layout(
        height=260,
        margin=dict(l=50, r=10, t=10, b=40),
        yaxis_title="mean KL (nats)",
        plot_bgcolor="#fff",
    )
    st.plotly_chart(fig, key=f"kl_bars_{name}")
    n_active = int(r.active.sum())
    st.caption(
        f"{n_active} of {len(r.kl)} dimensions active (variance of the posterior "
        f"means > {explore.ACTIVE_THRESHOLD}); grey bars are collapsed. Total KL "
        f"{r.kl.sum():.2f} nats per image."
    )
    st.markdown("**Traversals** from the selected image: one row per dimension, by KL")
    i = st.session_state.sel
    values = np.linspace(-3, 3, 9)
    rows = [explore.traversal(sp.z[i], np.eye(sp.latent_dim)[d], values) for d in order]
    labels = labels_for(sp, ds, len(values))
    imgs = np.stack([sp.decode(z, labels) for z in rows])
    show(grid(imgs), scale=zoom(2, ds))
    st.caption(
        "Each row sets one dimension to −3 … 3 (the prior's ±3σ) and keeps the "
        "others at the selected image's mean; rows top to bottom: "
        + ", ".join(f"z[{d}]" for d in order)
    )


# --- conditional generation ------------------------------------------------------


def large_map_caption(points) -> None:
    """Says what a large map shows (nothing for a map that draws every point)."""
    d = points.density
    if not d:
        return
    st.caption(
        f"{d['shown']:,} images: too many to draw one by one, so the shaded "
        f"layer shows where they all lie ({d['in_window']:,} in view), and "
        f"{points.n:,} of them are drawn as points"
        + (
            " (all of those in view)."
            if points.n == d["in_window"]
            else ", a fixed sample: zoom in to draw every one."
        )
    )


def _cvae_click(sp) -> None:
    ss = st.session_state
    ev = ss.get("map_cvae")
    if not ev or ev.get("id") == ss.get("seen_cvae"):
        return
    ss.seen_cvae = ev["id"]
    if ev["kind"] == "view":  # a large map draws the points of the window
        ss.view_cvae = (tuple(ev["x"]), tuple(ev["y"]))
        return
    z = sp.from_map([ev["x"], ev["y"]])
    for d in range(sp.latent_dim):
        lo, hi = sp.basis.ranges[d] if d < len(sp.basis.ranges) else (-4, 4)
        ss[f"cz_{d}"] = float(np.clip(z[d], lo, hi))


def _style_of_selected(sp) -> None:
    ss = st.session_state
    for d in range(sp.latent_dim):
        lo, hi = sp.basis.ranges[d]
        ss[f"cz_{d}"] = float(np.clip(sp.z[ss.sel][d], lo, hi))


def conditional(entries, ds, splits) -> None:
    ss = st.session_state
    st.caption(
        "A conditional VAE gets the class y as well as z, so z only has to hold "
        "the style. Pick a class and a z (sliders, or click the map), or take the "
        "style of the selected image; the row below decodes one z with every class."
    )
    cvaes = [e for e in entries if e.model_type == "cvae" and not e.error]
    if not cvaes or ds.labels is None:
        st.info(f"No conditional VAE checkpoint for {md(ds.name)}.")
        return
    names = [e.name for e in cvaes]
    name = st.selectbox("Model", names, key=f"cvae_model_{ds.name}")
    entry = cvaes[names.index(name)]
    sp = catalogue.get_space(str(entry.path), ds.name, splits)
    if sp.latent_dim > len(sp.basis.ranges):
        st.warning("This CVAE has more dimensions than sliders; the rest stay at 0.")
    for d in range(len(sp.basis.ranges)):
        # Start at 0 (the prior's mean) and keep a value from another model
        # inside this one's range.
        lo, hi = sp.basis.ranges[d]
        ss[f"cz_{d}"] = float(np.clip(ss.get(f"cz_{d}", 0.0), lo, hi))
    left, right = st.columns([3, 2])
    with left:
        pts, _ = catalogue.get_points(
            str(entry.path), ds.name, splits, len(ds), "class", ss.get("view_cvae")
        )
        z = np.zeros(sp.latent_dim)
        for d in range(len(sp.basis.ranges)):
            z = sp.basis.move(z, d, ss[f"cz_{d}"])
        latent_map(
            pts,
            {"cursor": sp.to_map(z)[0].tolist()},
            key="map_cvae",
            height=380,
            on_change=partial(_cvae_click, sp),
        )
        st.caption("A CVAE's map mixes the classes: z holds the style, not the class.")
        large_map_caption(pts)
    with right:
        k = st.selectbox(
            "Class",
            range(len(ds.class_names)),
            format_func=lambda c: ds.class_names[c],
            key="cvae_class",
        )
        for d in range(len(sp.basis.ranges)):
            lo, hi = sp.basis.ranges[d]
            st.slider(
                sp.basis.labels[d],
                float(lo),
                float(hi),
                step=float(hi - lo) / 200,
                key=f"cz_{d}",
                format="%.2f",
            )
        st.button(
            "Style of the selected image", on_click=_style_of_selected, args=(sp,)
        )
        show(sp.decode(z[None], np.array([k]))[0], f"{ds.class_names[k]} at z")
    every = sp.decode(
        np.repeat(z[None], len(ds.class_names), 0), np.arange(len(ds.class_names))
    )
    st.markdown("**Same style, every class**")
    show(strip(every), scale=zoom(3, ds))
    st.caption(" · ".join(md(c) for c in ds.class_names))


# --- your image ------------------------------------------------------------------


def _take_upload() -> None:
    f = st.session_state.get("upload_file")
    st.session_state.uploaded = (
        None if f is None else {"name": f.name, "data": f.getvalue()}
    )


@st.cache_data(max_entries=8, show_spinner=False)
def _prepared(digest: str, _data: bytes, shape: tuple, pad: int):
    # keyed by the digest: st.cache_data need not hash the bytes again
    return preprocess(_data, shape, pad)


def prepared_upload(ds) -> tuple[np.ndarray | None, dict | None, str | None]:
    """The uploaded image made like the dataset, what was done, or an error."""
    up = st.session_state.get("uploaded")
    if not up:
        return None, None, None
    pad = 4 if ds.name == "mnist" else 1  # MNIST digits sit in a 20 x 20 box
    try:
        digest = hashlib.sha256(up["data"]).hexdigest()
        img, steps = _prepared(digest, up["data"], ds.image_shape, pad)
    except UploadError as e:
        return None, None, f"{up['name']}: {e}"
    return img, steps, None


def upload_code(sp, img: np.ndarray, ds) -> np.ndarray:
    x = torch.from_numpy(img[None].astype(np.float32) / 255.0)
    y = torch.as_tensor(labels_for(sp, ds, 1)) if sp.conditional else None
    with torch.inference_mode():
        return sp.model.encode(x, y).mean[0].double().numpy()


def drawing_pad() -> None:
    """A canvas to draw on (streamlit-drawable-canvas); each finished stroke
    replaces the image being explored with the drawing."""
    from streamlit_drawable_canvas import st_canvas

    ss = st.session_state
    st.markdown("Or draw one (light strokes on black, like the data):")
    st.write("")  # room for the canvas's toolbar
    result = st_canvas(
        stroke_width=18,
        stroke_color="#ffffff",
        background_color="#000000",
        height=196,
        width=196,
        drawing_mode="freedraw",
        return_image_data=True,
        key="canvas",
    )
    strokes = (result.json_data or {}).get("objects") or []
    data = result.image_bytes if strokes else None
    if data:
        digest = hashlib.sha256(data).hexdigest()
        if digest != ss.get("drawing_digest"):
            ss.drawing_digest = digest
            ss.uploaded = {"name": "your drawing", "data": data}
            st.rerun()  # the maps above were drawn before the new stroke


def your_image(panels, ds) -> None:
    st.caption(
        "Upload a PNG or JPEG (at most 10 MiB and 25 megapixels), or draw: it is "
        "made grey, "
        "inverted if its background is light, cropped to the object and fitted "
        "like the dataset's images, then encoded by both models: the gold star on "
        "each map, its reconstructions and its nearest dataset images below."
    )
    up, draw = st.columns([3, 2])
    with up:
        st.file_uploader(
            "Your image",
            type=["png", "jpg", "jpeg"],
            key="upload_file",
            on_change=_take_upload,
            max_upload_size=10,
        )
    with draw:
        drawing_pad()
    img, steps, error = prepared_upload(ds)
    if error:
        st.error(f"Could not use the upload. {md(error)}")
        return
    if img is None:
        return
    live = live_panels(panels)
    cols = st.columns(1 + len(live))
    with cols[0]:
        show(img, "as the models see it")
        w, h = steps["original size"]
        st.caption(
            f"{w} × {h} px; " + ("inverted; " if steps["inverted"] else "") + "cropped"
        )
    codes = {}
    for col, p in zip(cols[1:], live, strict=True):
        sp = p.space
        codes[p.slot] = z = upload_code(sp, img, ds)
        with col:
            show(
                sp.decode(z[None], labels_for(sp, ds, 1))[0],
                f"{p.entry.name} reconstruction",
            )
    for p in live:
        st.markdown(f"**{md(p.entry.name)}**")
        neighbour_strip(p.space, ds, codes[p.slot])


# --- metrics ---------------------------------------------------------------------

METRIC_ROWS = (
    ("neg_elbo", "-ELBO (nats)", "{:.2f}"),
    ("recon", "reconstruction (nats)", "{:.2f}"),
    ("kl", "KL (nats)", "{:.2f}"),
    ("iw_nll", "IW bound on -log p(x) (nats)", "{:.2f}"),
    ("mse", "MSE per pixel", "{:.5f}"),
    ("knn5_acc", "5-NN accuracy", "{:.4f}"),
    ("active_units", "active units", "{}"),
)


def metrics_table(paths: dict[str, Path]) -> dict[str, list[str]]:
    """Rows of figures per checkpoint, from each metrics.json (— when absent)."""
    labels = [label for _, label, _ in METRIC_ROWS]
    table = {"figure": labels + ["PCA MSE (same dims)", "evaluated on"]}
    for name, path in paths.items():
        m = catalogue.metrics(str(path))
        col = []
        for key, _, fmt in METRIC_ROWS:
            v = m.get(key)
            col.append("—" if v is None else fmt.format(v))
        pca = (m.get("pca") or {}).get("mse")
        col.append("—" if pca is None else f"{pca:.5f}")
        data = m.get("eval_data") or {}
        col.append(f"{data['split']} split, {data['images']:,} images" if data else "—")
        table[name] = col
    return table


def metrics(panels) -> None:
    st.caption(
        "Each model's figures from its metrics.json (written by "
        "`python -m explorer evaluate`), side by side; weights/README.md explains them."
    )
    paths = {p.entry.name: p.entry.path for p in panels.values() if not p.error}
    st.dataframe(metrics_table(paths), hide_index=True)
    for name, path in paths.items():
        if not catalogue.metrics(str(path)):
            st.caption(
                f"{md(name)} has no metrics.json yet: "
                f"`python -m explorer evaluate {name}` writes it."
            )
