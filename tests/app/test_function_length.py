"""No function in the app is over ``LIMIT`` lines (issue #26): a long one is
split into functions of one job each."""

from __future__ import annotations

import ast

from tests.helpers import REPO

APP_DIR = REPO / "explorer" / "app"
LIMIT = 60  # lines, from a function's ``def`` line to its last (as ast counts)


def lengths(source: str) -> dict[str, int]:
    """Lines of each function in ``source``, by qualified name (``f.<locals>.g``
    for a function inside another, ``C.f`` for a method)."""
    out = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + child.name
                out[name] = child.end_lineno - child.lineno + 1
                visit(child, name + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return out


def app_functions() -> dict[str, int]:
    """``"file::function"`` -> lines, for every function under explorer/app."""
    return {
        f"{path.relative_to(APP_DIR).as_posix()}::{name}": n
        for path in sorted(APP_DIR.rglob("*.py"))
        for name, n in lengths(path.read_text()).items()
    }


def test_no_function_in_the_app_is_over_the_limit():
    long = {f: n for f, n in app_functions().items() if n > LIMIT}
    over = [f"{f}: {n} lines" for f, n in sorted(long.items())]
    assert over == [], f"split into functions of at most {LIMIT} lines: {over}"


def test_the_count_sees_nested_functions_and_methods():
    body = "\n".join(["            x = 1"] * LIMIT)
    source = f"class C:\n    def f(self):\n        def g():\n{body}\n"
    found = lengths(source)
    assert found["C.f.<locals>.g"] == LIMIT + 1
    assert found["C.f"] == LIMIT + 2
