"""Shared fixtures: the media an ``AppTest`` page serves, one Chromium per
module, the shared data, and a private cache for every test. Hooks: every
skip counted by reason at the end of a run, and a failure in CI
(``EXPLORER_NO_SKIPS=1``) unless ``tests/skips.py`` allows it."""

from __future__ import annotations

import os
from pathlib import Path

# Under pytest-xdist each worker gets its share of the cores for its math
# threads (and so do the servers and trainings it starts, which inherit the
# variables): two workers each spinning two OpenMP threads on two cores
# slow each other down many times over.
if os.environ.get("PYTEST_XDIST_WORKER"):
    _share = max(
        1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    )
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = str(_share)

import pytest  # noqa: E402
import torch  # noqa: E402

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(_share)

from tests import skips
from tests.helpers import REPO, TEST_DATA_ENV, KeptMedia


@pytest.fixture(autouse=True)
def _keep_media(monkeypatch):
    import streamlit.testing.v1.app_test as app_test

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", KeptMedia.storage)
    yield
    KeptMedia.storages.clear()


@pytest.fixture(scope="module")
def browser():
    """One Chromium for a test module (Playwright, Debian's binary)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    from harness.driver import launch

    with playwright_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder (``EXPLORER_TEST_DATA``, else ``../shared/data``)."""
    path = Path(os.environ.get(TEST_DATA_ENV) or REPO.parent / "shared" / "data")
    if not (path / "fashion-mnist").is_dir():
        pytest.skip(f"shared data not found at {path}; set {TEST_DATA_ENV}")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real cache or data directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("EXPLORER_DATA_DIR", raising=False)
    torch.manual_seed(0)
    # No browser draws an AppTest's first paint: nothing to wait for.
    from explorer.app import first

    monkeypatch.setattr(first, "WAIT", 0.0)


# --- skips: counted at the end, failures under EXPLORER_NO_SKIPS (tests/skips.py) ---

_FAILED_SKIP = "skip failed under EXPLORER_NO_SKIPS"  # report property: its reason


class _SkippedModule(pytest.Item):
    """A module that skipped while it was imported, as one test that skips
    when run: the hook below then fails it like any other skip, and the run
    goes on (a failed collection would stop it)."""

    def __init__(self, *, skipped: tuple, **kw):
        super().__init__(**kw)
        self.skipped = skipped  # the collection's skip: (path, line, message)

    def runtest(self):
        raise pytest.skip.Exception(self.skipped[2])

    def reportinfo(self):
        return self.path, self.skipped[1] - 1, f"{self.path.name}: skipped at import"


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    rep = yield
    if rep.skipped and skips.no_skips():
        rep.outcome = "passed"
        rep.result = [
            _SkippedModule.from_parent(collector, name="<module>", skipped=rep.longrepr)
        ]
        rep.longrepr = None
    return rep


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if not rep.skipped or hasattr(rep, "wasxfail") or not skips.no_skips():
        return rep
    if isinstance(item, _SkippedModule):
        rep.longrepr = item.skipped
    reason = skips.reason_of(rep.longrepr)
    if skips.allowed(item.nodeid, reason) is None:
        place = skips.where(rep.longrepr, item.config.rootpath)
        rep.outcome = "failed"
        rep.longrepr = skips.failure(reason, place)
        # (a report's properties reach the controller of an xdist run)
        rep.user_properties.append((_FAILED_SKIP, reason))
    return rep


def _whole_module(nodeid: str, rep=None) -> bool:
    # a skip while collecting, or the _SkippedModule that stands for one
    return isinstance(rep, pytest.CollectReport) or nodeid.endswith("::<module>")


def pytest_terminal_summary(terminalreporter, config):
    counts: dict[tuple[str, str, str], list[int]] = {}  # -> [skips, whole modules]
    for rep in terminalreporter.stats.get("skipped", []):
        reason = skips.reason_of(rep.longrepr)
        ok = skips.allowed(rep.nodeid, reason) if skips.no_skips() else None
        note = f"allowed in CI: {ok.why}" if ok else ""
        c = counts.setdefault(("skipped", note, reason), [0, 0])
        c[0] += 1
        c[1] += _whole_module(rep.nodeid, rep)
    failed_skips = [
        (value, rep.nodeid)
        for outcome in ("failed", "error")  # (a skip in setup fails as an error)
        for rep in terminalreporter.stats.get(outcome, [])
        for name, value in getattr(rep, "user_properties", ())
        if name == _FAILED_SKIP
    ]
    for reason, nodeid in failed_skips:
        note = f"skips, under {skips.NO_SKIPS_ENV}=1"
        c = counts.setdefault(("failed", note, reason), [0, 0])
        c[0] += 1
        c[1] += _whole_module(nodeid)
    if not counts:
        return
    terminalreporter.section("skips, by reason")
    for (word, note, reason), (n, modules) in sorted(
        counts.items(), key=lambda kv: -kv[1][0]
    ):
        notes = [note] if note else []
        notes += [f"{modules} of them whole modules"] if modules else []
        said = f" ({'; '.join(notes)})" if notes else ""
        terminalreporter.line(f"{word} {n}{said}: {reason}")
    if not skips.no_skips():
        terminalreporter.line(
            f"(CI sets {skips.NO_SKIPS_ENV}=1: there a skip fails unless "
            "tests/skips.py allows it)"
        )
