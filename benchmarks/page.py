"""What the page sends: the map's points file against the plotly figure
``st.plotly_chart`` would send, and the data a rerun sends for the two maps
(the classic design's, measured by ``benchmarks.classic``, as the baseline)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import classic
from benchmarks.rows import Row, ms, row, timed


@dataclass
class Samples:
    """Seconds to pack the points file and to build the plotly figure, the
    bytes of each, and a rerun's (bytes, overlay-mark bytes) per map
    component, in the view and in the classic design."""

    n: int
    pack: list[float]
    pack_bytes: int
    plotly: list[float]
    plotly_bytes: int
    view: list[tuple[int, int]]
    classic: list[tuple[int, int]]


def _plotly_json(coords: np.ndarray, labels: np.ndarray) -> str:
    import plotly.graph_objects as go

    traces = [
        go.Scattergl(
            x=coords[labels == c, 0], y=coords[labels == c, 1], mode="markers",
            name=str(c),
        )
        for c in np.unique(labels)
    ]  # fmt: skip
    return go.Figure(traces).to_json()


def rerun_sizes(script: Path) -> list[tuple[int, int]]:
    """What a rerun of the default page sends for its maps, the product's
    page or (``classic.PAGE``) the classic one: (bytes, overlay-mark bytes)
    per map component. The view's is its JSON data (the overlay marks,
    settings and URLs; every binary is fetched by URL); the classic
    design's, its map components' arguments."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(script), default_timeout=300).run()
    out = []

    def walk(node):
        sizes = _view_sizes(node) or classic.map_args_sizes(node)
        if sizes:
            out.append(sizes)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return out


def _view_sizes(node) -> tuple[int, int] | None:
    if getattr(node, "type", "") != "bidi_component":
        return None
    if not node.proto.component_name.endswith("_view"):
        return None
    data = json.loads(json.loads(node.proto.json)["view"])
    marks = sum(len(json.dumps(m["overlays"])) for m in data["maps"])
    return len(node.proto.json), marks


def measure(coords: np.ndarray, labels: np.ndarray, repeats: int) -> Samples:
    """Args: coords: the map's points ``[N, 2]`` (float32); labels: ``[N]``."""
    from explorer.app.components.latent_map import points_bytes

    pack = timed(lambda: points_bytes(coords, labels), repeats)
    size = len(points_bytes(coords, labels))
    gl = timed(lambda: _plotly_json(coords, labels), max(2, repeats // 2))
    gl_bytes = len(_plotly_json(coords, labels).encode())
    from explorer.app.routes import SCRIPT

    view, old = rerun_sizes(SCRIPT), rerun_sizes(classic.PAGE)
    return Samples(len(coords), pack, size, gl, gl_bytes, view, old)


def report(s: Samples) -> list[Row]:
    size, total = s.pack_bytes, sum(a for a, _ in s.view)
    return [
        row(
            f"pack the {s.n:,}-point map file (NumPy bytes)",
            "ms",
            s.pack,
            scale=1e3,
            baseline="building a plotly figure of the same points as JSON: "
            + ms(s.plotly),
            note="the file is packed once per map and colouring; the baseline is "
            "what st.plotly_chart would build instead",
        ),
        Row(
            f"map payload, {s.n:,} points",
            "MB",
            size / 1e6,
            size / 1e6,
            1,
            "<= 2 MB",
            size <= 2e6,
            baseline=f"plotly figure JSON: {s.plotly_bytes / 1e6:.1f} MB "
            f"({s.plotly_bytes / size:.1f}x larger)",
            note="sent once per map and cached by the browser",
        ),
        Row(
            "map data sent per rerun, both maps",
            "kB",
            total / 1e3,
            total / 1e3,
            len(s.view),
            "",
            None,
            baseline=f"classic: {sum(a for a, _ in s.classic) / 1e3:.1f} kB",
            note="JSON data of the view on the default page (AE and VAE, 2-D, "
            "decoded in the browser): "
            + ", ".join(
                f"{a / 1e3:.1f} kB of which overlay marks {o / 1e3:.1f} kB"
                for a, o in s.view
            )
            + "; classic: the two map components' arguments",
        ),
    ]
