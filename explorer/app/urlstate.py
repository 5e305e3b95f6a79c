"""The view in the URL: what a shared link restores.

``encode`` turns the view into query parameters (short keys, plain text);
``decode`` reads them back, keeping each valid value and describing each
invalid one, so a malformed link falls back to defaults with a notice. Whether
a value fits the app (a known dataset, an index in range) is checked by the
app, which knows the data. A notice is Markdown that shows each rejected key
and value as typed (``quoted``), never as a link or markup.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from explorer.app.i18n import _
from explorer.app.markdown import verbatim
from explorer.latent.selection import MAX_TEXT

# key in the URL -> (name in the view, type)
FIELDS = {
    "ds": ("dataset", str),
    "l": ("left", str),
    "r": ("right", str),
    "sel": ("sel", int),
    "zl": ("cursor_left", "vector"),
    "zr": ("cursor_right", "vector"),
    "a": ("interp_a", int),
    "b": ("interp_b", int),
    "path": ("interp_method", str),
    "steps": ("interp_steps", int),
    "t": ("interp_t", float),
    "tab": ("tab", str),
    "ml": ("map_left", str),
    "mr": ("map_right", str),
    "set": ("selection", str),  # explorer.latent.selection.encode
    "al": ("align", int),  # 1: the right map aligned to the left
    "lang": ("lang", str),  # the page's language, when chosen (i18n)
    "hl": ("pin_left", str),  # what the left model's weights were (a hash)
    "hr": ("pin_right", str),  # and the right's: a link says when they changed
    "lesson": ("lesson", int),  # the lesson's open step (explorer.app.lesson)
    "done": ("lesson_done", "numbers"),  # the lesson's completed steps
    "hide": ("hide", "words"),  # controls hidden: sidebar, tabs, left, right
}
BY_NAME = {name: (key, kind) for key, (name, kind) in FIELDS.items()}
MAX_LEN = 2000  # longer values are not ours
LIMITS = {"set": MAX_TEXT}  # a selection's text may be longer
MAX_DIM = 512
SHOWN = 200  # characters of a rejected value a notice shows


def quoted(value) -> str:
    """A rejected key or value in a notice: in quotes, shown as typed."""
    return f"'{verbatim(value, SHOWN)}'"


def _fmt(value, kind) -> str:
    if kind == "vector":
        return ",".join(f"{float(v):.5g}" for v in value)
    if kind is float:
        return f"{float(value):.5g}"
    if kind in ("numbers", "words"):
        return ",".join(str(v) for v in value)
    return str(value)


def encode(view: Mapping) -> dict[str, str]:
    """Query parameters for a view (a mapping of the names in ``FIELDS``);
    names that are missing or None are left out."""
    out = {}
    for name, value in view.items():
        if name not in BY_NAME:
            raise KeyError(f"unknown view field {name!r}")
        if value is not None:
            key, kind = BY_NAME[name]
            out[key] = _fmt(value, kind)
    return out


def _parse(text: str, kind):
    if kind is str:
        if not text or not text.isprintable():
            raise ValueError("not a name")
        return text
    if kind is int:
        v = int(text)
        if v < 0:
            raise ValueError("negative")
        return v
    if kind is float:
        v = float(text)
        if not math.isfinite(v):
            raise ValueError("not finite")
        return v
    if kind == "numbers":
        return sorted({_parse(p, int) for p in text.split(",")})
    if kind == "words":
        return [_parse(p, str) for p in text.split(",")]
    parts = text.split(",")
    if len(parts) > MAX_DIM:
        raise ValueError("too many numbers")
    values = [float(p) for p in parts]
    if not all(math.isfinite(v) for v in values):
        raise ValueError("not finite")
    return values


def decode(params: Mapping) -> tuple[dict, list[str]]:
    """The view in query parameters, and a note (Markdown, in the session's
    language) for each value ignored."""
    view, problems = {}, []
    for key, raw in params.items():
        if key not in FIELDS:
            problems.append(_("unknown parameter {key}").format(key=quoted(key)))
            continue
        name, kind = FIELDS[key]
        text = raw[-1] if isinstance(raw, list | tuple) else raw
        if not isinstance(text, str) or len(text) > LIMITS.get(key, MAX_LEN):
            problems.append(_("{key}: too long").format(key=key))
            continue
        try:
            view[name] = _parse(text, kind)
        except ValueError:
            problems.append(
                _("{key}={value} is not a valid {name}").format(
                    key=key, value=quoted(text), name=name
                )
            )
    return view, problems
