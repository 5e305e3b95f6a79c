"""The lesson (``explorer.app.lesson``) in AppTest: ``?lesson=N`` opens step
N, every step completes on its action (a view event or its button) and not
before, a predict-first check holds its answer back until a pick, a bad
``lesson`` falls back with a notice, the link keeps the step, the progress
and the hidden controls, and leaving puts the view back exactly."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.app import keys as K
from explorer.app import lesson as L
from explorer.latent import lesson as teach
from tests.helpers import APP, errors, send_view_event

DS = "fashion-mnist"
AE, VAE = "fashion-mnist-ae-z2", "fashion-mnist-vae-z2"


def _open(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state[K.LIVE] = False
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _title(at) -> str:
    return next(h.value for h in at.subheader if h.value.startswith("Lesson"))


def _done(at) -> list[int]:
    return (
        list(at.session_state[K.LESSON_DONE])
        if K.LESSON_DONE in at.session_state
        else []
    )


def _button(at, label: str):
    (b,) = [b for b in at.main.button if b.label == label] or [
        b for b in at.sidebar.button if b.label == label
    ]
    return b


def _go(at, n: int) -> AppTest:
    at.session_state[K.LESSON] = n
    return at.run()


def _point(at, slot: str, index: int) -> AppTest:
    return send_view_event(at, {"kind": "point", "slot": slot, "index": index})


def _space(at, slot: str, xy) -> AppTest:
    return send_view_event(
        at, {"kind": "space", "slot": slot, "x": float(xy[0]), "y": float(xy[1])}
    )


def _texts(at) -> str:
    return "\n".join(
        e.value
        for kind in ("markdown", "caption", "success", "warning")
        for e in getattr(at, kind)
    )


@pytest.fixture(scope="module")
def walk() -> dict:
    """One session through every step, each completed by its action: what
    each step showed before and after (its title, whether it was done)."""
    at = _open(lesson="1")
    seen = {"titles": {}, "before": {}, "errors": []}

    def mark(n):
        seen["titles"][n] = _title(at)
        seen["before"][n] = n in _done(at)

    mark(1)
    _point(at, "left", 5)
    _go(at, 2)
    mark(2)
    spot = next(iter(at.session_state[K.LESSON_STATE]["gaps"]["spots"].values()))
    seen["answer_hidden"] = not any(
        "the model gives" in t for t in _texts(at).split("\n")
    )
    _space(at, "left", _marks(at, "selected")[0])  # on an image: no gap
    seen["near_data_done"] = 2 in _done(at)
    at.radio(key=K.LESSON_PICK("gaps")).set_value("A").run()
    seen["revealed"] = "the model gives" in _texts(at) or "Right:" in _texts(at)
    _space(at, "left", spot)
    _go(at, 3)
    mark(3)
    z_before = _texts(at)
    _button(at, "Draw ε again").click().run()
    seen["eps_moved"] = _texts(at) != z_before
    _go(at, 4)
    mark(4)
    _point(at, "left", 7)
    seen["ae_point_done_4"] = 4 in _done(at)
    _point(at, "right", 7)
    _go(at, 5)
    mark(5)
    seen["loss_text"] = _texts(at)
    seen["sel5"] = at.session_state[K.SEL]
    _point(at, "right", 9)
    _go(at, 6)
    mark(6)
    at.radio(key=K.LESSON_PICK("filled")).set_value("B").run()
    _button(at, "Place × at the marked spot").click().run()
    _go(at, 7)
    mark(7)
    seen["samples_before_pick"] = _marks(at, "samples")
    at.radio(key=K.LESSON_PICK("sampling")).set_value("A").run()
    seen["samples_after_pick"] = _marks(at, "samples")
    _button(at, "Sample again").click().run()
    _go(at, 8)
    mark(8)
    _button(at, "Place × at the first diamond").click().run()
    _go(at, 9)
    mark(9)
    _point(at, "left", 11)
    seen["interp_b"] = at.session_state[K.INTERP_B]
    _go(at, 10)
    mark(10)
    assert not [b for b in at.main.button if b.label == "Pick another image"]
    at.radio(key=K.LESSON_PICK("cvae")).set_value("A").run()  # the check first
    _button(at, "Pick another image").click().run()
    seen["done"] = _done(at)
    seen["errors"] = errors(at)
    seen["link"] = _link(at)
    return seen


def _link(at) -> dict:
    return {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}


def _marks(at, kind: str):
    from tests.helpers import view_data

    (data,) = view_data(at)
    return [m["overlays"].get(kind) for m in data["maps"]]


def test_every_step_opens_and_completes_on_its_action_not_before(walk):
    assert walk["errors"] == []
    n = len(L.steps())
    assert n == 10
    for i in range(1, n + 1):
        assert walk["titles"][i].startswith(f"Lesson, step {i} of {n}")
        assert walk["before"][i] is False  # not done when it opened
    assert walk["done"] == list(range(1, n + 1))
    assert walk["near_data_done"] is False  # a click among the points: no gap
    assert walk["ae_point_done_4"] is False  # step 4 wants the VAE's map
    assert walk["eps_moved"]
    assert walk["interp_b"] == 11


def test_a_check_holds_its_answer_until_the_pick(walk):
    assert walk["answer_hidden"] and walk["revealed"]
    before, after = walk["samples_before_pick"], walk["samples_after_pick"]
    assert before == [None, None] and all(after)


def test_the_link_keeps_the_step_and_the_progress(walk):
    link = walk["link"]
    assert link["lesson"] == "10"
    assert link["done"] == ",".join(str(i) for i in range(1, 11))


def test_step_five_shows_the_models_own_loss_terms(walk):
    """The numbers on the page are the model's: recomputed here."""
    from explorer.app import catalogue

    sp = catalogue.get_space(str(catalogue.weights_dir() / VAE), DS, ("test",))
    ds = catalogue.get_dataset(DS, ("test",))
    loss = teach.image_loss(sp.model, ds.images[walk["sel5"]])
    text = walk["loss_text"]
    elbo = f"= −({loss.recon:.1f} + {loss.kl:.1f}) = {-loss.neg_elbo:.1f} nats"
    assert elbo.replace("-", "−") in text.replace(",", "").replace("-", "−")


def test_a_link_opens_its_step_and_a_bad_one_falls_back_with_a_notice():
    at = _open(lesson="4", done="1,2,99", hide="sidebar,tabs,wings")
    assert _title(at).startswith("Lesson, step 4 of 10")
    assert at.session_state[K.LESSON_DONE] == [1, 2]
    notes = " ".join(w.value for w in at.warning)
    assert "wings" in notes
    assert len(at.sidebar.selectbox) == 0 and len(at.sidebar.button) == 0
    assert not at.tabs  # hidden
    for bad in ("99", "0", "x"):
        at = _open(lesson=bad)
        assert not any(h.value.startswith("Lesson") for h in at.subheader)
        assert any("lesson" in w.value for w in at.warning), bad


def test_leaving_the_lesson_restores_the_view_exactly():
    at = _open()
    _point(at, "right", 42)
    before = dict(_link(at))
    _button(at, "Start the lesson").click().run()
    assert _title(at).startswith("Lesson, step 1")
    _point(at, "left", 3)  # the lesson's actions change the view
    _button(at, "Next step →").click().run()
    at.radio(key=K.LESSON_PICK("gaps")).set_value("B").run()
    _button(at, "Place × at the marked spot").click().run()
    assert _link(at) != before
    (leave,) = [b for b in at.main.button if b.label == "Leave the lesson"]
    leave.click().run()
    assert not any(h.value.startswith("Lesson") for h in at.subheader)
    assert _link(at) == before
    assert at.session_state[K.SEL] == 42


def test_a_step_that_needs_a_vae_says_so_and_opens_one():
    at = _open(lesson="3", ds=DS, l=AE, r="fashion-mnist-ae-z16")
    assert any("needs a variational autoencoder" in i.value for i in at.info)
    _button(at, f"Open {VAE}").click().run()
    assert at.session_state[K.CHECKPOINT("right", DS)] == VAE
    assert not errors(at)
    assert any(b.label == "Draw ε again" for b in at.button)


def test_one_map_a_teacher_hides_the_other():
    at = _open(lesson="2", hide="right")
    from tests.helpers import view_data

    (data,) = view_data(at)
    assert [m["slot"] for m in data["maps"]] == ["left"]
    assert np.asarray(data["maps"][0]["overlays"]["targets"]).shape == (1, 2)


def test_a_one_map_link_opens_the_model_a_step_needs_on_the_map_shown():
    """With the VAE's map hidden, step 3 says it needs a VAE, and its button
    opens one on the map that shows; the link still names both models."""
    at = _open(lesson="3", hide="right")
    assert any("needs a variational autoencoder" in i.value for i in at.info)
    _button(at, f"Open {VAE}").click().run()
    assert at.session_state[K.CHECKPOINT("left", DS)] == VAE
    assert any(b.label == "Draw ε again" for b in at.button)
    assert _link(at)["r"] == VAE and "hr" in _link(at)  # (hidden, not forgotten)


def test_leaving_keeps_what_the_page_hid_before_and_done_needs_a_lesson():
    at = _open(hide="tabs", done="1,2")
    assert K.LESSON_DONE not in at.session_state  # (progress of no lesson)
    before = _link(at)
    _button(at, "Start the lesson").click().run()
    _button(at, "Leave the lesson").click().run()
    assert _link(at) == before and not at.tabs
