"""Images for display and export: PNG bytes, film strips, animated GIFs."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def to_pil(img: np.ndarray, scale: int = 1) -> Image.Image:
    """uint8 ``[C, H, W]`` (C = 1 or 3) to a PIL image, enlarged ``scale`` times
    with nearest-neighbour sampling so pixels stay crisp."""
    arr = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
    im = Image.fromarray(np.ascontiguousarray(arr))
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.Resampling.NEAREST)
    return im


def to_8bit(im: Image.Image) -> Image.Image:
    """A 16-bit or 32-bit grey image scaled to 8 bits by its brightest pixel
    (Pillow's own conversion clips everything above 255 to white)."""
    if im.mode not in ("I;16", "I;16B", "I;16L", "I", "F"):
        return im
    arr = np.asarray(im, dtype=np.float64)
    arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0).clip(0, None)
    return Image.fromarray((arr * 255.0 / max(arr.max(), 1e-12)).astype(np.uint8))


def to_png(img: np.ndarray, scale: int = 1) -> bytes:
    """``img`` as PNG, enlarged ``scale`` times (``to_pil``). Compressed at
    zlib's fastest level: a page's images are a few kilobytes either way,
    and the fastest level takes a third of the default's time on an enlarged
    film strip, every click."""
    buf = io.BytesIO()
    to_pil(img, scale).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def data_url(png: bytes) -> str:
    """PNG bytes as a ``data:`` URL, which a page shows without fetching."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


def strip(images: np.ndarray, gap: int = 2, fill: int = 255) -> np.ndarray:
    """Images ``[T, C, H, W]`` side by side, ``gap`` pixels apart: ``[C, H, W']``."""
    t, c, h, w = images.shape
    out = np.full((c, h, t * w + (t - 1) * gap), fill, dtype=np.uint8)
    for i, im in enumerate(images):
        out[:, :, i * (w + gap) : i * (w + gap) + w] = im
    return out


def grid(rows: np.ndarray, gap: int = 2, fill: int = 255) -> np.ndarray:
    """Images ``[R, T, C, H, W]`` as one ``[C, H', W']`` grid."""
    strips = [strip(r, gap, fill) for r in rows]
    c, h, w = strips[0].shape
    out = np.full(
        (c, len(strips) * h + (len(strips) - 1) * gap, w), fill, dtype=np.uint8
    )
    for i, s in enumerate(strips):
        out[:, i * (h + gap) : i * (h + gap) + h] = s
    return out


def to_gif(frames: np.ndarray, scale: int = 1, ms_per_frame: int = 120) -> bytes:
    """Frames ``[T, C, H, W]`` as an animated GIF that plays forward then back
    (so the loop has no jump) and repeats forever."""
    if len(frames) == 0:
        raise ValueError("no frames")
    order = list(range(len(frames))) + list(range(len(frames) - 2, 0, -1))
    ims = [to_pil(frames[i], scale) for i in order]
    if ims[0].mode == "RGB":
        ims = [im.convert("P", palette=Image.Palette.ADAPTIVE) for im in ims]
    buf = io.BytesIO()
    ims[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=ims[1:],
        duration=ms_per_frame,
        loop=0,
        disposal=1,
        optimize=False,
    )
    return buf.getvalue()
