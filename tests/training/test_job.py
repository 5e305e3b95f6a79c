"""Training from the page (``explorer.training.job``): a request's checks
carry codes, one job per machine under a file lock shared between processes
(free again when its holder dies), a cancel stops within a step and leaves
nothing, a run saves a model the catalogue lists, the cap removes the oldest
in-page models first, and the off switch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace

import pytest

from explorer.fileio import write_json
from explorer.model.checkpoint import CONFIG_FILE, WEIGHTS_FILE, list_checkpoints
from explorer.training import job
from explorer.training.snapshots import SNAPSHOT_FILE
from tests.helpers import tiny_dataset

OK = job.Request("vae", 1.0, 2, 1, 200, "mine", "tiny", "train", None, 300)


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A private trained-models folder and weights folder, training on."""
    monkeypatch.setenv(job.TRAINED_ENV, str(tmp_path / "trained"))
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.delenv(job.TRAINING_ENV, raising=False)
    (tmp_path / "weights" / "shipped").mkdir(parents=True)
    return tmp_path / "trained"


@pytest.fixture
def tiny(monkeypatch):
    """Jobs train a tiny net on tiny 8x8 data (the request's dataset aside)."""
    monkeypatch.setattr(job, "HIDDEN", (16,))
    monkeypatch.setattr(job, "_data", lambda req: (tiny_dataset(300), None))


def prepared(root, req: job.Request = OK) -> object:
    """A job folder holding ``req``, as ``job.start`` leaves it."""
    folder = job.job_dir("j1", root)
    folder.mkdir(parents=True)
    write_json(folder / job.REQUEST_FILE, req.__dict__)
    return folder


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": "no/slash"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "shipped"}, "name_exists"),
        ({"model_type": "cvae"}, "model_type"),
        ({"beta": -0.5}, "beta"),
        ({"beta": float("nan")}, "beta"),
        ({"latent_dim": 1}, "latent"),
        ({"latent_dim": 17}, "latent"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 6}, "epochs"),
        ({"images": 10_001}, "images"),
        ({"images": 99}, "images"),
        ({"images": 5000, "available": 4000}, "too_small"),
    ],
)
def test_a_bad_request_is_refused_with_its_code(root, change, code):
    with pytest.raises(job.JobError) as e:
        job.validate(replace(OK, **change))
    assert e.value.code == code
    assert not (root / job.JOBS).exists()  # nothing started
    assert job.validate(OK) == OK


def test_the_off_switch_refuses_every_request(root, monkeypatch):
    monkeypatch.setenv(job.TRAINING_ENV, "off")
    assert not job.enabled()
    with pytest.raises(job.JobError) as e:
        job.start(OK)
    assert e.value.code == "off"
    assert not (root / job.JOBS).exists()


def _holder(root) -> subprocess.Popen:
    """Another process holding the training lock (it says so once it does)."""
    code = (
        "import sys, time; from filelock import FileLock; "
        f"lock = FileLock({str(root / job.LOCK_FILE)!r}); lock.acquire(); "
        "print('held', flush=True); time.sleep(120)"
    )
    root.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"held"
    return proc


def test_the_lock_is_one_per_machine_and_free_once_its_process_dies(
    root, tiny, monkeypatch
):
    monkeypatch.setattr(job, "LOCK_WAIT", 0.0)
    holder = _holder(root)
    try:
        assert job.locked(root)
        write_json(root / job.JOBS / job.CURRENT, {"id": "other", "name": "theirs"})
        with pytest.raises(job.JobError) as e:
            job.validate(OK)
        assert (e.value.code, e.value.fields["name"]) == ("busy", "theirs")
        # a training process that finds the lock taken trains nothing
        folder = prepared(root)
        assert job.run(folder) == 1
        assert job.status("j1")["phase"] == "busy"
        assert not (root / "mine").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert not job.locked(root)
    assert job.current() is None
    assert job.validate(OK) == OK


def test_a_run_saves_the_model_where_the_app_lists_it(root, tiny):
    folder = prepared(root)
    assert job.run(folder) == 0
    s = job.status("j1")
    assert s["phase"] == "done" and s["step"] == s["steps"] == 2  # (190 / 128)
    assert s["images_per_s"] > 0 and s["eta_s"] == 0
    saved = root / "mine"
    for name in (CONFIG_FILE, WEIGHTS_FILE, SNAPSHOT_FILE, job.MADE_FILE):
        assert (saved / name).is_file(), name
    assert list_checkpoints(root) == [saved]
    assert job.made_in_page(root) == [saved]
    assert not list((root / job.STAGING).iterdir())
    assert not job.locked(root)
    # the curves and the frames the page draws: one frame per snapshot
    frames = job.frames("j1")
    assert frames["means"].shape[0] == len(s["curves"]) >= 2
    assert frames["means"].shape[2] == 2
    with pytest.raises(job.JobError) as e:  # the name is taken now
        job.validate(OK)
    assert e.value.code == "name_exists"

    from explorer.app import catalogue

    assert "mine" in {e.name for e in catalogue.scan()}


def test_a_cancel_stops_within_a_step_and_leaves_nothing(root, tiny, monkeypatch):
    taken = []
    seen = job.Watch.on_snapshot

    def on_snapshot(watch, frame):
        seen(watch, frame)
        taken.append(watch.steps)
        if frame.step == 1:  # (the page's Cancel, after the first step)
            (watch.folder / job.CANCEL_FILE).touch()

    monkeypatch.setattr(job.Watch, "on_snapshot", on_snapshot)
    folder = prepared(root, replace(OK, epochs=3))
    assert job.run(folder) == 1
    s = job.status("j1")
    assert s["phase"] == "cancelled"
    assert s["step"] == 1 < s["steps"]  # (the second step did not run)
    assert not (root / "mine").exists()
    assert not (root / job.STAGING / "mine").exists()
    assert not job.locked(root)


def test_a_sigterm_is_a_cancel(root, tiny, monkeypatch):
    def on_snapshot(watch, frame):
        if frame.step == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(job.Watch, "on_snapshot", on_snapshot)
    before = signal.getsignal(signal.SIGTERM)
    job._STOP.clear()
    try:
        signal.signal(signal.SIGTERM, lambda *a: job._STOP.set())
        assert job.run(prepared(root, replace(OK, epochs=3))) == 1
    finally:
        signal.signal(signal.SIGTERM, before)
        job._STOP.clear()
    assert job.status("j1")["phase"] == "cancelled"
    assert not (root / "mine").exists()


def _model(root, name: str, saved: float, mb: float, made: bool = True):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / CONFIG_FILE).write_text("{}")
    (folder / WEIGHTS_FILE).write_bytes(b"\0" * int(mb * 2**20))
    if made:
        write_json(folder / job.MADE_FILE, {"saved": saved})
    return folder


def test_the_cap_removes_the_oldest_in_page_models_first(root, monkeypatch):
    monkeypatch.setenv(job.CAP_ENV, "2.5")
    oldest = _model(root, "oldest", 1.0, 1)
    older = _model(root, "older", 2.0, 1)
    other = _model(root, "not-ours", 0.0, 1, made=False)
    newest = _model(root, "newest", 3.0, 1)
    assert job.made_in_page(root) == [oldest, older, newest]
    assert job.evict(newest, root) == ["oldest"]
    assert not oldest.exists()
    assert older.exists() and newest.exists() and other.exists()
    # the newest stays even alone over the cap
    monkeypatch.setenv(job.CAP_ENV, "0.5")
    assert job.evict(newest, root) == ["older"]
    assert newest.exists() and other.exists()


def test_the_folders_of_jobs_ended_an_hour_ago_are_removed(root):
    import time

    folders = {}
    for name, phase, age in (("old", "done", 7200), ("new", "cancelled", 60)):
        folders[name] = job.job_dir(name, root)
        folders[name].mkdir(parents=True)
        write_json(
            folders[name] / job.STATUS_FILE,
            {"phase": phase, "updated": time.time() - age},
        )
    job.tidy(root)
    assert not folders["old"].exists() and folders["new"].exists()
