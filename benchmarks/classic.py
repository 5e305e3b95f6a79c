"""The classic design's measuring steps (``EXPLORER_DESIGN=classic``: an
iframe per map, every click a rerun), the baselines of the view's rows.
Every step that knows the classic design is here, so that moving that
design out of the product touches this file alone."""

from __future__ import annotations

import json

from benchmarks import chromium
from harness import driver

DESIGN = "classic"
ENV = {"EXPLORER_DESIGN": DESIGN}


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
        {**env, **ENV},
        repeats,
        interactions,
        lambda page: driver.set_live(page, False),
    )
    return run


def opens(browser, env: dict, address: str) -> chromium.Opens:
    """A large map opened and zoomed: each window asked of the server, a
    zoom done when the server's density image has changed (after plotly's
    wheel zoom and the 400 ms the map waits for the zoom to end)."""
    return chromium.open_and_zoom(
        browser, {**env, **ENV}, address, driver.density_drawn
    )
