"""Caches shared by processes (``latent-explorer serve`` runs the page on
several): two processes fill the same entries at once; both get the whole,
correct result, one fit is made, and no temporary file is left behind."""

from __future__ import annotations

import io
import multiprocessing
import os
import stat

import numpy as np

from explorer.fileio import FILE_MODE, atomic_write
from explorer.latent import maps


def _fill(folder, means, barrier, out) -> None:
    """A worker: waits for the other, then asks for the same t-SNE map and
    writes the same data file many times over."""
    heard = []
    barrier.wait(timeout=60)
    proj = maps.cached("tsne", means, folder, progress=lambda f, m: heard.append(f))
    data = np.arange(100_000, dtype=np.float32) * (os.getpid() % 7 + 1)
    for _ in range(50):  # each write replaces the other process's whole file
        atomic_write(folder / "points-shared.bin", data.tobytes())
    buf = io.BytesIO()
    np.save(buf, proj.coords)
    out.put((bool(heard), buf.getvalue()))


def test_two_processes_fill_the_same_cache_at_once(tmp_path):
    means = np.random.default_rng(0).normal(size=(300, 4))
    # spawned, not forked: a fork of a test process whose OpenMP pool ran
    # (PyTorch, in an earlier test) can hang in the child's first t-SNE
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_fill, args=(tmp_path, means, barrier, out))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    got = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    fitted = [f for f, _ in got]
    assert sorted(fitted) == [False, True], "one process fits, the other reads it"
    coords = [np.load(io.BytesIO(b)) for _, b in got]
    np.testing.assert_array_equal(coords[0], coords[1])
    assert coords[0].shape == (300, 2) and np.isfinite(coords[0]).all()
    np.testing.assert_array_equal(maps.load("tsne", means, tmp_path).coords, coords[0])
    data = np.frombuffer((tmp_path / "points-shared.bin").read_bytes(), np.float32)
    base = np.arange(100_000, dtype=np.float32)
    assert any(np.array_equal(data, base * k) for k in range(1, 8)), "a whole file"
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock"))
    assert len(left) == 2 and "points-shared.bin" in left, left  # no .part files


def test_a_written_file_has_the_mode_open_would_give_it(tmp_path):
    atomic_write(tmp_path / "a.bin", b"x")
    with open(tmp_path / "b.bin", "wb") as f:
        f.write(b"x")
    mode = stat.S_IMODE((tmp_path / "a.bin").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == FILE_MODE
    assert mode & 0o044, "readable by the group and others under a usual umask"


def test_a_data_file_another_process_evicts_meanwhile_is_written_again(
    tmp_path, monkeypatch
):
    from explorer.app.components import latent_map

    monkeypatch.setattr(latent_map, "component_dir", lambda name: tmp_path)
    name = latent_map.write_once("points", b"abc", "m")
    utime = os.utime

    def evicted_first(path, *a):  # the other worker's eviction wins the race
        os.unlink(path)
        return utime(path, *a)

    monkeypatch.setattr(latent_map.os, "utime", evicted_first)
    assert latent_map.write_once("points", b"abc", "m") == name
    assert (tmp_path / name).read_bytes() == b"abc"
