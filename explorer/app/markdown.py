"""Text from users (links, folder and file names, class names) in Markdown."""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation; escaping all of it
# also defuses Streamlit's extras ($ for LaTeX, :name: for emoji and colours).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def md(text: object) -> str:
    """``text`` as literal Markdown: every punctuation mark escaped, so no
    link, image, emphasis, HTML, LaTeX or directive can form; line breaks
    become spaces."""
    flat = " ".join(str(text).split())
    return _PUNCTUATION.sub(r"\\\1", flat)
