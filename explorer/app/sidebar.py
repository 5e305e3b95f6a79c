"""The sidebar: the dataset, each map's checkpoint and map kind, the images
shown and how they are drawn. ``sidebar`` returns them as the run's
``Settings``, the first step of a run (``page.start``)."""

from __future__ import annotations

import streamlit as st

from explorer.app import catalogue, errors, i18n, lesson
from explorer.app import keys as K
from explorer.app import session as explore_session
from explorer.app.i18n import _, ngettext
from explorer.app.markdown import verbatim
from explorer.app.records import Settings
from explorer.app.state import SLOTS
from explorer.data.dataset import DatasetError
from explorer.latent import maps


class Headless:
    """The sidebar when a link hides it (``hide=sidebar``, a teacher's page):
    each widget's value is the one the state holds (from the link) or the
    widget's default, and nothing is drawn; an error or a warning shows on
    the page instead."""

    @staticmethod
    def selectbox(label, options, index=0, key=None, **_kwargs):
        options = list(options)
        value = st.session_state.get(key)
        if value not in options:
            value = options[index or 0]
        st.session_state[key] = value
        return value

    @staticmethod
    def toggle(label, value=False, key=None, **_kwargs):
        return bool(st.session_state.setdefault(key, value))

    @staticmethod
    def slider(label, min_value=None, max_value=None, value=None, key=None, **_kw):
        v = st.session_state.get(key, value)
        v = value if not min_value <= v <= max_value else v
        st.session_state[key] = v
        return v

    error, warning = staticmethod(st.error), staticmethod(st.warning)

    @staticmethod
    def _nothing(*_args, **_kwargs) -> None:
        return None

    header = caption = code = button = _nothing


def bar():
    """Where the sidebar's widgets go: Streamlit's sidebar, or nowhere when
    the link hides it (``Headless``)."""
    return Headless if lesson.hidden("sidebar") else st.sidebar


def sidebar(entries: list[catalogue.Entry]) -> Settings | None:
    """The language, the dataset, the two checkpoints, how many points, how
    they are drawn; the lesson's button."""
    language_pick()
    if not lesson.hidden("sidebar"):
        lesson.sidebar_button()
    bar().header(_("Data and models"))
    names = catalogue.datasets(entries)
    if not names:
        bar().error(
            _("No checkpoint here can be opened with its data.")
            if any(e.dataset for e in entries)
            else _("No readable checkpoints under weights/.")
        )
        unopened_notes(entries)
        return None
    default = names.index("fashion-mnist") if "fashion-mnist" in names else 0
    dataset = bar().selectbox(
        _("Dataset"),
        names,
        index=default,
        key=K.DATASET,
        format_func=catalogue.dataset_label,
    )
    shown = catalogue.of_dataset(entries, dataset)  # readable ones first
    mine = [e for e in shown if not e.error]
    session = explore_session.current()
    chosen = model_picks(entries, dataset, shown, one=_one_model(session))
    projections = map_choices(chosen, dataset)
    aligned = align_toggle() if len(chosen) == 2 else False
    held, train = catalogue.display_splits(mine)
    is_store = any(e.store for e in mine)
    splits = split_picks(dataset, held, train, is_store)
    try:
        total = len(catalogue.get_dataset(dataset, splits))
        n_held = len(catalogue.get_dataset(dataset, (held,)))
    except DatasetError as e:
        bar().error(
            _("The {dataset} data is not available: {error}").format(
                dataset=verbatim(dataset),
                error=verbatim(catalogue.public(errors.describe(e))),
            )
        )
        return None
    n_shown = points_shown(dataset, total)
    colour, rings = display_choices()
    note = images_note(dataset, splits, total, n_held, is_store, session is not None)
    bar().caption(note)
    unopened_notes(entries)
    return Settings(
        dataset, splits, chosen, n_shown, colour, rings, projections, aligned
    )


def language_pick() -> None:
    """The page's language (``K.LANG``), named in both languages so that
    either reader finds it."""
    bar().selectbox(
        "Language · 语言",
        list(i18n.LANGUAGES),
        key=K.LANG,
        format_func=i18n.LANGUAGES.get,
    )


def _one_model(session: explore_session.Session | None) -> bool:
    """An explore session of one model shows one map (no second side)."""
    return session is not None and len(session.models) == 1


def model_picks(
    entries: list[catalogue.Entry],
    dataset: str,
    shown: list[catalogue.Entry],
    one: bool,
) -> dict[str, catalogue.Entry]:
    """The checkpoint of each map (one, or left and right) among ``shown``."""
    # Broken checkpoints are listed (and show their error) beside every dataset.
    by_name = {}
    for e in shown + [e for e in entries if e.error and e.dataset is None]:
        by_name.setdefault(e.name, e)
    options = list(by_name)
    first, second = catalogue.default_pair([e for e in shown if not e.error])
    slots = SLOTS[:1] if one else SLOTS
    labels = (_("Model"),) if len(slots) == 1 else (_("Left model"), _("Right model"))
    chosen = {}
    picks = (first, second)[: len(slots)]
    for slot, label, pick in zip(slots, labels, picks, strict=True):
        name = bar().selectbox(
            label,
            options,
            index=options.index(pick),
            key=K.CHECKPOINT(slot, dataset),
            format_func=lambda n: by_name[n].label,
        )
        chosen[slot] = by_name[name]
    return chosen


def align_toggle() -> bool:
    """Whether the right map is aligned to the left."""
    return bar().toggle(
        _("Align the right map to the left"),
        key=K.ALIGN,
        help=_(
            "Rotates, reflects, scales and shifts the right map onto the left "
            "(orthogonal Procrustes over every image), so the same images sit in "
            "the same places; the disparity says how alike the two maps are "
            "(0: the same shape)."
        ),
    )


def split_picks(dataset: str, held: str, train: str, is_store: bool) -> tuple[str, ...]:
    """The splits shown: the held-out one, and the training one if asked for
    and on this machine (a store holds its images as they are)."""
    has_train = (
        not is_store and train != held and catalogue.on_this_machine(dataset, train)
    )
    with_train = False
    if not is_store:
        with_train = bar().toggle(
            _("Add the training images ({split} split)").format(split=verbatim(train)),
            value=False,
            key=K.WITH_TRAIN(dataset),
            disabled=not has_train,
            help=_(
                "The images the models were trained on, drawn after the held-out ones."
            )
            if has_train
            else _("The {split} split of {dataset} is not on this machine.").format(
                split=verbatim(train), dataset=verbatim(dataset)
            ),
        )
    return (held, train) if with_train and has_train else (held,)


def display_choices() -> tuple[str, bool]:
    """How the points are drawn: the colouring and the prior's rings, and the
    thumbnails and live decoding toggles (read by their keys)."""
    colour = bar().selectbox(
        _("Colour the points by"),
        list(catalogue.COLOURINGS),
        # (the words, not a function reading the session's language: a
        # format function may also run outside the page's run)
        format_func={k: i18n.marked(v) for k, v in catalogue.COLOURINGS.items()}.get,
        key=K.COLOUR,
        help=_(
            "A measure per image, on a continuous scale: where each model finds "
            "images hard (an AE has no KL: it shows its loss, the reconstruction "
            "error)."
        ),
    )
    rings = bar().toggle(
        _("Prior's 1σ and 2σ rings"),
        value=True,
        key=K.RINGS,
        help=_("The contours of N(0, I) on each map: where a VAE's codes should lie."),
    )
    bar().toggle(
        _("Images instead of dots when zoomed in"),
        value=True,
        key=K.THUMBS,
        help=_("Once a map shows at most 500 points, each is drawn as its image."),
    )
    bar().toggle(
        _("Decode in the browser while dragging"),
        value=True,
        key=K.LIVE,
        help=_(
            "The sliders decode in your browser at every movement; off, the "
            "server decodes when you release a slider."
        ),
    )
    return colour, rings


def images_note(
    dataset: str,
    splits: tuple[str, ...],
    total: int,
    n_held: int,
    is_store: bool,
    in_session: bool,
) -> str:
    """The sidebar's caption: how many images are shown, and from where."""
    held = splits[0]
    note = _("{n} held-out images ({dataset}, split *{split}*)").format(
        n=i18n.number(n_held), dataset=verbatim(dataset), split=verbatim(held)
    )
    if is_store:
        note = ngettext(
            "{n} image, encoded once into a store (`python -m explorer encode`)",
            "{n} images, encoded once into a store (`python -m explorer encode`)",
            total,
        )
        if in_session:
            note = ngettext(
                "{n} image, encoded once into a cached store: the next run with "
                "the same models and data starts at once",
                "{n} images, encoded once into a cached store: the next run with "
                "the same models and data starts at once",
                total,
            )
        note = note.format(n=i18n.number(total))
    if len(splits) > 1:
        note += _(" and {n} training images (*{split}*)").format(
            n=i18n.number(total - n_held), split=verbatim(splits[1])
        )
    return _("{note}.").format(note=note)


def map_choices(chosen: dict[str, catalogue.Entry], dataset: str) -> dict[str, str]:
    """How each map shows a latent of more than two dimensions: its PCA plane
    (exact, linear), or a UMAP or t-SNE (fitted once in the background; a
    click decodes through an inverse learned from the data)."""
    out = {}
    wide = {s: e for s, e in chosen.items() if not e.error and (e.latent_dim or 0) > 2}
    for slot, entry in wide.items():
        key = K.MAP_KIND(slot, dataset)
        pick = st.session_state.pop(K.URL_MAP(slot), None)
        if pick is not None:
            st.session_state[key] = pick
        label = {
            1: _("Map ({d}-D latent)"),
            "left": _("Left map ({d}-D latent)"),
            "right": _("Right map ({d}-D latent)"),
        }[1 if len(chosen) == 1 else slot]
        out[slot] = bar().selectbox(
            label.format(d=entry.latent_dim),
            list(maps.KINDS),
            key=key,
            format_func=maps.LABELS.get,
            help=_(
                "PCA: the plane of largest variance, exact both ways. UMAP and "
                "t-SNE keep neighbourhoods instead (clusters separate), fitted once "
                "and cached; a click between points decodes the latent code "
                "interpolated from the three nearest points on the map."
            ),
        )
    return out


def unopened_notes(entries: list[catalogue.Entry]) -> None:
    """Checkpoints trained on a folder that has no store yet, and the command
    that makes one (the app opens a folder's images through a store)."""
    for u in catalogue.unopened(entries):
        bar().warning(
            _(
                "**{dataset}** ({checkpoints}) was trained on a folder of images "
                "that is not encoded yet. To explore it, run once:"
            ).format(
                dataset=verbatim(u.dataset),
                checkpoints=verbatim(", ".join(u.checkpoints)),
            )
        )
        bar().code(u.command, language="bash", wrap_lines=True)


def points_shown(dataset: str, total: int) -> int:
    """The "Points shown" slider, when the dataset has more images than its
    smallest sample; a smaller dataset shows every image."""
    lo = min(catalogue.MIN_SAMPLE, total)
    if total <= lo:
        return total
    return bar().slider(
        _("Points shown"),
        min_value=lo,
        max_value=total,
        value=total,
        step=50 if total - lo >= 500 else 1,
        key=K.N_SHOWN(dataset, total),
        help=_(
            "A fixed random sample when fewer than all; each point is an image, "
            "drawn at its latent mean."
        ),
    )
