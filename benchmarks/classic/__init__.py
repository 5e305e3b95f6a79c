"""The classic design, the baselines of the view's rows: its page (``page``:
an iframe per map and per live decoder, every click a rerun, served by
``app.py``) and its measuring steps (here). The product holds none of it;
``pyproject.toml``'s import contracts keep the package from importing it."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import chromium
from harness import driver

APP = Path(__file__).with_name("app.py")  # ``streamlit run`` serves this
PAGE = Path(__file__).with_name("page.py")  # the script it runs


def map_args_sizes(node) -> tuple[int, int] | None:
    """A classic map component's arguments in an ``AppTest`` tree: (bytes,
    overlay-mark bytes); None for any other node."""
    if getattr(node, "type", "") != "component_instance":
        return None
    if not node.proto.component_name.endswith("latent_map"):
        return None
    args = json.loads(node.proto.json_args)
    return len(node.proto.json_args), len(json.dumps(args["overlays"]))


def page_run(browser, env: dict, repeats: int, interactions: int) -> chromium.PageRun:
    """Starts and clicks as measured before the view: the server decodes."""
    run, _ = chromium.page_run(
        browser,
        env,
        repeats,
        interactions,
        lambda page: driver.set_live(page, False),
        app=APP,
    )
    return run


def opens(browser, env: dict, address: str) -> chromium.Opens:
    """A large map opened and zoomed: each window asked of the server, a
    zoom done when the server's density image has changed (after plotly's
    wheel zoom and the 400 ms the map waits for the zoom to end)."""
    return chromium.open_and_zoom(browser, env, address, driver.density_drawn, app=APP)
