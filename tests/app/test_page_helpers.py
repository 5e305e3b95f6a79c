"""Small pieces the page shares, called on their own (bare Streamlit:
``st.session_state`` is a plain store here): the widgets' sizes, names and
captions, and the selection's state and link (``explorer.app.selection``).
The page that uses them is in ``test_page.py`` and ``test_selection.py``."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import streamlit as st

from explorer.app import selection, widgets

pytestmark = pytest.mark.usefixtures("fresh_session_state")


def test_zoom_gives_small_images_more_pixels_and_never_none():
    assert widgets.zoom(5, SimpleNamespace(image_shape=(1, 28, 28))) == 5
    assert widgets.zoom(5, SimpleNamespace(image_shape=(3, 14, 14))) == 10
    assert widgets.zoom(5, SimpleNamespace(image_shape=(3, 64, 64))) == 2
    assert widgets.zoom(1, SimpleNamespace(image_shape=(3, 512, 512))) == 1


def test_class_names_are_shown_as_typed():
    ds = SimpleNamespace(labels=np.array([1, 0]), class_names=("cat", "[x](http://e)"))
    assert widgets.class_name(ds, 1) == "cat"
    shown = widgets.class_name(ds, 0)
    assert shown.startswith("`") and "[x](http://e)" in shown  # a code span
    assert widgets.class_name(SimpleNamespace(labels=None), 0) == "unlabelled"


def test_a_conditional_model_decodes_with_the_selected_images_class():
    ds = SimpleNamespace(labels=np.array([4, 7, 2]))
    st.session_state.sel = 1
    cvae = SimpleNamespace(conditional=True)
    assert widgets.labels_for(cvae, ds, 3).tolist() == [7, 7, 7]
    assert widgets.labels_for(SimpleNamespace(conditional=False), ds, 3) is None


def test_a_large_maps_caption_says_how_much_is_drawn():
    small = SimpleNamespace(n=10, density=None)
    assert widgets.large_map_lines(small) == []
    d = {"shown": 1_000_000, "in_window": 300_000}
    ((kind, text),) = widgets.large_map_lines(SimpleNamespace(n=20_000, density=d))
    assert kind == "caption" and text.startswith("1,000,000 images")
    assert "(300,000 in view)" in text and "20,000 of them" in text
    assert text.endswith("zoom in to draw every one.")
    d = {"shown": 1_000_000, "in_window": 5_000}
    ((_, text),) = widgets.large_map_lines(SimpleNamespace(n=5_000, density=d))
    assert text.endswith("(all of those in view).")


def test_the_selection_goes_through_the_link_and_back():
    assert selection.current().tolist() == [] and selection.to_link(100) is None
    selection.set_selection(np.array([3, 4, 5, 40, 99]))
    picked = selection.current()
    assert picked.tolist() == [3, 4, 5, 40, 99] and not picked.flags.writeable
    text = selection.to_link(100)
    st.session_state.clear()
    selection.from_link(text, 100)
    assert selection.current().tolist() == [3, 4, 5, 40, 99]


def test_a_broken_selection_in_a_link_is_reported_not_applied():
    st.session_state.url_problems = []
    selection.from_link("not a selection", 100)
    assert selection.current().tolist() == []
    (problem,) = st.session_state.url_problems
    assert problem.startswith("set: ")
    selection.from_link("", 100)  # no selection in the link: nothing to say
    assert len(st.session_state.url_problems) == 1


def test_the_cursors_download_is_made_when_pressed_and_is_the_decode():
    import io

    from PIL import Image

    from explorer.app.panel import decoded_png

    calls = []

    class Space:
        conditional = False

        def decode(self, z, labels):
            calls.append(z.copy())
            return np.full((1, 1, 28, 28), int(z[0, 0]), dtype=np.uint8)

    ds = SimpleNamespace(image_shape=(1, 28, 28), labels=None)
    png = decoded_png(Space(), ds, np.array([7.0, 1.0]))
    img = np.asarray(Image.open(io.BytesIO(png)))
    assert (img == 7).all() and img.shape[0] % 28 == 0 and len(calls) == 1


def test_an_image_goes_into_the_page_as_a_data_url(monkeypatch):
    import base64

    shown = []
    monkeypatch.setattr(widgets.st, "image", lambda url, **kw: shown.append(url))
    img = np.arange(28 * 28, dtype=np.uint8).reshape(1, 28, 28)
    png = widgets.show(img, "x", scale=2)
    (url,) = shown
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == png
