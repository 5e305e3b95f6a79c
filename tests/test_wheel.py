"""The installed package, not the work tree: a wheel built from the sources
carries the bundled data and the components' frontends (and none of the
tools), and from it, outside the repository, ``load_model`` and the page
work. A moved path anchor fails here instead of showing "No readable
checkpoints" to a user."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.slow

# Runs in a fresh interpreter whose only copy of the package is the wheel's.
CHECK = """
import json, sys
from pathlib import Path

import explorer
from explorer import load_model
from explorer.app.components.latent_map import FRONTEND, component_dir
from streamlit.testing.v1 import AppTest

site = Path(sys.argv[1]).resolve()
model = load_model("fashion-mnist-vae-z2")
from explorer.app.routes import SCRIPT

at = AppTest.from_file(str(SCRIPT), default_timeout=300)
at.session_state["live"] = False
at.run()
print(json.dumps({
    "package": str(Path(explorer.__file__).resolve()),
    "inside": Path(explorer.__file__).resolve().is_relative_to(site),
    "latent_dim": model.config.latent_dim,
    "frontends": sorted(p.name for p in FRONTEND.iterdir()),
    "served": sorted(p.name for p in component_dir().iterdir()),
    "frontend_inside": FRONTEND.resolve().is_relative_to(site),
    "errors": [e.value for e in at.error] + [str(e.value) for e in at.exception],
    "infos": [i.value for i in at.info],
    "script_inside": SCRIPT.resolve().is_relative_to(site),
    "maps": sum(
        len(json.loads(json.loads(el.proto.json)["view"])["maps"])
        for el in at.get("bidi_component")
        if el.proto.component_name == "latent_explorer_view"
    ),
    "images": len(at.get("image")),
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the sources (the work tree stays clean),
    the tools' packages beside the product's, as in the repository: only
    pyproject's package include keeps them out of the wheel."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src)
    for package in ("explorer", "harness", "benchmarks"):
        shutil.copytree(
            REPO / package,
            src / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    dist = tmp_path_factory.mktemp("dist")
    # The build backend's own call (PEP 517), as pip makes it without build
    # isolation: one interpreter instead of pip's three (pip, then one for the
    # backend's metadata and one for its build).
    backend = tomllib.loads((src / "pyproject.toml").read_text())["build-system"]
    build = (
        f"import importlib; importlib.import_module({backend['build-backend']!r})"
        f".build_wheel({str(dist)!r})"
    )
    built = subprocess.run(
        [sys.executable, "-c", build],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (found,) = dist.glob("latent_explorer-*.whl")
    return found


def test_the_wheel_carries_the_data_and_frontends_and_no_tools(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for split in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert f"explorer/data/bundled/fashion-mnist/{split}" in names
    frontends = [n for n in names if "/components/frontend/" in n]
    frontend = REPO / "explorer" / "app" / "components" / "frontend"
    for part in (
        "latent_map/plotly-gl2d-3.7.0.min.js",
        "latent_map/PLOTLY-LICENSE.txt",
        # the view's modules and stylesheet (every file of its folder)
        *(f"view/{f.name}" for f in (frontend / "view").iterdir()),
        # the canvas element's (the replay's and the β view's)
        *(f"canvas/{f.name}" for f in (frontend / "canvas").iterdir()),
    ):
        assert f"explorer/app/components/frontend/{part}" in frontends, part
    # the classic design (the benchmark's baseline) is not in the product
    assert not [n for n in frontends if "live_decoder" in n or "index.html" in n]
    tops = {n.split("/")[0] for n in names}
    assert not tops & {"benchmarks", "harness", "tests", "weights"}, tops
    assert not [n for n in names if "playwright" in n or n.endswith("e2e.py")]
    # the browser driver and load test (harness/) are nowhere in it
    assert not [n for n in names if "harness" in n or n.endswith("driver.py")]


def test_the_installed_wheel_loads_a_model_and_draws_the_page(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        timeout=600,
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "EXPLORER_WEIGHTS_DIR": str(REPO / "weights"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    env.pop("EXPLORER_DATA_DIR", None)  # the bundled copy, from the wheel
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(site)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["inside"], report["package"]
    assert report["latent_dim"] == 2
    assert report["frontends"] == ["canvas", "graph", "latent_map", "view"]
    assert report["script_inside"]
    assert report["frontend_inside"]
    assert "plotly-gl2d-3.7.0.min.js" in report["served"]
    assert report["errors"] == [] and report["infos"] == []
    assert report["maps"] == 2 and report["images"] >= 4
