"""How each model learned: its training curves, side by side, from its
``training.json`` (``explorer.training.history``): the loss, its two terms
(reconstruction and KL) on the training and validation images, and the
learning rate, per epoch, with the epoch whose weights were kept marked.
Under them, the map forming: each model's snapshots
(``explorer.training.snapshots``) replayed in the browser by the canvas
element (``explorer.app.replay`` builds its data), with the sample's loss
curves in step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explorer.app import catalogue, errors, replay, widgets
from explorer.app import keys as K
from explorer.app.components import canvas
from explorer.app.i18n import N_, _, number
from explorer.app.markdown import plotly_text, verbatim
from explorer.app.tabs import Context
from explorer.model.checkpoint import CheckpointError
from explorer.training.history import History, read_history
from explorer.training.snapshots import SNAPSHOT_FILE, Snapshots, read_snapshots

NAME = N_("Training")

TRAIN_COLOUR, VAL_COLOUR, BEST_COLOUR = "#3a6fb0", "#e76300", "#555"


def panels_words() -> tuple[str, ...]:
    """The four panels' titles (in the session's language)."""
    return (
        _("loss (nats)"),
        _("reconstruction (nats)"),
        _("KL (nats)"),
        _("learning rate"),
    )


def figure(h: History) -> go.Figure:
    """The run's four panels, training solid and validation dashed, the best
    epoch a vertical line in each."""
    fig = make_subplots(
        2,
        2,
        subplot_titles=[plotly_text(t) for t in panels_words()],
        vertical_spacing=0.16,
    )
    cells = {"loss": (1, 1), "recon": (1, 2), "kl": (2, 1)}
    for term, (row, col) in cells.items():
        for split, colour, dash, word in (
            ("train", TRAIN_COLOUR, "solid", _("training")),
            ("val", VAL_COLOUR, "dash", _("validation")),
        ):
            values = h.series.get(f"{split}_{term}")
            if values is None or (term == "kl" and no_kl(h)):
                continue
            fig.add_scatter(
                x=h.epochs,
                y=values,
                mode="lines",
                line={"color": colour, "dash": dash},
                name=plotly_text(word),
                legendgroup=split,
                showlegend=term == "loss",
                row=row,
                col=col,
            )
    if no_kl(h):  # (an empty panel, which plotly leaves out: words instead)
        fig.add_annotation(
            text=plotly_text(_("no KL term: an autoencoder")), showarrow=False,
            x=sum(fig.layout.xaxis3.domain) / 2, xref="paper",
            y=sum(fig.layout.yaxis3.domain) / 2, yref="paper",
            xanchor="center", yanchor="middle",
        )  # fmt: skip
    if "lr" in h.series:
        fig.add_scatter(
            x=h.epochs, y=h.series["lr"], mode="lines", line={"color": BEST_COLOUR},
            showlegend=False, row=2, col=2,
        )  # fmt: skip
    if h.best_epoch is not None:
        cells = [(1, 1), (1, 2), (2, 2)] + ([] if no_kl(h) else [(2, 1)])
        for row, col in cells:
            fig.add_vline(
                x=h.best_epoch,
                line={"color": BEST_COLOUR, "dash": "dot"},
                row=row,
                col=col,
                exclude_empty_subplots=False,  # (an AE's KL panel has no line)
            )
    fig.update_layout(
        height=460, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.12},
    )  # fmt: skip
    fig.update_xaxes(title_text=plotly_text(_("epoch")), row=2)
    return fig


def no_kl(h: History) -> bool:
    """An autoencoder's run: its KL is recorded as 0 at every epoch."""
    kl = h.series.get("train_kl") or []
    return bool(kl) and all(v == 0 for v in kl)


def caption(h: History) -> str:
    best = (
        _(
            "the weights kept are epoch {epoch}'s (the lowest validation loss, dotted)"
        ).format(epoch=h.best_epoch)
        if h.best_epoch is not None
        else _("no best epoch recorded")
    )
    ran = _("{done} epochs").format(done=len(h.epochs))
    if h.epochs_planned and h.epochs_planned > len(h.epochs):
        ran = _("{done} of {planned} epochs").format(
            done=len(h.epochs), planned=h.epochs_planned
        )
    return _("{ran}; {best}.").format(ran=ran, best=best)


def render(ctx: Context) -> None:
    st.caption(
        _(
            "Each model's training, per epoch, from its training.json: the loss "
            "and its two terms on the training images (solid) and the held-out "
            "validation images (dashed), and the learning rate."
        )
    )
    panels = [p for p in ctx.panels.values() if not p.error]
    cols = st.columns(max(len(panels), 1))
    for col, p in zip(cols, panels, strict=False):
        with col:
            st.markdown("**" + verbatim(p.entry.label) + "**")
            h = None if catalogue.in_session(str(p.entry.path)) else history(p)
            if h is None:
                st.info(
                    _(
                        "No training history for {model}: the explorer did not "
                        "train it (or saved it before its first epoch ended)."
                    ).format(model=verbatim(p.entry.label))
                )
                continue
            st.plotly_chart(figure(h), width="stretch", key=K.TRAINING_CHART(p.slot))
            st.caption(caption(h))
    forming(ctx, panels)


def history(p) -> History | None:
    return read_history(p.entry.path)


# --- the map forming ------------------------------------------------------------

# the replay's curves' colours, by side (a model keeps its colour alone)
SIDE_COLOURS = {"left": TRAIN_COLOUR, "right": VAL_COLOUR}


def forming(ctx: Context, panels: list) -> None:
    """The replay of the maps forming, both models' in one figure, or the
    line saying why a model has none."""
    st.markdown("**" + _("The map forming") + "**")
    maps, curves, n = [], [], 0
    for p in panels:
        label = verbatim(p.entry.label)
        try:
            s = None if catalogue.in_session(str(p.entry.path)) else snapshots(p)
        except CheckpointError as e:
            st.warning(
                _("The snapshots of {model} cannot be read: {reason}").format(
                    model=label, reason=verbatim(errors.describe(e))
                )
            )
            continue
        if s is None:
            st.info(
                _("No snapshots for {model}: train it with `train --snapshots`").format(
                    model=label
                )
            )
            continue
        maps.append(map_frames(p, s, ctx.ds))
        curves.append(curves_of(p, s, SIDE_COLOURS.get(p.slot, TRAIN_COLOUR)))
        n = max(n, len(s.index))
    if not maps:
        return
    canvas.canvas(replay.element(maps, curves, words()), key=K.REPLAY_CHART)
    st.caption(
        _(
            "{n} held-out images, encoded at step 0, through the first epoch, "
            "then at epoch ends; the last frame is the saved weights. Slide or "
            "play: every point moves from where it was to where it went."
        ).format(n=number(n))
    )


def words() -> replay.Words:
    return replay.Words(
        recon=_("reconstruction on the sample"),
        kl=_("KL on the sample"),
        epoch=_("epoch (log scale; step 0 at the left)"),
        step=_("epoch {epoch}"),
        play=_("Play"),
        pause=_("Pause"),
        nats=_("nats per image"),
    )


def snapshots(p) -> Snapshots | None:
    """``p``'s snapshots (None when its folder has none), read once per
    version of the file."""
    path = Path(p.entry.path) / SNAPSHOT_FILE
    if not path.is_file():
        return None
    stat = path.stat()
    return _read(str(p.entry.path), stat.st_mtime_ns, stat.st_size)


@st.cache_data(max_entries=4, show_spinner=False)
def _read(folder: str, mtime: int, size: int) -> Snapshots | None:
    # (mtime and size are in the cache's key: a rewritten file is read anew)
    return read_snapshots(folder)


def map_frames(p, s: Snapshots, ds) -> replay.MapFrames:
    """A model's snapshots as the replay's map: its points coloured by class
    (the maps' palette), named by class on hover."""
    xy, projected = replay.positions(s.means)
    if s.labels is None:
        labels, names = None, [_("unlabelled")]
    else:
        labels, names = np.asarray(s.labels), list(widgets.class_names(ds))
    axes = ("z[0]", "z[1]")  # (the main maps' words for the raw axes)
    if projected:
        axes = tuple(_("PC{k} (PCA of the last snapshot)").format(k=k) for k in (1, 2))
    return replay.MapFrames(str(p.entry.label), xy, s.epoch, labels, names, axes)


def curves_of(p, s: Snapshots, colour: str) -> replay.Curves:
    no_kl = s.logvars is None or not np.any(s.kl)  # an autoencoder's
    return replay.Curves(
        str(p.entry.label), colour, s.epoch, s.recon, None if no_kl else s.kl
    )
