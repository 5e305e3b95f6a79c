"""Command line: ``latent-explorer {explore,serve,train,evaluate,encode,model-card}``
(also ``python -m explorer ...``).

(The benchmark is ``python -m benchmarks``, beside the package.)"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from explorer.data.builtin import BUILTIN
from explorer.data.dataset import FOLDER_PREFIX, DatasetError
from explorer.data.store import StoreError
from explorer.model.autoencoder import MODELS
from explorer.model.checkpoint import CheckpointError, checkpoint_name, weights_dir
from explorer.model.config import ARCHS, LIKELIHOODS, ModelConfig
from explorer.training.config import TrainConfig, TrainingError
from explorer.training.snapshots import DEFAULT_SNAPSHOTS

DEFAULT_EVAL_SPLIT = {"train": "test", "test": "train5k"}


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model and write its checkpoint")
    p.add_argument(
        "--dataset", default="fashion-mnist", help=f"{sorted(BUILTIN)} or folder:<path>"
    )
    p.add_argument("--model", choices=sorted(MODELS), default="vae")
    p.add_argument("--latent-dim", type=int, default=2)
    p.add_argument(
        "--arch",
        choices=ARCHS,
        default="mlp",
        help="mlp: dense layers on the pixels; conv: strided 4x4 convolutions, "
        "then dense layers (for 28- to 128-pixel, grey or RGB images)",
    )
    p.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=None,
        help="dense widths (default: 512 256 for mlp, 256 for conv)",
    )
    p.add_argument(
        "--conv-channels",
        type=int,
        nargs="+",
        default=[32, 32, 64, 64],
        help="conv: each convolution's output channels",
    )
    p.add_argument("--likelihood", choices=LIKELIHOODS, default="bernoulli")
    p.add_argument("--gaussian-sigma", type=float, default=0.1)
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument(
        "--image-size", type=int, default=28, help="folder datasets: side in pixels"
    )
    p.add_argument(
        "--channels", type=int, choices=(1, 3), default=1, help="folder datasets"
    )
    p.add_argument("--train-split", default="train")
    p.add_argument(
        "--eval-split", default=None, help="held-out split for evaluate (default: test)"
    )
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--val-fraction", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--limit", type=int, default=None, help="train on the first N images only"
    )
    p.add_argument(
        "--data-dir", default=None, help="folder holding <dataset>/ IDX files"
    )
    p.add_argument(
        "--out", default=None, help="checkpoint folder (default weights/<name>)"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="loader processes per training process (default: 0 for a built-in "
        "dataset, up to 4 for a folder, which is read lazily)",
    )
    p.add_argument(
        "--snapshots",
        type=int,
        default=DEFAULT_SNAPSHOTS,
        help="frames of the latent space forming, kept in snapshots.safetensors: "
        "a seeded sample of 2,000 held-out images encoded at step 0, through "
        "the first epoch and at epoch ends (0: none)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    p.add_argument("--no-progress", action="store_true")


def _add_encode(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "encode",
        help="encode a (large) dataset once, into a store the app opens",
        description="Packs the images into a store (a folder read lazily by "
        "loader workers), then streams them through each checkpoint into "
        "memory-mapped latent files. The app lists the store as a dataset. "
        "Run again, it redoes only what changed: the packing when the images "
        "did (a folder's files: names, sizes, times), an encoding when its "
        "checkpoint's weights, the images or the dtype did. Under torchrun "
        "(torchrun --nproc-per-node N -m explorer encode ...) each process "
        "encodes its share of the rows into the same files; an interrupted "
        "run, run again, encodes only what was not finished.",
    )
    p.add_argument("checkpoints", nargs="+", help="checkpoint folders or names")
    p.add_argument(
        "--dataset", required=True, help=f"folder:<path> or {sorted(BUILTIN)}"
    )
    p.add_argument("--split", default="all", help="split of the dataset to pack")
    p.add_argument("--name", required=True, help="the dataset's name in the app")
    p.add_argument(
        "--store", default=None, help="the store's folder (default: spaces dir/NAME)"
    )
    p.add_argument("--data-dir", default=None)
    p.add_argument("--workers", type=int, default=None, help="loader processes")
    p.add_argument("--batch-size", type=int, default=4096)
    _add_placement(p)
    p.add_argument(
        "--repack",
        action="store_true",
        help="pack the images again, even unchanged (and so encode them again)",
    )
    p.add_argument("--no-progress", action="store_true")


def _add_placement(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device",
        default="auto",
        help="auto (a GPU when there is one), cpu, cuda or cuda:N: where the "
        "models encode (under torchrun, cuda is each process's own GPU)",
    )
    p.add_argument(
        "--dtype",
        default="float32",
        choices=("float32", "bfloat16", "float16"),
        help="the models' arithmetic; codes and loss terms are stored as float32",
    )


def _add_explore(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explore",
        help="open the app on one or two models of yours, on a dataset",
        description="Opens each model (a checkpoint folder or name, a user's "
        "package.module:factory or file.py:factory, a pythae or a diffusers "
        "folder) and checks it on the data; encodes the data into a store, "
        "cached by the data and each model's weights (the next run reuses it); "
        "then serves the app on exactly these models and prints its URL.",
    )
    p.add_argument(
        "--data",
        required=True,
        help=f"{sorted(BUILTIN)}, folder:<path>, or an existing store's name",
    )
    p.add_argument(
        "--model",
        action="append",
        required=True,
        help="a model reference; give it twice to compare two models",
    )
    p.add_argument("--split", default="test", help="the split of a built-in dataset")
    p.add_argument("--data-dir", default=None)
    _add_placement(p)
    p.add_argument(
        "--value-range",
        type=float,
        nargs=2,
        default=(0.0, 1.0),
        metavar=("LO", "HI"),
        help="the pixel range a user's module takes and makes (e.g. -1 1)",
    )
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="let a pythae folder's pickled networks load (they run code)",
    )
    p.add_argument("--port", type=int, default=None, help="default: a free port")
    p.add_argument("--address", default="127.0.0.1", help="the interface to serve")
    p.add_argument(
        "--headless", action="store_true", help="do not open a browser window"
    )
    p.add_argument("--no-progress", action="store_true")


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the page to a class: several processes behind HAProxy",
        description="Starts N workers (each `streamlit run app.py` on a free "
        "local port) and HAProxy in front of them on --port: a cookie keeps "
        "each browser on one worker, a dead worker is restarted and its users "
        "reload the link on a live one. Prints the address; Ctrl+C stops "
        "everything. Needs haproxy on PATH.",
    )
    p.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    p.add_argument("--port", type=int, default=8501, help="the proxy's port")
    p.add_argument(
        "--address",
        default="127.0.0.1",
        help="the interface the proxy listens on (0.0.0.0: every one)",
    )
    p.add_argument("--weights", default=None, help="the checkpoints' folder")
    p.add_argument("--data-dir", default=None, help="folder holding the datasets")
    p.add_argument(
        "--stores", default=None, help="the stores' folder (`encode`'s spaces dir)"
    )
    p.add_argument(
        "--print-config",
        action="store_true",
        help="print HAProxy's configuration for workers on ports 8501, 8502, "
        "... (a server of your own) and exit",
    )


def _add_emoji(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "emoji",
        help="make the colour example dataset: 64x64 emoji by category",
        description="Downloads the npm package emoji-datasource-google once "
        "(verified against its npm sha512), and writes an image folder with one "
        "sub-folder per category: Google's Noto emoji art (Apache-2.0), "
        "composited on white. Prints the folder; use it as folder:<path>.",
    )
    p.add_argument("--out", default=None, help="default: the user cache")
    p.add_argument("--url", default=None, help="the package tarball (a mirror)")


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="write metrics.json on the held-out split")
    p.add_argument("checkpoint", help="checkpoint folder or name under weights/")
    p.add_argument(
        "--split",
        default=None,
        help="held-out split (default: the one in training.json)",
    )
    p.add_argument("--data-dir", default=None)
    p.add_argument("--iw-samples", type=int, default=1000, help="importance samples K")
    p.add_argument(
        "--iw-images", type=int, default=1000, help="images for the IW bound"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)


def _add_model_card(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "model-card", help="regenerate weights/README.md from metrics.json"
    )
    p.add_argument(
        "--weights", default=None, help="weights folder (default: the repo's)"
    )
    p.add_argument(
        "--check", action="store_true", help="exit 1 if the card is out of date"
    )


def cmd_train(a: argparse.Namespace) -> int:
    """Trains in this process, or in each process ``torchrun`` starts."""
    from explorer.training.distributed import shutdown_distributed

    together = False
    try:
        code = _train(a)
        together = code == 0
        return code
    finally:
        shutdown_distributed(together)


def _train(a: argparse.Namespace) -> int:
    from explorer.data.load import open_images
    from explorer.training.distributed import init_distributed
    from explorer.training.train import train

    size = (a.image_size, a.image_size)
    dataset = a.dataset
    if dataset.startswith(FOLDER_PREFIX):
        # Absolute, so that training.json can tell the app where the images are.
        dataset = FOLDER_PREFIX + str(Path(dataset[len(FOLDER_PREFIX) :]).resolve())
    ds = open_images(dataset, a.train_split, a.data_dir, size, a.channels)
    if a.model == "cvae" and len(ds.class_names) < 2:
        raise TrainingError(
            "a cvae needs labelled data with at least 2 classes (one sub-folder "
            f"per class); {a.dataset} has {len(ds.class_names)}"
        )
    config = ModelConfig(
        model_type=a.model,
        latent_dim=a.latent_dim,
        image_shape=ds.image_shape,
        hidden=tuple(a.hidden or ((256,) if a.arch == "conv" else (512, 256))),
        arch=a.arch,
        channels=tuple(a.conv_channels),
        likelihood=a.likelihood,
        gaussian_sigma=a.gaussian_sigma,
        beta=a.beta,
        num_classes=max(len(ds.class_names), 2),
        dataset=Path(dataset[len(FOLDER_PREFIX) :]).name
        if dataset.startswith(FOLDER_PREFIX)
        else dataset,
        class_names=ds.class_names,
    )
    cfg = TrainConfig(
        dataset=dataset,
        train_split=a.train_split,
        eval_split=a.eval_split or DEFAULT_EVAL_SPLIT.get(a.train_split, "test"),
        epochs=a.epochs,
        batch_size=a.batch_size,
        lr=a.lr,
        val_fraction=a.val_fraction,
        seed=a.seed,
        limit=a.limit,
    )
    out = Path(a.out) if a.out else weights_dir() / checkpoint_name(config)
    main_process = init_distributed().is_main
    held_out = _held_out(a, dataset, cfg.eval_split, size) if main_process else None
    try:
        state = train(
            config,
            cfg,
            out,
            a.data_dir,
            progress=not a.no_progress,
            dataset=ds,
            workers=a.workers,
            snapshots=a.snapshots,
            held_out=held_out,
        )
    except KeyboardInterrupt:
        if main_process:
            print(
                f"\ninterrupted: {out} holds the last finished epoch; "
                "run the same command again to resume",
                file=sys.stderr,
            )
        return 130
    if not main_process:
        return 0
    print(
        f"done: {out} (best epoch {state.best_epoch}, validation loss "
        f"{state.best_val:.2f}, {state.wall_time_s:.0f}s)"
    )
    return 0


def _held_out(a: argparse.Namespace, dataset: str, split: str, size):
    """The evaluation split the snapshots sample, or None (they then sample
    the validation images) when there are no snapshots or it cannot be
    opened here."""
    from explorer.data.load import open_images

    if a.snapshots <= 0:
        return None
    try:
        return open_images(dataset, split, a.data_dir, size, a.channels)
    except (DatasetError, OSError) as e:
        print(
            f"snapshots sample the validation images: the {split} split is not "
            f"available ({e})",
            file=sys.stderr,
        )
        return None


def cmd_evaluate(a: argparse.Namespace) -> int:
    from explorer.training.evaluate import evaluate_checkpoint

    metrics = evaluate_checkpoint(
        a.checkpoint,
        split=a.split,
        data_dir=a.data_dir,
        iw_samples=a.iw_samples,
        iw_images=a.iw_images,
        seed=a.seed,
    )
    for k in ("recon", "kl", "neg_elbo", "iw_nll", "mse", "knn5_acc", "active_units"):
        print(f"{k:>14}: {metrics[k]}")
    return 0


def cmd_encode(a: argparse.Namespace) -> int:
    """Encodes in this process, or in each process ``torchrun`` starts, each
    its share of the rows."""
    from explorer.training.distributed import shutdown_distributed

    try:
        return _encode(a)
    except KeyboardInterrupt:
        print(
            "\ninterrupted: the pieces already encoded are kept; run the same "
            "command again to encode the rest",
            file=sys.stderr,
        )
        return 130
    finally:
        shutdown_distributed()


def _encode(a: argparse.Namespace) -> int:
    import os

    from explorer.data.load import open_images
    from explorer.data.store import check_name, content_key, spaces_dir
    from explorer.latent.fresh import Images, ToEncode, ensure_encoded
    from explorer.latent.placement import placement
    from explorer.latent.shards import Group, TorchGroup
    from explorer.memory import MemoryWatch
    from explorer.model.checkpoint import load_checkpoint, resolve, weights_hash
    from explorer.training.distributed import init_distributed

    name = check_name(a.name)
    store = Path(a.store) if a.store else spaces_dir() / name
    where = placement(a.device, a.dtype, int(os.environ.get("LOCAL_RANK", "0")))
    folders = [resolve(c) for c in a.checkpoints]
    models = [load_checkpoint(f) for f in folders]
    shape = tuple(models[0].config.image_shape)
    if any(tuple(m.config.image_shape) != shape for m in models):
        raise ValueError("the checkpoints expect images of different shapes")
    todo = [
        ToEncode(m, f.name, weights_hash(f))
        for f, m in zip(folders, models, strict=True)
    ]
    group = TorchGroup() if init_distributed().world_size > 1 else Group()
    with MemoryWatch() as mem:
        images = None
        if group.is_main:  # the others wait for process 0's packing
            ds = open_images(a.dataset, a.split, a.data_dir, shape[1:], shape[0])
            images = Images(ds, name, content_key(ds), f"{a.dataset} ({a.split})")
        steps = ensure_encoded(
            store,
            todo,
            images,
            repack=a.repack,
            batch_size=a.batch_size,
            workers=a.workers,
            progress=not a.no_progress,
            where=where,
            group=group,
        )
    if not group.is_main:
        return 0
    on = f"{where.device} {where.dtype_name}"
    if group.world > 1:
        on += f", {group.world} processes"
    for step in steps:
        what = "pack images" if step.what == "pack" else f"encode {step.name}"
        if step.done:
            rate = step.images / max(step.seconds, 1e-9)
            print(
                f"{what}: {step.images:,} images in {step.seconds:.1f} s "
                f"({rate:,.0f}/s" + ("" if step.what == "pack" else f"; {on}") + ")"
            )
        else:
            print(f"{what}: {step.images:,} images unchanged, reused")
    print(
        f"memory{' of process 0' if group.world > 1 else ''}: peak "
        f"{mem.peak_anon_mb:.0f} MB allocated "
        f"(+{mem.growth_mb:.0f} MB while working), "
        f"peak resident {mem.peak_rss_mb:.0f} MB"
    )
    print(f"wrote {store}")
    return 0


def cmd_explore(a: argparse.Namespace) -> int:
    from explorer.api import explore

    if len(a.model) > 2:
        raise ValueError("explore one or two models (--model at most twice)")
    served = explore(
        *a.model,
        data=a.data,
        split=a.split,
        data_dir=a.data_dir,
        device=a.device,
        dtype=a.dtype,
        value_range=tuple(a.value_range),
        allow_pickle=a.allow_pickle,
        port=a.port,
        address=a.address,
        open_browser=not a.headless,
        progress=not a.no_progress,
    )
    print(f"Latent Explorer: {served.url}  (Ctrl+C stops it)", flush=True)
    try:
        served.wait()
    except KeyboardInterrupt:
        served.stop()
    return 0


def cmd_serve(a: argparse.Namespace) -> int:
    from explorer.data.dataset import DATA_DIR_ENV
    from explorer.data.store import SPACES_ENV
    from explorer.fileio import WEIGHTS_ENV
    from explorer.serve import render, serve

    if a.print_config:
        ports = [8501 + i for i in range(a.workers)]
        if a.port in ports:
            raise ValueError(f"--port {a.port} is a worker's; choose another")
        print(render(ports, f"{a.address}:{a.port}"), end="")
        return 0
    # the workers' page reads these folders from its environment
    folders = {WEIGHTS_ENV: a.weights, DATA_DIR_ENV: a.data_dir, SPACES_ENV: a.stores}
    env = {k: str(Path(v).resolve()) for k, v in folders.items() if v}
    return serve(a.workers, a.port, a.address, env)


def cmd_emoji(a: argparse.Namespace) -> int:
    from explorer.data.emoji import URL, build_emoji

    print(build_emoji(a.out, a.url or URL))
    return 0


def cmd_model_card(a: argparse.Namespace) -> int:
    from explorer.training.modelcard import write_model_card

    root = Path(a.weights) if a.weights else weights_dir()
    path = root / "README.md"
    old = path.read_text() if path.is_file() else None
    text = write_model_card(root, write=not a.check)
    if a.check:
        if text != old:
            print(
                f"{path} is out of date; run: python -m explorer model-card",
                file=sys.stderr,
            )
            return 1
        return 0
    print(f"wrote {path}")
    return 0


COMMANDS = {
    "explore": cmd_explore,
    "serve": cmd_serve,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "encode": cmd_encode,
    "emoji": cmd_emoji,
    "model-card": cmd_model_card,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="latent-explorer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_explore(sub)
    _add_serve(sub)
    _add_train(sub)
    _add_evaluate(sub)
    _add_encode(sub)
    _add_emoji(sub)
    _add_model_card(sub)
    a = parser.parse_args(argv)
    if getattr(a, "threads", None):
        import torch

        torch.set_num_threads(a.threads)
    try:
        return COMMANDS[a.command](a)
    except (
        DatasetError,
        CheckpointError,
        TrainingError,
        StoreError,
        ValueError,
        RuntimeError,
    ) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
