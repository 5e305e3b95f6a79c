"""The lesson's frame above the maps: where the learner is (step N of 10, the
steps done), the step's goal and formula, what it needs, its body, what
completes it, and the way on (buttons and a step list: all reachable by Tab
and Enter)."""

from __future__ import annotations

import streamlit as st

from explorer.app import i18n
from explorer.app import keys as K
from explorer.app import lesson as L
from explorer.app.i18n import _
from explorer.app.markdown import verbatim


def show(lesson: L.Lesson) -> None:
    step = lesson.step
    with st.container(border=True, key=K.LESSON_FRAME):
        header(lesson)
        st.markdown("**" + i18n.marked(step.goal) + "**")
        st.latex(step.formula)
        need = L.needed(lesson)
        if need is not None:
            missing(lesson, need)
        else:
            lesson.state["waiting"] = False  # (a check sets it)
            step.body(lesson)
            with st.container(key=K.LESSON_STATUS):  # (after the body: drawn)
                status(lesson)
        navigation(lesson)


def header(lesson: L.Lesson) -> None:
    n = len(L.steps())
    done = st.session_state.get(K.LESSON_DONE, [])
    st.subheader(
        _("Lesson, step {number} of {n}: {title}").format(
            number=lesson.number, n=n, title=i18n.marked(lesson.step.title)
        )
    )
    marks = " ".join(
        ("✓" if i in done else "○") if i != lesson.number else "●"
        for i in range(1, n + 1)
    )
    st.caption(
        _("{marks}  {done} of {n} steps done").format(marks=marks, done=len(done), n=n)
    )


def missing(lesson: L.Lesson, need: str) -> None:
    """The step needs a model no map shows: which, and a button that opens
    the bundled one."""
    what = i18n.marked(L.NEEDS[need])
    if need == "cvae":
        st.info(
            _(
                "This step needs {what} trained on this dataset, and none was "
                "found: train one with `latent-explorer train --model cvae`, "
                "or switch to MNIST or Fashion-MNIST, which come with one."
            ).format(what=what)
        )
        return
    entry = L.bundled(lesson.ctx, need)
    st.info(_("This step needs {what}, and neither map shows one.").format(what=what))
    if entry is not None:
        st.button(
            _("Open {name}").format(name=verbatim(entry.label)),
            on_click=L.open_model,
            args=(lesson.ctx, need),
            type="primary",
        )


def status(lesson: L.Lesson) -> None:
    if lesson.done:
        st.success(_("Step done: go on when you are ready."))
    elif lesson.state.get("waiting"):
        st.markdown(
            "**" + _("Your turn:") + "** " + _("answer the question above first.")
        )
        return
    else:
        st.markdown("**" + _("Your turn:") + "** " + i18n.marked(lesson.step.action))
    if lesson.step.pick_image:
        st.button(
            _("Pick another image"),
            on_click=L.pick_another,
            args=(lesson,),
            help=_("What a click on a point of the map does, from the keyboard."),
        )


def navigation(lesson: L.Lesson) -> None:
    n = len(L.steps())
    back, on, pick, out = st.columns([1, 1, 2, 1], vertical_alignment="bottom")
    with back:
        st.button(
            _("← Back"),
            on_click=L.go,
            args=(lesson.number - 1,),
            disabled=lesson.number == 1,
            width="stretch",
        )
    with on:
        st.button(
            _("Next step →"),
            on_click=L.go,
            args=(lesson.number + 1,),
            disabled=lesson.number == n,
            type="primary" if lesson.done else "secondary",
            width="stretch",
        )
    with pick:
        titles = {i: f"{i}. {i18n.marked(s.title)}" for i, s in enumerate(L.steps(), 1)}
        st.session_state[K.LESSON_GO] = lesson.number
        st.selectbox(
            _("Go to step"),
            list(titles),
            key=K.LESSON_GO,
            format_func=titles.get,
            on_change=lambda: L.go(st.session_state[K.LESSON_GO]),
        )
    with out:
        st.button(_("Leave the lesson"), on_click=L.leave, width="stretch")
