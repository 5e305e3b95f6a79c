"""Small UI pieces the page, the panels and the tabs share: images at a
readable size, captions, downloads, the nearest images."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app import keys as K
from explorer.app.markdown import verbatim
from explorer.data.images import strip, to_png
from explorer.latent.neighbours import nearest_images

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


def class_name(ds, index: int) -> str:
    """An image's class name, as Markdown that shows it as typed (names come
    from users' folders)."""
    if ds.labels is None:
        return "unlabelled"
    return verbatim(ds.class_names[ds.labels[index]])


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
    # PNG as made: st.image would otherwise re-encode it as a lossy JPEG.
    st.image(png, caption=caption, width=img.shape[-1] * scale, output_format="PNG")
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


def large_map_lines(points) -> list[tuple[str, str]]:
    """Says what a large map shows (nothing for a map that draws every point),
    as ``("caption", markdown)`` lines."""
    d = points.density
    if not d:
        return []
    return [
        (
            "caption",
            f"{d['shown']:,} images: too many to draw one by one, so the shaded "
            f"layer shows where they all lie ({d['in_window']:,} in view), and "
            f"{points.n:,} of them are drawn as points"
            + (
                " (all of those in view)."
                if points.n == d["in_window"]
                else ", a fixed sample: zoom in to draw every one."
            ),
        )
    ]
