"""User text in Markdown: ``explorer.app.markdown.verbatim`` shows as typed, as
text, and nothing in it becomes a link, an image or HTML, read as Streamlit's
Markdown reads (``tests.helpers.markup_in``: bare URLs linked too)."""

from __future__ import annotations

import re

import pytest

from explorer.app.markdown import plotly_text, verbatim
from tests.helpers import markup_in, plain, shown_text

HOSTILE = [
    "[Sign in again](https://attacker.example/login)",
    "![x](https://attacker.example/p.png)",
    "https://attacker.example/x",
    "http://attacker.example",
    "www.attacker.example",
    "me@attacker.example",
    "<https://attacker.example>",
    '<a href="https://attacker.example">x</a>',
    "<img src=https://attacker.example/i.png>",
    "<script>alert(1)</script>",
    "[ref]: https://attacker.example",
    "[x][ref]\n\n[ref]: https://attacker.example",
    "a `tick` and ``two`` ```three``` https://attacker.example",
    "`https://attacker.example`",
    "`",
    "``",
    " `x` ",
    "**bold** _it_ ~~gone~~ $x^2$ :red[red] :smile: -> -- :material/home:",
    "# heading\n- item\n> quote\n\n1. one",
    "a | b\n--|--\n1 | 2",
    "&lt;script&gt; &amp; &#60; &#x3A;",
    "back\\slash and trailing \\",
    "%{x} {{name}} <extra></extra>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_user_text_is_shown_as_typed_and_never_as_markup(text):
    out = verbatim(text)
    assert markup_in(out) == [], out
    assert shown_text(out) == " ".join(text.split()), out
    # in a sentence, a heading or bold, as the page uses it
    for page in (f"Unknown dataset '{out}'.", f"### {out}", f"**{out}**: more"):
        assert markup_in(page) == [], page
        assert " ".join(text.split()) in shown_text(page), page
    assert plain(out) == " ".join(text.split())  # the tests' reader agrees


def test_the_reader_sees_the_links_escaping_let_through():
    """The test above can fail: the old helper escaped each mark with a
    backslash, and Streamlit still linked a bare URL or address in that text
    (seen in the browser too: tests/e2e/test_links_browser.py)."""
    for text in HOSTILE[:6]:
        escaped = re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)
        assert markup_in(escaped), escaped


def test_plain_words_stay_plain():
    for name in ("fashion-mnist-ae-z2", "T-shirt/top", "Ankle boot", "a, b", "été"):
        assert verbatim(name) == name
    assert verbatim(42) == "42" and verbatim("") == ""
    assert verbatim("a\n\tb  c") == "a b c"  # white space: one space


def test_anything_else_is_code_fenced_past_its_backticks():
    assert verbatim("a.b") == "`a.b`"
    assert verbatim("a ``` b") == "````a ``` b````"
    assert verbatim("`x`") == "`` `x` ``"
    assert verbatim("fashion-mnist", code=True) == "`fashion-mnist`"


def test_streamlits_icon_rewrite_cannot_reach_the_text():
    # Streamlit turns ":material/" into ":material_" in the whole source.
    for text in (":material/home:", "a:material/:material/b", "x :material/"):
        out = verbatim(text)
        assert ":material/" not in out and shown_text(out) == text, out


def test_invisible_characters_show_as_escapes():
    out = verbatim("ok\u202eevil\u200b\x00")
    assert shown_text(out) == "ok\\u202eevil\\u200b\\x00"


def test_long_values_cut_with_their_length():
    out = verbatim("x" * 500 + "https://attacker.example", limit=200)
    assert out == "x" * 200 + "… (524 characters)"
    out = verbatim("https://attacker.example/" + "x" * 500, limit=30)
    assert markup_in(out) == [] and shown_text(out).endswith("… (525 characters)")


def test_plotly_labels_are_text():
    assert plotly_text('<a href="https://attacker.example">x</a> & <b>') == (
        '&lt;a href="https://attacker.example"&gt;x&lt;/a&gt; &amp; &lt;b&gt;'
    )
