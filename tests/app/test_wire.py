"""What the routes send over the wire (``explorer.app.wire``): each body
gzipped once when that saves bytes, named by its content (ETag, a 304 for a
browser that has it), cached forever; Streamlit's own bundles gzipped too;
a dataset's pixels in chunks sized by its images."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from streamlit.web.server.starlette.starlette_gzip_middleware import (
    SelectiveGZipMiddleware,
)

from explorer.app import routes, wire
from explorer.app.components import view
from explorer.app.components.latent_map import component_dir, write_points

GZ = {"Accept-Encoding": "gzip"}


@pytest.fixture
def client():
    # behind Streamlit's own gzip middleware, as ``st.App`` serves the routes
    return TestClient(SelectiveGZipMiddleware(Starlette(routes=routes.routes())))


def test_a_file_goes_gzipped_named_by_its_content_and_cached_forever(client):
    pts = write_points(np.zeros((5_000, 2)), None, (), ("x", "y"))  # compressible
    url = routes.file_url("latent_map", pts.file)
    data = (component_dir() / pts.file).read_bytes()
    r = client.get(url, headers=GZ)
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.content == data  # (the client inflates it)
    assert int(r.headers["content-length"]) < len(data) / 10
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["vary"] == "Accept-Encoding"
    tag = r.headers["etag"]
    assert tag == wire.pack(data).tag and pts.file.split("-")[1][:20] in url
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.headers["content-encoding"] == "identity" and plain.content == data
    assert plain.headers["etag"] == tag
    # asked again with its tag: nothing but a 304
    again = client.get(url, headers={**GZ, "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert (
        again.headers["etag"] == tag and "immutable" in again.headers["cache-control"]
    )
    other = client.get(url, headers={**GZ, "If-None-Match": '"other"'})
    assert other.status_code == 200


def test_what_does_not_compress_goes_as_it_is(client):
    noise = np.random.default_rng(0).bytes(5_000)
    r = client.get(view.file_url("index", noise), headers=GZ)
    assert r.headers["content-encoding"] == "identity"  # (not Streamlit's gzip)
    assert r.content == noise


def test_modules_and_plotly_carry_their_content_hash(client):
    assert "?v=" in view.plotly_url() and "/view-" in view.module_url()
    r = client.get(view.plotly_url(), headers=GZ)
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert "immutable" in r.headers["cache-control"]
    js = client.get(view.module_url(), headers=GZ)
    assert js.headers["content-type"].startswith("text/javascript")
    assert "etag" in js.headers


def test_image_chunks_go_gzipped_with_an_etag(client):
    images = np.zeros((300, 1, 28, 28), np.uint8)
    url = routes.register_images(images, "zeros")
    r = client.get(f"{url}/0", headers=GZ)
    assert r.headers["content-encoding"] == "gzip"
    assert r.content == images[: routes.CHUNK].tobytes()
    again = client.get(f"{url}/0", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert client.get(f"{url}/1", headers=GZ).headers["etag"] != r.headers["etag"]


def test_a_chunk_holds_about_chunk_bytes_of_images():
    assert routes.chunk_size((1, 28, 28)) == routes.CHUNK  # 196 kB
    assert routes.chunk_size((3, 64, 64)) == 21  # 258 kB, not 3 MB
    assert routes.chunk_size((3, 512, 512)) == 16  # at least 16
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (50, 3, 64, 64), dtype=np.uint8)
    url = routes.register_images(images, "rgb")
    token = url.rsplit("/", 1)[-1]
    assert routes.image_chunk(token, 2) == images[42:50].tobytes()
    assert (
        routes.image_chunk(token, 3) is None and routes.image_chunk(token, -1) is None
    )
    # the chunks' size is part of the dataset's address
    assert routes.register_images(images[:, :1], "rgb") != url


def _streamlit_stand_in(request):
    return PlainTextResponse("streamlit", status_code=404)


@pytest.fixture
def static():
    inner = Starlette(routes=[Route("/{p:path}", _streamlit_stand_in)])
    return TestClient(wire.StaticGzip(inner))


def test_streamlits_own_bundles_go_gzipped(static):
    js = sorted((wire.static_dir() / "static" / "js").glob("*.js"))
    f = max(js, key=lambda f: f.stat().st_size)
    r = static.get(f"/static/js/{f.name}", headers=GZ)
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.content == f.read_bytes()
    assert int(r.headers["content-length"]) < f.stat().st_size / 2
    assert "immutable" in r.headers["cache-control"]
    again = static.get(
        f"/static/js/{f.name}", headers={**GZ, "If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304
    # anything else is Streamlit's to answer
    for path, headers in [
        (f"/static/js/{f.name}", {"Accept-Encoding": "identity"}),
        ("/static/js/../../index.html", GZ),
        ("/static/media/x.woff2", GZ),
        ("/static/js/missing.js", GZ),
        ("/index.html", GZ),
    ]:
        assert static.get(path, headers=headers).text == "streamlit", path


def test_gzip_is_taken_only_when_the_browser_says_so():
    assert wire.accepts_gzip({"accept-encoding": "gzip, deflate, br, zstd"})
    assert not wire.accepts_gzip({"accept-encoding": "gzip;q=0, br"})
    assert not wire.accepts_gzip({"accept-encoding": "gzipped"})
    assert not wire.accepts_gzip({})
    assert gzip.decompress(wire.pack(bytes(5000)).gz) == bytes(5000)
    assert wire.pack(b"tiny").gz is None


def test_a_zoomed_in_map_picks_only_the_images_in_view(client):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (3000, 1, 28, 28), dtype=np.uint8)
    url = routes.register_images(images, "noise")
    ids = [3, 4, 40, 1000, 2999]
    # thumbs.js's pickPath: the first, then the differences, in base 36
    path = ".".join(np.base_repr(v, 36).lower() for v in np.diff(ids, prepend=0))
    assert path == "3.1.10.qo.1jj"
    r = client.get(f"{url}/pick/{path}", headers=GZ)
    assert r.status_code == 200 and r.content == images[ids].tobytes()
    assert "immutable" in r.headers["cache-control"] and "etag" in r.headers
    assert routes.picked(path, 3000).tolist() == ids
    for bad in ("3.0", "3.-1", "3..1", "", "zzzzzzzzz", "2999.1", "3.1?x"):
        assert routes.picked(bad, 3000) is None, bad
    assert routes.picked(".".join(["1"] * (routes.PICK + 1)), 10**6) is None
    assert client.get(f"{url}/pick/2999.1").status_code == 404
    assert client.get(f"{url[:-3]}zzz/pick/3").status_code == 404
