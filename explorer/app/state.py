"""Per-user state over a session: the panels a run loads, fresh state when
the dataset or a checkpoint changes, and the shared link.

The keys of ``st.session_state`` are declared once, with their types and
meanings, in ``keys.py``; what each input changes is in ``actions.py``. The
view (dataset, models, selection, cursors, interpolation, tab, maps,
alignment) is mirrored in the URL (``urlstate``), so a link restores it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.app import catalogue, errors, i18n, lesson, urlstate
from explorer.app import keys as K
from explorer.app import selection as selecting
from explorer.app.actions import set_cursor
from explorer.app.i18n import _
from explorer.app.markdown import verbatim
from explorer.app.records import Panel, Settings
from explorer.data.dataset import DatasetError
from explorer.latent.maps import KINDS
from explorer.latent.paths import INTERPOLATIONS
from explorer.model.checkpoint import CheckpointError

SLOTS = ("left", "right")


def load_panels(
    s: Settings, windows: dict[str, tuple] | None = None
) -> dict[str, Panel]:
    """Each map's checkpoint, latent space (mapped, aligned) and points.

    ``windows``: a map's visible window (slot -> ``((x0, x1), (y0, y1))``),
    whose points a large map then draws. The page's view picks them in the
    browser and passes none; the benchmark's classic page asks the server.
    """
    panels = {}
    for slot, entry in s.checkpoints.items():
        left = panels.get("left")
        target = None  # the map this one is aligned to
        if s.align and slot == "right" and left is not None and left.space is not None:
            # (the left map as drawn now: its PCA while its fit runs)
            target = (str(left.entry.path), left.space.projection.kind)
        p = Panel(slot, entry)
        if entry.error:
            p.error = errors.describe(entry.error)
        else:
            try:
                p.space, p.fit = catalogue.get_mapped(
                    str(entry.path), s.dataset, s.splits, s.maps.get(slot, "pca")
                )
                kind = p.space.projection.kind  # (the PCA while a fit runs)
                if target is not None:
                    p.space, p.alignment = catalogue.get_aligned(
                        str(entry.path), s.dataset, s.splits, kind, target
                    )
                window = (windows or {}).get(slot)
                p.points, p.shown = catalogue.get_points(
                    str(entry.path),
                    s.dataset,
                    s.splits,
                    s.n_shown,
                    s.colour,
                    window,
                    kind,
                    target,
                )
            except (CheckpointError, DatasetError, ValueError) as e:
                p.error = errors.describe(e)
        panels[slot] = p
    return panels


# --- state -----------------------------------------------------------------------


def init_state(s: Settings, panels: dict[str, Panel]) -> None:
    """Fresh state whenever the dataset or a checkpoint changes."""
    ss = st.session_state
    ctx = (s.dataset, s.splits, tuple(p.entry.name for p in panels.values()))
    if ss.get(K.CTX) == ctx:
        return
    # On the first run, keep any valid preset (from a test or a shared link).
    keep = K.CTX not in ss
    ss[K.CTX] = ctx
    ds = catalogue.get_dataset(s.dataset, s.splits)
    n = len(ds)

    def valid(key: str, default: int) -> int:
        v = ss.get(key)
        ok = keep and isinstance(v, int | np.integer) and 0 <= v < n
        if keep and v is not None and not ok:
            ss[K.URL_PROBLEMS].append(
                _("{key}={value} is not an image index (0 to {last})").format(
                    key=key, value=urlstate.quoted(v), last=n - 1
                )
            )
        return int(v) if ok else default

    ss.setdefault(K.URL_PROBLEMS, [])
    # a selection is of images: it outlives a change of model, not of data
    if ss.get(K.SELECTION_DATA) != (s.dataset, s.splits):
        ss[K.SELECTION_DATA] = (s.dataset, s.splits)
        selecting.set_selection(selecting.EMPTY, by_user=False)
    if keep:
        selecting.from_link(ss.pop(K.URL_SELECTION, None), n)
    ss[K.SEL] = valid(K.SEL, 0)
    ss[K.INTERP_A] = valid(K.INTERP_A, 0)
    ss[K.INTERP_B] = valid(K.INTERP_B, default_b(ds))
    ss[K.CURSOR] = {}
    linked = ss.pop(K.URL_CURSOR, {}) if keep else {}
    for p in panels.values():
        if p.space is not None:
            z = linked.get(p.slot)
            if z is not None and len(z) != p.space.latent_dim:
                ss[K.URL_PROBLEMS].append(point_problem(p, len(z)))
                z = None
            set_cursor(p, p.space.z[ss[K.SEL]] if z is None else np.asarray(z))


def point_problem(p: Panel, numbers: int) -> str:
    """A link's point (``zl``/``zr``) whose length is not the model's."""
    side = _("the left point") if p.slot == "left" else _("the right point")
    return _("{side} has {n} numbers; {model} has {d} dimensions").format(
        side=side, n=numbers, model=verbatim(p.entry.name), d=p.space.latent_dim
    )


def default_b(ds) -> int:
    """An image of a quite different class from image 0 (half the classes away)."""
    if ds.labels is None or len(ds.class_names) < 2:
        return min(1, len(ds) - 1)
    target = (ds.labels[0] + len(ds.class_names) // 2) % len(ds.class_names)
    hits = np.flatnonzero(ds.labels == target)
    return int(hits[0]) if len(hits) else min(1, len(ds) - 1)


# --- the shared link -------------------------------------------------------------


def apply_url(entries: list[catalogue.Entry], tabs: list[str]) -> None:
    """On a session's first run, takes the view from the URL into the state.

    Values that cannot apply (a malformed number, an unknown dataset or
    checkpoint, an index out of range) are dropped and listed in a notice.
    """
    ss = st.session_state
    if ss.get(K.URL_READ):
        return
    ss[K.URL_READ] = True
    view, problems = urlstate.decode(st.query_params.to_dict())
    _url_models(view, entries, problems)
    _url_interpolation(view, problems)
    if view.get("tab") is not None:
        if view["tab"] in tabs:
            ss[K.TAB] = view["tab"]
        else:
            problems.append(
                _("unknown tab {tab}").format(tab=urlstate.quoted(view["tab"]))
            )
    _url_maps(view, problems)
    if view.get("selection"):
        ss[K.URL_SELECTION] = view["selection"]
    if "align" in view:
        if view["align"] in (0, 1):
            ss[K.ALIGN] = bool(view["align"])
        else:
            problems.append(_("al must be 0 or 1"))
    if "lang" in view and view["lang"] not in i18n.LANGUAGES:
        # (i18n.choose took the browser's language instead)
        problems.append(
            _("unknown language {lang}").format(lang=urlstate.quoted(view["lang"]))
        )
    lesson.read_link(view, problems)
    ss[K.URL_CURSOR] = {
        slot: view[f"cursor_{slot}"] for slot in SLOTS if f"cursor_{slot}" in view
    }
    ss[K.URL_PROBLEMS] = problems


def _url_models(
    view: dict, entries: list[catalogue.Entry], problems: list[str]
) -> None:
    """The link's dataset and each side's checkpoint, if the catalogue has them."""
    ss = st.session_state
    datasets = catalogue.datasets(entries)
    ds = view.get("dataset")
    if ds is not None and ds not in datasets:
        problems.append(_("unknown dataset {name}").format(name=urlstate.quoted(ds)))
        ds = None
    if ds is not None:
        ss[K.DATASET] = ds
    names = {e.name for e in entries if e.dataset == (ds or ss.get(K.DATASET))}
    for slot in SLOTS:
        name = view.get(slot)
        if name is None:
            continue
        if ds is None or name not in names:
            unknown = (
                _("unknown left model {name}")
                if slot == "left"
                else _("unknown right model {name}")
            )
            problems.append(unknown.format(name=urlstate.quoted(name)))
        else:
            ss[K.CHECKPOINT(slot, ds)] = name
            _url_pin(
                view,
                slot,
                next(e for e in entries if e.name == name and e.dataset == ds),
            )


def _url_pin(view: dict, slot: str, entry: catalogue.Entry) -> None:
    """Notes the link's model when its weights are not those the link was
    made on (the link's pin, ``hl``/``hr``): the page shows it as it is now,
    and says so."""
    pin = view.get(f"pin_{slot}")
    if pin is not None and pin != catalogue.weights_pin(entry.path):
        st.session_state.setdefault(K.URL_CHANGED, []).append(entry.label)


def _url_interpolation(view: dict, problems: list[str]) -> None:
    """The link's selected image and interpolation (ends, path, steps, t)."""
    ss = st.session_state
    for key in (K.SEL, K.INTERP_A, K.INTERP_B, K.INTERP_STEPS, K.INTERP_T):
        if key in view:
            ss[key] = view[key]
    if view.get("interp_method") is not None:
        if view["interp_method"] in INTERPOLATIONS:
            ss[K.INTERP_METHOD] = view["interp_method"]
        else:
            problems.append(
                _("unknown path {path}").format(
                    path=urlstate.quoted(view["interp_method"])
                )
            )
    if "interp_steps" in view and not 3 <= view["interp_steps"] <= 20:
        problems.append(_("steps must be 3 to 20"))
        del ss[K.INTERP_STEPS]
    if "interp_t" in view and not 0 <= view["interp_t"] <= 1:
        problems.append(_("t must be 0 to 1"))
        del ss[K.INTERP_T]


def _url_maps(view: dict, problems: list[str]) -> None:
    """The link's kind of map per side (PCA, UMAP, t-SNE), for the sidebar."""
    ss = st.session_state
    for slot in SLOTS:
        kind = view.get(f"map_{slot}")
        if kind is None:
            continue
        if kind in KINDS:
            ss[K.URL_MAP(slot)] = kind  # the sidebar's choice, once shown
        else:
            problems.append(
                _("unknown map {kind} (one of {kinds})").format(
                    kind=urlstate.quoted(kind), kinds=", ".join(KINDS)
                )
            )


def write_url(s: Settings, panels: dict[str, Panel], tab: str | None = None) -> None:
    """Mirrors the view into the URL (only when it changed); ``tab``: the open
    tab's id (``K.TAB`` holds its label once the tabs are drawn)."""
    ss = st.session_state
    view = {
        "dataset": s.dataset,
        **{slot: p.entry.name for slot, p in panels.items()},
        "sel": ss[K.SEL],
        "interp_a": ss[K.INTERP_A],
        "interp_b": ss[K.INTERP_B],
        "interp_method": ss[K.INTERP_METHOD],
        "interp_steps": ss[K.INTERP_STEPS],
        "interp_t": ss[K.INTERP_T],
        "tab": tab if tab is not None else ss.get(K.TAB),
    }
    for slot, kind in s.maps.items():
        if kind != "pca":
            view[f"map_{slot}"] = kind
    for slot, z in ss[K.CURSOR].items():
        view[f"cursor_{slot}"] = z
    view["selection"] = selecting.to_link(
        len(catalogue.get_dataset(s.dataset, s.splits))
    )
    view["align"] = 1 if s.align else None
    for slot, p in panels.items():  # what the link was made on
        view[f"pin_{slot}"] = catalogue.weights_pin(p.entry.path)
    # the language, when it is not the browser's (a link then keeps it)
    view["lang"] = None if i18n.lang() == i18n.browser_language() else i18n.lang()
    view.update(lesson.link_fields())
    q = urlstate.encode(view)
    if st.query_params.to_dict() != q:
        st.query_params.from_dict(q)


def init_defaults(first_tab: str) -> None:
    ss = st.session_state
    ss.setdefault(K.INTERP_METHOD, "linear")
    ss.setdefault(K.INTERP_STEPS, 10)
    ss.setdefault(K.INTERP_T, 0.5)
    ss.setdefault(K.TAB, first_tab)
