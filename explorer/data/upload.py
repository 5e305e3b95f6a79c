"""Bring your own image: read an uploaded file safely and make it look like the
dataset (grey scale, light strokes on black, centred, the dataset's size).

Nothing here trusts the file: its size, format and pixel count are checked
before any pixel is decoded, so a decompression bomb is refused unread.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from explorer.data.images import to_8bit
from explorer.problem import Problem

MAX_BYTES = 10 * 2**20  # 10 MiB
MAX_PIXELS = 25_000_000  # 25 megapixels (a 5000 x 5000 photo)
FORMATS = ("PNG", "JPEG")


class UploadError(Problem, ValueError):
    """The file cannot be used; the message says why, for the user."""

    MESSAGES = {
        "bytes": "the file is {mib:.1f} MiB; the limit is {limit} MiB",
        "empty": "the file is empty",
        "pixels": "the image is {w} x {h} pixels; the limit is {limit:.0f} megapixels",
        "bomb": "the image claims too many pixels to decode safely; the limit is "
        "{limit:.0f} megapixels ({reason})",
        "format": "not a PNG or JPEG image we can read",
        "damaged": "the image is damaged or too large to decode ({reason})",
        "blank": "the image is blank: nothing stands out from its background",
    }


def open_image(data: bytes) -> Image.Image:
    """Opens PNG or JPEG bytes, refusing large, foreign or bomb-like files."""
    if len(data) > MAX_BYTES:
        raise UploadError("bytes", mib=len(data) / 2**20, limit=MAX_BYTES // 2**20)
    if not data:
        raise UploadError("empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=FORMATS)
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise UploadError("pixels", w=w, h=h, limit=MAX_PIXELS / 1e6)
            im.load()
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise UploadError("bomb", limit=MAX_PIXELS / 1e6, reason=e) from e
    except UnidentifiedImageError as e:
        # Pillow's own words name an in-memory object: nothing for a user.
        raise UploadError("format") from e
    except (OSError, ValueError, SyntaxError) as e:
        raise UploadError("damaged", reason=e) from e
    return im


def border_pixels(a: np.ndarray) -> np.ndarray:
    """The pixels along the four edges of an image ``[H, W]`` or ``[H, W, C]``."""
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])


def preprocess(
    data: bytes, shape: tuple[int, int, int], pad: int = 2
) -> tuple[np.ndarray, dict]:
    """An uploaded image as the dataset's uint8 ``[C, H, W]``, and what was done.

    Steps: honour the EXIF orientation; flatten transparency onto white. For
    grey data: grey scale; invert when the background (the border's median)
    is light, since the grey datasets draw light objects on black; crop to the
    object (pixels above a fifth of the brightest); fit it, keeping its
    aspect ratio, inside the image less ``pad`` pixels on each side; centre
    it. For colour data (C = 3) the colours are kept: the whole image is
    fitted, keeping its aspect ratio, and padded with its border's colour.
    """
    c, h, w = shape
    im = ImageOps.exif_transpose(open_image(data))
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    if c == 3:
        rgb = to_8bit(im).convert("RGB")
        arr = np.asarray(rgb)
        border = np.median(border_pixels(arr), axis=0).astype(int)
        fitted = ImageOps.pad(
            rgb, (w, h), Image.Resampling.LANCZOS, color=tuple(int(v) for v in border)
        )
        steps = {
            "original size": im.size,
            "inverted": False,
            "done": "colours kept; fitted whole, padded with its border colour",
        }
        return np.asarray(fitted, np.uint8).transpose(2, 0, 1).copy(), steps
    grey = np.asarray(to_8bit(im).convert("L"), dtype=np.float32)
    background = float(np.median(border_pixels(grey)))
    inverted = background > 127
    if inverted:
        grey, background = 255.0 - grey, 255.0 - background
    grey -= background
    grey = np.clip(grey, 0, None)
    peak = grey.max()
    if peak <= 0:
        raise UploadError("blank")
    rows = np.flatnonzero((grey > peak / 5).any(1))
    cols = np.flatnonzero((grey > peak / 5).any(0))
    crop = grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] * (255.0 / peak)
    box_h, box_w = max(h - 2 * pad, 1), max(w - 2 * pad, 1)
    scale = min(box_h / crop.shape[0], box_w / crop.shape[1])
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = Image.fromarray(crop.astype(np.uint8)).resize(
        size, Image.Resampling.LANCZOS, reducing_gap=3.0
    )
    out = np.zeros((h, w), np.uint8)
    top, left = (h - size[1]) // 2, (w - size[0]) // 2
    out[top : top + size[1], left : left + size[0]] = np.asarray(small)
    steps = {
        "original size": im.size,
        "inverted": inverted,
        "object box": (int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])),
        "done": ("grey, inverted, " if inverted else "grey, ") + "cropped, fitted",
    }
    return np.repeat(out[None], c, axis=0), steps
