"""User text in Markdown: ``explorer.app.markdown.md`` renders as the text itself."""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from explorer.app.markdown import md

# CommonMark with GFM's tables and strikethrough, and bare-URL autolinks:
# what Streamlit's Markdown (react-markdown with remark-gfm) also reads.
RENDER = MarkdownIt("commonmark", {"linkify": True}).enable(
    ["linkify", "table", "strikethrough"]
)

HOSTILE = [
    "[Sign in again](https://example.invalid/login)",
    "![](https://example.invalid/p.png)",
    "<img src=x onerror=alert(1)>",
    "<a href='https://example.invalid'>here</a>",
    "https://example.invalid and www.example.invalid and me@example.invalid",
    "**bold** _it_ ~~gone~~ `code` $x^2$ :red[red] :smile:",
    "# heading\n- item\n> quote\n\n1. one",
    "a | b\n--|--\n1 | 2",
    "&lt;script&gt; &amp; &#60;",
    "back\\slash and trailing \\",
    "[ref]: https://example.invalid\n[ref]",
    "%{x} {{name}} <extra></extra>",
]


def rendered_text(source: str) -> tuple[str, str]:
    """The HTML of ``source`` and the text a reader sees in it."""
    out = RENDER.render(source)
    return out, html.unescape(re.sub(r"<[^>]+>", "", out)).strip()


@pytest.mark.parametrize("text", HOSTILE)
def test_user_text_renders_as_itself(text):
    out, seen = rendered_text(md(text))
    assert re.fullmatch(r"<p>.*</p>\s*", out, re.S), out  # one paragraph, no more
    for tag in ("<a", "<img", "<em", "<strong", "<code", "<h1", "<li", "<table"):
        assert tag not in out, (tag, out)
    assert seen == " ".join(text.split())


def test_plain_words_stay_plain_and_any_object_is_text():
    assert md("fashion-mnist ae z2") == r"fashion\-mnist ae z2"
    assert md(42) == "42" and md("") == ""


def test_unescaped_text_would_have_been_read_as_markup():
    """The test above can fail: without md() these become links and images."""
    out, _ = rendered_text(HOSTILE[0] + " " + HOSTILE[1])
    assert "<a href" in out and "<img" in out
