"""The instant view's pieces below the browser: its routes, its data, the
design switch, and the state change an event from the browser makes."""

from __future__ import annotations

import types

import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from explorer.app import actions, records, routes
from explorer.app import keys as K
from explorer.app.components import view
from explorer.app.components.latent_map import component_dir, write_points
from tests.helpers import tiny_dataset, tiny_vae


@pytest.fixture
def client():
    return TestClient(Starlette(routes=routes.routes()))


def test_files_are_served_by_name_and_cached_forever(client):
    pts = write_points(np.zeros((3, 2)), None, (), ("x", "y"))
    r = client.get(routes.file_url("latent_map", pts.file))
    assert r.status_code == 200
    assert r.content == (component_dir() / pts.file).read_bytes()
    assert "immutable" in r.headers["cache-control"]
    js = client.get(view.module_url())
    assert js.status_code == 200 and js.headers["content-type"].startswith(
        "text/javascript"
    )


@pytest.fixture(autouse=True)
def _no_wait(monkeypatch):
    monkeypatch.setattr(routes, "REGISTER_WAIT", 0)


@pytest.mark.parametrize(
    "path",
    [
        "/_lx/files/latent_map/..%2F..%2Fetc%2Fpasswd",
        "/_lx/files/nowhere/points.bin",
        "/_lx/files/latent_map/.complete",
        "/_lx/files/latent_map/missing.bin",
        "/_lx/images/unknown/0",
        "/_lx/images/x/not-a-number",
    ],
)
def test_nothing_else_is_served(client, path):
    assert client.get(path).status_code == 404


def test_image_chunks_of_a_registered_dataset(client, monkeypatch):
    monkeypatch.setattr(routes, "CHUNK", 16)
    ds = tiny_dataset(40)
    url = routes.register_images(ds.images, "tiny|train|40")
    assert routes.register_images(ds.images, "tiny|train|40") == url  # stable
    for chunk, (a, b) in enumerate([(0, 16), (16, 32), (32, 40)]):
        r = client.get(f"{url}/{chunk}")
        assert r.status_code == 200
        got = np.frombuffer(r.content, np.uint8).reshape(-1, 1, 8, 8)
        np.testing.assert_array_equal(got, ds.images[a:b])
    assert client.get(f"{url}/3").status_code == 404
    assert client.get(f"{url}/-1").status_code == 404
    with pytest.raises(ValueError, match="uint8"):
        routes.register_images(ds.images.astype(np.float32), "x")


def test_a_chunk_asked_for_early_waits_for_its_dataset(client, monkeypatch):
    import threading

    monkeypatch.setattr(routes, "REGISTER_WAIT", 5)
    ds = tiny_dataset(8)
    url = routes.file_url("x", "y").split("/files/")[0] + "/images/"
    token = routes.register_images(ds.images, "late").rsplit("/", 1)[-1]
    with routes._lock:  # as before the page registered it
        entry = routes._images.pop(token)
    timer = threading.Timer(0.3, lambda: routes._images.__setitem__(token, entry))
    timer.start()
    r = client.get(f"{url}{token}/0")
    timer.join()
    assert r.status_code == 200 and len(r.content) == ds.images.nbytes


def test_a_pages_beacon_is_told_apart_by_its_token(client):
    """A session's first view waits for its own page's beacon: the token in
    the view's data comes back on ``POST /_lx/drawn?t=...``."""
    token = "0123456789abcdef"
    name = routes.drawn_name(token)
    assert not routes.wait_served([name], 0)
    assert client.post(routes.base() + f"/drawn?t={token}").status_code == 204
    assert routes.wait_served([name], 0)
    routes.forget(name)
    assert not routes.wait_served([name], 0)
    # anything but a token is not marked (nor grows the server's set)
    before = set(routes._served)
    client.post(routes.base() + "/drawn?t=../x")
    client.post(routes.base() + "/drawn")
    assert not routes.wait_served([routes.drawn_name("../x")], 0)
    assert routes._served == before


def test_routes_follow_the_base_url_path(monkeypatch):
    from streamlit import config

    monkeypatch.setattr(
        config,
        "get_option",
        lambda key: "lab/explorer" if key == "server.baseUrlPath" else None,
    )
    assert routes.file_url("view", "view.js") == "/lab/explorer/_lx/files/view/view.js"
    assert [r.path for r in routes.routes()][0].startswith("/lab/explorer/_lx/")


def test_points_data_sends_the_index_only_for_a_sample():
    coords = np.arange(10, dtype=np.float32).reshape(5, 2)
    pts = write_points(coords, np.array([0, 1, 0, 1, 0]), ("a", "b"), ("x", "y"))
    every = view.points_data(pts, np.arange(5))
    assert every["index_url"] is None and every["class_names"] == ["a", "b"]
    sample = write_points(coords[[1, 3]], None, (), ("x", "y"))
    some = view.points_data(sample, np.array([1, 3]))
    name = some["index_url"].rsplit("/", 1)[-1]
    got = np.frombuffer((component_dir() / name).read_bytes(), "<i4")
    assert got.tolist() == [1, 3]


def test_a_large_maps_every_point_goes_by_url(client):
    """A large map's full view carries the URLs of every shown point's files
    (served by the routes), and the Viridis table when coloured by a measure."""
    from explorer.app.components import density

    rng = np.random.default_rng(0)
    coords = rng.normal(size=(500, 2)).astype(np.float32)
    by_class, shown = density.large_map(
        coords, np.arange(500), ("x", "y"), np.zeros(500, int), ("a",),
        None, None, None, "k", limit=50,
    )  # fmt: skip
    d = view.points_data(by_class, shown)["density"]
    for k in ("url", "order", "coords"):
        assert client.get(d[k]).status_code == 200, k
    assert d["values"] is None and "viridis" not in d
    by_loss, shown = density.large_map(
        coords, np.arange(500), ("x", "y"), None, (), coords[:, 0], "loss",
        None, "k", limit=50,
    )  # fmt: skip
    d = view.points_data(by_loss, shown)["density"]
    assert client.get(d["values"]).content == coords[:, 0].astype("<f4").tobytes()
    assert d["viridis"] == density.viridis()


class Session(dict):
    """A stand-in for st.session_state: keys as items and attributes."""

    __getattr__ = dict.__getitem__
    __setattr__ = dict.__setitem__


@pytest.fixture
def panels(monkeypatch):
    from explorer.latent.space import encode_space

    ds = tiny_dataset()
    sp = encode_space("tiny", tiny_vae(), ds)
    entry = types.SimpleNamespace(name="tiny")
    out = {s: records.Panel(s, entry, space=sp) for s in ("left", "right")}
    ss = Session(sel=0, cursor={s: sp.z[0].copy() for s in out})
    monkeypatch.setattr(actions, "st", types.SimpleNamespace(session_state=ss))
    return out, ss, sp


def send(ss, panels, **event):
    actions.apply_view_event(panels, event)


def test_view_events_change_the_state_as_the_browser_drew_it(panels):
    panels, ss, sp = panels
    send(ss, panels, id=1, kind="point", slot="left", index=7)
    assert ss.sel == 7 and ss.view_echo == 1
    for s in ("left", "right"):
        np.testing.assert_allclose(ss.cursor[s], sp.z[7])
    send(ss, panels, id=2, kind="space", slot="right", x=0.5, y=-0.25)
    np.testing.assert_allclose(ss.cursor["right"], sp.from_map([0.5, -0.25]))
    np.testing.assert_allclose(ss.cursor["left"], sp.z[7])  # the other map's kept
    values = [0.1, 0.2, 0.3]
    send(ss, panels, id=3, kind="slider", slot="left", values=values)
    np.testing.assert_allclose(sp.basis.coordinates(ss.cursor["left"]), values)


def test_a_repeated_or_impossible_event_changes_nothing(panels):
    panels, ss, sp = panels
    send(ss, panels, id=5, kind="point", slot="left", index=3)
    send(ss, panels, id=5, kind="point", slot="left", index=9)  # seen already
    assert ss.sel == 3
    send(ss, panels, id=6, kind="point", slot="left", index=10**6)
    send(ss, panels, id=7, kind="point", slot="nowhere", index=1)
    assert ss.sel == 3 and ss.view_echo == 7


def test_the_views_callback_keeps_clicks_and_stores_a_window_at_once(monkeypatch):
    ss = Session(view={"event": {"id": 3, "kind": "point", "slot": "left", "index": 2}})
    monkeypatch.setattr(view, "st", types.SimpleNamespace(session_state=ss))
    view.keep_event()
    assert ss[K.VIEW_PENDING]["index"] == 2 and K.VIEW_ECHO not in ss
    ss["view"] = {
        "event": {"id": 4, "kind": "view", "slot": "right", "x": [0, 1], "y": [2, 3]}
    }
    view.keep_event()
    assert ss.view_right == ((0, 1), (2, 3)) and ss.view_echo == 4
    ss["view"] = {
        "event": {"id": 5, "kind": "view", "slot": "../etc", "x": [0, 1], "y": [0, 1]}
    }
    view.keep_event()
    assert ss.view_echo == 4  # not a map of this page


def test_another_views_events_are_kept_under_its_own_keys(monkeypatch):
    """The Conditional tab's view: its events wait under its own key, its
    windows are echoed (under its own echo) and not kept."""
    from explorer.app.tabs import conditional

    cvae = conditional.VIEW
    ev = {"id": 3, "kind": "point", "slot": "cvae", "index": 2}
    ss = Session({cvae.key: {"event": ev}})
    monkeypatch.setattr(view, "st", types.SimpleNamespace(session_state=ss))
    view.keep_event(cvae)
    assert ss[cvae.pending] == ev and K.VIEW_PENDING not in ss
    window = {"id": 4, "kind": "view", "slot": "cvae", "x": [0, 1], "y": [2, 3]}
    ss[cvae.key] = {"event": window}
    view.keep_event(cvae)
    assert ss[cvae.echo] == 4 and K.VIEW_ECHO not in ss
    assert not [k for k in ss if K.VIEW_WINDOW.matches(k)]
    ss[cvae.key] = {"event": dict(window, id=5, slot="left")}  # not its map
    view.keep_event(cvae)
    assert ss[cvae.echo] == 4


def test_the_style_z_starts_at_0_and_another_models_is_kept_in_range(panels):
    _, ss, sp = panels  # (a VAE stands in for a CVAE: only its space is read)
    np.testing.assert_array_equal(actions.style(sp), np.zeros(sp.latent_dim))
    far = sp.basis.set_all(sp.z[0], sp.basis.ranges[:, 1] + 5.0)  # past every max
    actions.set_style(sp, far)
    np.testing.assert_allclose(actions.style(sp), far)  # its own model's: as set
    ss[K.CVAE_STYLE] = ("another", tuple(far))
    np.testing.assert_allclose(
        sp.basis.coordinates(actions.style(sp)), sp.basis.ranges[:, 1]
    )
    ss[K.CVAE_STYLE] = ("another", (1.0,) * (sp.latent_dim + 1))  # another size
    np.testing.assert_array_equal(actions.style(sp), np.zeros(sp.latent_dim))
