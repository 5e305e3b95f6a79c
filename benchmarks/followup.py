"""A click's server follow-up (``harness.followup``): one user, then eight at
once, each against this checkout's page and, as the baseline in the same
run, against the page as it was before the follow-up was cut (``BASELINE``,
extracted from git into a temporary folder and served the same way).

Both servers run on the bundled default page (the AE and VAE of
Fashion-MNIST, 10,000 points), each with a cache folder of its own, started
fresh for each measurement. Rows: the follow-up's median and p95 for one
user and for eight, the eight-user median as a ratio of the one-user median
(eight software-rendering Chromiums share the two cores with the server),
the server's CPU time per click, and inputs lost or mixed up (none)."""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.rows import Row, ms, row
from harness import driver, followup

# The last commit before #29 cut the follow-up: the page as it was.
BASELINE = "407df47"
TARGET_ONE_MS = 120.0  # median, one user
TARGET_CROWD_MS = 1000.0  # median, eight users at once


@dataclass
class Run:
    """One server's measurement: each user's follow-ups (seconds), errors,
    the server's CPU seconds over all the clicks, and the follow-ups up to
    the run's last message reaching the page (seconds; the drawing after it
    is the browser's)."""

    followups: list[float]
    errors: list[str]
    cpu: float
    clicks: int
    arrivals: list[float] = field(default_factory=list)


@dataclass
class Samples:
    users: int
    now: dict[int, Run]  # users -> run
    before: dict[int, Run] | None  # None: no baseline (see ``skipped``)
    skipped: str = ""


def extract(rev: str, into: Path) -> Path:
    """The repository's files at ``rev`` (``git archive``), in ``into``."""
    with tempfile.TemporaryFile() as tar:
        subprocess.run(
            ["git", "-C", str(driver.REPO), "archive", rev],
            stdout=tar,
            check=True,
            stderr=subprocess.PIPE,
        )
        tar.seek(0)
        with tarfile.open(fileobj=tar) as t:
            t.extractall(into, filter="data")
    return into


def _measure_one(root: Path, users: int, clicks: int, env: dict) -> Run:
    with tempfile.TemporaryDirectory() as cache:
        env = {**env, "XDG_CACHE_HOME": cache, "PYTHONPATH": str(root)}
        with driver.streamlit_process(env, 240.0, app=root / "app.py") as (url, p):
            followup.run(url, 1, 1, p.pid)  # warm: codes, models, imports
            runs, cpu = followup.run(url, users, clicks, p.pid)
    return Run(
        [v for r in runs for v in r.followups],
        [e for r in runs for e in r.errors],
        cpu,
        sum(len(r.followups) for r in runs),
        [v for r in runs for v in r.arrivals],
    )


def measure(clicks: int, users: int, data_dir: str | None) -> Samples:
    """``clicks`` per user of the crowd; one user alone makes as many clicks
    as the whole crowd, so that both medians rest on as many samples (a
    median of 20 moves by several milliseconds from run to run)."""
    env = {"EXPLORER_DATA_DIR": data_dir} if data_dir else {}

    def per_user(n: int) -> int:
        return clicks * users if n == 1 else clicks

    now = {n: _measure_one(driver.REPO, n, per_user(n), env) for n in (1, users)}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            root = extract(BASELINE, Path(tmp))
        except (OSError, subprocess.CalledProcessError) as e:
            why = getattr(e, "stderr", b"") or str(e).encode()
            return Samples(users, now, None, why.decode(errors="replace").strip())
        before = {n: _measure_one(root, n, per_user(n), env) for n in (1, users)}
    return Samples(users, now, before)


def _ms(values) -> str:
    med, p95 = np.median(values) * 1e3, np.percentile(values, 95) * 1e3
    return f"{med:.0f} ms median, {p95:.0f} ms p95"


def report(s: Samples) -> list[Row]:
    n = s.users
    one, crowd = s.now[1], s.now[n]
    before = s.before or {}
    base = (
        (lambda k: f"before ({BASELINE}): {_ms(before[k].followups)}")
        if before
        else (lambda k: f"no baseline: {s.skipped}")
    )
    where = (
        "the default page (AE and VAE of Fashion-MNIST, 10,000 points); by the "
        "page's own clock, from the press on a point not clicked before (its "
        "mousedown) until the page, having the run that answers it end, has "
        "painted itself as not running (Streamlit marks that once it has "
        "handled every element of the run: neighbours, open tab, link); "
        "clicks at least plotly's double-click delay apart, as a person's"
    )
    ratio = np.median(crowd.followups) / np.median(one.followups)
    old_ratio = (
        np.median(before[n].followups) / np.median(before[1].followups)
        if before
        else float("nan")
    )
    cpu_now = {k: r.cpu / max(r.clicks, 1) * 1e3 for k, r in s.now.items()}
    cpu_before = {k: r.cpu / max(r.clicks, 1) * 1e3 for k, r in before.items()}
    errors = one.errors + crowd.errors
    return [
        row(
            "server follow-up to a click, 1 user",
            "ms",
            one.followups,
            f"<= {TARGET_ONE_MS:.0f} ms median",
            lambda m, p: m <= TARGET_ONE_MS,
            scale=1e3,
            baseline=base(1),
            note=f"{where}; one server process",
        ),
        row(
            f"server follow-up to a click, {n} users at once",
            "ms",
            crowd.followups,
            f"<= {TARGET_CROWD_MS:.0f} ms median",
            lambda m, p: m <= TARGET_CROWD_MS,
            scale=1e3,
            baseline=base(n),
            note=f"{where}; one server process; {n} Chromiums (software "
            f"rendering) share this machine's {os.cpu_count()} cores with it",
        ),
        row(
            "follow-up to a click, 1 user: until the run's last message "
            "reaches the page",
            "ms",
            one.arrivals,
            "reported",
            scale=1e3,
            baseline=f"before: {ms(before[1].arrivals)}" if before else "",
            note="the same clicks as the row above, up to the moment the run's "
            "script_finished reached the page's script: the server's share and "
            "the transport; the rest of the row above is the browser drawing "
            "the run (React rendering Streamlit's elements)",
        ),
        Row(
            f"follow-up median, {n} users / 1 user",
            "x",
            float(ratio),
            float(ratio),
            1,
            "reported",
            None,
            baseline=f"before: {old_ratio:.1f}x" if before else "",
            note="how much the crowd slows each click's follow-up, the "
            "browsers' own share of the cores included",
        ),
        Row(
            "server CPU time per click, 1 user",
            "ms",
            cpu_now[1],
            cpu_now[1],
            one.clicks,
            "reported",
            None,
            baseline=f"before: {cpu_before[1]:.0f} ms" if before else "",
            note="the server process's user and system time over the clicks, "
            "divided by the clicks (media files fetched by the page included)",
        ),
        Row(
            f"server CPU time per click, {n} users at once",
            "ms",
            cpu_now[n],
            cpu_now[n],
            crowd.clicks,
            "reported",
            None,
            baseline=f"before: {cpu_before[n]:.0f} ms" if before else "",
            note="as above, all users' clicks together",
        ),
        Row(
            "follow-up: inputs lost or mixed up, errors",
            "count",
            float(len(errors)),
            float(len(errors)),
            one.clicks + crowd.clicks,
            "0",
            not errors,
            baseline="before: " + str(sum(len(r.errors) for r in before.values()))
            if before
            else "",
            note="after every click the link must name the image the page "
            "answered it with" + (f"; first: {errors[0][:200]}" if errors else ""),
        ),
    ]
