"""The app's data plane: binary files the browser fetches by URL, with no rerun.

The page's component (``components.view``) gets only a few kB of JSON per
rerun. Everything large reaches the browser through these Starlette routes,
mounted beside Streamlit's own by ``st.App`` (``app.py``, and the server of
``latent-explorer explore``):

- ``<base>/_lx/files/<folder>/<name>``: a file the app wrote once under a name
  made from its content (points, decoders, latent means, density images) in a
  component folder, or the view's own modules (under a folder name that holds
  their version, ``components.view.module_url``) and plotly.js (``?v=`` its
  hash). Cached forever.
- ``<base>/_lx/images/<token>/<chunk>``: a chunk of a dataset's images, uint8
  ``[n, C, H, W]`` as stored, read from its (memory-mapped) array;
  ``chunk_size`` images each, about ``CHUNK_BYTES``. ``token`` names the
  dataset's content and the chunks' size, so the browser may cache these
  forever too.
- ``<base>/_lx/images/<token>/pick/<ids>``: the images ``ids`` (``picked``:
  at most ``PICK`` of them) one after another, uint8 ``[n, C, H, W]``: the
  thumbnails of a zoomed-in map, whose images are spread over every chunk.

Each body goes gzipped when that saves bytes, compressed once per process,
with its content hash as its ETag (``explorer.app.wire``); a browser that asks
again is answered 304. ``middleware`` does the same for Streamlit's own
bundles.

A dataset is served only once the page registered it (``register_images``),
and only the folders registered with ``serve_folder`` are readable.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from explorer.app import wire

REGISTER_WAIT = 30  # seconds a chunk request waits for its dataset to be registered
CHUNK = 256  # images per request at most: 196 kB for 28x28 grey
CHUNK_BYTES = 256 * 2**10  # and at most about this many bytes (16 at least)
PREFIX = "/_lx"
PICK = 1024  # images one pick request may ask for
PICKED = re.compile(r"[0-9a-z]{1,8}(\.[0-9a-z]{1,8})*")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".bin": "application/octet-stream",
}

SCRIPT = Path(__file__).with_name("script.py")  # the page Streamlit runs

_images: dict[str, tuple[np.ndarray, int]] = {}  # token -> (images, chunk size)
_lock = threading.Lock()
_served: set[str] = set()  # the files' names served so far
_served_changed = threading.Condition()


def base() -> str:
    """The routes' prefix under the server's base URL path ("/_lx" at the root)."""
    from streamlit import config

    root = (config.get_option("server.baseUrlPath") or "").strip("/")
    return (f"/{root}" if root else "") + PREFIX


_folders: dict[str, Callable[[], Path]] = {}


def serve_folder(name: str, where: Callable[[], Path]) -> None:
    """Serves the files of the folder ``where()`` under ``name`` (the module
    that writes a folder registers it)."""
    _folders[name] = where


def folders() -> dict[str, Path]:
    """The folders files are served from, by the name used in URLs."""
    return {name: where() for name, where in _folders.items()}


def file_url(folder: str, name: str) -> str:
    return f"{base()}/files/{folder}/{name}"


def chunk_size(shape) -> int:
    """Images per chunk for images of ``shape`` ``[C, H, W]``: ``CHUNK``, fewer
    for large images (a click fetches the chunk of its one image), 16 at
    least."""
    return int(max(16, min(CHUNK, CHUNK_BYTES // max(1, int(np.prod(shape))))))


def register_images(images: np.ndarray, identity: str) -> str:
    """Serves a dataset's images ``[N, C, H, W]`` uint8 in chunks of
    ``chunk_size`` images; returns its URL.

    ``identity`` must change whenever the images do (a store's name holds the
    hash of its data; a built-in dataset's name, splits and size).
    """
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            f"images must be uint8 [N, C, H, W], not {images.dtype} {images.shape}"
        )
    chunk = chunk_size(images.shape[1:])
    key = f"{identity}|{images.shape}|{chunk}"
    token = hashlib.sha256(key.encode()).hexdigest()[:20]
    with _lock:
        _images[token] = (images, chunk)
    return f"{base()}/images/{token}"


def wait_served(urls: list[str], timeout: float) -> bool:
    """Waits until each file of ``urls`` has been sent whole to the browser
    (or for ``timeout`` seconds); whether it was. The first paint waits so, before
    the page's heavy imports take the server's time."""
    names = {u.split("?", 1)[0].rsplit("/", 1)[-1] for u in urls if u}
    with _served_changed:
        return _served_changed.wait_for(lambda: names <= _served, timeout)


def image_chunk(token: str, chunk: int, read: bool = True) -> bytes | None:
    """The bytes of one chunk of a registered dataset (``read=False``: b""
    when there is one), or None."""
    with _lock:
        images, n = _images.get(token, (None, 0))
    if images is None or chunk < 0 or chunk * n >= max(len(images), 1):
        return None
    if not read:
        return b""
    return np.ascontiguousarray(images[chunk * n : (chunk + 1) * n]).tobytes()


async def _file(request):
    from starlette.background import BackgroundTask
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import PlainTextResponse

    folder = folders().get(request.path_params["folder"])
    name = request.path_params["name"]
    if folder is None or not NAME.match(name):
        return PlainTextResponse("not found", status_code=404)
    path = folder / name
    if not path.is_file():
        return PlainTextResponse("not found", status_code=404)
    kind = TYPES.get(path.suffix, "application/octet-stream")
    # marked once the whole file has gone out (see wait_served)
    done = BackgroundTask(_mark_served, name)
    try:  # (named by content: its name and size say which bytes it holds)
        size = path.stat().st_size
        if size > wire.LARGEST:  # streamed as it is
            return wire.file_response(request, path, kind, f"{name}-{size}", done)
        b = await run_in_threadpool(
            wire.blob, ("file", str(path), size), path.read_bytes
        )
    except FileNotFoundError:  # evicted just now
        return PlainTextResponse("not found", status_code=404)
    return wire.response(request, b, kind, background=done)


def _mark_served(name: str) -> None:
    with _served_changed:
        _served.add(name)
        _served_changed.notify_all()


async def _images_route(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import PlainTextResponse

    try:
        chunk = int(request.path_params["chunk"])
    except ValueError:
        return PlainTextResponse("not found", status_code=404)
    token = request.path_params["token"]
    # A first paint (explorer.app.first) can ask before the page's run has
    # registered the dataset: wait a little for it.
    for _ in range(REGISTER_WAIT * 10):
        with _lock:
            known = token in _images
        if known:
            break
        await asyncio.sleep(0.1)
    if image_chunk(token, chunk, read=False) is None:
        return PlainTextResponse("not found", status_code=404)
    read = partial(image_chunk, token, chunk)
    b = await run_in_threadpool(
        wire.blob, ("images", token, chunk), read, wire.PIXELS_LEVEL
    )
    return wire.response(request, b, "application/octet-stream")


def picked(ids: str, n: int) -> np.ndarray | None:
    """The dataset indices a pick's path names (``thumbs.js``'s ``pickPath``:
    the first, then each difference from the one before, in base 36, joined
    by dots), or None unless they are at most ``PICK`` ascending indices
    below ``n``."""
    if not PICKED.fullmatch(ids):
        return None
    steps = [int(t, 36) for t in ids.split(".")]
    if len(steps) > PICK or any(d < 1 for d in steps[1:]):
        return None
    out = np.cumsum(steps)
    return out if out[-1] < n else None


async def _pick_route(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import PlainTextResponse

    with _lock:
        images, _ = _images.get(request.path_params["token"], (None, 0))
    ids = None if images is None else picked(request.path_params["ids"], len(images))
    if ids is None:
        return PlainTextResponse("not found", status_code=404)
    # (not kept: each window of a map asks for other images)
    b = await run_in_threadpool(
        lambda: wire.pack(images[ids].tobytes(), wire.PIXELS_LEVEL)
    )
    return wire.response(request, b, "application/octet-stream")


async def _drawn(request):
    """The view's beacon, ``?t=<token>``: the page whose view data carried
    that token has drawn its maps (``first.show_until_drawn`` waits for it)."""
    from starlette.responses import Response

    token = request.query_params.get("t", "")
    if TOKEN.fullmatch(token):
        _mark_served(drawn_name(token))
    return Response(status_code=204)


DRAWN = "drawn"  # the beacons' names among the served files: drawn-<token>
TOKEN = re.compile(r"[0-9a-f]{8,32}")


def drawn_name(token: str) -> str:
    """The name under which a page's beacon with ``token`` is marked served."""
    return f"{DRAWN}-{token}"


def forget(name: str) -> None:
    """Forgets that ``name`` was served (a session's beacon, once waited for)."""
    with _served_changed:
        _served.discard(name)


def routes() -> list:
    """The routes to give ``st.App`` (under the configured base URL path)."""
    from starlette.routing import Route

    b = base()
    return [
        Route(b + "/drawn", _drawn, methods=["POST"]),
        Route(b + "/files/{folder}/{name}", _file, methods=["GET"]),
        Route(b + "/images/{token}/{chunk}", _images_route, methods=["GET"]),
        Route(b + "/images/{token}/pick/{ids}", _pick_route, methods=["GET"]),
    ]


def middleware() -> list:
    """The middleware to give ``st.App``: Streamlit's own bundles gzipped once
    (``wire.StaticGzip``)."""
    from starlette.middleware import Middleware

    return [Middleware(wire.StaticGzip, base=lambda: base()[: -len(PREFIX)])]
