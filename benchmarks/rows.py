"""The benchmark's rows: one measured figure each, its table and its JSON.

Each figure is the median and 95th percentile over repeated runs on this
machine, next to its target and, where one exists, a baseline measured in the
same run (so a ratio is reported, not only an absolute time).
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from explorer.fileio import load_json


@dataclass
class Row:
    """One measured figure."""

    name: str
    unit: str
    median: float
    p95: float
    n: int
    target: str = ""
    met: bool | None = None
    baseline: str = ""
    note: str = ""
    samples: list[float] = field(default_factory=list, repr=False)


def summarize(samples: list[float]) -> tuple[float, float]:
    a = np.asarray(samples, dtype=np.float64)
    return float(np.median(a)), float(np.percentile(a, 95))


def timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``fn()`` over ``repeats`` runs, after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def row(
    name, unit, samples, target="", ok=None, baseline="", note="", scale=1.0
) -> Row:
    s = [v * scale for v in samples]
    med, p95 = summarize(s)
    met = None if ok is None else bool(ok(med, p95))
    return Row(name, unit, med, p95, len(s), target, met, baseline, note, s)


def rate_row(name, unit, samples, target="", ok=None, baseline="", note="") -> Row:
    """A rate (more is better): its p95 column holds the 5th percentile, the
    slow end; ``ok(median, p5)`` decides ``met``."""
    s = [float(v) for v in samples]
    med, p5 = float(np.median(s)), float(np.percentile(s, 5))
    met = None if ok is None else bool(ok(med, p5))
    return Row(name, unit, med, p5, len(s), target, met, baseline, note, s)


def ms(samples: list[float]) -> str:
    """The median of ``samples`` (seconds) in whole milliseconds, for a baseline."""
    return f"{np.median(samples) * 1e3:.0f} ms"


# --- the table ------------------------------------------------------------------


def fmt(v: float, unit: str) -> str:
    if isinstance(v, float) and math.isnan(v):
        return "-"
    if unit == "images/s":
        return f"{v:,.0f}"
    return f"{v:.3g}" if v < 100 else f"{v:,.0f}"


def table(rows: list[Row]) -> str:
    head = ["figure", "median", "p95", "unit", "n", "target", "met", "baseline"]
    body = [
        [
            r.name,
            fmt(r.median, r.unit),
            fmt(r.p95, r.unit),
            r.unit,
            str(r.n),
            r.target,
            {True: "yes", False: "NO", None: ""}[r.met],
            r.baseline,
        ]
        for r in rows
    ]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)).rstrip()
        for x in [head, [("-" * w) for w in widths], *body]
    ]
    notes = [f"- {r.name}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + ([""] + notes if notes else []))


# --- the JSON -------------------------------------------------------------------


def _cpu_model() -> str:
    """The processor's name and its widest vector units (Linux)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    name = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in info.splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    flags = next(
        (
            ln.split(":", 1)[1].split()
            for ln in info.splitlines()
            if ln.startswith("flags")
        ),
        [],
    )
    vector = [f for f in ("avx512f", "avx2", "avx") if f in flags][:1]
    return name + (f", {vector[0]}" if vector else "")


def save(rows: list[Row], quick: bool, out: str | Path) -> list[Row]:
    """Writes a run's rows and the machine it ran on to ``out``; returns them."""
    meta = {
        "mode": "quick" if quick else "full",
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    Path(out).write_text(
        json.dumps({"meta": meta, "rows": [asdict(r) for r in rows]}, indent=2) + "\n"
    )
    return rows


def load_rows(path: str | Path) -> tuple[dict, list[Row]]:
    """The machine and rows a bench run wrote (``--out``)."""
    record = load_json(path)
    return record["meta"], [Row(**r) for r in record["rows"]]


def render(path: str | Path) -> str:
    """The table of a saved run, as the run printed it, under a line saying
    when and on what it ran."""
    meta, rows = load_rows(path)
    head = (
        f"{meta['when']}, {meta['mode']} run: {meta['cpus']} cores "
        f"({meta['machine']}{', ' + meta['cpu'] if meta.get('cpu') else ''}), "
        f"torch {meta['torch']} with {meta['torch_threads']} threads"
    )
    return head + "\n\n" + table(rows)
