"""Helpers the tests share: tiny synthetic data and folders, tiny trained
checkpoints, and readers of what an ``AppTest`` page shows. (The fixtures are
in ``conftest.py``; a test module never imports another.)"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import struct
import zlib
from pathlib import Path

import numpy as np

from explorer.data.dataset import ImageDataset

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "explorer" / "app" / "script.py")  # the page (app.py serves it)
TEST_DATA_ENV = "EXPLORER_TEST_DATA"


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """Serialises a uint8 array as an IDX file (uncompressed)."""
    header = magic.to_bytes(4, "big") + b"".join(
        d.to_bytes(4, "big") for d in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def write_idx_gz(path: Path, array: np.ndarray, magic: int) -> bytes:
    data = gzip.compress(idx_bytes(array, magic), mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def tiny_dataset(n: int = 64, seed: int = 0, classes: int = 3) -> ImageDataset:
    """Blobs whose position depends on the class, so models can learn them."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    images = np.zeros((n, 1, 8, 8), dtype=np.uint8)
    for i, c in enumerate(labels):
        r, col = 1 + 2 * c, 1 + rng.integers(0, 5)
        images[i, 0, r : r + 2, col : col + 2] = 255
    return ImageDataset(
        images, labels.astype(np.int64), tuple("abc"[:classes]), "tiny", "train"
    )


def tiny_vae(latent: int = 3):
    """An untrained VAE for ``tiny_dataset``'s 8x8 images (seeded)."""
    import torch

    from explorer.model.autoencoder import build_model
    from explorer.model.config import ModelConfig

    torch.manual_seed(0)
    cfg = ModelConfig(
        model_type="vae", latent_dim=latent, image_shape=(1, 8, 8), hidden=(16,)
    )
    return build_model(cfg).eval()


def image_folder(
    root: Path,
    n: int,
    classes: int = 3,
    channels: int = 1,
    identical: bool = False,
    side: int = 8,
) -> Path:
    """``n`` PNG files of a small bright square whose row follows the class:
    one sub-folder per class, or a flat (unlabelled) folder for ``classes=0``;
    with ``identical`` every file is the same image."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n):
        c = i % max(classes, 1)
        img = np.zeros((side, side, channels), np.uint8)
        if identical:
            img[2:5, 2:5] = 200
        else:
            r, col = (2 * c) % (side - 2), rng.integers(0, side - 2)
            img[r : r + 2, col : col + 2] = rng.integers(120, 256, channels)
        sub = root / f"class-{c:03d}" if classes else root
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img.squeeze(-1) if channels == 1 else img).save(
            sub / f"{i:04d}.png"
        )
    return root


def bomb_png(w: int, h: int) -> bytes:
    """A valid PNG header claiming w x h pixels, with a tiny compressed body."""

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)  # 1-bit grey
    body = zlib.compress(b"\x00" * (1 + (w + 7) // 8) * 100, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body)


def errors(at) -> list[str]:
    """The error and exception messages an ``AppTest`` run shows."""
    return [e.value for e in at.error] + [str(e.value) for e in at.exception]


class KeptMedia:
    """The media files ``AppTest`` runs serve (their storage is dropped after
    each run): kept so a test can read the images as the page shows them."""

    storages: list = []

    @classmethod
    def storage(cls, endpoint: str):
        from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

        store = MemoryMediaFileStorage(endpoint)
        cls.storages.append(store)
        return store


def served(at, tab: str | None = None) -> list[tuple[str, bytes]]:
    """``(caption, bytes)`` of every ``st.image`` an ``AppTest`` run shows, in
    page order (only those inside the tab labelled ``tab``, if given): the
    files the page serves, as served."""
    out = []

    def read(url: str) -> bytes:
        if url.startswith("data:image/png;base64,"):  # sent in the page's message
            return base64.b64decode(url.split(",", 1)[1])
        name = url.rsplit("/", 1)[-1]
        for store in reversed(KeptMedia.storages):
            try:
                return store.get_file(name).content
            except Exception:  # noqa: BLE001 - not in this run's storage
                continue
        raise KeyError(url)

    def walk(node, inside: bool) -> None:
        kind = getattr(node, "type", "")
        here = inside or (kind == "tab" and node.label == tab)
        if kind == "image" and here:
            for img in node.proto.imgs:
                out.append((img.caption, read(img.url)))
        if is_view(node) and here:
            out.extend(view_images(view_payload(node)))
        for child in getattr(node, "children", {}).values():
            walk(child, here)

    walk(at.main, tab is None)
    return out


def is_view(node) -> bool:
    return (
        getattr(node, "type", "") == "bidi_component"
        and node.proto.component_name == "latent_explorer_view"
    )


def view_payload(node) -> dict:
    """The data of one view element (sent as one JSON string, with the
    script's URLs beside it)."""
    payload = json.loads(node.proto.json)
    return dict(json.loads(payload.pop("view")), **payload)


def view_data(at) -> list[dict]:
    """The data of each instance of the page's view (``components.view``)."""
    found = []

    def walk(node):
        if is_view(node):
            found.append(view_payload(node))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return found


def view_images(data: dict) -> list[tuple[str, bytes]]:
    """``("decoded at ×", PNG)`` for each map of a view, as the browser
    draws it: the server's decode it was sent, or the exported decoder (its
    NumPy reference, which the browser tests hold the JavaScript to) run on
    the cursor it was sent. The data's URLs are read from the component
    folder they name."""
    from PIL import Image

    from explorer.app.components.latent_map import component_dir
    from explorer.data.images import to_png
    from explorer.model.export import decode

    out = []
    for m in data["maps"]:
        if m["image"] is not None:
            with Image.open(
                io.BytesIO(base64.b64decode(m["image"].split(",", 1)[1]))
            ) as im:
                x = np.asarray(im)
            x = x[None] if x.ndim == 2 else x.transpose(2, 0, 1)
            png = to_png(x, data["scale"])
        else:
            folder, name = m["decoder_url"].split("/")[-2:]
            blob = (component_dir(folder) / name).read_bytes()
            z = np.asarray(m["cursor"], dtype=np.float32)
            png = to_png(decode(blob, z, m["label"]), data["scale"])
        out.append(("decoded at ×", png))
    return out


_event_ids = iter(range(1, 10**9))


def send_view_event(at, event: dict, key: str = "view"):
    """Runs the page as after the view sent ``event`` (what its JavaScript
    sends on a click or a slider release: ``kind``, ``slot`` and the rest),
    through the same trigger widget the browser sets: the page's view, or
    the one of component key ``key`` (the Conditional tab's, "cvae_view")."""
    from streamlit.components.v2.bidi_component.main import _make_trigger_id
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    nodes = []

    def walk(node):
        if is_view(node) and node.proto.id.endswith(f"-{key}"):
            nodes.append(node)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    (node,) = nodes
    states = at._tree.get_widget_states()
    w = WidgetState(id=_make_trigger_id(node.proto.id, "events"))
    w.json_trigger_value = json.dumps(
        [{"event": "event", "value": {"id": next(_event_ids), **event}}]
    )
    states.widgets.append(w)
    return at._run(states)


def release_slider(at, slot: str, i: int, value: float):
    """Runs the page as after slider ``i`` of ``slot`` was dragged to ``value``."""
    (data,) = view_data(at)
    (m,) = [m for m in data["maps"] if m["slot"] == slot]
    b = m["basis"]
    values = (np.asarray(m["cursor"]) - b["mean"]) @ np.asarray(b["components"]).T
    values[i] = value
    return send_view_event(
        at, {"kind": "slider", "slot": slot, "values": values.tolist()}
    )


def slider_range(at, slot: str, i: int) -> tuple[float, float]:
    (data,) = view_data(at)
    (m,) = [m for m in data["maps"] if m["slot"] == slot]
    return tuple(m["basis"]["ranges"][i])


def slider_labels(at, slot: str) -> list[str]:
    (data,) = view_data(at)
    (m,) = [m for m in data["maps"] if m["slot"] == slot]
    return m["basis"]["labels"]


def images(at, tab: str | None = None) -> list[tuple[str, np.ndarray]]:
    """``(caption, pixels)`` of the images ``served`` shows, decoded: ``[H, W]``
    or ``[H, W, 3]`` uint8."""
    import io

    from PIL import Image

    return [
        (caption, np.asarray(Image.open(io.BytesIO(data))))
        for caption, data in served(at, tab)
    ]


def image(at, caption: str, nth: int = 0) -> np.ndarray:
    """The pixels of the ``nth`` image whose caption contains ``caption``."""
    return [px for cap, px in images(at) if caption in cap][nth]


# What each tab shows when it can: elements of these types.
CONTENT = {
    "Selected image": "image",
    "Computation graph": "bidi_component",
    "Interpolation": "image",
    "Directions": "image",
    "Movement": "plotly_chart",
    "Manifold grid": "image",
    "Prior samples": "image",
    "Unusual images": "image",
    "Dimensions": "plotly_chart",
    "Conditional": "image",
    "Your image": "file_uploader",
    "Metrics": "dataframe",
    "Training": "plotly_chart",
    "β from AE to VAE": "bidi_component",
    "Train a model now": "form",
}
# ... and the one line it shows instead when it cannot.
REASONS = {
    "Directions": "No local directions here",
    "Movement": "The movement view ",
    "Dimensions": "No VAE for",
    "Conditional": "No conditional VAE for",
    "Training": "No training history for",
    "β from AE to VAE": "No β series for",
    "Train a model now": "Training in the page is",
}


def tab_elements(at, label: str) -> list[tuple[str, str]]:
    """(type, text) of every element inside the tab called ``label``."""
    out = []

    def walk(node, inside):
        here = inside or (getattr(node, "type", "") == "tab" and node.label == label)
        if here and getattr(node, "type", "") != "tab":
            value = getattr(node, "value", "")
            out.append((node.type, value if isinstance(value, str) else ""))
        for child in getattr(node, "children", {}).values():
            walk(child, here)

    walk(at.main, False)
    return out


def shows_content_or_reason(at, tab: str) -> bool:
    found = tab_elements(at, tab)
    if any(t == CONTENT[tab] for t, _ in found):
        return True
    reason = REASONS.get(tab)
    return reason is not None and any(
        t == "info" and text.startswith(reason) for t, text in found
    )


# An inline code span: a run of backticks, its text, the same run again.
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)


def plain(markdown: str) -> str:
    """The text of the page's Markdown as a reader finds it in its values: a
    code span's text without its fence (``app.markdown.verbatim``), and any
    backslash escape resolved; other marks (``**``) stay."""
    out, at = [], 0
    for m in _CODE_SPAN.finditer(markdown):
        out.append(re.sub(r"\\(.)", r"\1", markdown[at : m.start()]))
        text = m.group(2)
        if text[0] == text[-1] == " " and text.strip():  # CommonMark's padding
            text = text[1:-1]
        out.append(text)
        at = m.end()
    out.append(re.sub(r"\\(.)", r"\1", markdown[at:]))
    return "".join(out)


def streamlit_markdown():
    """A Markdown parser that reads links as Streamlit's does (react-markdown
    with remark-gfm): CommonMark, GFM's tables and strikethrough, HTML, and
    bare URLs and e-mail addresses linked (remark-gfm links any host; linkify-it
    only known top-level domains, so the reserved ones tests use are added)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"linkify": True, "html": True})
    md.linkify.tlds(["example", "invalid", "test"], True)
    return md.enable(["linkify", "table", "strikethrough"])


def markup_in(markdown: str) -> list[str]:
    """What in ``markdown`` Streamlit would draw as markup rather than text:
    each link's or image's address, and each piece of HTML.

    remark-gfm links a bare URL in the text after backslash escapes are
    resolved, markdown-it's linkify before (its escapes still split the URL):
    so the text markdown-it leaves is searched for links once more."""
    md = streamlit_markdown()
    found = []

    def walk(tokens):
        for t in tokens:
            if t.type in ("link_open", "image"):
                found.append(t.attrGet("href") or t.attrGet("src") or t.type)
            elif t.type in ("html_inline", "html_block"):
                found.append(t.content)
            elif t.type == "text":
                found.extend(m.url for m in md.linkify.match(t.content) or ())
            walk(t.children or ())

    walk(md.parse(markdown))
    return found


def shown_text(markdown: str) -> str:
    """The text a reader sees of ``markdown`` (Streamlit's reading)."""
    import html

    out = streamlit_markdown().render(markdown)
    return html.unescape(re.sub(r"<[^>]+>", "", out)).strip()


def train_on_folder(
    folder: Path,
    weights: Path,
    name: str,
    kinds=("ae", "vae"),
    latent: int = 2,
    hidden: int = 16,
    epochs: int = 1,
    channels: int = 1,
    side: int = 8,
    store: Path | None = None,
) -> list[Path]:
    """Tiny models of each kind trained on an image folder (in this process,
    as ``train --dataset folder:...`` would), as ``weights/<name>-<kind>-z<D>``;
    with ``store``, the folder packed there and encoded by each."""
    from explorer.data.folder import load_folder
    from explorer.data.store import pack
    from explorer.latent.encoded import encode
    from explorer.model.checkpoint import load_checkpoint
    from explorer.model.config import ModelConfig
    from explorer.training.config import TrainConfig
    from explorer.training.train import train

    ds = load_folder(folder, (side, side), channels)
    out = []
    for kind in kinds:
        config = ModelConfig(
            model_type=kind,
            latent_dim=latent,
            image_shape=ds.image_shape,
            hidden=(hidden,),
            num_classes=max(len(ds.class_names), 2),
            dataset=name,
            class_names=ds.class_names,
        )
        cfg = TrainConfig(
            dataset=f"folder:{folder}", epochs=epochs, batch_size=64, val_fraction=0.1
        )
        path = weights / f"{name}-{kind}-z{latent}"
        train(config, cfg, path, progress=False, dataset=ds, verbose=False, workers=0)
        out.append(path)
    if store is not None:
        pack(ds, store, name, progress=False)
        for path in out:
            encode(load_checkpoint(path), path, store, progress=False)
    return out


def component_args(at, component: str) -> list[dict]:
    """The JSON arguments of each instance of a custom component (its name
    ends with ``component``) on an ``AppTest`` page, in page order."""
    import json

    found = []

    def walk(node):
        if getattr(node, "type", "") == "component_instance":
            if node.proto.component_name.endswith(component):
                found.append(json.loads(node.proto.json_args))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return found


# A user's own convolutional VAE, as a file a test writes and names by
# reference (``file.py:conv_vae``): strided 4x4 convolutions, a dense
# bottleneck, mirrored transposes, pixels in [0, 1]. ``classes`` widens the
# decoder's input for a one-hot label (a conditional subclass adds it).
USER_CONV_VAE = """
import torch
from torch import nn

SIDE = {side}
CHANNELS = {channels}


class ConvVAE(nn.Module):
    def __init__(self, channels=CHANNELS, latent=4, classes=0):
        super().__init__()
        flat = 8 * (SIDE // 2) ** 2
        self.classes = classes
        self.enc = nn.Sequential(
            nn.Conv2d(channels, 8, 4, 2, 1), nn.ReLU(), nn.Flatten(),
            nn.Linear(flat, 2 * latent),
        )
        self.dec = nn.Sequential(
            nn.Linear(latent + classes, flat), nn.ReLU(),
            nn.Unflatten(1, (8, SIDE // 2, SIDE // 2)),
            nn.ConvTranspose2d(8, channels, 4, 2, 1), nn.Sigmoid(),
        )

    def encode(self, x):
        mean, logvar = self.enc(x).chunk(2, 1)
        return mean, logvar

    def decode(self, z):
        return self.dec(z)


def conv_vae():
    torch.manual_seed(0)
    return ConvVAE()
"""


def user_conv_vae(folder: Path, side: int = 16, channels: int = 1) -> str:
    """Writes ``folder/my_vae.py`` and returns its reference ``...:conv_vae``."""
    path = folder / "my_vae.py"
    path.write_text(USER_CONV_VAE.format(side=side, channels=channels))
    return f"{path}:conv_vae"


def forward_msg(kind: str, status: int | None = None, fragment: str = "") -> bytes:
    """Streamlit's ForwardMsg ``kind`` (``new_session``, ``script_finished``
    or another message) as a page receives it, for ``driver.Runs``: a
    ``script_finished`` that ended well unless ``status`` says otherwise;
    with ``fragment``, a run of that fragment."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    if kind == "script_finished":
        msg.script_finished = (
            ForwardMsg.FINISHED_SUCCESSFULLY if status is None else status
        )
    else:
        getattr(msg, kind).SetInParent()
    if fragment:
        msg.metadata.run.fragment_ids.append(fragment)
    return msg.SerializeToString()


def rerun_msg(fragment: str = "", event_id: int | None = None) -> bytes:
    """Streamlit's BackMsg asking for a rerun, as a page sends it, for
    ``driver.Runs``: of ``fragment`` if given; with ``event_id``, carrying
    the view's event of that id in its widget state (as a click's does)."""
    import json

    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.SetInParent()
    msg.rerun_script.fragment_id = fragment
    if event_id is not None:
        state = msg.rerun_script.widget_states.widgets.add()
        state.id = "view"
        state.json_trigger_value = json.dumps(
            [{"event": "event", "value": {"id": event_id, "kind": "point"}}],
            separators=(",", ":"),
        )
    return msg.SerializeToString()
