"""Many sessions at once (``harness.load``), next to one session alone as
the baseline; and, with ``workers``, the same crowd against ``latent-explorer
serve`` (that many workers behind HAProxy) in the same run: the server's
follow-up to a point click on one worker and on several."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

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
    workers: int = 0  # the served crowd's workers (0: none ran)
    served: list = field(default_factory=list)  # the crowd against serve
    memory_served: dict[str, float] | None = None


def measure(
    users: int,
    seconds: float,
    data_dir: str | None,
    alone: bool = True,
    workers: int = 0,
) -> Samples:
    """``alone=False`` leaves the one user alone out; ``workers`` > 0 also
    runs the crowd against ``serve --workers`` (after the one-worker crowd,
    on the same data)."""
    from harness.load import run_load

    env = {"EXPLORER_DATA_DIR": data_dir} if data_dir else {}
    one, mem1 = run_load(1, seconds, env) if alone else ([], None)
    crowd, mem = run_load(users, seconds, env)
    served, mem_served = (
        run_load(users, seconds, env, workers=workers) if workers else ([], None)
    )
    return Samples(users, seconds, one, crowd, mem1, mem, workers, served, mem_served)


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


def _ms(samples: list[float]) -> str:
    return (
        f"{np.median(samples) * 1e3:.0f} ms median, "
        f"{np.percentile(samples, 95) * 1e3:.0f} ms p95"
    )


def _follow_rows(s: Samples) -> list[Row]:
    """The server's follow-up to a point click (its rerun echoed in the
    page): the crowd on one worker, then on ``s.workers`` behind the proxy."""
    solo, one = _pool(s.one, "follow"), _pool(s.crowd, "follow")
    cores = os.cpu_count()
    rows = []
    if one:
        rows.append(
            row(
                f"server follow-up to a point click, {s.users} users, 1 worker",
                "ms",
                one,
                scale=1e3,
                baseline=f"1 user: {_ms(solo)}" if solo else "",
                note="from the press until the server's rerun for that click "
                "is echoed in the page (neighbours, open tab and link drawn); "
                f"one streamlit run; {s.users} Chromiums share the {cores} cores",
            )
        )
    many = _pool(s.served, "follow")
    if s.workers and many:
        ratio = f" ({np.median(one) / np.median(many):.2f}x faster)" if one else ""
        rows.append(
            row(
                f"server follow-up to a point click, {s.users} users, "
                f"{s.workers} workers behind HAProxy",
                "ms",
                many,
                scale=1e3,
                baseline=f"1 worker: {_ms(one)}{ratio}" if one else "",
                note=f"latent-explorer serve --workers {s.workers}: each "
                "browser pinned to a worker by HAProxy's cookie; the gain is "
                f"bounded by this machine's {cores} cores, which the {s.workers} "
                f"workers share with the {s.users} software-rendering "
                "Chromiums (with a core per worker and the browsers elsewhere, "
                "the workers would not wait for each other)"
                + (
                    f"; the workers and the proxy: {mem['warm']:.0f} MB warm, "
                    f"{mem['peak']:.0f} MB at the peak"
                    if (mem := s.memory_served)
                    else ""
                ),
            )
        )
    return rows


def _problems_row(s: Samples, served: bool = False) -> Row:
    from harness.load import LOST_MS, WAIT_MS

    crowd, users = (s.served if served else s.crowd), s.users
    where = f", {s.workers} workers behind HAProxy" if served else ""
    errors = [e for r in crowd for e in r.errors]
    foreign = sum(r.foreign for r in crowd)
    lost = sum(r.lost for r in crowd)
    late = sum(r.late for r in crowd)
    missed = sum(r.missed for r in crowd)
    problems = len(errors) + foreign + missed
    return Row(
        f"errors, foreign selections, lost or missed inputs, {users} users{where}",
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


def _idle_row(s: Samples, served: bool = False) -> Row:
    crowd = s.served if served else s.crowd
    where = f", {s.workers} workers behind HAProxy" if served else ""
    idle_users = sum(not r.clicks for r in crowd)
    return Row(
        f"users with no answered point click, {s.users} users{where}",
        "count",
        float(idle_users),
        float(idle_users),
        s.users,
        "0",
        idle_users == 0,
        note="each user must have had a point click answered (and its "
        "selection checked), not the users together",
    )


def report(s: Samples) -> list[Row]:
    rows = [
        *_latency_rows(s),
        *_follow_rows(s),
        _memory_row(s),
        _problems_row(s),
        _idle_row(s),
    ]
    if s.workers:
        rows += [_problems_row(s, served=True), _idle_row(s, served=True)]
    return rows
