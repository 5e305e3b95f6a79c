"""The encode suite's rows: throughput on 1 and 2 processes with the ratio
to 1 as the baseline, memory per process, and the GPU rows skipped with the
reason (or measured) ."""

from __future__ import annotations

import math

import pytest

from benchmarks.encode import Runs, Samples, report
from benchmarks.rows import table


def samples(identical: bool = True, gpu=None) -> Samples:
    one = Runs(1, 2, [2.0, 4.0, 2.5], [7.0, 9.0, 8.0], [[300.0], [310.0], [305.0]])
    two = Runs(2, 1, [1.0, 1.25, 2.0], [9.0, 9.0, 9.5])
    two.rss_mb = [[250.0, 240.0], [260.0, 245.0], [255.0, 250.0]]
    why = "" if gpu else "no CUDA device on this machine"
    return Samples(10_000, 4096, [one, two], identical, gpu, why)


def test_the_rows_compare_two_processes_with_one_in_the_same_run():
    rows = {r.name: r for r in report(samples())}
    assert list(rows) == [
        "encode 10,000 images, 1 process (CPU)",
        "encode 10,000 images, 2 processes (CPU)",
        "peak resident memory per process, 1 process",
        "peak resident memory per process, 2 processes",
        "encode 10,000 images, 1 process (GPU)",
        "encode 10,000 images, 2 processes (GPUs, nccl)",
    ]
    one, two = rows["encode 10,000 images, 1 process (CPU)"], rows[list(rows)[1]]
    assert one.unit == two.unit == "images/s"
    assert one.samples == [5_000, 2_500, 4_000] and one.median == 4_000
    assert two.median == 8_000 and two.n == 3
    assert two.baseline == "1 process: 4,000/s (2.00x)" and not one.baseline
    assert "byte-identical to 1 process: yes" in two.note
    assert "threads per process: 1" in two.note and "threads per process: 2" in one.note
    assert "start-up included: 8.0 s" in one.note
    # every process's peak is a sample: 3 runs of 1, 3 runs of 2
    mem1, mem2 = rows[list(rows)[2]], rows[list(rows)[3]]
    assert mem1.unit == mem2.unit == "MB"
    assert mem1.n == 3 and mem1.median == 305.0
    assert mem2.n == 6 and mem2.median == pytest.approx(250.0)
    # no GPU: its rows are there, measured nothing, and say why
    for name in list(rows)[4:]:
        r = rows[name]
        assert r.n == 0 and math.isnan(r.median)
        assert r.note == "skipped: no CUDA device on this machine"
    assert "skipped: no CUDA device" in table(list(rows.values()))


def test_a_mismatch_and_gpu_runs_are_reported():
    gpu = [Runs(1, 8, [0.5, 0.5]), Runs(2, 8, [0.25, 0.25])]
    rows = report(samples(identical=False, gpu=gpu))
    assert "byte-identical to 1 process: NO" in rows[1].note
    assert [r.median for r in rows[4:]] == [20_000, 40_000]
    assert all(not r.note.startswith("skipped") for r in rows[4:])
