"""Many sessions at once (``harness.load``), next to one session alone as
the baseline."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from benchmarks.rows import Row, row


@dataclass
class Samples:
    """What each user saw (``harness.load.UserResult``), alone and in the
    crowd, and the server's memory (MB) in each run."""

    users: int
    seconds: float
    one: list  # empty when the user alone was left out
    crowd: list
    memory_one: dict[str, float] | None
    memory: dict[str, float]


def measure(
    users: int, seconds: float, data_dir: str | None, alone: bool = True
) -> Samples:
    """``alone=False`` leaves the one user alone out."""
    from harness.load import run_load

    env = {"EXPLORER_DATA_DIR": data_dir} if data_dir else {}
    one, mem1 = run_load(1, seconds, env) if alone else ([], None)
    crowd, mem = run_load(users, seconds, env)
    return Samples(users, seconds, one, crowd, mem1, mem)


def _pool(results, attr):
    return [v for r in results for v in getattr(r, attr)]


def _latency_rows(s: Samples) -> list[Row]:
    rows = []
    for attr, what in (
        ("clicks", "click a point"),
        ("empty", "click empty space"),
        ("sliders", "slider change (server decode)"),
    ):
        solo, many = _pool(s.one, attr), _pool(s.crowd, attr)
        if not many:  # too short a run for every user to reach this input
            continue
        rows.append(
            row(
                f"{what}, {s.users} users at once",
                "ms",
                many,
                scale=1e3,
                baseline=f"1 user: {np.median(solo) * 1e3:.0f} ms median, "
                f"{np.percentile(solo, 95) * 1e3:.0f} ms p95"
                if solo
                else "",
                note=f"{s.users} Chromiums and the server share this machine's "
                f"{os.cpu_count()} cores; {s.seconds:.0f} s of input each",
            )
        )
    return rows


def _memory_row(s: Samples) -> Row:
    from harness.load import SETTLE_MB

    mem, users = s.memory, s.users
    settled = mem["after"] - mem["warm"]
    return Row(
        f"server memory after {users} users left, above the warm server",
        "MB",
        settled,
        settled,
        users,
        f"<= {SETTLE_MB:.0f} MB",
        settled <= SETTLE_MB,
        baseline=f"1 user: peak {s.memory_one['peak']:.0f} MB" if s.memory_one else "",
        note=f"warm server (one session came and went): {mem['warm']:.0f} MB; "
        f"peak while {users} users acted: {mem['peak']:.0f} MB; after they "
        f"left: {mem['after']:.0f} MB (lowest of 6 samples over 6 s)",
    )


def _problems_row(s: Samples) -> Row:
    from harness.load import LOST_MS, WAIT_MS

    crowd, users = s.crowd, s.users
    errors = [e for r in crowd for e in r.errors]
    foreign = sum(r.foreign for r in crowd)
    lost = sum(r.lost for r in crowd)
    late = sum(r.late for r in crowd)
    missed = sum(r.missed for r in crowd)
    problems = len(errors) + foreign + missed
    return Row(
        f"errors, foreign selections, lost or missed inputs, {users} users",
        "count",
        float(problems + lost),
        float(problems + lost),
        users,
        "0",
        problems + lost == 0,
        baseline=f"errors: {len(errors)}, foreign selections: {foreign}, "
        f"inputs never answered (within {(WAIT_MS + LOST_MS) // 1000} s): "
        f"{lost}; answered late (after {WAIT_MS // 1000} s): {late}; presses "
        f"the view never took as an input: {missed}",
        note="page errors, exceptions shown, point clicks after which "
        "the server selected another image than the page answered with "
        "(another session's), inputs the page never answered, and presses "
        "the view never took; a late answer's latency is in the rows above"
        + (f"; first error: {errors[0][:300]}" if errors else "")
        + "".join(f"; {f}" for r in crowd for f in r.foreign_at[:3])
        + "".join(f"; never answered: {k}" for r in crowd for k in r.lost_kinds[:3])
        + "".join(f"; late: {k}" for r in crowd for k in r.late_kinds[:3])
        + "".join(f"; missed: {k}" for r in crowd for k in r.missed_kinds[:3]),
    )


def report(s: Samples) -> list[Row]:
    idle_users = sum(not r.clicks for r in s.crowd)
    return [
        *_latency_rows(s),
        _memory_row(s),
        _problems_row(s),
        Row(
            f"users with no answered point click, {s.users} users",
            "count",
            float(idle_users),
            float(idle_users),
            s.users,
            "0",
            idle_users == 0,
            note="each user must have had a point click answered (and its "
            "selection checked), not the users together",
        ),
    ]
