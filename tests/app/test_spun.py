"""The cached loaders' spinners: shown on a process's first call with given
arguments, not on the cache hits every rerun makes."""

from __future__ import annotations

import contextlib

from explorer.app import catalogue


def test_a_spinner_only_the_first_time(monkeypatch):
    shown, calls = [], []

    @contextlib.contextmanager
    def spinner(text):
        shown.append(text)
        yield

    monkeypatch.setattr(catalogue.st, "spinner", spinner)
    monkeypatch.setattr(catalogue, "_ASKED", catalogue._Asked(size=2))

    def load(*args):
        calls.append(args)
        return sum(args)

    assert catalogue._spun("Loading…", load, 1, 2) == 3
    assert catalogue._spun("Loading…", load, 1, 2) == 3
    assert shown == ["Loading…"] and calls == [(1, 2), (1, 2)]
    catalogue._spun("Loading…", load, 5)
    catalogue._spun("Loading…", load, 6)  # the record holds 2: (1, 2) drops
    catalogue._spun("Loading…", load, 1, 2)
    assert shown == ["Loading…"] * 4


def test_a_failed_load_shows_its_spinner_again(monkeypatch):
    shown = []

    @contextlib.contextmanager
    def spinner(text):
        shown.append(text)
        yield

    monkeypatch.setattr(catalogue.st, "spinner", spinner)
    monkeypatch.setattr(catalogue, "_ASKED", catalogue._Asked())

    def broken(x):
        raise ValueError(x)

    for _ in range(2):
        with contextlib.suppress(ValueError):
            catalogue._spun("Loading…", broken, 1)
    assert shown == ["Loading…", "Loading…"]
