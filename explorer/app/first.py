"""The first paint: a new visitor's maps, drawn before the page imports
PyTorch and scikit-learn.

A new session's first run shows the view its address asks for: the plain
address's default view, or a link's (its query string holds the whole state
the maps show: dataset, models, selection, cursors, tab). That view is the
same for everyone until the checkpoints, the data or the code change. Each
such run saves what it drew (the panels' headings and the view's data, a few
kB of JSON) under a key made of those and of the address's query; the next
new visitor of the same address is shown it at once, from this module, which
imports neither library (an import-linter contract checks that), and only
then imports the rest of the page. The rest of the run computes the view
again: when it matches, nothing is sent twice; when it does not (a cache
folder cleared under the server), the saved copy is replaced and the page
reruns. At most ``KEEP`` addresses are kept, the most recently saved.

The view's files (points, means, decoders) are the ones the saved data
names, in the cache folder; the image chunks route waits for the page to
register the dataset (``routes.register_images``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import streamlit as st

from explorer.app import keys as K
from explorer.app import routes
from explorer.app.components.view import view
from explorer.fileio import atomic_write, cache_dir, read_json, weights_dir

VERSION = 2
KEEP = 256  # saved views (addresses) at most


def _code() -> str:
    """A hash of the code that shapes the first view (the app's Python and
    every file of the view's folder)."""
    from explorer.app.components.view import version

    h = hashlib.sha256(str(VERSION).encode())
    app = Path(__file__).parent
    files = sorted(app.glob("*.py")) + sorted(app.glob("components/*.py"))
    files += sorted(app.glob("lesson/*.py"))  # (a step draws marks on the maps)
    for f in files:
        h.update(f.name.encode() + f.read_bytes())
    h.update(f"view:{version()}".encode())
    return h.hexdigest()


def key() -> str | None:
    """Names the default view: the code, the checkpoints (their files' sizes
    and times), the data and cache settings. None in an explore session (its
    models live in its process)."""
    # (an explore session sets it before serving; another thread may be
    # importing the module right now, so it is read without a call)
    session = sys.modules.get("explorer.app.session")
    if getattr(session, "_current", None) is not None:
        return None
    h = hashlib.sha256(_code().encode())
    for var in ("EXPLORER_DATA_DIR", "EXPLORER_SPACES_DIR", "XDG_CACHE_HOME"):
        h.update(f"{var}={os.environ.get(var, '')}".encode())
    root = weights_dir()
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir())
    except OSError:
        return None
    for folder in folders:
        h.update(folder.name.encode())
        for f in sorted(folder.iterdir()):
            try:
                st_ = f.stat()
            except OSError:
                continue
            h.update(f"{f.name}:{st_.st_size}:{st_.st_mtime_ns}".encode())
    return h.hexdigest()[:32]


def _folder() -> Path:
    return cache_dir() / "first-view"


def _path(k: str, query: dict[str, list[str]]) -> Path:
    """The saved view of key ``k``, an address's query and the session's
    language (its headers are in it): the plain address's in English is
    ``{k}.json``."""
    from explorer.app.i18n import SOURCE, lang

    language = lang()
    if not query and language == SOURCE:
        return _folder() / f"{k}.json"
    canon = json.dumps([language, sorted(query.items())], separators=(",", ":"))
    return _folder() / f"{k}-{hashlib.sha256(canon.encode()).hexdigest()[:16]}.json"


def query() -> dict[str, list[str]]:
    """The address's query: every value of each parameter, as given."""
    qp = st.query_params
    return {name: list(qp.get_all(name)) for name in qp}


def fresh() -> bool:
    """Whether this run is a new session's first (nothing set yet)."""
    return not st.session_state.to_dict()


def paint(new: bool) -> dict | None:
    """On a new session's first run (``new``: ``fresh`` before the run set
    anything), shows the view saved for its address and language; returns
    its data (the page then checks it), or None when there is none to
    show."""
    if not new:
        return None
    q = query()
    st.session_state[K.FIRST_RUN_QUERY] = q  # what the page saves its view under
    k = key()
    saved = read_json(_path(k, q)) if k else None
    if not saved or saved.get("key") != k or saved.get("query", {}) != q:
        return None
    show_headers(saved["headers"])
    show_until_drawn(with_images(saved["data"], saved.get("images") or {}))
    return saved["data"]


WAIT = 3.0  # seconds at most


def show_until_drawn(data: dict) -> str:
    """Mounts the view with ``data`` and a new token, then waits (``WAIT``
    seconds at most) until this page's browser says it has drawn it (its
    beacon with that token): the page's imports and computations that follow
    hold the interpreter and a core, and the routes the browser fetches its
    files from answer from this process. Returns the token."""
    import secrets

    token = secrets.token_hex(8)
    view(dict(data, drawn_token=token))
    name = routes.drawn_name(token)
    routes.wait_served([name], WAIT)
    routes.forget(name)
    return token


def with_images(data: dict, images: dict) -> dict:
    """The view's data with the saved images (PNG data URLs) of the selected
    image and of each model's decode at its cursor, so the first paint needs
    neither the dataset's chunks nor the decoders."""
    out = dict(data, maps=[dict(m) for m in data["maps"]])
    if images.get("selected"):
        out["selected"] = dict(out["selected"], image=images["selected"])
    for m in out["maps"]:
        if m["image"] is None and images.get(m["slot"]):
            m["image"] = images[m["slot"]]
    return out


def show_headers(headers: list[list[list[str]]]) -> None:
    """Both panels' headings in two columns: ``[[kind, markdown], ...]`` each."""
    cols = st.columns(2, gap="large")
    for col, lines in zip(cols, headers, strict=False):
        with col:
            for kind, text in lines:
                getattr(st, kind)(text)


def save(query: dict, headers: list, data: dict, images: dict) -> None:
    """Saves the view a new session's first run drew for the address of
    ``query``, and its images (``with_images``); keeps the ``KEEP`` newest."""
    k = key()
    if k is None:
        return
    record = {
        "key": k,
        "query": query,
        "headers": headers,
        "data": data,
        "images": images,
    }
    try:
        atomic_write(_path(k, query), json.dumps(record).encode())
        prune()
    except OSError:
        pass  # a read-only cache: every first run computes its view


def prune() -> None:
    """Removes all but the ``KEEP`` most recently saved views."""

    def age(f: Path) -> float:
        try:
            return f.stat().st_mtime
        except OSError:
            return 0.0

    saved = sorted(_folder().glob("*.json"), key=age, reverse=True)
    for f in saved[KEEP:]:
        f.unlink(missing_ok=True)


def same(a: dict, b: dict) -> bool:
    """Whether two views' data are equal as JSON."""
    return json.loads(json.dumps(a)) == json.loads(json.dumps(b))
