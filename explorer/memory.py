"""Memory of a process tree while it runs (psutil), for the CLI and the benchmark."""

from __future__ import annotations

import threading

import psutil


def _anon_mb(proc: psutil.Process) -> float:
    """A process's resident anonymous memory (what it allocated): resident
    minus file-backed and shared pages (memory-mapped files, which the kernel
    can drop)."""
    m = proc.memory_info()
    return (m.rss - m.shared) / 2**20


class MemoryWatch:
    """Samples the resident memory of this process and of its children (the
    loader workers that decode files) while running.

    ``growth_mb`` is the peak, over the samples, of what the process tree
    allocated on top of where it started: this process's anonymous memory
    above its start, plus the unique memory (USS: the pages only it holds; a
    forked worker's pages shared with its parent are not new memory) of each
    child started since, what it allocated before its first sample counted
    all the same. A child that was already running when the watch began (a
    server, a browser the calling process keeps) is not the watched work's.
    ``peak_anon_mb`` is the start plus that growth, and ``peak_rss_mb`` the
    peak of resident memory, file pages included, summed over the tree.
    """

    def __init__(self, interval: float = 0.01):
        self.interval = interval
        self._me = psutil.Process()
        # (psutil tells processes apart by pid and start time: a later
        # process given an old pid is not one of these)
        self._before = set(self._me.children(recursive=True))
        self.start_anon_mb = _anon_mb(self._me)
        self.growth_mb = 0.0
        self.peak_rss_mb = self._me.memory_info().rss / 2**20
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        grown = _anon_mb(self._me) - self.start_anon_mb
        rss = self._me.memory_info().rss / 2**20
        for child in self._me.children(recursive=True):
            if child in self._before:
                continue
            try:
                full = child.memory_full_info()
            except psutil.Error:  # it ended between the listing and the reading
                continue
            grown += full.uss / 2**20
            rss += full.rss / 2**20
        self.growth_mb = max(self.growth_mb, grown)
        self.peak_rss_mb = max(self.peak_rss_mb, rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def peak_anon_mb(self) -> float:
        return self.start_anon_mb + self.growth_mb
