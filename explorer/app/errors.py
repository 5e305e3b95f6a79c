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
from explorer.data.dataset import DatasetError
from explorer.data.store import StoreError
from explorer.data.upload import UploadError
from explorer.latent.align import AlignmentError
from explorer.latent.directions import DirectionError
from explorer.latent.maps import ProjectionError
from explorer.latent.selection import SelectionError
from explorer.latent.space import SpaceError
from explorer.model.adapters.module import ModelContractError
from explorer.model.checkpoint import CheckpointError
from explorer.problem import Problem
from explorer.training.job import JobError

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
    (ProjectionError, "not_fitted"): N_("the {map} map of {path} is not fitted yet"),
    (SpaceError, "labels"): N_("{model} is conditional: give the class labels"),
    (SpaceError, "image_shape"): N_(
        "{model} expects images of shape {want}, the dataset has {shape}"
    ),
    (SpaceError, "no_labels"): N_(
        "{model} is conditional but the dataset has no labels"
    ),
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
    (CheckpointError, "no_config"): N_("{path}: missing (not a checkpoint folder?)"),
    (CheckpointError, "bad_config"): N_("{path}: invalid config: {reason}"),
    (CheckpointError, "missing"): N_("{path}: missing"),
    (CheckpointError, "pickle"): N_(
        "{path}: looks like a pickle or torch.save file; only safetensors is "
        "loaded, because unpickling can run arbitrary code"
    ),
    (CheckpointError, "bad_weights"): N_(
        "{path}: not a valid safetensors file ({reason})"
    ),
    (CheckpointError, "no_folder"): N_("{path}: no such checkpoint folder"),
    (CheckpointError, "tensors"): N_(
        "{path}: tensors do not match {config} (missing {missing}, unexpected "
        "{unexpected})"
    ),
    (CheckpointError, "shape"): N_(
        "{path}: tensor {name} has shape {shape} but {config} implies {want}"
    ),
    (CheckpointError, "finite"): N_(
        "{path}: tensor {name} holds NaN or infinite values"
    ),
    (CheckpointError, "bad_snapshots"): N_(
        "{path}: not a file of training snapshots ({reason})"
    ),
    (ModelContractError, "ref"): N_(
        "{ref} names no factory: write package.module:factory or "
        "path/to/file.py:factory"
    ),
    (ModelContractError, "no_file"): N_("{path}: no such file"),
    (ModelContractError, "import_raised"): N_("importing {module} raised {reason}"),
    (ModelContractError, "no_import"): N_("cannot import {module}: {reason}"),
    (ModelContractError, "no_attribute"): N_("{module} has no attribute {attr}"),
    (ModelContractError, "factory_raised"): N_("the factory {ref} raised {reason}"),
    (ModelContractError, "no_methods"): N_(
        "{ref} made a {kind} without {missing}(): the model needs encode(x) and "
        "decode(z)"
    ),
    (ModelContractError, "encoding"): N_(
        "{where} returned {kind}: expected a tensor, a (mean, logvar) pair, an "
        "object with .mean and .logvar, or a torch Distribution"
    ),
    (ModelContractError, "sample"): N_(
        "{where} returned {kind}: expected a tensor or an object with .sample"
    ),
    (ModelContractError, "raised"): N_("{what} raised {reason}"),
    (ModelContractError, "value_range"): N_("the value range [{lo}, {hi}] is empty"),
    (ModelContractError, "needs_labels"): N_(
        "{name} is conditional ({classes} classes): the data needs labels"
    ),
    (ModelContractError, "one_code"): N_(
        "{name}.encode returned shape {shape} for one image: expected [1, D] (or "
        "a spatial code [1, C, h, w])"
    ),
    (ModelContractError, "code_shape"): N_(
        "encode returned codes of shape {shape}, expected {want}"
    ),
    (ModelContractError, "code_finite"): N_("encode returned NaN or infinite codes"),
    (ModelContractError, "logvar_shape"): N_(
        "encode returned a log-variance of shape {shape}, expected {want} like the mean"
    ),
    (ModelContractError, "logvar_finite"): N_(
        "encode returned a NaN or infinite log-variance"
    ),
    (ModelContractError, "decode_shape"): N_(
        "decode returned shape {shape}, the data is {want}"
    ),
    (ModelContractError, "decode_finite"): N_("decode returned NaN or infinite pixels"),
    (ModelContractError, "decode_range"): N_(
        "decode returned pixels in [{lo}, {hi}], expected [0, 1] (for a model of "
        "pixels in [-1, 1], pass --value-range -1 1)"
    ),
    (ModelContractError, "decode_random"): N_(
        "decoding the same code twice gave different images: decode must be "
        "deterministic (decode the code given, do not sample)"
    ),
    (ModelContractError, "image_shape"): N_(
        "{name} takes images of shape {shape}; the data is {want}"
    ),
    (ModelContractError, "two_images"): N_("the contract check needs two data images"),
    (ModelContractError, "needs_images"): N_(
        "{ref} is not the explorer's own checkpoint: give data images to check "
        "it on (its latent size and image shape come from a trial encode)"
    ),
    (ModelContractError, "install"): N_(
        "{path} is a {library} model: pip install 'latent-explorer[{library}]'"
    ),
    (ModelContractError, "no_weights"): N_(
        "{path}: no {weights} (the weights; a pickled .bin file is not read)"
    ),
    (ModelContractError, "load"): N_("{path}: {library} could not load it ({reason})"),
    (ModelContractError, "not_json"): N_("{path}: not a JSON object"),
    (ModelContractError, "pickled"): N_(
        "{path} holds pickled custom networks ({files}); loading them runs their "
        "code. Pass --allow-pickle only if you trust whoever made them"
    ),
    (StoreError, "name"): N_(
        "{name} cannot name a store: use letters, digits, '.', '_' or '-' (not "
        "a built-in dataset's name: {builtin})"
    ),
    (StoreError, "unreadable"): N_("{path}: unreadable ({reason})"),
    (StoreError, "rows"): N_("{path}: {rows} rows, expected {want}"),
    (StoreError, "incomplete"): N_(
        "{store}: not a complete store ({file}: {reason}); run "
        "python -m explorer encode again"
    ),
    (StoreError, "version"): N_("{path}: not a version {version} store file"),
    (StoreError, "images"): N_("{path}: not uint8 images of shape {shape}"),
    (StoreError, "image_shape"): N_(
        "{model} expects images of shape {want}, the store holds {shape}"
    ),
    (StoreError, "no_labels"): N_("{model} is conditional; the store has no labels"),
    (StoreError, "orphan"): N_(
        "{store} holds an encoding by {model}, but no checkpoint of that name is "
        "in the weights folder"
    ),
    (StoreError, "stale"): N_(
        "{store} was encoded with other weights of {model}; run "
        "python -m explorer encode again"
    ),
    (DatasetError, "unknown"): N_("unknown dataset {name}; choose from {choices}"),
    (DatasetError, "not_builtin"): N_(
        "{name} is not a built-in dataset; to explore your own images, encode "
        "them into a store: {command}"
    ),
    (DatasetError, "no_split"): N_(
        "{name} has no split {split}; choose from {choices}"
    ),
    (DatasetError, "counts"): N_("{name}/{split}: {images} images but {labels} labels"),
    (DatasetError, "idx_short"): N_(
        "{path}: too short for an IDX header ({size} bytes)"
    ),
    (DatasetError, "idx_magic"): N_(
        "{path}: bad IDX magic number {found}, expected {magic}"
    ),
    (DatasetError, "idx_size"): N_(
        "{path}: the IDX header declares shape {shape} ({want} bytes) but the "
        "file holds {size} bytes (truncated or corrupt)"
    ),
    (DatasetError, "gzip"): N_("{path}: not a complete gzip file ({reason})"),
    (DatasetError, "md5"): N_(
        "{path}: checksum mismatch (md5 of file {got}, of content {raw}; "
        "expected {want} or {want_raw})"
    ),
    (DatasetError, "download"): N_("could not download {name} from {url}: {reason}"),
    (DatasetError, "not_published"): N_(
        "{file} of {name} is not published for download; put it in one of: {places}"
    ),
    (DatasetError, "not_here"): N_(
        "{file} of {name} is not on this machine; put it in one of: {places}"
    ),
    (DatasetError, "downloads"): N_(
        "no download of {file} of {name} worked: {reasons}"
    ),
    (DatasetError, "no_folder"): N_("{path}: no such folder"),
    (DatasetError, "folder_split"): N_(
        "a folder dataset has splits all, train and test, not {split}"
    ),
    (DatasetError, "no_images"): N_("{path}: no images found"),
    (DatasetError, "bad_image"): N_(
        "{path}: not a readable image ({reason}); remove it from the folder"
    ),
    (DatasetError, "unreadable_image"): N_("{path}: not a readable image ({reason})"),
    (DatasetError, "integrity"): N_("{path}: unsupported integrity {algo}"),
    (DatasetError, "sha512"): N_(
        "{path}: checksum mismatch (sha512 {got}..., expected {want}...); the "
        "file is corrupt or not the published package"
    ),
    (DatasetError, "package"): N_("{path}: not the {package} package ({reason})"),
    (DatasetError, "array_shape"): N_("images must be [N, C, H, W]; got shape {shape}"),
    (DatasetError, "array_range"): N_("float images must be in [0, 1]"),
    (DatasetError, "label_count"): N_("{labels} labels for {images} images"),
    (DatasetError, "store"): N_("{name}: {reason}"),
    (JobError, "off"): N_("training in the page is switched off on this server"),
    (JobError, "busy"): N_(
        "a model ({name}) is being trained on this machine already; one at a time"
    ),
    (JobError, "name"): N_(
        "{name} is not a valid model name: 1 to 64 letters, digits, '.', '_' or "
        "'-', starting with a letter or digit"
    ),
    (JobError, "name_exists"): N_(
        "a model named {name} exists already; choose another name"
    ),
    (JobError, "model_type"): N_("the model is an ae or a vae, not {kind}"),
    (JobError, "beta"): N_("β must be a number from 0 to {most}, not {beta}"),
    (JobError, "latent"): N_("the latent size must be from {lo} to {hi}, not {n}"),
    (JobError, "epochs"): N_("the epochs must be from {lo} to {hi}, not {n}"),
    (JobError, "images"): N_("the images must be from {lo} to {hi}, not {n}"),
    (JobError, "too_small"): N_(
        "{dataset}/{split} has {have} images, fewer than the {n} asked for"
    ),
    (UploadError, "blank"): N_(
        "the image is blank: nothing stands out from its background"
    ),
}

# a field's decimals, where it has some
DIGITS = {(UploadError, "bytes"): 1, (ModelContractError, "decode_range"): 2}


def _field(value: object, digits: int) -> str:
    if isinstance(value, BaseException):  # an error inside another
        return describe(value)
    if isinstance(value, Real) and not isinstance(value, bool):
        return i18n.number(float(value), digits) if digits else i18n.number(int(value))
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
