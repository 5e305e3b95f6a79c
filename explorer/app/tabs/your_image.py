"""The user's own image (an upload or a drawing), encoded and reconstructed."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from explorer.app import errors, i18n
from explorer.app import keys as K
from explorer.app.i18n import N_, _
from explorer.app.markdown import verbatim
from explorer.app.tabs import Context
from explorer.app.widgets import (
    labels_for,
    live_panels,
    neighbour_strip,
    show,
)
from explorer.data.upload import UploadError, border_pixels, preprocess

NAME = N_("Your image")

# What ``preprocess`` says it did, and why it refused an image, where the
# words are fixed (``N_``: translated where shown; a reason with numbers in
# it is shown as the data layer writes it).
DATA_WORDS = (
    N_("colours kept; fitted whole, padded with its border colour"),
    N_("grey, inverted, cropped, fitted"),
    N_("grey, cropped, fitted"),
)  # (its errors' words: ``errors.TEXTS``)


def marks(ctx: Context, panel) -> dict:
    """The user's image on the map (gold star), once there is one."""
    img, _steps, _error = prepared_upload(ctx.ds)
    if img is None:
        return {}
    sp = panel.space
    return {"upload": sp.to_map(upload_code(sp, img, ctx.ds))[0].tolist()}


def _take_upload() -> None:
    f = st.session_state.get(K.UPLOAD_FILE)
    st.session_state[K.UPLOADED] = (
        None if f is None else {"name": f.name, "data": f.getvalue()}
    )


@st.cache_data(max_entries=8, show_spinner=False)
def _prepared(digest: str, _data: bytes, shape: tuple, pad: int):
    # keyed by the digest: st.cache_data need not hash the bytes again
    return preprocess(_data, shape, pad)


def prepared_upload(ds) -> tuple[np.ndarray | None, dict | None, str | None]:
    """The uploaded image made like the dataset, what was done, or an error."""
    up = st.session_state.get(K.UPLOADED)
    if not up:
        return None, None, None
    pad = 4 if ds.name == "mnist" else 1  # MNIST digits sit in a 20 x 20 box
    try:
        digest = hashlib.sha256(up["data"]).hexdigest()
        img, steps = _prepared(digest, up["data"], ds.image_shape, pad)
    except UploadError as e:
        name = _("your drawing") if up["name"] is None else up["name"]
        return (
            None,
            None,
            _("{name}: {reason}").format(name=name, reason=errors.describe(e)),
        )
    return img, steps, None


def upload_code(sp, img: np.ndarray, ds) -> np.ndarray:
    return sp.encode(img[None], labels_for(sp, ds, 1))[0]


@st.cache_data(max_entries=8, show_spinner=False)
def background(_ds, key: tuple) -> str:
    """The data's usual background: the median border colour of its first
    images, as ``#rrggbb``."""
    imgs = np.asarray(_ds.images[:200])  # [N, C, H, W]
    pixels = np.concatenate([border_pixels(im.transpose(1, 2, 0)) for im in imgs])
    rgb = np.median(pixels, axis=0)
    rgb = np.broadcast_to(rgb, 3) if len(rgb) == 1 else rgb
    return "#" + "".join(f"{int(v):02x}" for v in rgb)


def drawing_pad(ds) -> None:
    """A canvas to draw on (streamlit-drawable-canvas); each finished stroke
    replaces the image being explored with the drawing. Grey data: light
    strokes on black; colour data: a colour of the user's on the data's
    background."""
    from streamlit_drawable_canvas import st_canvas

    ss = st.session_state
    if ds.image_shape[0] == 3:
        colour = st.color_picker(_("Or draw one, in this colour:"), "#e03c31")
        back = background(ds, (ds.name, len(ds), ds.image_shape))
    else:
        st.markdown(_("Or draw one (light strokes on black, like the data):"))
        colour, back = "#ffffff", "#000000"
    st.write("")  # room for the canvas's toolbar
    result = st_canvas(
        stroke_width=18,
        stroke_color=colour,
        background_color=back,
        height=196,
        width=196,
        drawing_mode="freedraw",
        return_image_data=True,
        key=K.CANVAS,
    )
    strokes = (result.json_data or {}).get("objects") or []
    data = result.image_bytes if strokes else None
    if data:
        digest = hashlib.sha256(data).hexdigest()
        if digest != ss.get(K.DRAWING_DIGEST):
            ss[K.DRAWING_DIGEST] = digest
            ss[K.UPLOADED] = {"name": None, "data": data}  # None: a drawing
            st.rerun()  # the maps above were drawn before the new stroke


def render(ctx: Context) -> None:
    panels, ds = ctx.panels, ctx.ds
    made = (
        _("its colours kept, fitted whole (padded with its border colour)")
        if ds.image_shape[0] == 3
        else _(
            "made grey, inverted if its background is light, cropped to the "
            "object and fitted"
        )
    )
    st.caption(
        _(
            "Upload a PNG or JPEG (at most 10 MiB and 25 megapixels), or draw: it "
            "is {made} like the dataset's images, then encoded by the models: the "
            "gold star on each map, its reconstructions and its nearest dataset "
            "images below."
        ).format(made=made)
    )
    up, draw = st.columns([3, 2])
    with up:
        st.file_uploader(
            _("Your image"),
            type=["png", "jpg", "jpeg"],
            key=K.UPLOAD_FILE,
            on_change=_take_upload,
            max_upload_size=10,
        )
    with draw:
        drawing_pad(ds)
    img, steps, error = prepared_upload(ds)
    if error:
        st.error(_("Could not use the upload. {error}").format(error=verbatim(error)))
        return
    if img is None:
        return
    live = live_panels(panels)
    cols = st.columns(1 + len(live))
    with cols[0]:
        show(img, _("as the models see it"))
        w, h = steps["original size"]
        st.caption(
            _("{width} × {height} px; {done}").format(
                width=w, height=h, done=i18n.marked(steps["done"])
            )
        )
    codes = {}
    for col, p in zip(cols[1:], live, strict=True):
        sp = p.space
        codes[p.slot] = z = upload_code(sp, img, ds)
        with col:
            show(
                sp.decode(z[None], labels_for(sp, ds, 1))[0],
                _("{model} reconstruction").format(model=verbatim(p.entry.label)),
            )
    for p in live:
        st.markdown("**" + verbatim(p.entry.label) + "**")
        neighbour_strip(p.space, ds, codes[p.slot])
