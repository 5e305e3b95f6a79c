"""Every per-user state key, declared once: its name, its type and its meaning.

``st.session_state`` holds one user's state between reruns. Each key the app
reads or writes, and each widget ``key=``, is one of the names below: a
``Key`` (a ``str``, so ``st.session_state[SEL]`` and ``key=SEL`` work as
they read), or a ``Family`` of keys made of a pattern and its parts
(``CHECKPOINT(slot, dataset)`` is ``"ckpt_left_mnist"``).
``tests/app/test_keys.py`` fails on a string written as a session-state key
or a widget key anywhere else in the app, and on a key in a session that is
not declared here or not of its type.
"""

from __future__ import annotations

import re
import string
from typing import Any


class Key(str):
    """A session-state key: the string itself, with its type and meaning."""

    type: Any
    meaning: str

    def __new__(cls, name: str, type_: Any, meaning: str) -> Key:
        key = super().__new__(cls, name)
        key.type, key.meaning = type_, meaning
        return key


class Family:
    """Keys made of a pattern (``"s_{}_{}"``) and its parts; calling it with
    the parts gives the key."""

    def __init__(self, pattern: str, type_: Any, meaning: str) -> None:
        self.pattern, self.type, self.meaning = pattern, type_, meaning
        parsed = list(string.Formatter().parse(pattern))
        self.parts = sum(f is not None for _, f, _, _ in parsed)
        regex = "".join(
            re.escape(text) + ("(.+?)" if f is not None else "")
            for text, f, _, _ in parsed
        )
        self.regex = re.compile(regex + "$")

    def __call__(self, *parts: object) -> Key:
        if len(parts) != self.parts:
            raise TypeError(
                f"{self.pattern} takes {self.parts} parts, not {len(parts)}"
            )
        return Key(self.pattern.format(*parts), self.type, self.meaning)

    def matches(self, name: str) -> bool:
        return self.regex.match(name) is not None


# --- what the page shows: the data, the models, the view ------------------------
DATASET = Key("dataset", str, "the dataset shown (sidebar)")
CHECKPOINT = Family("ckpt_{}_{}", str, "a slot's checkpoint, per dataset (sidebar)")
N_SHOWN = Family("n_{}_{}", int, "points shown, per dataset and size (sidebar)")
WITH_TRAIN = Family("with_train_{}", bool, "training images added, per dataset")
MAP_KIND = Family("map_{}_{}", str, "a slot's map per dataset: pca, umap, tsne")
URL_MAP = Family("url_map_{}", str, "a link's map kind for a slot, until shown")
ALIGN = Key("align", bool, "the right map aligned onto the left (sidebar)")
COLOUR = Key("colour", str, "what colours the points (sidebar)")
RINGS = Key("rings", bool, "the prior's rings drawn on linear maps (sidebar)")
THUMBS = Key("thumbs", bool, "zoomed in, points drawn as their images (sidebar)")
LIVE = Key("live", bool, "decoding in the browser while dragging (sidebar)")
TAB = Key("tab", str, "the open tab (only it runs)")
CTX = Key("ctx", tuple, "dataset, splits and checkpoints the state belongs to")

# --- the selection and the cursors ------------------------------------------------
SEL = Key("sel", int, "the selected image's index (ringed on both maps)")
CURSOR = Key("cursor", dict, "slot -> the latent point that panel decodes")
CURSOR_XY = Family("cursor_xy_{}", tuple, "(map kind, [x, y]) where a click put ×")
OUTSIDE = Family("outside_{}", str, "map kind whose click fell outside the data")
VIEW_WINDOW = Family("view_{}", tuple, "a map's visible window after a pan or zoom")
SELECTION = Key("selection", object, "the images a lasso or box chose")
SELECTION_DATA = Key("selection_data", tuple, "dataset and splits of the selection")
SELECTION_NOTE = Key("selection_note", str, "why the last area chose nothing")
SELECTION_MEASURES = Key("_selection_measures", dict, "cached measures of it")
CLEAR_SELECTION = Key("clear_selection", bool, "the Clear selection button")
SHARED_SEEN = Key("shared_seen", int, "version of the explore session's selection")

# --- the view (components.view) and the first paint (first) -----------------
VIEW = Key("view", object, "the view's widget: its last event")
VIEW_PENDING = Key("view_pending", dict, "a view event the page has not applied")
VIEW_ECHO = Key("view_echo", int, "id of the last view event applied (echoed)")
VIEW_DRAWN = Key("view_drawn_token", str, "this session's view was drawn")
FIRST_RUN_QUERY = Key("first_run_query", dict, "a first run's query (to save)")

DOWNLOAD = Family("dl_{}_{}", object, "a download button: what, and the slot")
DOWNLOAD_SELECTION = Key("dl_selection", object, "the selection's download button")

LANG = Key("lang", str, "the language of the page: en or zh (i18n.LANGUAGES)")

# --- the link ----------------------------------------------------------------------
URL_READ = Key("url_read", bool, "the link was read into the state")
URL_PROBLEMS = Key("url_problems", list, "parts of the link that could not be used")
URL_SELECTION = Key("url_selection", str, "a link's selection, until applied")
URL_CURSOR = Key("url_cursor", dict, "a link's cursors, until applied")
URL_CHANGED = Key("url_changed", list, "models whose weights changed since the link")

# --- the lesson (explorer.app.lesson) ----------------------------------------------
LESSON = Key("lesson", int, "the lesson's open step (1..N); absent: no lesson")
LESSON_DONE = Key("lesson_done", list, "the lesson's completed steps (numbers)")
LESSON_STATE = Key("lesson_state", dict, "step name -> what that step keeps")
LESSON_SAVED = Key("lesson_saved", dict, "the link as it was when the lesson opened")
LESSON_PICK = Family("lesson_pick_{}", str, "a step's predict-first check")
LESSON_FRAME = Key("lesson_frame", object, "the lesson's frame (a container's key)")
LESSON_STATUS = Key("lesson_status", object, "the status line of a step (a container)")
LESSON_GO = Key("lesson_go", int, "the lesson's step list (go to a step)")
HIDE = Key("hide", list, "controls a link hides: sidebar, tabs, left, right")

# --- the tabs -------------------------------------------------------------------
INTERP_A = Key("interp_a", int, "interpolation: image A's index")
INTERP_B = Key("interp_b", int, "interpolation: image B's index")
INTERP_METHOD = Key("interp_method", str, "interpolation: the path (linear, slerp)")
INTERP_STEPS = Key("interp_steps", int, "interpolation: images in the strip")
INTERP_T = Key("interp_t", float, "interpolation: position t along the path")
PATH_CHART = Key("path_chart", object, "interpolation: the path chart")
RESAMPLE_SEED = Key("resample_seed", int, "selected image: posterior resamples' seed")
GRAPH_SLOT = Key("graph_slot", str, "computation graph: the slot whose model it draws")
GRAPH = Family("graph_{}", object, "computation graph: its element, per slot")
DIR_A = Key("dir_a", int, "directions: class A")
DIR_B = Key("dir_b", int, "directions: class B")
DIR_FROM = Key("dir_from", str, "directions: where the move starts")
DIR_T = Key("dir_t", float, "directions: how far along A -> B")
DIR_L1 = Key("dir_l1", float, "directions: local direction 1 (σ)")
DIR_L2 = Key("dir_l2", float, "directions: local direction 2 (σ)")
DIR_NOTE = Key("dir_note", str, "directions: a note on the last move")
DIR_LAST = Key("dir_last", dict, "directions: the last move's settings")
DIR_ANCHOR = Key("dir_anchor", object, "directions: the start point's code")
DIR_CACHE = Key("_dir_cache", dict, "directions: class centroids per space")
ANALOGY_SEED = Key("analogy_seed", int, "directions: the analogy grid's seed")
ANALOGY_MORE = Key("analogy_more", bool, "directions: another analogy grid")
MOVEMENT_LINES = Key("movement_lines", int, "movement: how many lines")
MOVEMENT_CHART = Key("movement_chart", object, "movement: the chart")
GRID_N = Key("grid_n", int, "manifold grid: images per side")
GRID_EXTENT = Key("grid_extent", str, "manifold grid: the area it spans")
PRIOR_TAU = Key("prior_tau", float, "prior samples: temperature τ")
PRIOR_N = Key("prior_n", int, "prior samples: how many")
PRIOR_SEED = Key("prior_seed", int, "prior samples: their seed")
UNUSUAL_BY = Key("unusual_by", str, "unusual images: the measure")
PICK = Family("pick_{}_{}", bool, "unusual images: a Select button")
DIMS_MODEL = Family("dims_model_{}", str, "dimensions: the model, per dataset")
KL_BARS = Family("kl_bars_{}", object, "dimensions: a model's KL bar chart")
CVAE_MODEL = Family("cvae_model_{}", str, "conditional: the CVAE, per dataset")
CVAE_CLASS = Key("cvae_class", int, "conditional: the class decoded")
CVAE_STYLE = Key("cvae_style", tuple, "conditional: (CVAE, its style z as D floats)")
CVAE_VIEW = Key("cvae_view", object, "conditional: its view's widget: its last event")
CVAE_PENDING = Key("cvae_pending", dict, "conditional: a view event not yet applied")
CVAE_ECHO = Key("cvae_echo", int, "conditional: id of its view's last event applied")
TRAINING_CHART = Family("training_chart_{}", object, "training: a model's curves")
BETA_CHART = Key("beta_chart", object, "beta: the rate-distortion plane and the map")
BETA_PICK = Key("beta_pick", str, "beta: the series member to open on the right")
BETA_OPEN = Key("beta_open", bool, "beta: the button that opens it there")
REPLAY_CHART = Key("replay_chart", object, "training: the map forming (the replay)")
TRAIN_JOB = Key("train_job", str, "train now: this session's training job (its id)")
TRAIN_FORM = Key("train_form", object, "train now: the form of choices")
TRAIN_KIND = Key("train_kind", str, "train now: ae or vae")
TRAIN_BETA = Key("train_beta", float, "train now: β, the KL term's weight")
TRAIN_LATENT = Key("train_latent", int, "train now: the latent size")
TRAIN_EPOCHS = Key("train_epochs", int, "train now: the epochs")
TRAIN_IMAGES = Key("train_images", int, "train now: how many images")
TRAIN_NAME = Key("train_name", str, "train now: the name to save it as")
TRAIN_START = Key("train_start", bool, "train now: the Start button")
TRAIN_CANCEL = Key("train_cancel", bool, "train now: the Cancel button")
TRAIN_OPEN = Family("train_open_{}", bool, "train now: open the model on a side")
TRAIN_PROBLEM = Key("train_problem", str, "train now: why the last start failed")
TRAIN_MAP = Key("train_map", object, "train now: the newest snapshot's map")
TRAIN_CURVES = Key("train_curves", object, "train now: the curves so far")
UPLOAD_FILE = Key("upload_file", object, "your image: the file uploader")
UPLOADED = Key("uploaded", tuple, "your image: (name, bytes) of the image")
CANVAS = Key("canvas", object, "your image: the drawing pad")
DRAWING_DIGEST = Key("drawing_digest", str, "your image: the last drawing's hash")

KEYS = {v for v in dict(globals()).values() if isinstance(v, Key)}
FAMILIES = [v for v in dict(globals()).values() if isinstance(v, Family)]


def declared(name: str) -> list[Key | Family]:
    """Every declaration a session key's name can come from: its ``Key``, or
    each ``Family`` whose pattern it fits (``map_left_mnist`` fits both the
    sidebar's map choice and a map's event); empty when none."""
    return [k for k in KEYS if k == name] + [f for f in FAMILIES if f.matches(name)]
