"""Small UI pieces the page, the panels and the tabs share: images at a
readable size, captions, downloads, the nearest images."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app import i18n
from explorer.app import keys as K
from explorer.app.i18n import N_, _
from explorer.app.markdown import verbatim
from explorer.data.images import data_url, strip, to_png
from explorer.latent.neighbours import nearest_images

FAR = 3.0  # "far from the data": this many typical neighbour gaps away
# (shown with ``i18n.marked``)
NO_MODEL = N_("No model could be opened for this dataset (see the errors above).")
NO_GAP = N_(
    "The images' codes have no gap between them (one image, or all at one "
    "point), so there is no scale to judge how far from the data a point is."
)
THUMB = 2  # on-screen pixels per image pixel in thumbnails and rows
N_NEIGHBOURS = 8
N_RESAMPLE = 8
N_UNUSUAL = 12


# The class names of the built-in datasets whose names the catalogs translate
# (MNIST's digits are shown as they are), keyed by dataset name.
CLASS_NAMES = {
    "fashion-mnist": (
        N_("T-shirt/top"),
        N_("Trouser"),
        N_("Pullover"),
        N_("Dress"),
        N_("Coat"),
        N_("Sandal"),
        N_("Shirt"),
        N_("Sneaker"),
        N_("Bag"),
        N_("Ankle boot"),
    ),
}


def class_names(ds) -> tuple[str, ...]:
    """``ds``'s class names as the page shows them: a built-in dataset's in
    this session's language (``CLASS_NAMES``), any other's as they are."""
    names = tuple(ds.class_names)
    if CLASS_NAMES.get(getattr(ds, "name", None)) == names:
        return tuple(i18n.marked(n) for n in names)
    return names


def class_name(ds, index: int) -> str:
    """An image's class name, as Markdown that shows it as typed (names come
    from users' folders)."""
    if ds.labels is None:
        return _("unlabelled")
    return verbatim(class_names(ds)[ds.labels[index]])


def labels_for(sp, ds, n: int) -> np.ndarray | None:
    """The labels a conditional model decodes with: the selected image's class
    (or the class picked in the Conditional tab); None for other models."""
    if not sp.conditional:
        return None
    return np.full(n, int(ds.labels[st.session_state[K.SEL]]))


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
    # In the page's message as a data URL: a few kilobytes that the browser
    # draws as they come, where bytes would be registered as a media file for
    # the browser to fetch, one request per image per rerun (and st.image
    # would re-encode them as a lossy JPEG).
    st.image(data_url(png), caption=caption, width=img.shape[-1] * scale)
    return png


def download(label: str, data, file_name: str, mime: str, key: str) -> None:
    """A download button; ``data``: bytes, text, or a callable that makes
    them when the button is pressed (a large file)."""
    st.download_button(
        label, data, file_name=file_name, mime=mime, key=key, on_click="ignore"
    )


def live_panels(panels) -> list:
    return [p for p in panels.values() if p.space is not None]


def neighbour_strip(sp, ds, z: np.ndarray, k: int = N_NEIGHBOURS) -> None:
    """The ``k`` dataset images nearest ``z`` in latent space, as one row."""
    idx, dist = nearest_images(sp.nearest, z, k)
    show(strip(ds.images[idx]), scale=zoom(THUMB, ds))
    if len(idx) == k:
        title = _("Nearest images: {images}")
    elif len(idx) == 1:
        title = _("The only image: {images}")
    else:
        title = _("All {n} images, nearest first: {images}")
    images = _(", ").join(
        _("#{index} {name} ({distance})").format(
            index=i, name=class_name(ds, i), distance=i18n.number(d, 2)
        )
        for i, d in zip(idx, dist, strict=True)
    )
    st.caption(title.format(n=len(idx), images=images))


def large_map_lines(points) -> list[tuple[str, str]]:
    """Says what a large map shows (nothing for a map that draws every point),
    as ``("caption", markdown)`` lines."""
    d = points.density
    if not d:
        return []
    text = LARGE_MAP_ALL if points.n == d["in_window"] else LARGE_MAP_SAMPLE
    return [
        (
            "caption",
            i18n.marked(text).format(
                shown=i18n.number(d["shown"]),
                in_view=i18n.number(d["in_window"]),
                drawn=i18n.number(points.n),
            ),
        )
    ]


# A large map's note (``large_map_lines``; the view writes it under its map
# with the numbers of its window, ``viewdata.words``).
LARGE_MAP_ALL = N_(
    "{shown} images: too many to draw one by one, so the shaded layer shows "
    "where they all lie ({in_view} in view), and {drawn} of them are drawn as "
    "points (all of those in view)."
)
LARGE_MAP_SAMPLE = N_(
    "{shown} images: too many to draw one by one, so the shaded layer shows "
    "where they all lie ({in_view} in view), and {drawn} of them are drawn as "
    "points, a fixed sample: zoom in to draw every one."
)
