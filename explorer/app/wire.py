"""What the app's routes send over the wire: each body once gzipped (when that
saves bytes) and named by a hash of its content (its ETag), so a browser that
has it fetches nothing again and one that asks again gets a 304.

Streamlit compresses nothing it serves from ``/static`` (its gzip middleware
would compress every response again, on the event loop that also carries
every session's websocket). Here a body is compressed once per process and
kept (``blob``), and ``StaticGzip`` does the same for Streamlit's own
content-hashed bundles (a first visit's largest part after the decoders;
the ``bytes`` benchmark suite measures both).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CACHE_BYTES = 64 * 2**20  # the bodies kept in memory (plain and gzipped)
LARGEST = 32 * 2**20  # a larger body is not kept (nor compressed)
SMALLEST = 1024  # a smaller body goes as it is
SAVES = 0.95  # gzipped only when that leaves at most this share of the bytes
LEVEL = 6
# Pixels: fetched as a click or a zoom needs them, each chunk compressed on
# its first request while its user waits; zlib's fastest level takes half
# the time of level 6 on a chunk of 256 Fashion-MNIST images for 3% more bytes.
PIXELS_LEVEL = 1
FOREVER = "public, max-age=31536000, immutable"
# Streamlit's own bundles, under its static folder: hashed names, text only
STATIC = re.compile(r"(js|css)/[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.(js|css)")
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}


@dataclass(frozen=True)
class Blob:
    """A body as sent: ``data``, ``gz`` (its gzip, or None when that would
    not save bytes) and ``tag`` (its ETag, quoted: a hash of ``data``)."""

    data: bytes
    gz: bytes | None
    tag: str

    @property
    def size(self) -> int:
        return len(self.data) + len(self.gz or b"")


def pack(data: bytes, level: int = LEVEL) -> Blob:
    """``data`` as sent: hashed, and gzipped (at ``level``) when that saves
    bytes."""
    tag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    gz = None
    if SMALLEST <= len(data) <= LARGEST:
        packed = gzip.compress(data, level, mtime=0)
        gz = packed if len(packed) <= SAVES * len(data) else None
    return Blob(data, gz, tag)


_blobs: OrderedDict[tuple, Blob] = OrderedDict()
_lock = threading.Lock()


def blob(key: tuple, read: Callable[[], bytes], level: int = LEVEL) -> Blob:
    """The ``Blob`` of what ``read()`` returns, made once per ``key`` (which
    must name the content: a file named by its hash, a dataset's chunk) and
    kept, the least recently used going past ``CACHE_BYTES``."""
    with _lock:
        got = _blobs.get(key)
        if got is not None:
            _blobs.move_to_end(key)
            return got
    made = pack(read(), level)
    if made.size > LARGEST:
        return made
    with _lock:
        _blobs[key] = made
        total = sum(b.size for b in _blobs.values())
        while total > CACHE_BYTES and len(_blobs) > 1:
            total -= _blobs.popitem(last=False)[1].size
    return made


def accepts_gzip(headers) -> bool:
    """Whether a request's ``Accept-Encoding`` takes gzip."""
    return any(
        part.split(";")[0].strip() == "gzip"
        and not re.search(r";\s*q=0(\.0*)?\s*$", part)
        for part in headers.get("accept-encoding", "").lower().split(",")
    )


def fresh(headers, tag: str) -> bool:
    """Whether a request's ``If-None-Match`` names ``tag`` (the browser's
    copy is this one: a 304 answers it)."""
    asked = headers.get("if-none-match", "")
    return asked.strip() == "*" or tag in [t.strip() for t in asked.split(",")]


def response(request, b: Blob, media_type: str, background=None):
    """The response to ``request`` for ``b``: a 304 when the browser has it,
    else its gzip (when the browser takes it) or its bytes; cached forever
    either way. ``Content-Encoding`` is always set, so Streamlit's gzip
    middleware leaves the body alone."""
    from starlette.responses import Response

    headers = {"Cache-Control": FOREVER, "ETag": b.tag, "Vary": "Accept-Encoding"}
    if fresh(request.headers, b.tag):
        return Response(status_code=304, headers=headers, background=background)
    if b.gz is not None and accepts_gzip(request.headers):
        body, headers["Content-Encoding"] = b.gz, "gzip"
    else:
        body, headers["Content-Encoding"] = b.data, "identity"
    return Response(body, media_type=media_type, headers=headers, background=background)


def file_response(request, path: Path, media_type: str, tag: str, background=None):
    """A file too large to keep (``LARGEST``), streamed as it is; ``tag``
    names its content (a name made from it, and its size)."""
    from starlette.responses import FileResponse, Response

    tag = f'"{tag}"'
    headers = {"Cache-Control": FOREVER, "ETag": tag, "Content-Encoding": "identity"}
    if fresh(request.headers, tag):
        return Response(status_code=304, headers=headers, background=background)
    return FileResponse(
        path, media_type=media_type, headers=headers, background=background
    )


def static_dir() -> Path:
    from streamlit import file_util

    return Path(file_util.get_static_dir())


class StaticGzip:
    """ASGI middleware (``st.App(middleware=...)``): Streamlit's own
    content-hashed bundles (``<base>/static/js/*.js``, ``.../css/*.css``) sent
    gzipped to a browser that takes it, each compressed once per process;
    everything else passes on to Streamlit as it was."""

    def __init__(self, app, base: Callable[[], str] = lambda: ""):
        self.app = app
        self.base = base  # the server's base URL path ("" at the root)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            prefix = self.base() + "/static/"
            path = scope["path"]
            if path.startswith(prefix) and STATIC.fullmatch(path[len(prefix) :]):
                sent = await self._send(scope, receive, send, path[len(prefix) :])
                if sent:
                    return
        await self.app(scope, receive, send)

    async def _send(self, scope, receive, send, name: str) -> bool:
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import Request

        request = Request(scope)
        f = static_dir() / "static" / name  # (Streamlit mounts its folder at /)
        if not accepts_gzip(request.headers) or not f.is_file():
            return False
        b = await run_in_threadpool(blob, ("static", str(f)), f.read_bytes)
        if b.gz is None:
            return False
        kind = STATIC_TYPES[f.suffix]
        await response(request, b, kind)(scope, receive, send)
        return True
