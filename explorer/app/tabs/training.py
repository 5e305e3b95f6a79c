"""How each model learned: its training curves, side by side, from its
``training.json`` (``explorer.training.history``): the loss, its two terms
(reconstruction and KL) on the training and validation images, and the
learning rate, per epoch, with the epoch whose weights were kept marked."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explorer.app import catalogue
from explorer.app import keys as K
from explorer.app.i18n import N_, _
from explorer.app.markdown import plotly_text, verbatim
from explorer.app.tabs import Context
from explorer.training.history import History, read_history

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


def history(p) -> History | None:
    return read_history(p.entry.path)
