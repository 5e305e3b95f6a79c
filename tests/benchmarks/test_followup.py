"""The follow-up suite's rows, from made-up samples, and its baseline's
extraction from git."""

from __future__ import annotations

import subprocess

import pytest

from benchmarks import followup
from benchmarks.followup import BASELINE, Run, Samples, extract, report


def _run(ms: list[float], cpu_ms: float, errors=()) -> Run:
    """A run of these follow-ups (ms), its last messages arriving 30 ms
    before each was drawn."""
    s = [m / 1e3 for m in ms]
    return Run(s, list(errors), cpu_ms * len(ms) / 1e3, len(ms), [v - 0.03 for v in s])


def test_rows_compare_with_the_baseline_measured_in_the_same_run():
    s = Samples(
        8,
        now={1: _run([90, 100, 110], 40), 8: _run([600, 700, 800, 900], 45)},
        before={1: _run([300, 320, 340], 220), 8: _run([2400, 2500, 2600], 230)},
    )
    rows = {r.name: r for r in report(s)}
    one = rows["server follow-up to a click, 1 user"]
    assert one.median == pytest.approx(100) and one.met is True
    assert "before (407df47): 320 ms median" in one.baseline
    crowd = rows["server follow-up to a click, 8 users at once"]
    assert crowd.median == pytest.approx(750) and crowd.met is True
    ratio = rows["follow-up median, 8 users / 1 user"]
    assert ratio.median == pytest.approx(7.5) and ratio.baseline == "before: 7.8x"
    arrived = rows[
        "follow-up to a click, 1 user: until the run's last message reaches the page"
    ]
    assert arrived.median == pytest.approx(70) and arrived.baseline == "before: 290 ms"
    cpu = rows["server CPU time per click, 1 user"]
    assert cpu.median == pytest.approx(40) and cpu.baseline == "before: 220 ms"
    assert rows["follow-up: inputs lost or mixed up, errors"].met is True


def test_a_missed_target_and_an_error_are_reported():
    s = Samples(
        8,
        now={1: _run([150, 160], 60), 8: _run([1200, 1300], 70, ["mixed up"])},
        before=None,
        skipped="not a git checkout",
    )
    rows = {r.name: r for r in report(s)}
    assert rows["server follow-up to a click, 1 user"].met is False
    assert rows["server follow-up to a click, 8 users at once"].met is False
    assert (
        "no baseline: not a git checkout"
        in rows["server follow-up to a click, 1 user"].baseline
    )
    errors = rows["follow-up: inputs lost or mixed up, errors"]
    assert errors.median == 1 and errors.met is False and "mixed up" in errors.note


def test_the_baseline_is_the_page_at_its_commit(tmp_path):
    root = extract(BASELINE, tmp_path)
    assert (root / "app.py").is_file()
    assert (root / "explorer" / "app" / "script.py").is_file()
    # the page before this suite's cut: no heap module yet
    assert not (root / "explorer" / "app" / "heap.py").exists()
    with pytest.raises(subprocess.CalledProcessError):
        followup.extract("no-such-revision", tmp_path / "x")
