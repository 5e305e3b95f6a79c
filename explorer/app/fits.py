"""Non-linear maps (UMAP, t-SNE) fitted in the background, shared by every
session of the server.

A fit of tens of thousands of points takes a minute or more on a small
machine, so it never runs in a page's script: the first page to ask starts
it on a thread, every page shows its progress while its map stays the PCA,
and the page polls (``poll``) until it is done. A finished fit is kept on
disk (``maps.cached``), so the next server reads it at once.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from explorer.app import i18n
from explorer.app.i18n import N_, _
from explorer.fileio import cache_dir
from explorer.latent import maps

# The steps a fit reports (``maps.cached``'s progress, in English), for the
# page's language; "iteration i of n" is matched by ``ITERATION``.
STEPS = {
    "starting": N_("starting"),
    "nearest neighbours": N_("nearest neighbours"),
    "nearest neighbours, then the layout": N_("nearest neighbours, then the layout"),
    "done": N_("done"),
}
ITERATION = re.compile(r"iteration (\d+) of (\d+)")


def step_text(message: str) -> str:
    """A fit's progress message in the page's language (as it is when the
    step is not known here)."""
    if message in STEPS:
        return i18n.marked(STEPS[message])
    m = ITERATION.fullmatch(message)
    if m:
        return _("iteration {i} of {n}").format(i=m[1], n=m[2])
    return message


@dataclass
class Fit:
    """One map's fit: how far it is, then its result or its error."""

    kind: str
    points: int
    fraction: float = 0.0
    message: str = "starting"
    result: maps.MapProjection | None = None
    error: Exception | None = None  # (words for the page: ``errors.describe``)
    done: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)

    def text(self) -> str:
        name = maps.LABELS[self.kind]
        took = time.monotonic() - self.started
        return _(
            "Fitting a {name} map of {n} points: {step} "
            "({took} s; the map stays the PCA until then)"
        ).format(
            name=name,
            n=i18n.number(self.points),
            step=step_text(self.message),
            took=f"{took:.0f}",
        )


class Fits:
    """The server's fits, by key (checkpoint, data, kind)."""

    def __init__(self) -> None:
        self._jobs: dict[tuple, Fit] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, kind: str, means: np.ndarray) -> Fit:
        """The fit of ``means`` under ``key``: read from disk when cached,
        else started on a thread (once per key: a failed fit is not retried
        until the server restarts)."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None:
                return job
            job = self._jobs[key] = Fit(kind, len(means))
        folder = cache_dir() / "maps"
        try:
            ready = maps.load(kind, means, folder)
        except maps.ProjectionError as e:
            job.error = e
            job.done.set()
            return job
        if ready is not None:
            job.result, job.fraction = ready, 1.0
            job.done.set()
            return job
        threading.Thread(
            target=self._run, args=(job, means, folder), daemon=True, name="map-fit"
        ).start()
        return job

    @staticmethod
    def _run(job: Fit, means: np.ndarray, folder) -> None:
        def heard(fraction: float, message: str) -> None:
            job.fraction, job.message = fraction, message

        try:
            job.result = maps.cached(job.kind, means, folder, progress=heard)
            job.fraction = 1.0
        except maps.ProjectionError as e:
            job.error = e
        except Exception as e:  # noqa: BLE001 - a library's failure, shown to the user
            name, reason = maps.LABELS[job.kind], f"{type(e).__name__}: {e}"
            job.error = maps.ProjectionError("failed", map=name, reason=reason)
        finally:
            job.done.set()

    def running(self) -> list[Fit]:
        with self._lock:
            return [j for j in self._jobs.values() if not j.done.is_set()]


@st.cache_resource(show_spinner=False)
def fits() -> Fits:
    return Fits()


@st.fragment(run_every=1.0)
def poll(jobs: list[Fit]) -> None:
    """Each fit's progress, redrawn every second; once all are done, the
    page runs again with their maps."""
    for job in jobs:
        st.progress(min(max(job.fraction, 0.0), 1.0), text=job.text())
    if all(job.done.is_set() for job in jobs):
        st.rerun(scope="app")
