"""The app's data plane: binary files the browser fetches by URL, with no rerun.

The page's component (``components.view``) gets only a few kB of JSON per
rerun. Everything large reaches the browser through these Starlette routes,
mounted beside Streamlit's own by ``st.App`` (``app.py``, and the server of
``latent-explorer explore``):

- ``<base>/_lx/files/<folder>/<name>``: a file the app wrote once under a name
  made from its content (points, decoders, latent means, density images) in a
  component folder, or the view's own modules (under a folder name that holds
  their version, ``components.view.module_url``) and plotly.js. Cached forever.
- ``<base>/_lx/images/<token>/<chunk>``: ``CHUNK`` images of a dataset, uint8
  ``[n, C, H, W]`` as stored, read from its (memory-mapped) array. ``token``
  names the dataset's content, so the browser may cache these forever too.

A dataset is served only once the page registered it (``register_images``),
and only the folders registered with ``serve_folder`` are readable.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

REGISTER_WAIT = 30  # seconds a chunk request waits for its dataset to be registered
CHUNK = 256  # images per request: 196 kB for 28x28 grey, 3 MB for 64x64 RGB
PREFIX = "/_lx"
# Sent as they are: Streamlit's gzip middleware would otherwise compress each
# response again on every request, 64 kB at a time on the event loop that
# also carries every session's websocket (megabytes of means or points held
# other pages' reruns for seconds). Streamlit serves its own static bundles
# uncompressed for the same reason; a proxy in front may compress and cache.
FOREVER = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Encoding": "identity",
}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".bin": "application/octet-stream",
}

SCRIPT = Path(__file__).with_name("script.py")  # the page Streamlit runs

_images: dict[str, np.ndarray] = {}
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


def register_images(images: np.ndarray, identity: str) -> str:
    """Serves a dataset's images ``[N, C, H, W]`` uint8; returns its URL.

    ``identity`` must change whenever the images do (a store's name holds the
    hash of its data; a built-in dataset's name, splits and size).
    """
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            f"images must be uint8 [N, C, H, W], not {images.dtype} {images.shape}"
        )
    token = hashlib.sha256(f"{identity}|{images.shape}".encode()).hexdigest()[:20]
    with _lock:
        _images[token] = images
    return f"{base()}/images/{token}"


def wait_served(urls: list[str], timeout: float) -> bool:
    """Waits until each file of ``urls`` has been sent whole to the browser
    (or for ``timeout`` seconds); whether it was. The first paint waits so, before
    the page's heavy imports take the server's time."""
    names = {u.split("?", 1)[0].rsplit("/", 1)[-1] for u in urls if u}
    with _served_changed:
        return _served_changed.wait_for(lambda: names <= _served, timeout)


def image_chunk(token: str, chunk: int) -> bytes | None:
    """The bytes of one chunk of a registered dataset, or None."""
    with _lock:
        images = _images.get(token)
    if images is None or chunk < 0 or chunk * CHUNK >= max(len(images), 1):
        return None
    return np.ascontiguousarray(images[chunk * CHUNK : (chunk + 1) * CHUNK]).tobytes()


async def _file(request):
    from starlette.background import BackgroundTask
    from starlette.responses import FileResponse, PlainTextResponse

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
    return FileResponse(path, media_type=kind, headers=FOREVER, background=done)


def _mark_served(name: str) -> None:
    with _served_changed:
        _served.add(name)
        _served_changed.notify_all()


async def _images_route(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import PlainTextResponse, Response

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
    data = await run_in_threadpool(image_chunk, token, chunk)
    if data is None:
        return PlainTextResponse("not found", status_code=404)
    return Response(data, media_type="application/octet-stream", headers=FOREVER)


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
    ]
