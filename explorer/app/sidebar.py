"""The sidebar: the dataset, each map's checkpoint and map kind, the images
shown and how they are drawn. ``sidebar`` returns them as the run's
``Settings``, the first step of a run (``page.start``)."""

from __future__ import annotations

import streamlit as st

from explorer.app import catalogue
from explorer.app import keys as K
from explorer.app import session as explore_session
from explorer.app.markdown import verbatim
from explorer.app.records import Settings
from explorer.app.state import SLOTS
from explorer.data.dataset import DatasetError
from explorer.latent import maps


def sidebar(entries: list[catalogue.Entry]) -> Settings | None:
    """Dataset, the two checkpoints, how many points, colour by class."""
    st.sidebar.header("Data and models")
    names = catalogue.datasets(entries)
    if not names:
        st.sidebar.error(
            "No checkpoint here can be opened with its data."
            if any(e.dataset for e in entries)
            else "No readable checkpoints under weights/."
        )
        unopened_notes(entries)
        return None
    default = names.index("fashion-mnist") if "fashion-mnist" in names else 0
    dataset = st.sidebar.selectbox(
        "Dataset",
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
        st.sidebar.error(
            f"The {verbatim(dataset)} data is not available: "
            f"{verbatim(catalogue.public(e))}"
        )
        return None
    n_shown = points_shown(dataset, total)
    colour, rings = display_choices()
    note = images_note(dataset, splits, total, n_held, is_store, session is not None)
    st.sidebar.caption(note)
    unopened_notes(entries)
    return Settings(
        dataset, splits, chosen, n_shown, colour, rings, projections, aligned
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
    labels = ("Model",) if len(slots) == 1 else ("Left model", "Right model")
    chosen = {}
    picks = (first, second)[: len(slots)]
    for slot, label, pick in zip(slots, labels, picks, strict=True):
        name = st.sidebar.selectbox(
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
    return st.sidebar.toggle(
        "Align the right map to the left",
        key=K.ALIGN,
        help="Rotates, reflects, scales and shifts the right map onto the left "
        "(orthogonal Procrustes over every image), so the same images sit in "
        "the same places; the disparity says how alike the two maps are "
        "(0: the same shape).",
    )


def split_picks(dataset: str, held: str, train: str, is_store: bool) -> tuple[str, ...]:
    """The splits shown: the held-out one, and the training one if asked for
    and on this machine (a store holds its images as they are)."""
    has_train = (
        not is_store and train != held and catalogue.on_this_machine(dataset, train)
    )
    with_train = False
    if not is_store:
        with_train = st.sidebar.toggle(
            f"Add the training images ({verbatim(train)} split)",
            value=False,
            key=K.WITH_TRAIN(dataset),
            disabled=not has_train,
            help="The images the models were trained on, drawn after the held-out ones."
            if has_train
            else f"The {verbatim(train)} split of {verbatim(dataset)} is not on this "
            "machine.",
        )
    return (held, train) if with_train and has_train else (held,)


def display_choices() -> tuple[str, bool]:
    """How the points are drawn: the colouring and the prior's rings, and the
    thumbnails and live decoding toggles (read by their keys)."""
    colour = st.sidebar.selectbox(
        "Colour the points by",
        list(catalogue.COLOURINGS),
        format_func=catalogue.COLOURINGS.get,
        key=K.COLOUR,
        help="A measure per image, on a continuous scale: where each model finds "
        "images hard (an AE has no KL: it shows its loss, the reconstruction error).",
    )
    rings = st.sidebar.toggle(
        "Prior's 1σ and 2σ rings",
        value=True,
        key=K.RINGS,
        help="The contours of N(0, I) on each map: where a VAE's codes should lie.",
    )
    st.sidebar.toggle(
        "Images instead of dots when zoomed in",
        value=True,
        key=K.THUMBS,
        help="Once a map shows at most 500 points, each is drawn as its image.",
    )
    st.sidebar.toggle(
        "Decode in the browser while dragging",
        value=True,
        key=K.LIVE,
        help="The sliders decode in your browser at every movement; off, the "
        "server decodes when you release a slider.",
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
    note = f"{n_held:,} held-out images ({verbatim(dataset)}, split *{verbatim(held)}*)"
    if is_store:
        plural = "s" if total != 1 else ""
        note = (
            f"{total:,} image{plural}, encoded once into a store "
            "(`python -m explorer encode`)"
        )
        if in_session:
            note = (
                f"{total:,} image{plural}, encoded once into a cached store: the "
                "next run with the same models and data starts at once"
            )
    if len(splits) > 1:
        note += f" and {total - n_held:,} training images (*{verbatim(splits[1])}*)"
    return note + "."


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
        label = "Map" if len(chosen) == 1 else f"{slot.capitalize()} map"
        out[slot] = st.sidebar.selectbox(
            f"{label} ({entry.latent_dim}-D latent)",
            list(maps.KINDS),
            key=key,
            format_func=maps.LABELS.get,
            help="PCA: the plane of largest variance, exact both ways. UMAP and "
            "t-SNE keep neighbourhoods instead (clusters separate), fitted once "
            "and cached; a click between points decodes the latent code "
            "interpolated from the three nearest points on the map.",
        )
    return out


def unopened_notes(entries: list[catalogue.Entry]) -> None:
    """Checkpoints trained on a folder that has no store yet, and the command
    that makes one (the app opens a folder's images through a store)."""
    for u in catalogue.unopened(entries):
        st.sidebar.warning(
            f"**{verbatim(u.dataset)}** ({verbatim(', '.join(u.checkpoints))}) was "
            "trained on a folder of images that is not encoded yet. To explore it, "
            "run once:"
        )
        st.sidebar.code(u.command, language="bash", wrap_lines=True)


def points_shown(dataset: str, total: int) -> int:
    """The "Points shown" slider, when the dataset has more images than its
    smallest sample; a smaller dataset shows every image."""
    lo = min(catalogue.MIN_SAMPLE, total)
    if total <= lo:
        return total
    return st.sidebar.slider(
        "Points shown",
        min_value=lo,
        max_value=total,
        value=total,
        step=50 if total - lo >= 500 else 1,
        key=K.N_SHOWN(dataset, total),
        help="A fixed random sample when fewer than all; each point is an image, "
        "drawn at its latent mean.",
    )
