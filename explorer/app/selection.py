"""The selection: images picked with a lasso or a box on either map, greyed
around in both maps, summed up in a panel, downloaded as CSV, kept in the
link, and shared with the Python that started the explorer (``.selection``
of ``explorer.explore``'s handle; ``session.SharedSelection``).

Per-user state: ``selection`` (sorted dataset indices, or an empty array),
``selection_note`` (why the last lasso or link selected nothing)."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from explorer.app import catalogue, errors, i18n
from explorer.app import keys as K
from explorer.app import session as explore_session
from explorer.app.components.view import file_url
from explorer.app.i18n import N_, _, ngettext
from explorer.app.markdown import verbatim
from explorer.app.urlstate import SHOWN
from explorer.app.widgets import class_names, download, live_panels, show, zoom
from explorer.latent import selection as sel
from explorer.latent.measures import image_measures

EMPTY = np.zeros(0, dtype=np.int64)
# The mean measures under each model's decode of the mean code (``MEASURES``'
# titles, in the page's language)
MEAN = {"recon": N_("mean recon error: {value}"), "kl": N_("mean KL: {value}")}


def current() -> np.ndarray:
    return st.session_state.get(K.SELECTION, EMPTY)


def set_selection(indices: np.ndarray, by_user: bool = True) -> None:
    """Makes ``indices`` (sorted, unique) this session's selection; one the
    user made is also an explore session's shared one."""
    ss = st.session_state
    ss[K.SELECTION] = np.asarray(indices, dtype=np.int64)
    ss[K.SELECTION].setflags(write=False)
    if by_user and explore_session.current() is not None:
        ss[K.SHARED_SEEN] = explore_session.shared_selection().put(ss[K.SELECTION])


def select_area(p, ev: dict) -> None:
    """A lasso (``{"lasso": [[x, y], ...]}``), a box (``{"box": [[x0, x1],
    [y0, y1]]}``) or ``{"clear": true}`` drawn on panel ``p``'s map: every
    image shown on that map inside it (drawn or not, on a large map)."""
    ss = st.session_state
    ss.pop(K.SELECTION_NOTE, None)
    if ev.get("clear"):
        set_selection(EMPTY)
        return
    xy = p.space.coords[p.shown]
    try:
        if "lasso" in ev:
            inside = sel.in_lasso(xy, ev["lasso"])
        elif "box" in ev:
            box = ev["box"]
            if len(box) != 2 or any(len(r) != 2 for r in box):
                raise sel.SelectionError("box")
            inside = sel.in_box(xy, box[0], box[1])
        else:
            raise sel.SelectionError("shape")
    except (sel.SelectionError, TypeError, ValueError) as e:
        ss[K.SELECTION_NOTE] = _("That selection could not be read: {error}.").format(
            error=verbatim(errors.describe(e))
        )
        return
    set_selection(np.asarray(p.shown)[inside])
    if not inside.any():
        ss[K.SELECTION_NOTE] = _("No image lies inside that shape.")


def view_data() -> dict | None:
    """The selection for the view: a file of its indices (int32) and a key."""
    idx = current()
    if not len(idx):
        return None
    data = np.ascontiguousarray(idx, dtype="<i4").tobytes()
    return {
        "url": file_url("selection", data),
        "n": len(idx),
        "key": hashlib.sha256(data).hexdigest()[:16],
    }


# --- the link ----------------------------------------------------------------------


def from_link(text: str | None, n: int) -> None:
    """The selection a link carries (``set=``), for a dataset of ``n`` images."""
    if not text:
        return
    try:
        set_selection(sel.decode(text, n), by_user=False)
    except sel.SelectionError as e:
        why = verbatim(errors.describe(e), SHOWN)
        st.session_state[K.URL_PROBLEMS].append(f"set: {why}")


def to_link(n: int) -> str | None:
    """The selection's text for the link, or None (none, or too scattered to
    fit: the panel says so)."""
    idx = current()
    if not len(idx):
        return None
    try:
        return sel.encode(idx, n)
    except sel.SelectionError:
        return None


# --- shared with Python ------------------------------------------------------------


def follow_shared() -> None:
    """Takes a selection set from Python since this page last looked."""
    ss = st.session_state
    indices, version = explore_session.shared_selection().get()
    if version != ss.get(K.SHARED_SEEN, 0):
        ss[K.SHARED_SEEN] = version
        set_selection(indices, by_user=False)


@st.fragment(run_every=1.0)
def watch_shared() -> None:
    """Reruns the page when Python sets the selection (an explore session)."""
    _indices, version = explore_session.shared_selection().get()
    if version != st.session_state.get(K.SHARED_SEEN, 0):
        st.rerun(scope="app")


def measures_of(p, ds, idx: np.ndarray, dataset: str, splits) -> dict[str, np.ndarray]:
    """Per-image measures ``[N]`` of panel ``p``'s model where the selection
    needs them (NaN elsewhere): a store's saved ones, else scored now for the
    selected images alone (scoring all 70,000 images would hold up a first
    selection by seconds), kept for this selection."""
    ss = st.session_state
    which = (dataset, splits, hashlib.sha256(idx.tobytes()).hexdigest())
    kept = ss.get(K.SELECTION_MEASURES)
    if kept is None or kept[0] != which:  # (one selection's at a time)
        kept = ss[K.SELECTION_MEASURES] = (which, {})
    path = str(p.entry.path)
    if path not in kept[1]:
        enc = catalogue.get_encoding(path, dataset)
        if enc is not None:
            got = {k: np.asarray(v)[idx] for k, v in enc.measures.items()}
        else:
            x, y = ds.subset(idx).tensors()
            got = image_measures(p.space.model, x, y)
        full = {}
        for k, v in got.items():
            full[k] = np.full(len(ds), np.nan, dtype=np.float32)
            full[k][idx] = v
        kept[1][path] = full
    return kept[1][path]


# --- the panel ---------------------------------------------------------------------


def selection_panel(panels: dict, ds, dataset: str, splits: tuple[str, ...]) -> None:
    """Count, class mix, mean image, each model's decode of the mean code and
    mean measures, and the CSV; or, with nothing selected, why the last
    shape selected nothing."""
    ss = st.session_state
    idx = current()
    note = ss.get(K.SELECTION_NOTE)
    if not len(idx):
        if note:
            st.info(note)
        return
    live = live_panels(panels)
    n = len(ds)
    names = class_names(ds) if ds.labels is not None else ()
    codes = {p.entry.name: p.space.z for p in live}
    measures = {p.entry.name: measures_of(p, ds, idx, dataset, splits) for p in live}
    summary = sel.summarise(idx, ds.images, ds.labels, names, codes, measures)
    st.subheader(
        ngettext("Selection: {n} image", "Selection: {n} images", summary.count).format(
            n=i18n.number(summary.count)
        )
    )
    st.caption(selection_caption(in_link=to_link(n) is not None))
    cols = st.columns([1.2, 1] + [1] * len(live))
    with cols[0]:
        class_mix(summary)
    with cols[1]:
        show(summary.mean_image, _("mean image"), zoom(4, ds))
    most = None
    if ds.labels is not None:
        most = int(np.bincount(ds.labels[idx]).argmax())
    for col, p in zip(cols[2:], live, strict=True):
        with col:
            mean_decode(p, summary, ds, most)
    left, right = st.columns([1, 3])
    with left:
        if st.button(_("Clear the selection"), key=K.CLEAR_SELECTION):
            set_selection(EMPTY)
            st.rerun()
    with right:
        download(
            _("Download the selection (CSV)"),
            lambda: sel.to_csv(idx, ds.labels, names, codes, measures),
            f"selection-{ds.name.replace('/', '_')}-{summary.count}.csv",
            "text/csv",
            K.DOWNLOAD_SELECTION,
        )


def selection_caption(in_link: bool) -> str:
    """How the selection was made and cleared, and whether the link keeps it."""
    text = _(
        "Picked with the lasso or box (the map's toolbar); the points outside it "
        "are grey on both maps. Double-click a map in select mode, or clear it here."
    )
    if not in_link:
        text += _(
            " It is too scattered to fit in the link (more than {n} characters), "
            "so the link leaves it out: download it."
        ).format(n=i18n.number(sel.MAX_TEXT))
    return text


def class_mix(summary: sel.Summary) -> None:
    """The selection's ten commonest classes, with counts and shares."""
    if summary.classes:
        lines = [
            _("{name}: {count} ({share})").format(
                name=verbatim(i18n.marked(name)),
                count=i18n.number(count),
                share=f"{count / summary.count:.0%}",
            )
            for name, count in summary.classes[:10]
        ]
        if len(summary.classes) > 10:
            lines.append(_("… and {n} more").format(n=len(summary.classes) - 10))
        st.markdown(_("**Classes**") + "  \n" + "  \n".join(lines))
    else:
        st.markdown(_("**Classes**: unlabelled data"))


def mean_decode(p, summary: sel.Summary, ds, most: int | None) -> None:
    """Panel ``p``'s model's decode of the selection's mean code, and its
    mean measures."""
    names = class_names(ds) if ds.labels is not None else ()
    z = summary.mean_codes[p.entry.name]
    # (a conditional model decodes it as the selection's commonest class)
    label = np.array([most or 0]) if p.space.conditional else None
    model = verbatim(p.entry.label)
    if p.space.conditional and names:
        caption = _("{model}: decode of the mean code as {name}").format(
            model=model, name=verbatim(i18n.marked(names[most]))
        )
    else:
        caption = _("{model}: decode of the mean code").format(model=model)
    show(p.space.decode(z[None], label)[0], caption, zoom(4, ds))
    st.caption(
        _("; ").join(
            i18n.marked(MEAN[k]).format(value=i18n.number(v, 2))
            for k, v in summary.measures[p.entry.name].items()
            if k in MEAN
        )
    )
