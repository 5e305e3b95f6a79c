"""The layer rules in pyproject.toml (import-linter) hold, and each one fails
when a wrong arrow is drawn: a copy of the package with one bad import added
breaks exactly the contract that forbids it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

LINT = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
LAYERS = "Imports flow one way"
NO_STREAMLIT = "Only the app imports Streamlit"
NO_TOOLS = "The package never imports the tools"
FIRST_PAINT = "A new session"
NO_CIRCLE = "No import circle"
NO_CLASSIC = "Nothing in the app imports the classic design"


def _lint(root: Path) -> str:
    result = subprocess.run(
        [LINT, "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.stdout + result.stderr


def _broken(output: str) -> set[str]:
    """The contracts ``lint-imports`` reports broken."""
    names = (LAYERS, NO_STREAMLIT, NO_TOOLS, NO_CIRCLE, FIRST_PAINT, NO_CLASSIC)
    lines = [
        ln.rstrip() for ln in output.splitlines() if ln.rstrip().endswith("BROKEN")
    ]
    return {n for n in names for ln in lines if ln.startswith(n)}


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(
        REPO / "explorer", root / "explorer", ignore=shutil.ignore_patterns("bundled")
    )
    shutil.copytree(REPO / "benchmarks", root / "benchmarks")  # a root package too
    shutil.copy(REPO / "pyproject.toml", root)
    return root


def test_the_package_keeps_every_contract(copy):
    out = _lint(copy)
    assert "6 kept, 0 broken" in out, out


@pytest.mark.parametrize(
    "module, line, contract",
    [
        # the data layer reaching up into the latent layer
        ("data/store.py", "import explorer.latent.space", LAYERS),
        # a model reaching into the app
        ("model/loss.py", "from explorer.app import markdown", LAYERS),
        # Streamlit below the app
        ("latent/paths.py", "import streamlit", NO_STREAMLIT),
        # the package importing the browser driver, the benchmark or a test
        ("app/widgets.py", "import harness.driver", NO_TOOLS),
        ("cli.py", "import benchmarks.suites", NO_TOOLS),
        ("api.py", "from tests import helpers", NO_TOOLS),
        # a circle inside a layer: the state importing the page that imports it
        ("app/state.py", "import explorer.app.page", NO_CIRCLE),
        # the app reaching for the benchmark's classic page (the design before
        # the view): both the tools rule and its own
        ("app/panel.py", "import benchmarks.classic.components", NO_CLASSIC),
        ("app/panel.py", "import benchmarks.classic.components", NO_TOOLS),
        # the first paint reaching the page's heavy modules (PyTorch through
        # the catalogue), or PyTorch itself below it
        ("app/first.py", "import explorer.app.catalogue", FIRST_PAINT),
        ("app/components/view.py", "import torch", FIRST_PAINT),
    ],
)
def test_a_wrong_import_breaks_its_contract(copy, module, line, contract):
    path = copy / "explorer" / module
    original = path.read_text()
    try:
        path.write_text(original + f"\n{line}  # noqa\n")
        out = _lint(copy)
    finally:
        path.write_text(original)
    assert contract in _broken(out), out
