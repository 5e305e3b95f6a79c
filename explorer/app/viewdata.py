"""The view's data (``components.view``): each map's (``map_data``) and what
every view carries around its maps (``frame``). The page's view of the two
main maps (``panel.view_data``) and the Conditional tab's view of its CVAE
map build theirs with these; a map differs only in what the caller gives
(its cursor, label, marks and caption, and what a click on it does)."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from explorer.app import i18n, routes
from explorer.app import keys as K
from explorer.app.components.latent_map import COLORS, component_dir
from explorer.app.components.live import view_decoder_file
from explorer.app.components.view import file_url, points_data
from explorer.app.i18n import N_, _
from explorer.app.records import Panel
from explorer.app.widgets import LARGE_MAP_ALL, LARGE_MAP_SAMPLE, class_names, zoom
from explorer.data.dataset import ImageDataset
from explorer.data.images import data_url, to_png

SCALE = 5  # on-screen pixels per image pixel


def frame(ds: ImageDataset, maps: list[dict], echo: int) -> dict:
    """What a view needs besides its maps' own data: the dataset's images
    and labels (for a click's answer and the thumbnails), the strip's scale,
    ``echo``, the id of the view's last event this run applied, and the
    words the view writes itself (``words``)."""
    names = class_names(ds) if ds.labels is not None else ()
    return {
        "words": words(),
        "maps": maps,
        "n_images": len(ds),
        "thumbnails": bool(st.session_state.get(K.THUMBS, True)),
        "scale": zoom(SCALE, ds),
        "echo": int(echo),
        "class_names": list(names),
        "labels_url": labels_url(ds),
        "images": {
            "url": routes.register_images(ds.images, dataset_identity(ds)),
            "shape": list(ds.image_shape),
            "chunk": routes.chunk_size(ds.image_shape),
        },
    }


def words() -> dict:
    """What the view writes itself, in this session's language, with the
    ``{fields}`` it fills in: its status line, the selected image's caption
    after a click (``image``, ``image_class``), a large map's note, the
    legend's name for unlabelled points, a live slider's label and its
    error; ``locale``: how it writes numbers, and plotly's locale, whose
    dictionary is ``plotly``."""
    return {
        "locale": {"zh": "zh-CN"}.get(i18n.lang(), "en-US"),
        "loading": _("Loading the latent map…"),
        "image": _("Image #{index}"),
        "image_class": _("Image #{index} ({name})"),
        "large_all": i18n.marked(LARGE_MAP_ALL),
        "large_sample": i18n.marked(LARGE_MAP_SAMPLE),
        "data": _("data"),
        "live": _("live {label}"),
        "error": _("The view could not be drawn: {error}"),
        "plotly": {w: i18n.marked(w) for w in PLOTLY_WORDS},
    }


# plotly.js's own words on a map (its mode bar's titles and its notices), as
# its locales' dictionaries key them; the Chinese is plotly's zh-CN locale's.
PLOTLY_WORDS = (
    N_("Zoom"),
    N_("Pan"),
    N_("Box Select"),
    N_("Lasso Select"),
    N_("Zoom in"),
    N_("Zoom out"),
    N_("Autoscale"),
    N_("Reset axes"),
    N_("Double-click to zoom back out"),
    N_("Double-click on legend to isolate one trace"),
)


def map_data(
    ds: ImageDataset,
    column: int,
    p: Panel,
    live: bool,
    *,
    cursor: np.ndarray,
    label: np.ndarray | None,
    overlays: dict,
    caption: str,
    point_selects: bool = True,
    lasso: bool = True,
) -> dict:
    """One map of a view: ``p``'s points, projection and sliders' basis, its
    decoder's URL (in the browser) or the decoded image, and what differs
    from map to map.

    Args:
        ds: the dataset shown.
        column: the map's place in its view, from 0.
        p: the checkpoint, its space and the points shown.
        live: decode in the browser when the model's decoder can run there.
        cursor: ``[D]`` the latent point decoded (the ×).
        label: ``[1]`` the class a conditional model decodes with, or None.
        overlays: the marks on the map (``{kind: coordinates}``).
        caption: the decoded image's caption in the strip.
        point_selects: a click on a point selects that image (ringed, and
            decoded with its own class); False: it moves the × there and
            keeps ``label``.
        lasso: the lasso and box tools (a selection) on this map.

    Returns:
        The map's part of the view's data (JSON-ready).
    """
    sp = p.space
    z = np.asarray(cursor, dtype=np.float64)
    in_browser = live and sp.model.exportable
    path = str(p.entry.path)
    return {
        "slot": p.slot,
        "column": column,
        "caption": caption,
        "points": shown_points(ds, p),
        "colors": list(COLORS),
        "marker_size": 4.0,
        "height": 440,
        "overlays": overlays,
        "point_selects": point_selects,
        "lasso": lasso,
        "means_url": means_url(path, dataset_identity(ds), sp),
        "latent_dim": sp.latent_dim,
        **geometry(sp),
        "cursor": z.tolist(),
        "label": 0 if label is None else int(label[0]),
        "image_shape": list(ds.image_shape),
        "decoder_url": routes.file_url("latent_map", view_decoder_file(path, sp))
        if in_browser
        else None,
        "image": None if in_browser else data_url(to_png(sp.decode(z[None], label)[0])),
    }


def shown_points(ds: ImageDataset, p: Panel) -> dict:
    """``p``'s points for the view, its legend in the page's class names
    (``widgets.class_names``)."""
    out = points_data(p.points, p.shown)
    if out["class_names"] and ds.labels is not None:
        shown = class_names(ds)
        if len(shown) == len(out["class_names"]):
            out["class_names"] = list(shown)
    return out


def geometry(sp) -> dict:
    """A map's projection (for the browser to place a code and invert a
    click; None: a non-linear map, whose clicks in empty space and cursor
    marks the server answers) and its sliders' basis."""
    proj, basis = sp.projection, sp.basis
    return {
        "projection": {
            "mean": proj.mean.tolist(),
            "components": proj.components.tolist(),
            "offset": proj.offset.tolist(),
            "back": proj.back.tolist(),
        }
        if proj.is_linear
        else None,
        "basis": {
            "mean": basis.mean.tolist(),
            "components": basis.components.tolist(),
            "labels": list(basis.labels),
            "ranges": basis.ranges.tolist(),
        },
    }


def dataset_identity(ds: ImageDataset) -> str:
    """Names a dataset's content: its name, split and size, and a hash of its
    first and last images (a changed store gets a new name anyway)."""
    ends = np.ascontiguousarray(ds.images[[0, -1]]).tobytes() if len(ds) else b""
    return f"{ds.name}|{ds.split}|{len(ds)}|{hashlib.sha256(ends).hexdigest()[:16]}"


def means_url(path: str, identity: str, space) -> str:
    """Every image's latent mean, float32 ``[N, D]``, as a file the browser fetches."""
    return _means_url(path, identity, str(component_dir()), space)


# (the folder the file is written to is part of the key: a URL cached for
# one folder names no file in another, e.g. after XDG_CACHE_HOME changed)
@st.cache_resource(max_entries=16, show_spinner=False)
def _means_url(path: str, identity: str, folder: str, _space) -> str:
    return file_url("means", np.ascontiguousarray(_space.z, dtype="<f4").tobytes())


def labels_url(ds: ImageDataset) -> str | None:
    if ds.labels is None:
        return None
    return _labels_url(dataset_identity(ds), str(component_dir()), ds)


@st.cache_resource(max_entries=16, show_spinner=False)
def _labels_url(identity: str, folder: str, _ds: ImageDataset) -> str:
    labels = np.clip(_ds.labels, 0, 255).astype(np.uint8)
    return file_url("labels", labels.tobytes())
