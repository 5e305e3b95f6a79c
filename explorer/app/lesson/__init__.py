"""The lesson: ten steps through a VAE's ideas, in the order of the learners'
notes (``../shared/notes/glossary-zh.md``), on the page's own maps, models and
data.

A step (``Step``) has a title, a goal in one sentence, its formula (LaTeX,
rendered), a body drawn above the maps (the live numbers of the current
selection, computed by the open models, and, where it fits, a predict-first
check: ``check``), the marks it draws on the maps, and the action that
completes it: a view event on the maps (``observe``) or one of its buttons,
each of which does what a click on the maps would (so the lesson works from
the keyboard alone).

The lesson lives in the link: ``lesson=N`` opens step N, ``done=1,2`` lists
the steps completed, and ``hide=sidebar,tabs,left`` hides controls (a teacher's
page with one map and no sidebar). Opening the lesson keeps the link as it
was (``K.LESSON_SAVED``); leaving it puts that link back and reads it again,
so the view is restored exactly.

The steps are in ``basics`` (1 to 5: one image's way through the models) and
``spaces`` (6 to 10: the spaces as a whole).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from explorer.app import catalogue, i18n
from explorer.app import keys as K
from explorer.app.i18n import N_, _
from explorer.app.markdown import verbatim
from explorer.app.records import Panel
from explorer.app.widgets import live_panels

if TYPE_CHECKING:  # (the tabs import the state, which reads the lesson's link)
    from explorer.app.tabs import Context

HIDEABLE = ("sidebar", "tabs", "left", "right")


@dataclass(frozen=True)
class Step:
    """One step of the lesson (see the module's docstring)."""

    name: str  # its id (in tests)
    title: str  # N_()
    goal: str  # N_(): one sentence
    formula: str  # LaTeX
    action: str  # N_(): what to do on the maps to complete it
    body: Callable[[Lesson], None]
    needs: tuple[str, ...] = ()  # "ae", "vae", "cvae"
    on_event: Callable[[Lesson, Panel, dict], bool] | None = None
    marks: Callable[[Lesson, Panel], dict] | None = None
    on_open: Callable[[Lesson], None] | None = None
    pick_image: bool = False  # its action is a click on a point (a button too)


@dataclass(frozen=True)
class Lesson:
    """What a step reads: the page's context and the step's number."""

    ctx: Context
    number: int

    @property
    def step(self) -> Step:
        return steps()[self.number - 1]

    @property
    def ae(self) -> Panel | None:
        """The first open map whose model is an autoencoder."""
        return next((p for p in self.live if p.space.logvar is None), None)

    @property
    def vae(self) -> Panel | None:
        """The first open map whose model encodes a distribution (a VAE)."""
        return next((p for p in self.live if p.space.logvar is not None), None)

    @property
    def live(self) -> list[Panel]:
        return live_panels(self.ctx.panels)

    @property
    def state(self) -> dict:
        """What this step keeps between reruns (its pick, its draws)."""
        return st.session_state.setdefault(K.LESSON_STATE, {}).setdefault(
            self.step.name, {}
        )

    def complete(self) -> None:
        done = st.session_state.setdefault(K.LESSON_DONE, [])
        if self.number not in done:
            done.append(self.number)
            done.sort()

    @property
    def done(self) -> bool:
        return self.number in st.session_state.get(K.LESSON_DONE, [])


def steps() -> list[Step]:
    """The lesson's steps, in order."""
    from explorer.app.lesson import basics, spaces

    return basics.STEPS + spaces.STEPS


def active() -> int | None:
    """The open step's number, or None when no lesson is open."""
    n = st.session_state.get(K.LESSON)
    return n if isinstance(n, int) and 1 <= n <= len(steps()) else None


def hidden(control: str) -> bool:
    """Whether the link hides ``control`` (one of ``HIDEABLE``)."""
    return control in st.session_state.get(K.HIDE, [])


# --- opening, moving, leaving ------------------------------------------------


def start_lesson(number: int = 1) -> None:
    """Opens the lesson at step ``number``, keeping the link as it is now."""
    ss = st.session_state
    ss[K.LESSON_SAVED] = link_without(("lesson", "done"))  # (a hide stays)
    ss[K.LESSON] = number
    ss.pop(K.LESSON_STATE, None)


def go(number: int) -> None:
    st.session_state[K.LESSON] = number


def leave() -> None:
    """Closes the lesson and puts back the link it was opened on; the next
    run reads it as a new visit's (``state.apply_url``) would."""
    ss = st.session_state
    saved = ss.pop(K.LESSON_SAVED, None)
    for key in (K.LESSON, K.LESSON_DONE, K.LESSON_STATE, K.HIDE):
        ss.pop(key, None)
    if saved is not None:
        st.query_params.from_dict(saved)
        ss[K.URL_READ] = False
        ss.pop(K.CTX, None)  # (the state is then made from the link, as at first)


LINK_KEYS = ("lesson", "done", "hide")


def link_without(keys: tuple[str, ...]) -> dict:
    """The page's link now, less the parameters ``keys``: what leaving the
    lesson puts back."""
    return {k: v for k, v in st.query_params.to_dict().items() if k not in keys}


def read_link(view: dict, problems: list[str]) -> None:
    """The link's lesson step, completed steps and hidden controls (from
    ``state.apply_url``); a bad value falls back with a notice."""
    ss = st.session_state
    n = len(steps())
    if "lesson" in view:
        if 1 <= view["lesson"] <= n:
            ss[K.LESSON] = view["lesson"]
            ss[K.LESSON_SAVED] = link_without(LINK_KEYS)
        else:
            problems.append(
                _("lesson={value}: the lesson has steps 1 to {n}").format(
                    value=view["lesson"], n=n
                )
            )
    if "lesson_done" in view and "lesson" in view:  # (progress of a lesson)
        ss[K.LESSON_DONE] = [d for d in view["lesson_done"] if 1 <= d <= n]
    if "hide" in view:
        known = [w for w in view["hide"] if w in HIDEABLE]
        for w in view["hide"]:
            if w not in HIDEABLE:
                problems.append(
                    _("hide: unknown control {name} (one of {names})").format(
                        name=f"'{verbatim(w, 40)}'", names=", ".join(HIDEABLE)
                    )
                )
        if "left" in known and "right" in known:
            known.remove("right")  # one map stays
        ss[K.HIDE] = known


def link_fields() -> dict:
    """The lesson's part of the link (``state.write_url``)."""
    ss = st.session_state
    number = active()
    return {
        "lesson": number,
        "lesson_done": ss.get(K.LESSON_DONE) or None if number else None,
        "hide": ss.get(K.HIDE) or None,
    }


# --- what the page calls -------------------------------------------------------


def observe(ctx: Context, event: dict | None) -> None:
    """A view event the page applied: it completes the open step when it is
    that step's action."""
    number = active()
    if number is None or not isinstance(event, dict):
        return
    lesson = Lesson(ctx, number)
    p = ctx.panels.get(event.get("slot"))
    if lesson.step.on_event and p is not None and p.space is not None:
        if lesson.step.on_event(lesson, p, event):
            lesson.complete()


def pick_another(lesson: Lesson) -> None:
    """The keyboard's click on a point: the next image of another class (or
    the next image), sent to the step as the view's point event would be."""
    from explorer.app.actions import select

    ds = lesson.ctx.ds
    i = int(st.session_state[K.SEL])
    n = len(ds)
    j = next(
        (
            k % n
            for k in range(i + 1, i + n)
            if ds.labels is None or ds.labels[k % n] != ds.labels[i]
        ),
        (i + 1) % n,
    )
    p = lesson.vae or lesson.live[0]
    select(lesson.ctx.panels, j)
    if lesson.step.on_event(lesson, p, {"kind": "point", "slot": p.slot, "index": j}):
        lesson.complete()


def marks(ctx: Context, panel: Panel) -> dict:
    """The open step's marks on ``panel``'s map."""
    number = active()
    if number is None or panel.space is None:
        return {}
    lesson = Lesson(ctx, number)
    return lesson.step.marks(lesson, panel) if lesson.step.marks else {}


def sidebar_button() -> None:
    """The sidebar's way into the lesson (or out of it)."""
    if active() is None:
        st.sidebar.button(
            _("Start the lesson"),
            on_click=start_lesson,
            help=_(
                "Ten steps through the ideas of a VAE on these maps: what an "
                "encoder and a decoder do, the AE's gaps, the KL term, the ELBO, "
                "sampling and the CVAE."
            ),
            type="primary",
        )
    else:
        st.sidebar.button(_("Leave the lesson"), on_click=leave)


def prepare(ctx: Context) -> None:
    """Before the maps: the open step's opening (its ``on_open``, once),
    which its marks may read."""
    number = active()
    if number is None:
        return
    lesson = Lesson(ctx, number)
    if lesson.step.on_open and not lesson.state.get("opened"):
        lesson.state["opened"] = True
        lesson.step.on_open(lesson)


def show(ctx: Context) -> None:
    """The open step, above the maps."""
    from explorer.app.lesson import frame

    number = active()
    if number is not None:
        frame.show(Lesson(ctx, number))


def needed(lesson: Lesson) -> str | None:
    """What the step needs that no open map has ("ae", "vae", "cvae")."""
    have = {"ae": lesson.ae, "vae": lesson.vae}
    for need in lesson.step.needs:
        if need == "cvae":
            if cvae_entry(lesson.ctx) is None:
                return need
        elif have[need] is None:
            return need
    return None


def cvae_entry(ctx: Context) -> catalogue.Entry | None:
    """The CVAE of the shown dataset the lesson uses: the Conditional tab's
    choice, else the first one found."""
    found = [e for e in ctx.dataset_entries if e.model_type == "cvae" and not e.error]
    chosen = st.session_state.get(K.CVAE_MODEL(ctx.settings.dataset))
    return next((e for e in found if e.name == chosen), found[0] if found else None)


NEEDS = {
    "ae": N_("an autoencoder (AE)"),
    "vae": N_("a variational autoencoder (VAE)"),
    "cvae": N_("a conditional VAE (CVAE)"),
}


def bundled(ctx: Context, kind: str) -> catalogue.Entry | None:
    """The checkpoint of ``kind`` ("ae", "vae") that opens for the shown
    dataset: the default pair's, else the first readable one."""
    pair = dict(
        zip(catalogue.PAIR, catalogue.default_pair(ctx.dataset_entries), strict=True)
    )
    good = [e for e in ctx.dataset_entries if not e.error and e.model_type == kind]
    name = pair.get(kind)
    return next((e for e in good if e.name == name), good[0] if good else None)


def open_model(ctx: Context, kind: str) -> None:
    """Puts the bundled ``kind`` on the side that does not hold the other
    kind the lesson needs (a VAE on the right, an AE on the left)."""
    entry = bundled(ctx, kind)
    if entry is None:
        return
    slot = "right" if kind == "vae" else "left"
    if hidden(slot) or len(ctx.panels) == 1:  # (one map: the one shown)
        slot = next(iter(ctx.panels), slot)
    st.session_state[K.CHECKPOINT(slot, ctx.settings.dataset)] = entry.name


def number_text(values, digits: int = 3, limit: int = 4) -> str:
    """A short vector as the page shows it: its first ``limit`` values."""
    shown = ", ".join(i18n.number(float(v), digits) for v in list(values)[:limit])
    return "(" + shown + (", …" if len(values) > limit else "") + ")"
