"""Train a model now: a form (AE or VAE, β, the latent size, the epochs, how
many images of the open dataset, a name), then the run as it goes, redrawn
every second or two without the rest of the page (``st.fragment``): the
newest snapshot's map, the curves so far, the epoch, the step and the time
left, and a Cancel button; at the end, the saved model opens on either side.

The training runs in its own process (``explorer.training.job``), one per
machine: another session sees who is training and for how long, and cannot
start a second. The page reads only the job's status and frames files."""

from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explorer.app import catalogue, errors, i18n
from explorer.app import keys as K
from explorer.app.i18n import N_, _
from explorer.app.markdown import plotly_text, verbatim
from explorer.app.tabs import Context
from explorer.data.builtin import BUILTIN
from explorer.training import job

NAME = N_("Train a model now")

PERIOD = 1.5  # seconds between redraws of a running job
SIDES = ("left", "right")


def render(ctx: Context) -> None:
    if not job.enabled():
        st.info(_("Training in the page is switched off on this server."))
        return
    dataset = ctx.settings.dataset
    if dataset not in BUILTIN or catalogue.store_of(dataset) is not None:
        st.info(_("Training in the page is for the built-in datasets."))
        return
    ss = st.session_state
    mine = ss.get(K.TRAIN_JOB)
    s = job.status(mine) if mine else None
    if s is not None and running(s):
        watching()
        return
    if s is not None:
        result(s, dataset)
    other = job.current()
    if other is not None:
        waiting()
    problem = ss.pop(K.TRAIN_PROBLEM, None)
    if problem:
        st.error(problem)
    form(ctx, busy=other is not None)


def running(s: dict) -> bool:
    """Whether the job still runs (its process alive, its phase not an end)."""
    if s.get("phase") not in job.RUNNING:
        return False
    return s.get("pid") is None or job.alive(s.get("pid"))


# --- the form ----------------------------------------------------------------------


def splits(ctx: Context) -> tuple[str, str | None]:
    """The split to train on and the one held out: the checkpoints' training
    split when it is on this machine, else the split shown (its images past
    those trained on are held out)."""
    held, train = catalogue.display_splits(ctx.dataset_entries or ctx.entries)
    if train != held and catalogue.on_this_machine(ctx.settings.dataset, train):
        return train, held
    return held, None


def form(ctx: Context, busy: bool) -> None:
    dataset = ctx.settings.dataset
    split, held = splits(ctx)
    have = len(catalogue.get_dataset(dataset, (split,)))
    st.caption(
        _(
            "Trains a small model on the first images of {dataset}'s {split} "
            "split in a separate process (one at a time on this server), while "
            "the maps above stay usable. It is saved under the name you give, "
            "for everyone using this server."
        ).format(dataset=verbatim(dataset), split=verbatim(split))
    )
    with st.form(K.TRAIN_FORM, border=True):
        left, right = st.columns(2)
        with left:
            choices(have)
        with right:
            st.text_input(
                _("Name"),
                value=f"my-{dataset}-model",
                max_chars=64,
                key=K.TRAIN_NAME,
                help=_("Letters, digits, '.', '_' and '-'; not a name in use."),
            )
        st.form_submit_button(
            _("Start training"),
            key=K.TRAIN_START,
            disabled=busy,
            on_click=begin,
            args=(dataset, split, held, have),
        )


def choices(have: int) -> None:
    st.segmented_control(
        _("Model"),
        ["ae", "vae"],
        default="vae",
        format_func=lambda k: {"ae": _("AE"), "vae": _("VAE")}[k],
        key=K.TRAIN_KIND,
    )
    st.number_input(
        _("β (a VAE's KL weight)"),
        min_value=0.0,
        max_value=job.MAX_BETA,
        value=1.0,
        step=0.5,
        key=K.TRAIN_BETA,
    )
    st.slider(_("Latent size"), *job.LATENT, value=2, key=K.TRAIN_LATENT)
    st.slider(_("Epochs"), *job.EPOCHS, value=2, key=K.TRAIN_EPOCHS)
    st.number_input(
        _("Images"),
        min_value=job.IMAGES[0],
        max_value=job.IMAGES[1],
        value=min(5000, max(have, job.IMAGES[0])),
        step=500,
        key=K.TRAIN_IMAGES,
    )


def begin(dataset: str, split: str, held: str | None, have: int) -> None:
    """The Start button: the form's choices checked and the job started, or
    why not (shown on the run that follows)."""
    ss = st.session_state
    req = job.Request(
        model_type=ss.get(K.TRAIN_KIND) or "vae",
        beta=float(ss.get(K.TRAIN_BETA, 1.0)),
        latent_dim=int(ss.get(K.TRAIN_LATENT, 2)),
        epochs=int(ss.get(K.TRAIN_EPOCHS, 2)),
        images=int(ss.get(K.TRAIN_IMAGES, 0)),
        name=str(ss.get(K.TRAIN_NAME, "")).strip(),
        dataset=dataset,
        split=split,
        held_out=held,
        available=have,
    )
    try:
        ss[K.TRAIN_JOB] = job.start(req)
    except job.JobError as e:
        ss[K.TRAIN_PROBLEM] = _("Not started: {problem}").format(
            problem=verbatim(errors.describe(e))
        )


# --- while it runs -------------------------------------------------------------------


@st.fragment(run_every=PERIOD)
def watching() -> None:
    """This session's job as it runs; the whole page again when it ends."""
    mine = st.session_state.get(K.TRAIN_JOB)
    s = job.status(mine) if mine else None
    if s is None or not running(s):
        st.rerun()  # (the result, and the new model in the lists)
    st.markdown(progress_line(s))
    f = newest_frames(mine)
    left, right = st.columns(2)
    with left:
        if f is not None:
            st.plotly_chart(map_figure(f), width="stretch", key=K.TRAIN_MAP)
        else:
            st.caption(_("The first snapshot of the map comes in a moment…"))
    with right:
        if s.get("curves"):
            st.plotly_chart(curves_figure(s), width="stretch", key=K.TRAIN_CURVES)
    st.button(_("Cancel"), key=K.TRAIN_CANCEL, on_click=job.cancel, args=(mine,))


@st.fragment(run_every=PERIOD)
def waiting() -> None:
    """Another session's job: who trains and for how long; the whole page
    again when it ends (the form is free)."""
    other = job.current()
    if other is None:
        st.rerun()
    left = job.seconds_left(other)
    name = verbatim(other.get("name", "?"))
    st.warning(
        _("Busy: training {name}, about {seconds} s left.").format(
            name=name, seconds=i18n.number(round(left))
        )
        if left is not None
        else _("Busy: training {name}.").format(name=name)
    )


def progress_line(s: dict) -> str:
    if s.get("phase") == "starting" or not s.get("steps"):
        return _("Starting to train {name}: loading the data…").format(
            name=verbatim(s.get("name", ""))
        )
    left = job.seconds_left(s)
    words = _(
        "Training {name}: epoch {epoch} of {epochs}, step {step} of {steps}"
    ).format(
        name=verbatim(s.get("name", "")),
        epoch=i18n.number(min(float(s.get("epoch") or 0), s["epochs"]), 1),
        epochs=s["epochs"],
        step=i18n.number(s.get("step") or 0),
        steps=i18n.number(s.get("steps") or 0),
    )
    if s.get("images_per_s"):
        words += _(", {rate} images/s").format(
            rate=i18n.number(round(s["images_per_s"]))
        )
    if left is not None:
        words += _(", about {seconds} s left").format(seconds=i18n.number(round(left)))
    return words + _(".")


@functools.lru_cache(maxsize=4)
def _frames(job_id: str, stamp: int) -> dict | None:
    return job.frames(job_id)


def newest_frames(job_id: str) -> dict | None:
    """The job's frames so far (read again when the file changes)."""
    path = job.job_dir(job_id) / job.FRAMES_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    return _frames(job_id, stamp)


def map_xy(means: np.ndarray) -> np.ndarray:
    """A frame's 2-D map: the latent itself, or its first two principal
    axes (fitted on that frame) above two dimensions. ``[N, D] -> [N, 2]``"""
    if means.shape[1] <= 2:
        return means[:, :2]
    centred = means - means.mean(0)
    _u, _s, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def map_figure(f: dict) -> go.Figure:
    xy = map_xy(f["means"][-1])
    labels = f.get("labels")
    fig = go.Figure(
        go.Scattergl(
            x=xy[:, 0].tolist(),
            y=xy[:, 1].tolist(),
            mode="markers",
            marker={
                "size": 4,
                "color": labels.tolist() if labels is not None else "#3a6fb0",
                "colorscale": "Turbo",
                "opacity": 0.7,
            },
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        height=360,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        title=plotly_text(
            _("The map at epoch {epoch}").format(
                epoch=i18n.number(float(f["epoch"][-1]), 2)
            )
        ),
    )
    return fig


def curves_figure(s: dict) -> go.Figure:
    """Reconstruction and KL on the snapshots' sample, per (fractional) epoch."""
    curves = s["curves"]
    fig = make_subplots(
        1,
        2,
        subplot_titles=[
            plotly_text(_("reconstruction (nats)")),
            plotly_text(_("KL (nats)")),
        ],
    )
    epochs = [c["epoch"] for c in curves]
    for col, term in ((1, "recon"), (2, "kl")):
        fig.add_scatter(
            x=epochs, y=[c[term] for c in curves], mode="lines+markers",
            line={"color": "#3a6fb0"}, showlegend=False, row=1, col=col,
        )  # fmt: skip
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_xaxes(title_text=plotly_text(_("epoch")))
    return fig


# --- at the end ---------------------------------------------------------------------


def result(s: dict, dataset: str) -> None:
    """How this session's last job ended; a saved model opens on either side."""
    name = verbatim(s.get("name", ""))
    phase = s.get("phase")
    if phase == "done":
        st.success(
            _("Saved as {name} (visible to everyone using this server).").format(
                name=name
            )
        )
        cols = st.columns(len(SIDES))
        words = (_("Open it on the left"), _("Open it on the right"))
        for col, side, word in zip(cols, SIDES, words, strict=True):
            col.button(
                word,
                key=K.TRAIN_OPEN(side),
                on_click=open_on,
                args=(side, dataset, str(s.get("name", ""))),
            )
    elif phase == "cancelled":
        st.info(_("Cancelled: {name} was not saved.").format(name=name))
    elif phase == "busy":
        st.warning(_("Not started: another model is being trained."))
    else:
        why = s.get("error_code")
        reason = (
            errors.describe(job.JobError(why, name=s.get("name", "")))
            if why
            else s.get("error") or _("the training process stopped")
        )
        st.error(
            _("Training {name} failed: {reason}").format(
                name=name, reason=verbatim(catalogue.public(reason))
            )
        )


def open_on(side: str, dataset: str, name: str) -> None:
    """Shows the saved model on ``side`` (before the sidebar is drawn)."""
    st.session_state[K.CHECKPOINT(side, dataset)] = name
