"""The bytes suite's pieces: what it sorts a URL into, and its rows; the
figures come from `python -m benchmarks --suite bytes`."""

from __future__ import annotations

from benchmarks import bytes as page_bytes
from benchmarks.bytes import Samples, Visit
from harness import traffic


def test_each_url_is_sorted_into_its_kind():
    base = "http://127.0.0.1:8501"
    assert traffic.kind(f"{base}/_lx/files/latent_map/decoder-ab12.bin") == "decoders"
    assert traffic.kind(f"{base}/_lx/files/latent_map/points-ab12.bin") == (
        "points and means"
    )
    assert traffic.kind(f"{base}/_lx/files/latent_map/plotly-gl2d.js?v=1") == (
        "plotly.js"
    )
    assert traffic.kind(f"{base}/_lx/files/view-0123/view.js") == "view modules"
    assert traffic.kind(f"{base}/_lx/images/abc/3") == "pixels"
    assert traffic.kind(f"{base}/media/abc.png") == "pixels"
    streamlit = "Streamlit's JS/CSS/fonts"
    assert traffic.kind(f"{base}/static/media/font.woff2") == streamlit
    assert traffic.kind(f"{base}/static/js/index.js") == streamlit
    assert traffic.kind(f"{base}/") == "page"


def test_only_the_apps_files_from_the_network_count_as_fetched_again():
    t = traffic.Traffic()
    urls = {
        "1": "http://h/_lx/files/latent_map/points-1.bin",  # from the cache
        "2": "http://h/_lx/files/latent_map/means-1.bin",  # from the server
        "3": "http://h/static/js/index.js",  # Streamlit's
        "4": "http://h/_lx/drawn?t=0123456789",  # the view's beacon
    }
    t.urls.update(urls)
    t.sizes.update({k: 10 for k in urls})
    t.cached.add("1")
    assert t.network() == [urls["2"]]
    assert t.network(app_only=False) == [urls["2"], urls["3"]]


def _visit(mb: float, fetched=()) -> Visit:
    return Visit({"decoders": int(mb * 1e6), "websocket": 40_000}, list(fetched))


def test_the_rows_hold_both_visits_and_the_baseline():
    half = {"ae": ([True] * 4, 0.5, 0.5), "vae": ([False] + [True] * 3, 0.62, 1.31)}
    s = Samples((_visit(7.0), _visit(0)), (_visit(24.0), _visit(0)), half)
    first, second, again, grey = page_bytes.report(s)
    assert first.median == 7.04 and first.met is True
    assert "24.04 MB" in first.baseline and "decoders 7.00" in first.note
    assert second.median == 0.04 and again.median == 0 and again.met is True
    assert grey.samples == [0.5, 0.62] and grey.met is True
    assert "vae: fhhh (0.62; all float16 1.31)" in grey.note
    s = Samples((_visit(9.0), _visit(1, ["http://h/_lx/x"])), s.baseline, half)
    first, _, again, _ = page_bytes.report(s)
    assert first.met is False and again.met is False and "/_lx/x" in again.note
