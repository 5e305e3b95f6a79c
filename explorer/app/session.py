"""An explore session: the app started on exactly the models a user gave
(``latent-explorer explore``, ``explorer.explore``), in this process.

The models are already loaded and their store encoded (``explorer.api``);
the page reads them from ``current()`` instead of scanning the weights folder.
The Streamlit server runs on its own thread and event loop, so a notebook
or a script keeps its prompt, and models held in memory (an ``nn.Module``
defined in a notebook) need no file and no pickle to reach the page.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.app.routes import SCRIPT
from explorer.model.protocol import LatentModel


@dataclass(frozen=True)
class SessionModel:
    """One model of a session: ``key`` names its encoding in the store."""

    key: str
    name: str  # shown in the app
    model: LatentModel
    weights: str  # the fingerprint its encoding was made with


@dataclass(frozen=True)
class Session:
    dataset: str  # the store's name in the app
    store: Path
    models: tuple[SessionModel, ...]
    label: str = ""  # the data's name on the page (the store's is a cache key)
    n_images: int = 0  # how many images the store holds

    def find(self, path: str | Path) -> SessionModel | None:
        """The model whose encoding folder is ``path`` (the catalogue's path)."""
        for m in self.models:
            if Path(path) == self.store / m.key:
                return m
        return None


_current: Session | None = None


class SharedSelection:
    """The selection of the explorer this process serves: the newest one
    made in any of its pages, or set from Python (``Served.selection``),
    with a version each page compares with the one it saw last (a page
    looks every second). ``streamlit run app.py`` never uses it: there each
    user's selection is their own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.indices = np.zeros(0, dtype=np.int64)
        self.version = 0

    def put(self, indices) -> int:
        with self._lock:
            self.indices = np.unique(np.asarray(indices, dtype=np.int64).ravel())
            self.indices.setflags(write=False)
            self.version += 1
            return self.version

    def get(self) -> tuple[np.ndarray, int]:
        with self._lock:
            return self.indices, self.version


_selection = SharedSelection()


def shared_selection() -> SharedSelection:
    return _selection


def current() -> Session | None:
    """The session this process serves, or None (``streamlit run app.py``)."""
    return _current


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


class Served:
    """A running explorer: its ``url``; ``stop()`` ends it, ``wait()`` blocks
    until it ends. In a notebook it shows the page inline."""

    def __init__(self, url: str, server, thread, n_images: int = 0):
        self.url = url
        self._server, self._thread = server, thread
        self._n = n_images

    @property
    def selection(self) -> np.ndarray:
        """The images selected with a lasso or a box (dataset indices,
        sorted): the newest selection made in the page, or set here."""
        return _selection.get()[0].copy()

    @selection.setter
    def selection(self, indices) -> None:
        """Selects these images (dataset indices; ``[]`` clears) in every
        open page of this explorer, within about a second.

        Raises:
            ValueError: an index that is not an image of the data.
        """
        idx = np.asarray(indices)
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"image indices are integers, not {idx.dtype}")
        idx = idx.astype(np.int64).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= self._n):
            raise ValueError(
                f"image indices run from 0 to {self._n - 1}; got {idx.min()} "
                f"to {idx.max()}"
            )
        _selection.put(idx)

    def stop(self, timeout: float = 10.0) -> None:
        global _current
        if self._thread.is_alive():
            self._server.should_exit = True  # uvicorn checks it several times a second
            self._thread.join(timeout)
        _current = None

    def wait(self) -> None:
        while self._thread.is_alive():
            self._thread.join(0.5)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Latent Explorer at {self.url} ({state})>"

    def _repr_html_(self) -> str:  # Jupyter shows the page inline
        return (
            f'<p><a href="{self.url}" target="_blank">{self.url}</a></p>'
            f'<iframe src="{self.url}" width="100%" height="900" '
            'style="border:1px solid #ddd"></iframe>'
        )


def serve(
    session: Session,
    port: int | None = None,
    address: str = "127.0.0.1",
    headless: bool = True,
    timeout: float = 60.0,
) -> Served:
    """Starts the app on ``session`` in a background thread; returns once it
    accepts connections.

    Raises:
        RuntimeError: a session is already served by this process, or the
            server did not start (the port is taken, for example).
    """
    global _current
    if _current is not None:
        raise RuntimeError(
            "this process already serves an explorer; stop it first (.stop())"
        )
    port = port or free_port(address)
    _configure(port, address, headless)
    _current = session
    _selection.put([])  # a new explorer starts with nothing selected
    server = _server(address, port)
    failed: list[BaseException] = []
    thread = _start(server, failed)
    deadline = time.monotonic() + timeout
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        server.should_exit = True
        thread.join(5)
        _current = None
        reason = (
            failed[0]
            if failed
            else "the port is taken or the server failed"
            if not thread.is_alive()
            else f"no answer in {timeout:.0f} s"
        )
        raise RuntimeError(f"the explorer could not start on port {port}: {reason}")
    host = "localhost" if address in ("127.0.0.1", "0.0.0.0", "") else address
    served = Served(f"http://{host}:{port}", server, thread, session.n_images)
    if not headless:
        import webbrowser

        webbrowser.open(served.url)
    return served


def _configure(port: int, address: str, headless: bool) -> None:
    """Streamlit's options for an explore session, over any config.toml's."""
    from streamlit import config

    config.get_config_options()  # config.toml files first, then ours over them
    options = {
        "server.port": port,
        "server.address": address,
        "server.headless": headless,
        "server.fileWatcherType": "none",  # the models live in this process
        "server.runOnSave": False,
        "browser.gatherUsageStats": False,
        "global.developmentMode": False,
        "client.toolbarMode": "minimal",
    }
    for key, value in options.items():
        config.set_option(key, value, where_defined="latent-explorer explore")


def _server(address: str, port: int):
    """A uvicorn server of the page and the routes its view fetches data
    from, as `streamlit run app.py` serves them."""
    import uvicorn
    from streamlit.web.server.starlette.starlette_app import App
    from streamlit.web.server.starlette.starlette_server import (
        _get_uvicorn_config_kwargs,
    )

    from explorer.app.routes import middleware, routes

    app = App(str(SCRIPT), routes=routes(), middleware=middleware())
    return uvicorn.Server(
        uvicorn.Config(app, host=address, port=port, **_get_uvicorn_config_kwargs())
    )


def _start(server, failed: list[BaseException]) -> threading.Thread:
    """Runs ``server`` on its own thread and event loop (uvicorn installs no
    signal handlers off the main thread); what stops it is put in ``failed``."""
    from streamlit.runtime.runtime import Runtime

    loop = asyncio.new_event_loop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.serve())
        except BaseException as e:  # noqa: BLE001 - reported to the caller
            failed.append(e)
        finally:
            loop.close()
            # Streamlit keeps one Runtime per process and never forgets it; a
            # stopped one is dropped so that the next explore (a notebook cell
            # run again) can start a server.
            Runtime._instance = None

    thread = threading.Thread(target=run, name="latent-explorer", daemon=True)
    thread.start()
    return thread
