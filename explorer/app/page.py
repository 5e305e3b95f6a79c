"""The explorer page, in the order a run goes: the sidebar's settings
(``sidebar``), the cached models and data (``catalogue``), the state and what
the last input did (``state``, ``actions``), the maps (``panel``: the view and
its data), then the tabs under them (``tabs``) and the link."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer.app import catalogue, fits, i18n, lesson
from explorer.app import keys as K
from explorer.app import selection as selecting
from explorer.app import session as explore_session
from explorer.app import tabs as tab_registry
from explorer.app.actions import apply_view_event
from explorer.app.i18n import _
from explorer.app.markdown import verbatim
from explorer.app.panel import show_panels
from explorer.app.records import Panel, Settings
from explorer.app.sidebar import sidebar
from explorer.app.state import (
    apply_url,
    init_defaults,
    init_state,
    load_panels,
    write_url,
)
from explorer.app.tabs import Context


def tabs(ctx: Context) -> None:
    """The tabs under the maps (``tabs.REGISTRY``), each with its label in the
    session's language; only the open one runs.

    ``K.TAB`` holds the open tab's ``NAME`` (its id, in links and tests) but
    the widget stores its label: the label goes in here, and ``open_tab``
    takes it back to the id at the start of the next run."""
    registered = tab_registry.all_tabs()
    labels = {t.NAME: i18n.marked(t.NAME) for t in registered}
    st.session_state[K.TAB] = labels.get(ctx.tab, labels[registered[0].NAME])
    containers = st.tabs(list(labels.values()), key=K.TAB, on_change="rerun")
    for tab, container in zip(registered, containers, strict=True):
        if container.open:
            with container:
                tab.render(ctx)


def open_tab(names: list[str]) -> str:
    """The open tab's id (its ``NAME``), put back into ``K.TAB`` from the
    label the tabs stored (in whichever language they were shown)."""
    ss = st.session_state
    ids = {
        i18n.translations(lang).gettext(name): name
        for lang in i18n.LANGUAGES
        for name in names
    }
    ss[K.TAB] = ids.get(ss.get(K.TAB), names[0])
    return ss[K.TAB]


@dataclass(frozen=True)
class Run:
    """One run of the page up to its maps: the sidebar's settings, the loaded
    panels, and the context the tabs read."""

    settings: Settings
    panels: dict[str, Panel]
    ctx: Context


def start(windows: dict[str, tuple] | None = None) -> Run | None:
    """The link, the sidebar and the panels, and the view's event since the
    last run applied; None when no checkpoint can be opened (the page says
    so). ``windows``: see ``state.load_panels``."""
    entries = catalogue.scan()
    tab_names = tab_registry.names()  # (the tabs import the state, not back)
    apply_url(entries, tab_names)
    init_defaults(tab_names[0])
    settings = sidebar(entries)
    if settings is None:
        st.info(
            _("Add a checkpoint folder under weights/ (see the README) to explore it.")
        )
        return None
    panels = load_panels(settings, windows)  # (the link keeps a hidden one)
    ds = catalogue.get_dataset(settings.dataset, settings.splits)
    init_state(settings, panels)
    event = st.session_state.pop(K.VIEW_PENDING, None)  # since the last run
    if event is not None:
        apply_view_event(panels, event)
    link_problems()
    ctx = Context(shown(panels), ds, settings, entries, open_tab(tab_names))
    lesson.observe(ctx, event)
    fitting = [p.fit for p in panels.values() if p.fit and not p.fit.done.is_set()]
    if fitting:  # their maps show the PCA until then
        fits.poll(fitting)
    if explore_session.current() is not None:  # a selection Python set
        selecting.follow_shared()
        selecting.watch_shared()
    return Run(settings, panels, ctx)


def shown(panels: dict[str, Panel]) -> dict[str, Panel]:
    """The panels the page shows: all but one a link hides (``hide=left``)."""
    kept = {s: p for s, p in panels.items() if not lesson.hidden(s)}
    return kept or panels


def link_problems() -> None:
    """What part of the link could not be used, once."""
    problems = st.session_state.get(K.URL_PROBLEMS)
    if problems:
        # (each problem is Markdown, its values already shown verbatim)
        if len(problems) == 1:
            st.warning(
                _(
                    "Part of the link could not be used, so defaults stand in "
                    "for: {problem}."
                ).format(problem=problems[0])
            )
        else:
            st.warning(
                _(
                    "Part of the link could not be used, so defaults stand in "
                    "for:\n{problems}"
                ).format(problems="".join(f"\n- {p}" for p in problems))
            )
        st.session_state[K.URL_PROBLEMS] = []
    changed = st.session_state.pop(K.URL_CHANGED, None)
    if changed:
        st.warning(
            _(
                "This link was made on other weights of {models}: the model has "
                "been trained or replaced since, so its maps and decodes may "
                "differ from what the link's author saw."
            ).format(models=", ".join(f"**{verbatim(m)}**" for m in changed))
        )


def finish(run: Run) -> None:
    """Below the maps: the tabs, then the link."""
    if not lesson.hidden("tabs"):
        st.divider()
        tabs(run.ctx)
    write_url(run.settings, run.panels, run.ctx.tab)


def render(painted: dict | None = None) -> None:
    """The whole page; ``painted``: the view's data the first paint showed
    (``first.paint``), if it did."""
    run = start()
    if run is None:
        return
    lesson.prepare(run.ctx)
    above = st.container()  # the lesson's step, drawn once the maps are
    show_panels(run.ctx, painted)
    with above:
        lesson.show(run.ctx)
    ds, settings = run.ctx.ds, run.settings
    selecting.selection_panel(run.panels, ds, settings.dataset, settings.splits)
    finish(run)
