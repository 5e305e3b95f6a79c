"""The first paint: a new visitor's default view, shown from what the last
new visitor was shown, before the page imports PyTorch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from explorer.app import first
from tests.helpers import APP, REPO, errors, images, view_data


def page_data(at) -> dict:
    """The view's data as the page computed it (without the script URLs the
    view adds when it mounts)."""
    [data] = view_data(at)
    return {
        k: v
        for k, v in data.items()
        if k not in ("module_url", "modules", "plotly_url")
    }


def as_computed(data: dict) -> dict:
    """A session's first view without what only a first view carries: the
    server's images (PNG data URLs) and its beacon's token."""
    out = {k: v for k, v in data.items() if k != "drawn_token"}
    out["selected"] = {k: v for k, v in data["selected"].items() if k != "image"}
    out["maps"] = [dict(m, image=None) if m["decoder_url"] else m for m in data["maps"]]
    return out


def snapshots() -> list:
    return sorted((first.cache_dir() / "first-view").glob("*.json"))


def test_a_new_visitor_is_shown_the_saved_view_then_the_same_page():
    a = AppTest.from_file(APP, default_timeout=180).run()
    assert not errors(a)
    [saved] = snapshots()
    record = json.loads(saved.read_text())
    assert record["key"] == first.key() and saved.stem == record["key"]
    shown = page_data(a)
    assert record["data"] == as_computed(shown)
    # a session's first view shows the server's images, as a first paint does
    token = shown.pop("drawn_token")
    assert len(token) == 16 and shown == first.with_images(
        record["data"], record["images"]
    )
    # the images it shows before the decoders and the data's chunks arrive
    assert set(record["images"]) == {"selected", "left", "right"}
    assert all(
        v.startswith("data:image/png;base64,") for v in record["images"].values()
    )
    b = AppTest.from_file(APP, default_timeout=180).run()  # the next new visitor
    assert not errors(b)
    assert len(view_data(b)) == 1  # one view: drawn once, by the first paint
    painted = page_data(b)
    assert len(painted.pop("drawn_token")) == 16  # its own, for its beacon
    assert first.with_images(record["data"], record["images"]) == painted
    assert [c for c, _ in images(b)] == [c for c, _ in images(a)]
    assert [h.value for h in b.subheader] == [h.value for h in a.subheader]
    assert [c.value for c in b.caption] == [c.value for c in a.caption]
    # its page has drawn (the first paint waited for that): later runs send
    # the view plainly, with no images and no beacon to wait for
    b.run()
    [again] = view_data(b)
    assert "drawn_token" not in again and again == as_computed(again)


def test_a_stale_saved_view_is_replaced_and_the_page_redrawn():
    AppTest.from_file(APP, default_timeout=180).run()
    [saved] = snapshots()
    record = json.loads(saved.read_text())
    record["data"]["maps"][0]["cursor"] = [9.0, 9.0]  # not what the page draws
    saved.write_text(json.dumps(record))
    b = AppTest.from_file(APP, default_timeout=180).run()
    assert not errors(b)
    shown = page_data(b)
    assert shown["maps"][0]["cursor"] != [9.0, 9.0]  # the page's own, after a rerun
    assert json.loads(saved.read_text())["data"] == as_computed(shown)


def test_a_link_is_shown_its_own_saved_view():
    plain = AppTest.from_file(APP, default_timeout=180).run()
    linked = AppTest.from_file(APP, default_timeout=180)
    linked.query_params["sel"] = "5"
    linked.run()
    assert not errors(linked)
    assert view_data(linked)[0]["selected"]["index"] == 5
    assert len(snapshots()) == 2  # the plain address's and the link's
    again = AppTest.from_file(APP, default_timeout=180)  # the link's next visitor
    again.query_params["sel"] = "5"
    again.run()
    assert not errors(again)
    assert len(view_data(again)) == 1  # drawn once, by the first paint
    assert page_data(again)["selected"]["index"] == 5
    assert [c.value for c in again.caption] == [c.value for c in linked.caption]
    # another link (the same parameter, another value) is not shown it
    other = AppTest.from_file(APP, default_timeout=180)
    other.query_params["sel"] = "7"
    other.run()
    assert page_data(other)["selected"]["index"] == 7
    assert len(snapshots()) == 3
    # nor is a session that has state already
    preset = AppTest.from_file(APP, default_timeout=180)
    preset.session_state["live"] = False
    preset.run()
    assert all(m["decoder_url"] is None for m in view_data(preset)[0]["maps"])
    assert len(snapshots()) == 3
    assert page_data(plain)["selected"]["index"] == 0


def test_a_saved_view_is_shown_only_for_its_own_query(monkeypatch):
    monkeypatch.setattr(first, "key", lambda: "k")
    data = {"selected": {"index": 3}, "maps": []}
    first.save({"sel": ["3"]}, [], data, {})
    # the file of another query, holding this one's view, is not shown
    os.replace(first._path("k", {"sel": ["3"]}), first._path("k", {"sel": ["4"]}))
    shown = []
    monkeypatch.setattr(first, "view", shown.append)
    monkeypatch.setattr(first, "fresh", lambda: True)
    monkeypatch.setattr(first, "query", lambda: {"sel": ["4"]})
    assert first.paint(True) is None and not shown


def test_a_saved_view_is_shown_only_in_its_own_language(monkeypatch):
    """The headers saved with a view are in the saving session's language:
    a session in another language computes its own."""
    from explorer.app import i18n

    monkeypatch.setattr(first, "key", lambda: "k")
    monkeypatch.setattr(first, "query", dict)
    monkeypatch.setattr(i18n, "lang", lambda: "zh")
    first.save(
        {}, [[["subheader", "模型"]]], {"selected": {"index": 0}, "maps": []}, {}
    )
    shown = []
    monkeypatch.setattr(first, "view", shown.append)
    monkeypatch.setattr(i18n, "lang", lambda: "en")
    assert first.paint(True) is None and not shown
    assert first._path("k", {}).name == "k.json"  # the plain address in English
    monkeypatch.setattr(i18n, "lang", lambda: "zh")
    monkeypatch.setattr(first, "show_until_drawn", lambda data: "token")
    assert first.paint(True) is not None


def test_only_the_newest_saved_views_are_kept(monkeypatch):
    monkeypatch.setattr(first, "key", lambda: "k")
    monkeypatch.setattr(first, "KEEP", 3)
    for i in range(5):
        first.save({"sel": [str(i)]}, [], {"i": i}, {})
        t = 1_000_000 + i
        os.utime(first._path("k", {"sel": [str(i)]}), (t, t))
    first.prune()
    kept = sorted(json.loads(f.read_text())["data"]["i"] for f in snapshots())
    assert kept == [2, 3, 4]


def test_the_key_follows_the_checkpoints_and_the_settings(tmp_path, monkeypatch):
    import shutil

    from explorer.fileio import REPO_WEIGHTS

    for name in ("fashion-mnist-ae-z2", "fashion-mnist-vae-z2"):
        shutil.copytree(REPO_WEIGHTS / name, tmp_path / name)
    monkeypatch.setenv("EXPLORER_WEIGHTS_DIR", str(tmp_path))
    k = first.key()
    assert k == first.key()
    weights = tmp_path / "fashion-mnist-vae-z2" / "model.safetensors"
    os.utime(weights, ns=(0, 0))  # new weights in place
    assert first.key() != k
    k = first.key()
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    assert first.key() != k


def test_no_saved_view_in_an_explore_session(monkeypatch):
    from explorer.app import session

    monkeypatch.setattr(session, "_current", object())
    assert first.key() is None


def test_the_first_paint_imports_neither_torch_nor_scikit_learn():
    code = (
        "import sys, explorer.app.first, explorer.app.script; "
        "print(sorted(m for m in ('torch', 'sklearn', 'scipy', 'pandas') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("images", [{}, {"selected": "data:x", "left": "data:y"}])
def test_with_images_fills_only_what_the_server_does_not_send(images):
    data = {
        "selected": {"index": 0, "caption": "Image #0"},
        "maps": [{"slot": "left", "image": None}, {"slot": "right", "image": "data:z"}],
    }
    out = first.with_images(data, images)
    assert out["maps"][1]["image"] == "data:z"  # the server's own decode stays
    assert out["maps"][0]["image"] == images.get("left")
    assert out["selected"].get("image") == images.get("selected")
    assert data["maps"][0]["image"] is None  # the saved data is left as it was


def test_a_first_paint_waits_for_its_own_pages_beacon(monkeypatch):
    """Each session's first paint carries a token of its own and waits for
    the beacon with that token (another page's drawing does not count)."""
    from explorer.app import routes

    monkeypatch.setattr(first, "key", lambda: "k")
    first.save({}, [], {"selected": {"index": 0}, "maps": []}, {})
    shown, waited = [], []
    monkeypatch.setattr(first, "view", shown.append)
    monkeypatch.setattr(first, "fresh", lambda: True)
    monkeypatch.setattr(first, "query", dict)
    monkeypatch.setattr(routes, "wait_served", lambda names, t: waited.append(names))
    for _ in range(2):
        assert first.paint(True) == {"selected": {"index": 0}, "maps": []}
    tokens = [d["drawn_token"] for d in shown]
    assert tokens[0] != tokens[1]
    assert waited == [[routes.drawn_name(t)] for t in tokens]
