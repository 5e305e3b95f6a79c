"""Atomic writes: a reader never sees a partial file, a failure leaves none."""

from __future__ import annotations

import json

import pytest

from explorer import fileio
from explorer.fileio import atomic_write, write_json


def test_write_replaces_the_whole_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "a.bin"
    atomic_write(path, b"first")
    atomic_write(path, b"second, longer")
    assert path.read_bytes() == b"second, longer"
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.bin"]


def test_a_failed_write_keeps_the_old_file_and_no_partial_one(tmp_path, monkeypatch):
    path = tmp_path / "a.bin"
    atomic_write(path, b"old")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(fileio.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, b"new " * 1000)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_write_json_round_trips(tmp_path):
    record = {"a": [1, 2.5, None], "b": {"c": "é"}}
    write_json(tmp_path / "r.json", record)
    text = (tmp_path / "r.json").read_text()
    assert json.loads(text) == record and text.endswith("\n")
