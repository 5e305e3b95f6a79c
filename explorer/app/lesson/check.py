"""A predict-first check: before a step shows what a model does, the learner
picks what they expect among options the open models computed (decodes,
images, numbers); the page holds no answer until they have picked, then sets
their pick beside the model's actual output and says why (Kim, Reinecke &
Hullman, CHI 2017: predicting first helps learners remember and understand).

The options are shuffled by a seed made of the step and the question, so
the right one is not always in the same place, and the same for a reload.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from explorer.app import keys as K
from explorer.app.i18n import _
from explorer.app.widgets import show

LETTERS = "ABCD"
SCALE = 3  # screen pixels per image pixel of an option


@dataclass(frozen=True)
class Option:
    """One answer: its id (stable), its text, and its image, if any; an
    image's ``text`` is shown only with the answer (it says how the image
    was made, which would give the answer away)."""

    id: str
    text: str
    image: np.ndarray | None = None

    @property
    def label(self) -> str:
        """What the option says before the answer: an image says nothing."""
        return "" if self.image is not None else self.text


def order(options: list[Option], seed: str) -> list[Option]:
    """``options`` in an order fixed by ``seed``."""
    h = int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16)
    return [options[i] for i in np.random.default_rng(h).permutation(len(options))]


def check(
    lesson,
    question: str,
    options: list[Option],
    answer: str,
    why: Callable[[], None],
    seed: str = "",
) -> bool:
    """The check; True once the learner has picked (the answer and ``why``
    are then shown). ``answer``: the id of the option the model gives."""
    shown = order(options, f"{lesson.step.name}:{seed}")
    state = lesson.state.setdefault("picks", {})
    key = K.LESSON_PICK(lesson.step.name)
    letters = {LETTERS[i]: o for i, o in enumerate(shown)}
    st.markdown("**" + _("Predict first:") + "** " + question)
    if any(o.image is not None for o in shown):
        cols = st.columns(len(shown))
        for col, (letter, o) in zip(cols, letters.items(), strict=True):
            with col:
                show(o.image, letter, SCALE)
    picked = state.get(seed)
    st.session_state[key] = next(
        (k for k, o in letters.items() if o.id == picked), None
    )
    st.radio(
        _("Your answer"),
        list(letters),
        key=key,
        format_func=lambda k: f"{k}: {letters[k].label}" if letters[k].label else k,
        horizontal=True,
        on_change=_keep,
        args=(state, seed, key, {k: o.id for k, o in letters.items()}),
    )
    lesson.state["waiting"] = picked is None  # (the frame's "your turn" waits)
    if picked is None:
        return False
    reveal(letters, picked, answer, why)
    return True


def _keep(state: dict, seed: str, key: str, ids: dict) -> None:
    letter = st.session_state.get(key)
    if letter is not None:
        state[seed] = ids[letter]


def reveal(letters: dict, picked: str, answer: str, why: Callable[[], None]) -> None:
    """The learner's pick beside the model's output, and why."""
    by_id = {o.id: (k, o) for k, o in letters.items()}
    (mine, pick), (theirs, right) = by_id[picked], by_id[answer]
    if picked == answer:
        st.success(_("Right: {letter} is what the model gives.").format(letter=mine))
    else:
        st.warning(
            _("You picked {mine}; the model gives {theirs}.").format(
                mine=mine, theirs=theirs
            )
        )
    if pick.image is not None and picked != answer:
        a, b = st.columns(2)
        with a:
            show(pick.image, _("your pick ({letter})").format(letter=mine), SCALE)
        with b:
            show(right.image, _("the model ({letter})").format(letter=theirs), SCALE)
    if pick.image is not None:
        made = _("what the model gives")
        st.caption(" · ".join(f"{k}: {o.text or made}" for k, o in letters.items()))
    why()
