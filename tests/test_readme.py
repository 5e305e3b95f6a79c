"""The README says only what a command prints: each benchmark table in it is
the rendering of a run's JSON committed under docs/bench/."""

from __future__ import annotations

import re

from benchmarks.rows import render
from tests.helpers import REPO

MARK = re.compile(r"<!-- bench: (\S+) -->\n+```text\n(.*?)```", re.S)


def test_every_benchmark_table_is_a_committed_run_rendered():
    readme = (REPO / "README.md").read_text()
    blocks = MARK.findall(readme)
    assert blocks, "the README shows no benchmark run"
    for path, shown in blocks:
        assert (REPO / path).is_file(), path
        assert shown.strip() == render(REPO / path).strip(), path
    # no table of figures outside those blocks (a row: name, then numbers)
    rest = MARK.sub("", readme)
    assert not re.search(
        r"^\S.*\s{2,}[\d,.]+\s{2,}[\d,.]+\s{2,}\S+\s{2,}\d+", rest, re.M
    )


def test_every_path_the_readme_names_exists():
    readme = (REPO / "README.md").read_text()
    tops = "explorer|tests|benchmarks|harness|weights|docs"
    paths = set(re.findall(rf"`((?:{tops})/[\w./-]*)`", readme))
    assert len(paths) >= 10
    missing = sorted(p for p in paths if not (REPO / p.rstrip("/")).exists())
    assert not missing, missing
