"""The load suite's rows without browsers: the server's follow-up to a click
on one worker and on two behind HAProxy, from the users' results."""

from __future__ import annotations

import pytest

from benchmarks import load
from harness.load import UserResult


def _users(follow: list[float], n: int = 8, **kw) -> list[UserResult]:
    return [UserResult(clicks=[0.05], follow=list(follow), **kw) for _ in range(n)]


def test_the_follow_up_on_two_workers_is_set_beside_one_worker():
    s = load.Samples(
        users=8,
        seconds=5.0,
        one=_users([0.2], n=1),
        crowd=_users([1.0, 2.0, 3.0]),
        memory_one={"warm": 500.0, "peak": 600.0, "after": 510.0},
        memory={"warm": 500.0, "peak": 900.0, "after": 520.0},
        workers=2,
        served=_users([0.5, 1.0, 1.5]),
        memory_served={"warm": 1000.0, "peak": 1500.0, "after": 1020.0},
    )
    rows = {r.name: r for r in load.report(s)}
    one = rows["server follow-up to a point click, 8 users, 1 worker"]
    two = rows["server follow-up to a point click, 8 users, 2 workers behind HAProxy"]
    assert one.median == pytest.approx(2000) and one.n == 24
    assert one.baseline.startswith("1 user: 200 ms median")
    assert two.median == pytest.approx(1000)
    assert two.baseline == "1 worker: 2000 ms median, 3000 ms p95 (2.00x faster)"
    assert "bounded by this machine's" in two.note and "1500 MB at the peak" in two.note
    served = rows["errors, foreign selections, lost or missed inputs, 8 users, "
                  "2 workers behind HAProxy"]  # fmt: skip
    assert served.median == 0 and served.met


def test_a_lost_input_on_the_served_crowd_fails_its_row():
    s = load.Samples(
        8, 5.0, [], _users([1.0]), None, {"warm": 1.0, "peak": 1.0, "after": 1.0},
        2, _users([1.0], lost=1),
    )  # fmt: skip
    rows = {r.name: r for r in load.report(s)}
    served = rows["errors, foreign selections, lost or missed inputs, 8 users, "
                  "2 workers behind HAProxy"]  # fmt: skip
    assert served.median == 8 and served.met is False
    mem = {"warm": 1.0, "peak": 1.0, "after": 1.0}
    without = load.report(load.Samples(8, 5.0, [], _users([1.0]), None, mem))
    assert not any("HAProxy" in r.name for r in without)
