"""The README says only what a command prints: each benchmark table in it is
the rendering of a run's JSON committed under docs/bench/."""

from __future__ import annotations

import re

from conftest import REPO

from explorer.bench import render

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
