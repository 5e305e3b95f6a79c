"""The explorer's view: both latent maps, the image strip and the live sliders
in one Streamlit components-v2 element that answers clicks in the browser.

The element's data is a few kB of JSON per rerun (URLs, marks, the cursor);
its script, plotly.js and every binary file arrive by URL from the app's
routes (``explorer.app.routes``), so the module, its plots and its caches stay
loaded between reruns. ``frontend/view/main.js`` says what the browser does;
the events it sends back are declared in ``components.events``. The page
mounts it for the two main maps (``MAIN``); the Conditional tab mounts a
second instance for its CVAE map, under keys of its own (``Instance``).

The design before it (an iframe per map and per live decoder, every click
answered by a rerun) is the benchmark's baseline, outside the package
(``benchmarks/classic``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

import numpy as np
import streamlit as st

from explorer.app import keys as K
from explorer.app import routes
from explorer.app.components import events
from explorer.app.components.latent_map import FRONTEND, MapPoints, write_once

PLOTLY = "plotly-gl2d-3.7.0.min.js"
FOLDER = FRONTEND / "view"  # the view's ES modules and stylesheet (flat)


def _render(what: str) -> str:
    """A loader's last lines: imports the module its data names
    (``module_url``) and renders with it, or says that ``what`` could not
    load. The element's host counts the data it was given
    (``data-lx-given``) and the data drawn (``data-lx-drawn``: a module's
    ``render`` may return a promise of its drawing): the two are equal once
    the element shows what the page's last run sent, which the browser tests
    wait for after an action."""
    return (
        "  const host = args.parentElement, given = +(host.dataset.lxGiven || 0) + 1;\n"
        "  host.dataset.lxGiven = String(given);\n"
        "  const drawn = () => {\n"
        "    const had = +(host.dataset.lxDrawn || 0);\n"
        "    if (had < given) host.dataset.lxDrawn = String(given);\n"
        "  };\n"
        "  const url = new URL(args.data.module_url, document.baseURI).href;\n"
        "  import(url).then((m) => m.render(args)).then(drawn, (e) => {\n"
        f'    host.textContent = "{what} could not load: " + e;\n'
        "    drawn();\n"
        "  });\n"
    )


# A tiny loader: Streamlit sends an element's inline script with every rerun,
# so the real module is imported once by URL (and cached by the browser).
LOADER = (
    """export default function (args) {
  if (!window.lxPlotly) {  // plotly.js loads while the module does
    window.lxPlotly = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = new URL(args.data.plotly_url, document.baseURI).href;
      s.onload = resolve;
      s.onerror = () => reject(new Error("could not load " + s.src));
      document.head.appendChild(s);
    });
  }
  if (!window.lxPreloaded) {  // every module at once, not import after import
    window.lxPreloaded = true;
    for (const u of JSON.parse(args.data.modules || "[]")) {
      const link = document.createElement("link");
      link.href = new URL(u, document.baseURI).href;
      if (link.href.endsWith(".css")) {
        link.rel = "preload";
        link.as = "style";
      } else {
        link.rel = "modulepreload";
      }
      document.head.appendChild(link);
    }
  }
"""
    + _render("The view")
    + "}"
)


def version(folder: Path | None = None) -> str:
    """A hash of every file of the view's folder (``FOLDER``): their sorted
    names and bytes."""
    h = hashlib.sha256()
    for f in sorted(p for p in (folder or FOLDER).iterdir() if p.is_file()):
        data = f.read_bytes()
        h.update(f"{f.name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:16]


@cache
def served_module(folder: Path, prefix: str) -> str:
    """``folder``'s entry module (``main.js``), under a route named by the
    whole folder's content (``<prefix>-<hash>``): a change to any of its
    files is a new address for all of them. The view's, the graph's and the
    canvas element's modules are served so.

    A prefix, not ``?v=<hash>`` on the entry: the browser resolves an ES
    module's relative imports (``./map.js``) and its stylesheet against the
    module's own URL without its query, so they would keep an unversioned,
    cached-forever address; under a versioned folder they inherit the
    version with no rewriting of the modules.
    """
    name = f"{prefix}-{version(folder)}"
    routes.serve_folder(name, lambda: folder)
    return routes.file_url(name, "main.js")


def module_url() -> str:
    """The view's entry module (``served_module``)."""
    return served_module(FOLDER, "view")


def element_loader(what: str) -> str:
    """A components-v2 element's loader: imports the module its data names
    (``module_url``) and renders with it, or says that ``what`` could not
    load."""
    return "export default function (args) {\n" + _render(what) + "}"


@cache
def module_urls() -> str:
    """Every module and the stylesheet of the view's folder, as one JSON list:
    the loader preloads them all at once, so a new visitor's browser fetches
    the folder in one round instead of one per level of imports (on a cold
    start the server that answers is busy with the page's first run)."""
    entry = module_url()
    base = entry.rsplit("/", 1)[0]
    names = sorted(f.name for f in FOLDER.iterdir() if f.suffix in (".js", ".css"))
    return json.dumps([f"{base}/{n}" for n in names], separators=(",", ":"))


def plotly_url() -> str:
    """plotly.js, with its content's hash in the URL (``?v=``)."""
    return routes.file_url("latent_map", PLOTLY) + f"?v={_plotly_hash()}"


@cache
def _plotly_hash() -> str:
    data = (FRONTEND / "latent_map" / PLOTLY).read_bytes()
    return hashlib.sha256(data).hexdigest()[:16]


@cache
def _component():
    return st.components.v2.component(
        "latent_explorer_view", js=LOADER, isolate_styles=False
    )


def file_url(name: str, data: bytes, suffix: str = ".bin") -> str:
    """Writes ``data`` once (named by content) and returns its URL."""
    return routes.file_url("latent_map", write_once(name, data, "latent_map", suffix))


def points_data(points: MapPoints, shown: np.ndarray) -> dict:
    """A map's points for the view: its files' URLs and what the legend needs.

    ``shown`` (the dataset index of each point) goes as a file when it is not
    simply 0..n-1, so a click knows which image it hit.
    """
    index_url = None
    if len(shown) != points.n or not np.array_equal(shown, np.arange(points.n)):
        index_url = file_url("index", np.asarray(shown, dtype="<i4").tobytes())
    density = None
    if points.density is not None:
        d = points.density
        density = dict(d, url=routes.file_url("latent_map", d["file"]))
        # every shown point, for the browser to draw each window itself
        for k in ("order", "coords", "values"):
            density[k] = d.get(k) and routes.file_url("latent_map", d[k])
        if d.get("values"):
            from explorer.app.components.density import viridis

            density["viridis"] = viridis()
    return {
        "url": routes.file_url("latent_map", points.file),
        "index_url": index_url,
        "n": points.n,
        "class_names": list(points.class_names),
        "axis_titles": list(points.axis_titles),
        "values_title": points.values_title,
        "view_key": points.view_key,
        "density": density,
    }


@dataclass(frozen=True)
class Instance:
    """One view on the page: its component ``key``, the key its events wait
    under until the page applies them (``pending``), the key of the id of
    the last one applied (``echo``), its maps' ``slots``, and whether a pan
    or zoom's window is kept (``K.VIEW_WINDOW``: the manifold grid reads the
    main maps')."""

    key: str
    pending: str
    echo: str
    slots: tuple[str, ...]
    windows: bool = False


# The main maps' view (the page's); the Conditional tab mounts another.
MAIN = Instance(K.VIEW, K.VIEW_PENDING, K.VIEW_ECHO, ("left", "right"), True)


def keep_event(inst: Instance = MAIN) -> None:
    """A view's callback: keeps the event the browser sent (before the
    rerun) in ``st.session_state[inst.pending]`` for the page to apply once
    its models are loaded. A pan or zoom (the view drew its window already)
    is echoed at once, its window kept if ``inst.windows``."""
    ss = st.session_state
    ev = (ss.get(inst.key) or {}).get("event")
    if not isinstance(ev, dict):
        return
    if ev.get("kind") == events.VIEW:  # the visible window: read as the maps load
        if ev.get("id") != ss.get(inst.echo) and ev.get("slot") in inst.slots:
            ss[inst.echo] = int(ev["id"])
            if inst.windows:
                ss[K.VIEW_WINDOW(ev["slot"])] = (tuple(ev["x"]), tuple(ev["y"]))
        return
    ss[inst.pending] = ev


def view(data: dict, inst: Instance = MAIN) -> object:
    """Mounts a view (``inst``: the main maps', or another's). Each event the
    browser sends is kept (``keep_event``); ``components.events`` declares
    every kind (point, space, slider, select, view) and its fields."""
    # One JSON string: Streamlit looks for dataframes among the values of the
    # data it is given, and a list or dict there imports pandas (a third of
    # a second on a new server) and is walked on every rerun.
    payload = {
        "module_url": module_url(),
        "modules": module_urls(),
        "plotly_url": plotly_url(),
        "view": json.dumps(data, separators=(",", ":")),
    }
    return _component()(
        key=inst.key, data=payload, on_event_change=partial(keep_event, inst)
    )
