"""The "Train a model now" tab in AppTest: one epoch on 100 images in a real
training process, then the saved model is said, listed and opened on the
left; bad input gets a message and starts nothing; the off switch."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from explorer.app import keys as K
from explorer.training import job
from tests.helpers import APP, errors

TAB = "Train a model now"


@pytest.fixture
def trained(tmp_path, monkeypatch):
    monkeypatch.setenv(job.TRAINED_ENV, str(tmp_path / "trained"))
    monkeypatch.delenv(job.TRAINING_ENV, raising=False)
    return tmp_path / "trained"


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state[K.LIVE] = False
    at.query_params["tab"] = TAB
    return at.run()


def _start(at: AppTest, name: str, images: int = 100) -> AppTest:
    at.text_input(key=K.TRAIN_NAME).set_value(name)
    at.number_input(key=K.TRAIN_IMAGES).set_value(images)
    at.slider(key=K.TRAIN_EPOCHS).set_value(1)
    at.slider(key=K.TRAIN_LATENT).set_value(2)
    at.button(key=K.TRAIN_START).click()
    return at.run()


def test_one_epoch_trains_saves_and_opens_on_the_left(trained):
    at = _open()
    assert not errors(at)
    at = _start(at, "tiny-one")
    assert not errors(at)
    mine = at.session_state[K.TRAIN_JOB]
    said = " ".join(m.value for m in at.markdown)
    assert "tiny-one" in said and ("Starting to train" in said or "epoch" in said)
    assert at.button(key=K.TRAIN_CANCEL).label == "Cancel"
    assert job.wait(mine, timeout=120) == 0
    s = job.status(mine)
    assert s["phase"] == "done" and s["step"] == s["steps"] == 1  # (95 images)
    assert len(s["curves"]) >= 2 and len(s["history"]) == 1
    at.run()
    assert not errors(at)
    assert [m.value for m in at.success] == [
        "Saved as tiny-one (visible to everyone using this server)."
    ]
    left = at.sidebar.selectbox(key=K.CHECKPOINT("left", "fashion-mnist"))
    assert "tiny-one" in left.options
    at.button(key=K.TRAIN_OPEN("left")).click()
    at.run()
    assert not errors(at)
    left = at.sidebar.selectbox(key=K.CHECKPOINT("left", "fashion-mnist"))
    assert left.value == "tiny-one"
    assert (trained / "tiny-one" / "model.safetensors").is_file()


def test_bad_input_says_why_and_starts_nothing(trained):
    at = _start(_open(), "fashion-mnist-vae-z2")  # (a shipped model's name)
    assert not at.exception
    assert K.TRAIN_JOB not in at.session_state
    [shown] = [e.value for e in at.error if "Not started" in e.value]
    assert "exists already" in shown and "fashion-mnist-vae-z2" in shown
    at = _start(at, "a b/c")
    [shown] = [e.value for e in at.error if "Not started" in e.value]
    assert "not a valid model name" in shown
    assert not (trained / job.JOBS).exists()


def test_another_sessions_training_makes_the_page_busy(trained):
    """A training that holds the machine's lock (another process's): the
    page says who trains and for how long, and Start is disabled."""
    import subprocess
    import sys
    import time

    from explorer.fileio import write_json

    trained.mkdir(parents=True)
    code = (
        "import time; from filelock import FileLock; "
        f"lock = FileLock({str(trained / job.LOCK_FILE)!r}); lock.acquire(); "
        "print('held', flush=True); time.sleep(120)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        folder = job.job_dir("theirs", trained)
        folder.mkdir(parents=True)
        now = time.time()
        status = {"id": "theirs", "name": "their-model", "phase": "training"}
        write_json(folder / job.STATUS_FILE, status | {"eta_s": 42, "updated": now})
        write_json(trained / job.JOBS / job.CURRENT, {"id": "theirs"})
        at = _open()
        assert not errors(at)
        [busy] = [w.value for w in at.warning]
        assert busy.startswith("Busy: training their-model, about ")
        assert busy.endswith(" s left.") and int(busy.split()[-3]) in (40, 41, 42)
        assert at.button(key=K.TRAIN_START).disabled
    finally:
        holder.kill()
        holder.wait()


def test_the_off_switch_says_so(trained, monkeypatch):
    monkeypatch.setenv(job.TRAINING_ENV, "off")
    at = _open()
    assert not errors(at)
    assert [i.value for i in at.info] == [
        "Training in the page is switched off on this server."
    ]
    assert not at.get("form")
