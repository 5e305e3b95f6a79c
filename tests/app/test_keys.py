"""Session keys are declared once (``explorer.app.keys``): no string is
written as a session-state key or a widget key anywhere else in the app, and
every key a session holds is declared, with a value of its declared type."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.app import keys as K
from explorer.app.tabs import names as tab_names
from tests.helpers import APP, REPO, errors

APP_DIR = REPO / "explorer" / "app"
METHODS = {"get", "pop", "setdefault", "update", "to_dict", "keys", "items", "clear"}


def _is_state(node: ast.AST, aliases: set[str]) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "session_state") or (
        isinstance(node, ast.Name) and node.id in aliases
    )


def _written(node: ast.AST) -> bool:
    """A key written out: a string, or an f-string."""
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def bare_keys(source: str) -> list[tuple[int, str]]:
    """(line, what) of each key written as a string in ``source``: a
    session-state subscript, get/pop/setdefault, ``in`` test or attribute,
    and a widget's ``key=``."""
    tree = ast.parse(source)
    aliases = {
        t.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and _is_state(n.value, set())
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Subscript) and _is_state(n.value, aliases):
            key = n.slice
        elif (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in ("get", "pop", "setdefault")
            and _is_state(n.func.value, aliases)
            and n.args
        ):
            key = n.args[0]
        elif isinstance(n, ast.Compare) and any(
            _is_state(c, aliases) for c in n.comparators
        ):
            key = n.left
        elif (
            isinstance(n, ast.Attribute)
            and _is_state(n.value, aliases)
            and n.attr not in METHODS
        ):
            found.append((n.lineno, f"session_state.{n.attr}"))
            continue
        elif isinstance(n, ast.keyword) and n.arg == "key":
            key = n.value
        else:
            continue
        if _written(key):
            found.append((n.lineno, ast.unparse(key)))
    return found


def test_no_key_is_written_as_a_string_outside_the_declaration():
    found = [
        f"{path.relative_to(REPO)}:{line}: {what}"
        for path in sorted(APP_DIR.rglob("*.py"))
        if path.name != "keys.py"
        for line, what in bare_keys(path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize(
    "line",
    [
        'st.session_state["sel"] = 1',
        "st.session_state.sel = 1",
        'ss = st.session_state\nss.get("tab")',
        'ss = st.session_state\nx = f"s_{a}" in ss',
        'st.session_state.pop(f"view_{slot}", None)',
        'st.slider("x", key="prior_n")',
        'st.slider("x", key=f"cz_{d}")',
    ],
)
def test_the_check_sees_a_key_written_as_a_string(line):
    assert bare_keys(line)


def test_a_declared_key_is_itself_the_string_and_a_family_makes_them():
    assert K.SEL == "sel" and K.SEL.type is int and K.SEL.meaning
    ckpt = K.CHECKPOINT("left", "mnist")
    assert ckpt == "ckpt_left_mnist" and ckpt.type is str
    assert K.declared("ckpt_right_mnist") == [K.CHECKPOINT]
    assert K.declared("sel") == [K.SEL] and K.declared("no such key") == []
    with pytest.raises(TypeError):
        K.CHECKPOINT("left")
    # every name is declared once
    names = [str(k) for k in K.KEYS] + [f.pattern for f in K.FAMILIES]
    assert len(names) == len(set(names))


def _of_type(value, declared) -> bool:
    kinds = [d.type for d in declared]
    if value is None or object in kinds:
        return True
    if any(t is float for t in kinds) and isinstance(value, int | float | np.floating):
        return True
    if any(t is int for t in kinds) and isinstance(value, np.integer):
        return True
    return isinstance(value, tuple(kinds))


def test_every_key_a_session_holds_is_declared_and_of_its_type():
    """Every tab opened in one session that began with a link: each key left
    in its state is declared in ``keys``, its value of that type."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["sel"] = "5"
    at.session_state["live"] = False
    seen: dict[str, object] = {}
    for tab in tab_names():
        at.session_state["tab"] = tab
        at.run()
        assert not errors(at), tab
        seen |= at.session_state.to_dict()
    wrong = []
    for name, value in seen.items():
        declared = K.declared(name)
        if not declared:
            wrong.append(f"{name}: not declared")
        elif not _of_type(value, declared):
            wrong.append(f"{name}: {type(value).__name__}, not {declared[0].type}")
    assert wrong == [], "\n".join(wrong)
    assert len(seen) > 40  # (the walk saw the tabs' own keys too)
