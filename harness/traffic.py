"""What a page fetched over the network, by the browser's own count (Chrome
DevTools Protocol): each response's bytes on the wire (``encodedDataLength``:
headers and the body as sent, compressed or not; 0 for one the browser took
from its cache) and the websocket's frames, each sorted into a ``KIND``.

Used by the bytes benchmark (``benchmarks/bytes.py``) and the browser test
that a second visit fetches none of the app's data.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from dataclasses import dataclass, field

# The kinds, in the table's order, each with what its URLs' paths hold
# (the first that matches). The app's data is every kind under /_lx/.
KINDS = (
    ("Streamlit's JS/CSS/fonts", ("/static/", "/favicon", "/_stcore/")),
    ("decoders", ("/_lx/files/latent_map/decoder-",)),
    ("plotly.js", ("/_lx/files/latent_map/plotly",)),
    ("pixels", ("/_lx/images/", "/media/")),
    ("points and means", ("/_lx/files/latent_map/",)),
    ("view modules", ("/_lx/files/",)),
)
WEBSOCKET = "websocket"
APP = "/_lx/"


def kind(url: str) -> str:
    """The kind of what ``url`` fetches (``KINDS``; the page itself and what
    else it asks for: "page")."""
    from urllib.parse import urlsplit

    path = urlsplit(url).path
    for name, parts in KINDS:
        if any(p in path for p in parts):
            return name
    return "page"


@dataclass
class Traffic:
    """One page's fetches from the network, recorded from ``record`` on."""

    bytes: Counter = field(default_factory=Counter)  # kind -> bytes
    urls: dict = field(default_factory=dict)  # request id -> url
    cached: set = field(default_factory=set)  # request ids the cache answered
    status: dict = field(default_factory=dict)  # request id -> HTTP status
    sizes: dict = field(default_factory=dict)  # request id -> bytes
    open: set = field(default_factory=set)  # request ids not finished yet

    @property
    def total(self) -> int:
        return sum(self.bytes.values())

    def network(self, app_only: bool = True) -> list[str]:
        """The URLs fetched from the server (not answered by the browser's
        cache; a 304 counts: it was asked), the app's only by default."""
        return [
            u
            for rid, u in self.urls.items()
            if rid in self.sizes
            and rid not in self.cached
            and not u.startswith(("data:", "blob:"))
            and (APP in u or not app_only)
            and not u.split("?")[0].endswith("/drawn")
        ]

    def settled(self) -> bool:
        """No request of the page is under way."""
        return not self.open


def _frame_bytes(payload: str, opcode: int) -> int:
    # CDP gives a binary frame base64-encoded, a text frame as text
    if opcode == 2:
        return len(base64.b64decode(payload))
    return len(payload.encode())


def record(context, page) -> Traffic:
    """Starts recording ``page``'s traffic (before its ``goto``)."""
    t = Traffic()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")

    def sent(e):
        t.urls[e["requestId"]] = e["request"]["url"]
        if not e["request"]["url"].startswith(("data:", "blob:")):
            t.open.add(e["requestId"])

    def received(e):
        r = e["response"]
        t.status[e["requestId"]] = r["status"]
        if r.get("fromDiskCache") or r.get("fromPrefetchCache"):
            t.cached.add(e["requestId"])

    def finished(e):
        rid = e["requestId"]
        t.open.discard(rid)
        t.sizes[rid] = int(e["encodedDataLength"])
        t.bytes[kind(t.urls.get(rid, ""))] += int(e["encodedDataLength"])

    def frame(e):
        r = e["response"]
        t.bytes[WEBSOCKET] += _frame_bytes(r["payloadData"], r["opcode"])

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.requestServedFromCache", lambda e: t.cached.add(e["requestId"]))
    cdp.on("Network.responseReceived", received)
    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.loadingFailed", lambda e: t.open.discard(e["requestId"]))
    cdp.on("Network.webSocketFrameReceived", frame)
    cdp.on("Network.webSocketFrameSent", frame)
    return t


def wait_settled(page, t: Traffic, timeout: float = 60.0) -> None:
    """Waits until none of the page's requests is under way (polling, so
    that Playwright delivers the protocol's events)."""
    deadline = time.monotonic() + timeout
    while not t.settled():
        if time.monotonic() > deadline:
            raise AssertionError(f"requests still open: {len(t.open)}")
        page.wait_for_timeout(20)
