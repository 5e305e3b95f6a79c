"""The view's events are declared once in Python (``components.events``) and
mirrored once in JavaScript (``frontend/view/events.js``): the two agree, and
every event the browser sends is built by events.js."""

from __future__ import annotations

import re

from explorer.app.components import events, view

EVENTS_JS = view.FOLDER / "events.js"
CONST = re.compile(r'^export const ([A-Z]+) = "(\w+)";', re.M)
FIELDS = re.compile(r"^export const FIELDS = \{\n(.*?)\n\};", re.M | re.S)
FIELD_ROW = re.compile(r"^\s+(\w+): \[(.*)\],$")
MAKER = re.compile(
    r"^export const (\w+) = \(([^)]*)\) => \(\{ kind: ([A-Z]+), (.*) \}\);$", re.M
)


def js_kinds() -> dict[str, str]:
    return dict(CONST.findall(EVENTS_JS.read_text()))


def js_fields() -> dict[str, tuple[set[str], set[str]]]:
    [block] = FIELDS.findall(EVENTS_JS.read_text())
    out = {}
    for line in block.splitlines():
        kind, names = FIELD_ROW.match(line).groups()
        names = [n.strip().strip('"') for n in names.split(",")]
        out[kind] = (
            {n for n in names if not n.endswith("?")},
            {n[:-1] for n in names if n.endswith("?")},
        )
    return out


def test_the_kinds_agree():
    kinds = js_kinds()
    assert set(kinds.values()) == set(events.KINDS)
    for name, kind in kinds.items():
        assert getattr(events, name) == kind


def test_each_kinds_fields_agree():
    fields = js_fields()
    assert set(fields) == set(events.KINDS)
    for kind, (required, optional) in fields.items():
        py_required, py_optional = events.fields(kind)
        assert required | {"id", "kind"} == set(py_required), kind
        assert optional == set(py_optional), kind
        annotations = events.KINDS[kind].__annotations__
        assert str(annotations["kind"]) == f"typing.Literal['{kind}']", kind


def test_each_constructor_builds_its_kinds_fields():
    kinds, fields = js_kinds(), js_fields()
    makers = MAKER.findall(EVENTS_JS.read_text())
    assert {m[0] for m in makers} == set(events.KINDS)
    for name, _args, const, keys in makers:
        assert kinds[const] == name
        keys = [k.strip() for k in keys.split(",")]
        plain = {k for k in keys if not k.startswith("...")}
        required, optional = fields[name]
        assert plain == required, name
        # the optional fields arrive in one spread argument
        assert bool(optional) == any(k.startswith("...") for k in keys), name


def test_no_module_sends_an_undeclared_kind():
    """Every event goes through ``tell``/``tellAfterPaint`` (which send it
    with ``setTriggerValue``) and is made by a constructor of events.js."""
    declared = set(events.KINDS)
    sends = 0
    for f in sorted(view.FOLDER.glob("*.js")):
        if f == EVENTS_JS:
            continue
        text = f.read_text()
        assert not re.search(r"\bkind\s*:", text), f"{f.name} builds an event itself"
        for name in re.findall(r"\bevents\.(\w+)\(", text):
            assert name in declared, (f.name, name)
        for call in re.findall(r"\.(?:tell|tellAfterPaint)\(([^;]*)\);", text):
            assert re.search(r"\bevents\.\w+\(", call), (f.name, call)
            sends += 1
        for call in re.findall(r"setTriggerValue\(([^,]*),", text):
            assert call == '"event"', (f.name, call)
    assert sends >= len(declared)  # the scan found the calls
