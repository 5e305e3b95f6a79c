"""The code behind the computation graph: a model's own ``encode``,
``reparameterize`` and ``decode`` (and the explorer's loss), read with
``inspect.getsource``, and the line of it that computes each node.

Whose methods: the explorer's models' own; for a user's module (the
``ModuleModel`` adapter keeps it as ``obj``), the module's methods, since
those are what the user wrote; for any other adapter (pythae, diffusers),
the adapter's. A VAE also shows ``reparameterize`` (where it has one) and
the KL of ``explorer.model.loss``; every model shows the reconstruction
term's function.

Which line computes a node (``RULES``, searched in its function's dedented
source past its ``def`` and docstring, comments cut off, first match wins):

- ``x``: the function's ``def`` line (x comes in as its argument);
- ``encoder``: the first line calling ``self.<...enc...>(``;
- ``mu``: the first line assigning a name ``mean``/``mu``/``loc``
  (``mean, logvar = ...`` too), else a ``return`` naming it;
- ``logvar``: the same for ``logvar``/``log_var``/``logsigma2``/``lv``;
- ``z`` of an AE: ``encode``'s first ``return`` (the code is its output);
- ``sigma``: a line with ``exp(0.5`` or ``.exp()`` / ``sqrt``, or one
  assigning ``std``/``sigma``;
- ``eps``: the first line with ``randn``;
- ``z`` of a VAE: the line adding a product with ``eps``
  (``mean + ... * eps``);
- ``decoder``: the first line calling ``self.<...dec...>(``;
- ``xhat``: ``decode``'s last ``return``;
- ``recon``, ``kl``: their loss function's first ``return``.

A node whose line is not found maps to its function's ``def`` line; a
function with no source (a builtin, a compiled module) is left out and its
nodes map to nothing (None).
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from dataclasses import dataclass, field

from explorer.model import loss

ASSIGNS = r"^\s*(?:[\w.]+\s*,\s*)*(?:{names})\b(?:\s*,\s*[\w.]+)*\s*(?::[^=]*)?=(?!=)"
MEAN = "mean|mu|loc|z_mean|z_mu"
LOGVAR = "logvar|log_var|logsigma2|log_sigma2|lv|z_logvar|z_log_var"


@dataclass(frozen=True)
class Rule:
    """Where a node's line is: its function and the patterns tried in order
    (each a regular expression, or "last return")."""

    function: str
    patterns: tuple[str, ...] = ()


def _assign_or_return(names: str) -> tuple[str, ...]:
    return (ASSIGNS.format(names=names), rf"^\s*return\b.*\b(?:{names})\b")


RULES: dict[str, Rule] = {
    "x": Rule("encode"),
    "encoder": Rule("encode", (r"self\.\w*enc\w*\(",)),
    "mu": Rule("encode", _assign_or_return(MEAN)),
    "logvar": Rule("encode", _assign_or_return(LOGVAR)),
    "sigma": Rule(
        "reparameterize",
        (r"exp\(\s*0?\.5", r"\.exp\(\)|sqrt\(", ASSIGNS.format(names="std|sigma")),
    ),
    "eps": Rule("reparameterize", (r"\brandn",)),
    "z": Rule("reparameterize", (r"\+.*\*\s*eps\b", r"\beps\s*\*.*\+|\+.*\beps\s*\*")),
    "decoder": Rule("decode", (r"self\.\w*dec\w*\(",)),
    "xhat": Rule("decode", ("last return",)),
    "recon": Rule("reconstruction_nll", (r"^\s*return\b",)),
    "kl": Rule("kl_divergence", (r"^\s*return\b",)),
}
AE_Z = Rule("encode", ("first return",))


@dataclass
class Block:
    """One function's source: ``title`` (``Class.method``), its dedented
    ``lines`` and the index of its first line in the whole listing."""

    name: str
    title: str
    lines: list[str]
    start: int


@dataclass
class Listing:
    """The listing (blocks, one after another) and each node's line in it
    (an index into ``text_lines``), or None."""

    blocks: list[Block] = field(default_factory=list)
    lines: dict[str, int | None] = field(default_factory=dict)

    @property
    def text_lines(self) -> list[str]:
        return [line for b in self.blocks for line in b.lines]


def source_of(model: object) -> object:
    """Whose methods the listing shows (see the module's docstring)."""
    obj = getattr(model, "obj", None)
    if obj is not None and callable(getattr(obj, "encode", None)):
        return obj
    return model


def _source(fn) -> list[str] | None:
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        return None
    return textwrap.dedent(text).rstrip("\n").split("\n")


def _def_line(lines: list[str]) -> int:
    return next(
        (i for i, s in enumerate(lines) if re.match(r"\s*(async\s+)?def\b", s)), 0
    )


def _docstring(lines: list[str]) -> range:
    """The lines of a function's docstring (none if it cannot be parsed)."""
    try:
        fn = ast.parse("\n".join(lines)).body[0]
    except (SyntaxError, IndexError):
        return range(0)
    first = fn.body[0] if getattr(fn, "body", None) else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        return range(first.lineno - 1, first.end_lineno)
    return range(0)


def find_line(lines: list[str], patterns: tuple[str, ...]) -> int:
    """The index of the first line matching one of ``patterns`` in turn (the
    body only, past the ``def`` and the docstring), else the ``def`` line's."""
    start, doc = _def_line(lines), _docstring(lines)
    body = [(i, s) for i, s in enumerate(lines) if i > start and i not in doc]
    for p in patterns:
        if p in ("first return", "last return"):
            hits = [i for i, s in body if re.match(r"\s*return\b", s)]
            if hits:
                return hits[0] if p == "first return" else hits[-1]
            continue
        for i, s in body:
            if re.search(p, s.split("#", 1)[0]):
                return i
    return start


def variational(model: object) -> bool:
    return getattr(model, "kind", "ae") != "ae"


def listing(model: object) -> Listing:
    """The listing of ``model`` and each of its graph's nodes' lines."""
    owner = source_of(model)
    cls = type(owner).__name__
    names = ["encode", "reparameterize", "decode"]
    if not variational(model):
        names.remove("reparameterize")
    fns = [(n, f"{cls}.{n}", getattr(owner, n, None)) for n in names]
    if variational(model):
        fns.append(("kl_divergence", "loss.kl_divergence", loss.kl_divergence))
    fns.append(
        ("reconstruction_nll", "loss.reconstruction_nll", loss.reconstruction_nll)
    )
    out = Listing()
    start = 0
    for name, title, fn in fns:
        lines = _source(fn) if fn is not None else None
        if lines is None:
            continue
        out.blocks.append(Block(name, title, lines, start))
        start += len(lines)
    blocks = {b.name: b for b in out.blocks}
    for node in nodes(model):
        rule = RULES[node] if variational(model) or node != "z" else AE_Z
        b = blocks.get(rule.function)
        out.lines[node] = (
            None if b is None else b.start + find_line(b.lines, rule.patterns)
        )
    return out


def nodes(model: object) -> list[str]:
    """The graph's nodes, in the order of the computation."""
    if variational(model):
        return ["x", "encoder", "mu", "logvar", "sigma", "eps", "z", "decoder",
                "xhat", "recon", "kl"]  # fmt: skip
    return ["x", "encoder", "z", "decoder", "xhat", "recon"]
