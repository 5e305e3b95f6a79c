"""The page's words for the errors made below the app.

The lower layers raise ``explorer.problem.Problem``s: a code and the fields
that fill its English message (for logs and the command line). The page
says the same in the session's language from this table, keyed by the
error's class and code; numbers are written as the language writes them, and
the fields (paths, a library's own message) are shown as they are. An error
with no entry here (free text, or no ``Problem``) is shown in English under
a translated lead, so a reader still knows what failed.
"""

from __future__ import annotations

from numbers import Real

from explorer.app import i18n
from explorer.app.i18n import N_, _
from explorer.data.upload import UploadError
from explorer.latent.align import AlignmentError
from explorer.latent.directions import DirectionError
from explorer.latent.maps import ProjectionError
from explorer.latent.selection import SelectionError
from explorer.problem import Problem

# (class, code) -> the page's message, a catalog entry (``N_``); the fields
# are those of the class's own ``MESSAGES[code]``.
TEXTS: dict[tuple[type[Problem], str], str] = {
    (SelectionError, "lasso_points"): N_(
        "a lasso needs 3 or more [x, y] points, not {shape}"
    ),
    (SelectionError, "lasso_finite"): N_("a lasso's points must be finite numbers"),
    (SelectionError, "box"): N_("a box needs two corners"),
    (SelectionError, "shape"): N_("neither a lasso nor a box"),
    (SelectionError, "indices"): N_(
        "a selection holds image indices 0 to {last}; got {lo} to {hi}"
    ),
    (SelectionError, "too_scattered"): N_(
        "a selection of {n} images this scattered takes {chars} characters; "
        "a link carries at most {limit}"
    ),
    (SelectionError, "too_long"): N_("the selection's text is too long"),
    (SelectionError, "unreadable"): N_("not a selection: {text}"),
    (SelectionError, "other_size"): N_(
        "the selection is of {bits} images at most, not of this dataset's {n}"
    ),
    (SelectionError, "past_end"): N_("the selection holds indices past {last}"),
    (SelectionError, "backwards"): N_("the run {run} goes backwards"),
    (SelectionError, "index"): N_(
        "the selection holds index {index}; the data has {n} images"
    ),
    (SelectionError, "empty"): N_("an empty selection has no summary"),
    (ProjectionError, "dimensions"): N_(
        "codes of {got} dimensions on a map of a {want}-D latent"
    ),
    (ProjectionError, "triangulate"): N_(
        "the {map} map's points cannot be triangulated: {reason}"
    ),
    (ProjectionError, "kind"): N_("unknown projection {kind}: one of {kinds}"),
    (ProjectionError, "means"): N_("the codes must be [N, D] with N > 0, not {shape}"),
    (ProjectionError, "finite"): N_("the codes hold NaN or infinite values"),
    (ProjectionError, "few"): N_("a {map} map needs at least {least} images, not {n}"),
    (ProjectionError, "many"): N_(
        "a {map} map of {n} images is not offered: its fit would take hours "
        "here (at most {most}; the PCA map has no limit)"
    ),
    (ProjectionError, "library"): N_(
        "a {map} map needs {library}, which is not installed here: "
        "pip install {library}"
    ),
    (ProjectionError, "failed"): N_("the {map} fit failed: {reason}"),
    (DirectionError, "centroid"): N_("both classes need images to have a centroid"),
    (DirectionError, "dimensions"): N_(
        "local directions need a latent of 2 or more dimensions"
    ),
    (DirectionError, "few"): N_("local directions need 3 or more codes"),
    (DirectionError, "same"): N_("the {k} codes nearest here are all the same point"),
    (AlignmentError, "shapes"): N_(
        "two maps of the same images are needed: [N, 2] each, not {target} and {source}"
    ),
    (AlignmentError, "coincide"): N_(
        "a map whose points all coincide cannot be aligned"
    ),
    (UploadError, "bytes"): N_("the file is {mib} MiB; the limit is {limit} MiB"),
    (UploadError, "empty"): N_("the file is empty"),
    (UploadError, "pixels"): N_(
        "the image is {w} × {h} pixels; the limit is {limit} megapixels"
    ),
    (UploadError, "bomb"): N_(
        "the image claims too many pixels to decode safely; the limit is "
        "{limit} megapixels ({reason})"
    ),
    (UploadError, "format"): N_("not a PNG or JPEG image we can read"),
    (UploadError, "damaged"): N_(
        "the image is damaged or too large to decode ({reason})"
    ),
    (UploadError, "blank"): N_(
        "the image is blank: nothing stands out from its background"
    ),
}

DIGITS = {(UploadError, "bytes"): 1}  # a field's decimals, where it has some


def _field(value: object, digits: int) -> str:
    if isinstance(value, Real) and not isinstance(value, bool):
        return i18n.number(round(float(value), digits) if digits else int(value))
    return str(value)


def describe(error: BaseException) -> str:
    """``error`` in the session's language: its class's and code's words with
    its fields, or its English text under a translated lead."""
    key = (type(error), getattr(error, "code", None))
    text = TEXTS.get(key)
    if text is None:
        return _("Error ({kind}): {message}").format(
            kind=type(error).__name__, message=str(error)
        )
    digits = DIGITS.get(key, 0)
    fields = {k: _field(v, digits) for k, v in error.fields.items()}
    return i18n.marked(text).format(**fields)
