"""Text from users (a link's keys and values, folder, file, class and model
names, uploads, and errors that quote them) on the page, as text: in
Streamlit's Markdown (``verbatim``) and in Plotly's labels (``plotly_text``)."""

from __future__ import annotations

import html
import re

# Words of letters and digits joined by one space, hyphen, slash, apostrophe or
# ", ": wherever they stand, no Markdown construct, no Streamlit extra (emoji,
# icons, colours, LaTeX, the "--" and "->" typography) and no bare-URL link
# (www., http://, an e-mail address) can form of these alone.
_PLAIN = re.compile(r"[^\W_]+(?:(?:, |[-/ '])[^\W_]+)*")
_TICKS = re.compile(r"`+")
# Streamlit rewrites ":material/" to ":material_" in the whole source, code
# spans too; a "/" outside the span keeps it as typed.
_ICON = ":material/"


def verbatim(text: object, limit: int | None = None, code: bool = False) -> str:
    """Markdown that shows ``text`` as typed, as text: never a link, an image,
    HTML or any other markup, in a sentence, a heading, a label or a caption.

    Plain words stay as they are; anything else becomes an inline code span,
    fenced by more backticks than it holds (escaping each mark with a
    backslash is not enough: Streamlit's Markdown still links a bare URL or
    e-mail address). Runs of white space show as one space; other invisible
    characters (controls, bidi overrides) as their escapes.

    Args:
        text: any value; ``str(text)`` is shown.
        limit: at most this many characters, then "…" and the full length.
        code: always as code (a command), plain words too.

    Returns:
        Markdown for inline use.
    """
    flat = " ".join(str(text).split())
    more = ""
    if limit is not None and len(flat) > limit:
        flat, more = flat[:limit], f"… ({len(flat):,} characters)"
    shown = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode() for c in flat
    )
    if not shown or (not code and _PLAIN.fullmatch(shown)):
        return shown + more
    parts = shown.replace(_ICON, _ICON[:-1] + "\0").split("\0")
    return "/".join(_code(p) if p else "" for p in parts) + more


def _code(text: str) -> str:
    fence = "`" * (max(map(len, _TICKS.findall(text)), default=0) + 1)
    # CommonMark takes one space off each end of a span that has both.
    pad = " " if "`" in (text[0], text[-1]) or text[0] == text[-1] == " " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def plotly_text(text: object) -> str:
    """``text`` for a Plotly label (a trace's name, a title): Plotly reads
    those as a little HTML (``<a href>``, ``<b>``, entities), so each markup
    character becomes an entity and shows as typed."""
    return html.escape(str(text), quote=False)
