"""The computation graph: one image's way through a model, drawn as an SVG
beside the model's own code, in a Streamlit components-v2 element of its own.

Its data (``graph``) is one JSON string: the nodes (their place in the
graph, values, map mark and code line), the edges, the listing and the
words. Its modules (``frontend/graph/``) arrive by URL from the app's routes
under a folder named by their content, as the view's do
(``components.view``). Hovers are answered in the browser alone: the graph
and the view (``frontend/view/``) share the page's document and tell each
other what is in focus with a window ``CustomEvent`` named ``FOCUS``, whose
``detail`` is ``{slot, mark, node, source}``.
"""

from __future__ import annotations

import json
from functools import cache

import streamlit as st

from explorer.app.components.latent_map import FRONTEND
from explorer.app.components.view import element_loader, served_module

FOLDER = FRONTEND / "graph"
FOCUS = "lx-focus"  # the window event both elements send and listen to

LOADER = element_loader("The graph")


def module_url() -> str:
    """The element's entry module (``view.served_module``)."""
    return served_module(FOLDER, "graph")


@cache
def _component():
    return st.components.v2.component(
        "latent_explorer_graph", js=LOADER, isolate_styles=False
    )


def graph(data: dict, key: str) -> object:
    """Mounts the graph of ``data`` (``tabs.computation.graph_data``) under
    the component key ``key``."""
    payload = {
        "module_url": module_url(),
        "graph": json.dumps(data, separators=(",", ":"), ensure_ascii=False),
    }
    return _component()(key=key, data=payload)
