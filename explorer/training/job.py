"""Training a model from the page ("Train a model now"), one job per machine.

A ``Request`` (AE or VAE, β, the latent size, the epochs, how many images of
the open dataset, the name to save it under) is checked by ``validate``;
``start`` runs it in a separate process (``python -m explorer.training.job
<job folder>``: one PyTorch thread, nice'd), which

- holds a file lock (``filelock``, in the trained-models folder) for its
  whole run, so that every server process on the machine sees one job at a
  time; a lock whose process died is free again (the kernel drops it);
- trains into a staging folder beside the trained models, and writes its
  ``status.json`` atomically as it goes (the phase, the epoch and step,
  images/s, when it started, the seconds left, the frames' loss terms so
  far, the epochs' history) and the snapshots' latent means so far
  (``frames.npz``): the page reads only these two files;
- stops within about a step when it is sent SIGTERM or finds a ``cancel``
  file in its job folder, removes its staging folder and frees the lock;
- on success moves the model into the trained-models folder under its name
  (one rename) and keeps that folder under its disk cap, removing the
  oldest models trained in the page first (never anything else).

The trained-models folder is ``EXPLORER_TRAINED_DIR``, else
``<user cache>/trained``; ``EXPLORER_TRAINED_CAP_MB`` is its cap (default
200); ``EXPLORER_TRAINING=off`` switches the feature off. PyTorch is imported
only in the training process.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from explorer.fileio import atomic_write, cache_dir, read_json, weights_dir, write_json
from explorer.problem import Problem

TRAINING_ENV = "EXPLORER_TRAINING"
TRAINED_ENV = "EXPLORER_TRAINED_DIR"
CAP_ENV = "EXPLORER_TRAINED_CAP_MB"
DEFAULT_CAP_MB = 200

LATENT = (2, 16)
EPOCHS = (1, 5)
IMAGES = (100, 10_000)
MAX_BETA = 100.0
HIDDEN = (256, 128)  # a smaller net than the shipped ones': minutes on one thread
BATCH = 128
MIN_HELD_OUT = 500  # images past those trained on, to sample the snapshots from
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # as a store's name

LOCK_FILE = ".training.lock"
JOBS = ".jobs"  # one folder per job: request, status, frames, log
STAGING = ".staging"  # a job's model until it is saved
CURRENT = "current.json"  # (in JOBS) the job that holds the lock
STATUS_FILE = "status.json"
FRAMES_FILE = "frames.npz"
REQUEST_FILE = "request.json"
CANCEL_FILE = "cancel"
MADE_FILE = "made-in-page.json"  # marks a model this feature saved
RUNNING = ("starting", "training", "saving")
ENDED = ("done", "cancelled", "failed", "busy")
LOCK_WAIT = 5.0  # seconds a new job waits for the lock of one that is ending
STATUS_EVERY = 0.5  # seconds between status writes within an epoch


class JobError(Problem, ValueError):
    """A training request that cannot run (checked before anything starts)."""

    MESSAGES = {
        "off": "training in the page is switched off on this server "
        f"({TRAINING_ENV}=off)",
        "busy": "a model ({name}) is being trained on this machine already; one "
        "at a time",
        "name": "{name} is not a valid model name: 1 to 64 letters, digits, '.', "
        "'_' or '-', starting with a letter or digit",
        "name_exists": "a model named {name} exists already; choose another name",
        "model_type": "the model is an ae or a vae, not {kind}",
        "beta": "β must be a number from 0 to {most}, not {beta}",
        "latent": "the latent size must be from {lo} to {hi}, not {n}",
        "epochs": "the epochs must be from {lo} to {hi}, not {n}",
        "images": "the images must be from {lo} to {hi}, not {n}",
        "too_small": "{dataset}/{split} has {have} images, fewer than the {n} "
        "asked for",
    }


# --- where, and whether -----------------------------------------------------------


def enabled() -> bool:
    """Whether this server trains in the page (``EXPLORER_TRAINING`` not off)."""
    value = os.environ.get(TRAINING_ENV, "on").strip().lower()
    return value not in ("off", "0", "false", "no")


def trained_dir() -> Path:
    """The models trained in the page: ``EXPLORER_TRAINED_DIR``, else the
    user cache's ``trained`` folder (every user of the server sees them)."""
    return Path(os.environ.get(TRAINED_ENV) or cache_dir() / "trained")


def cap_bytes() -> int:
    """The trained-models folder's disk cap (``EXPLORER_TRAINED_CAP_MB``)."""
    try:
        mb = float(os.environ.get(CAP_ENV) or DEFAULT_CAP_MB)
    except ValueError:
        mb = DEFAULT_CAP_MB
    return int(mb * 2**20)


# --- the request -----------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What to train.

    Attributes:
        model_type: ``ae`` or ``vae``.
        beta: the KL term's weight (a VAE's; 0 for an AE).
        latent_dim: the latent size, ``LATENT``.
        epochs: passes over the images, ``EPOCHS``.
        images: how many images of ``dataset``'s ``split`` to train on
            (the first ones), ``IMAGES``.
        name: the folder the model is saved as (valid as a checkpoint name).
        dataset: a built-in dataset.
        split: the split trained on.
        held_out: the split whose sample the snapshots encode, or None (the
            images held out of ``split`` for validation).
        available: how many images ``split`` has (for the check).
    """

    model_type: str
    beta: float
    latent_dim: int
    epochs: int
    images: int
    name: str
    dataset: str
    split: str
    held_out: str | None = None
    available: int | None = None


def _in_range(n: object, lo: int, hi: int) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and lo <= n <= hi


def name_taken(name: str) -> bool:
    """Whether a checkpoint (shipped or trained here) or a job has ``name``."""
    return any(
        (d / name).exists()
        for d in (weights_dir(), trained_dir(), trained_dir() / STAGING)
    )


def validate(req: Request) -> Request:
    """``req``, if it can run now.

    Raises:
        JobError: the feature is off, the name is invalid or taken, a number
            is out of range, the split has fewer images than asked for, or a
            job runs already (codes ``off``, ``name``, ``name_exists``,
            ``model_type``, ``beta``, ``latent``, ``epochs``, ``images``,
            ``too_small``, ``busy``).
    """
    if not enabled():
        raise JobError("off")
    if not NAME.match(req.name or ""):
        raise JobError("name", name=req.name)
    if req.model_type not in ("ae", "vae"):
        raise JobError("model_type", kind=req.model_type)
    beta = req.beta
    if not (isinstance(beta, int | float) and math.isfinite(beta)):
        raise JobError("beta", beta=beta, most=MAX_BETA)
    if not 0 <= beta <= MAX_BETA:
        raise JobError("beta", beta=beta, most=MAX_BETA)
    if not _in_range(req.latent_dim, *LATENT):
        raise JobError("latent", n=req.latent_dim, lo=LATENT[0], hi=LATENT[1])
    if not _in_range(req.epochs, *EPOCHS):
        raise JobError("epochs", n=req.epochs, lo=EPOCHS[0], hi=EPOCHS[1])
    if not _in_range(req.images, *IMAGES):
        raise JobError("images", n=req.images, lo=IMAGES[0], hi=IMAGES[1])
    if req.available is not None and req.available < req.images:
        raise JobError(
            "too_small",
            dataset=req.dataset,
            split=req.split,
            have=req.available,
            n=req.images,
        )
    if name_taken(req.name):
        raise JobError("name_exists", name=req.name)
    running = current()
    if running is not None:
        raise JobError("busy", name=running.get("name", "?"))
    return req


# --- the lock and the jobs ----------------------------------------------------------


def _lock(root: Path):
    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    return FileLock(root / LOCK_FILE, timeout=0)


def locked(root: Path | None = None) -> bool:
    """Whether a process holds the training lock now."""
    from filelock import Timeout

    lock = _lock(root or trained_dir())
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def job_dir(job: str, root: Path | None = None) -> Path:
    return (root or trained_dir()) / JOBS / job


def status(job: str) -> dict | None:
    """The job's last status (see the module's docstring), or None."""
    return read_json(job_dir(job) / STATUS_FILE)


def current() -> dict | None:
    """The status of the job that holds the lock, or None when none runs."""
    root = trained_dir()
    if not locked(root):
        return None
    pointer = read_json(root / JOBS / CURRENT) or {}
    found = status(str(pointer.get("id", ""))) if pointer.get("id") else None
    if found is not None and found.get("phase") in ENDED:
        return None  # (its process frees the lock now; a new one waits for it)
    return found or {"name": pointer.get("name", "?"), "phase": "starting"}


def seconds_left(s: dict) -> float | None:
    """The job's seconds left, counted on from its last status."""
    eta = s.get("eta_s")
    if eta is None:
        return None
    return max(0.0, float(eta) - (time.time() - float(s.get("updated", time.time()))))


def start(req: Request) -> str:
    """Starts ``req`` (checked again) in a training process; its job id.

    Raises:
        JobError: see ``validate``.
    """
    validate(req)
    tidy()
    job = uuid.uuid4().hex[:12]
    folder = job_dir(job)
    folder.mkdir(parents=True)
    write_json(folder / REQUEST_FILE, asdict(req))
    write_json(folder / STATUS_FILE, _status_record(job, req, "starting", pid=None))
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with open(folder / "log.txt", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "explorer.training.job", str(folder)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # (a server's Ctrl-C is not the job's)
        )
    _PROCESSES[job] = proc
    threading.Thread(target=proc.wait, daemon=True).start()  # (no zombie)
    first = status(job) or {}
    if first.get("phase") == "starting" and first.get("pid") is None:
        write_json(folder / STATUS_FILE, {**first, "pid": proc.pid})
    return job


KEEP_JOBS_S = 3600  # an ended job's folder (status, frames, log) stays this long


def tidy(root: Path | None = None) -> None:
    """Removes the folders of jobs that ended more than ``KEEP_JOBS_S`` ago."""
    jobs = (root or trained_dir()) / JOBS
    if not jobs.is_dir():
        return
    for folder in jobs.iterdir():
        s = read_json(folder / STATUS_FILE) if folder.is_dir() else None
        if s is None or s.get("phase") in RUNNING and alive(s.get("pid")):
            continue
        if time.time() - float(s.get("updated", 0)) > KEEP_JOBS_S:
            shutil.rmtree(folder, ignore_errors=True)


_PROCESSES: dict[str, subprocess.Popen] = {}  # the jobs this process started


def wait(job: str, timeout: float | None = None) -> int | None:
    """Waits for the training process of a job this process started to end;
    its exit status (None: not started here).

    Raises:
        subprocess.TimeoutExpired: it still runs after ``timeout`` seconds.
    """
    proc = _PROCESSES.get(job)
    return None if proc is None else proc.wait(timeout)


def cancel(job: str) -> None:
    """Asks the job to stop: a ``cancel`` file, and SIGTERM to its process."""
    folder = job_dir(job)
    if not folder.is_dir():
        return
    (folder / CANCEL_FILE).touch()
    pid = (status(job) or {}).get("pid")
    if isinstance(pid, int) and pid > 0:
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass


def alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs (not a zombie)."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def frames(job: str) -> dict | None:
    """The job's snapshot frames so far: ``means`` ``[S, N, D]``, ``labels``
    ``[N]`` (or absent), ``epoch`` ``[S]``; None before the first."""
    path = job_dir(job) / FRAMES_FILE
    try:
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError):
        return None


# --- the trained models and their cap ----------------------------------------------


def made_in_page(root: Path | None = None) -> list[Path]:
    """The models this feature saved, oldest first."""
    root = root or trained_dir()
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        record = read_json(p / MADE_FILE) if p.is_dir() else None
        if record is not None:
            found.append((float(record.get("saved", 0)), p.name, p))
    return [p for *_, p in sorted(found)]


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def evict(keep: Path, root: Path | None = None) -> list[str]:
    """Removes the oldest in-page models until the folder is under its cap
    (``keep``, the newest, stays); the names removed."""
    models = made_in_page(root)
    sizes = {p: _size(p) for p in models}
    total, cap, gone = sum(sizes.values()), cap_bytes(), []
    for p in models:
        if total <= cap:
            break
        if p == keep:
            continue
        shutil.rmtree(p, ignore_errors=True)
        total -= sizes[p]
        gone.append(p.name)
    return gone


# --- the training process -------------------------------------------------------------


def _status_record(job: str, req: Request, phase: str, **more) -> dict:
    now = time.time()
    return {
        "id": job,
        "name": req.name,
        "model_type": req.model_type,
        "phase": phase,
        "epochs": req.epochs,
        "started": now,
        "updated": now,
        **more,
    }


class Cancelled(Exception):
    """The job was asked to stop."""


_STOP = threading.Event()  # set by SIGTERM (``main``)


class Watch:
    """The training process's eyes: counts the steps (a forward pre-hook on
    the model in training mode), stops the run when asked, and writes the
    status and the frames."""

    def __init__(self, job: str, folder: Path, req: Request, staging: Path) -> None:
        self.job, self.folder, self.req, self.staging = job, folder, req, staging
        self.steps = self.images = 0
        self.steps_total = 1
        self.started = time.time()
        self.last_write = 0.0
        self.curves: list[dict] = []
        self.means: list = []
        self.labels = None
        self.history: list[dict] = []  # the epochs' rows (training.json)
        self._first_step: float | None = None
        self._batch = 0

    def asked_to_stop(self) -> bool:
        return _STOP.is_set() or (self.folder / CANCEL_FILE).exists()

    def pre_forward(self, model, args) -> None:
        if not model.training:  # (validation and snapshots encode in eval mode)
            return
        if self.asked_to_stop():
            raise Cancelled
        if self._first_step is None:
            self._first_step = time.perf_counter()
        else:  # (the images of the step before, done now)
            self.images += self._batch
        self._batch = int(args[0].shape[0])
        self.steps += 1
        if time.time() - self.last_write > STATUS_EVERY:
            self.write("training")

    def on_snapshot(self, frame) -> None:
        self.means.append(frame.means.numpy())
        kl = float(frame.kl)
        self.curves.append(
            {
                "step": frame.step,
                "epoch": float(frame.epoch),
                "recon": float(frame.recon),
                "kl": kl,
                "loss": float(frame.recon) + self.req.beta * kl,
            }
        )
        arrays = {
            "means": np.stack(self.means).astype(np.float32),
            "epoch": np.array([c["epoch"] for c in self.curves], np.float32),
        }
        if self.labels is not None:
            arrays["labels"] = self.labels
        atomic_write(self.folder / FRAMES_FILE, _npz(arrays))
        self.write("training")

    def last_step_done(self) -> None:
        """The training ended: its last step's images count too."""
        self.images += self._batch
        self._batch = 0

    def seconds(self) -> float:
        """Since the first step began (snapshots and validation included)."""
        if self._first_step is None:
            return 0.0
        return time.perf_counter() - self._first_step

    def rate(self) -> float | None:
        """Images per second trained, as a user waits for them."""
        return self.images / self.seconds() if self.images else None

    def write(self, phase: str, **more) -> None:
        self.last_write = time.time()
        done = self.steps - 1  # (steps finished)
        per_step = self.seconds() / done if done > 0 else None
        left = max(self.steps_total - self.steps, 0)
        record = read_json(self.staging / "training.json") or {}
        self.history = (record.get("state") or {}).get("history") or self.history
        record = _status_record(
            self.job,
            self.req,
            phase,
            pid=os.getpid(),
            started=self.started,
            step=self.steps,
            steps=self.steps_total,
            epoch=self.steps / max(self.steps_total, 1) * self.req.epochs,
            images_per_s=self.rate(),
            eta_s=None if per_step is None else left * per_step,
            curves=self.curves,
            history=self.history,
            **more,
        )
        write_json(self.folder / STATUS_FILE, record)


def _npz(arrays: dict) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _data(req: Request):
    """The training split and the held-out images the snapshots sample: the
    held-out split, else the split's images past the ``req.images`` trained
    on (when there are ``MIN_HELD_OUT`` of them), else None (the validation
    images)."""
    from explorer.data.load import load_dataset

    ds = load_dataset(req.dataset, req.split, download=False)
    if req.held_out and req.held_out != req.split:
        return ds, load_dataset(req.dataset, req.held_out, download=False)
    if len(ds) - req.images < MIN_HELD_OUT:
        return ds, None
    rest = ds.subset(np.arange(req.images, len(ds)), f"{req.split}[{req.images}:]")
    return ds, rest


def train_job(folder: Path, root: Path | None = None) -> dict:
    """Runs the job in ``folder`` in this process (``main`` nices it and takes
    the lock first); its last status."""
    import torch

    from explorer.model.config import ModelConfig
    from explorer.training.config import TrainConfig, split_validation
    from explorer.training.snapshots import sample_indices
    from explorer.training.train import train

    root = root or folder.parent.parent
    req = Request(**(read_json(folder / REQUEST_FILE) or {}))
    job = folder.name
    staging = root / STAGING / req.name
    watch = Watch(job, folder, req, staging)
    watch.write("starting")
    torch.set_num_threads(1)
    try:
        ds, held = _data(req)
        cfg = ModelConfig(
            model_type=req.model_type,
            latent_dim=req.latent_dim,
            image_shape=tuple(ds.images.shape[1:]),
            hidden=HIDDEN,
            beta=req.beta if req.model_type == "vae" else 1.0,
            dataset=req.dataset,
            class_names=ds.class_names,
            num_classes=max(len(ds.class_names), 1),
        )
        tc = TrainConfig(
            dataset=req.dataset,
            train_split=req.split,
            eval_split=req.held_out or req.split,
            epochs=req.epochs,
            batch_size=BATCH,
            limit=req.images,
        )
        n_train = req.images - int(round(tc.val_fraction * req.images))
        watch.steps_total = math.ceil(n_train / BATCH) * req.epochs
        watch.labels = _sample_labels(ds, held, tc, sample_indices, split_validation)
        shutil.rmtree(staging, ignore_errors=True)
        hook = _hooked(watch)
        try:
            train(
                cfg, tc, staging, dataset=ds, progress=False, verbose=False,
                workers=0, held_out=held, on_snapshot=watch.on_snapshot,
            )  # fmt: skip
        finally:
            hook.remove()
        watch.last_step_done()
        watch.write("saving")
        return _save(watch, staging, root)
    except Cancelled:
        shutil.rmtree(staging, ignore_errors=True)
        watch.write("cancelled")
    except Exception as e:  # noqa: BLE001 - the page shows why it failed
        shutil.rmtree(staging, ignore_errors=True)
        watch.write("failed", error=f"{type(e).__name__}: {e}")
    return status(job) or {}


def _sample_labels(ds, held, tc, sample_indices, split_validation):
    """The labels of the snapshots' sample (as ``train.recorder`` draws it)."""
    if held is not None:
        pool = np.arange(len(held))
        labels = held.labels
    else:
        n = min(tc.limit or len(ds), len(ds))
        pool = split_validation(n, tc.val_fraction, tc.seed)[1]
        labels = ds.labels
    if labels is None or len(pool) == 0:
        return None
    return np.asarray(labels)[pool[sample_indices(len(pool), tc.seed)]]


def _hooked(watch: Watch):
    """Counts every training step of every model built from now on (the
    trainer builds its own), through a forward pre-hook."""
    import torch

    return torch.nn.modules.module.register_module_forward_pre_hook(
        lambda module, args: watch.pre_forward(module, args) if _top(module) else None
    )


def _top(module) -> bool:
    from explorer.model.autoencoder import Autoencoder

    return isinstance(module, Autoencoder)


def _save(watch: Watch, staging: Path, root: Path) -> dict:
    """Moves the staged model into ``root`` under its name (one rename) and
    keeps the folder under its cap."""
    from explorer.training.resume import STATE_FILE

    req = watch.req
    write_json(staging / MADE_FILE, {"saved": time.time(), "request": asdict(req)})
    (staging / STATE_FILE).unlink(missing_ok=True)  # (no resume: weights only)
    final = root / req.name
    if final.exists():
        shutil.rmtree(staging, ignore_errors=True)
        watch.write("failed", error_code="name_exists")
        return status(watch.job) or {}
    os.replace(staging, final)
    evicted = evict(final, root)
    watch.write("done", path=str(final), evicted=evicted)
    return status(watch.job) or {}


def run(folder: Path) -> int:
    """The training process: the lock for the whole run, SIGTERM as a
    cancel, then ``train_job``; an exit status."""
    from filelock import Timeout

    root = folder.parent.parent
    lock = _lock(root)
    try:
        lock.acquire(timeout=LOCK_WAIT)
    except Timeout:
        req = Request(**(read_json(folder / REQUEST_FILE) or {}))
        Watch(folder.name, folder, req, root / STAGING / req.name).write("busy")
        return 1
    try:
        shutil.rmtree(root / STAGING, ignore_errors=True)  # (a killed job's)
        req = read_json(folder / REQUEST_FILE) or {}
        write_json(root / JOBS / CURRENT, {"id": folder.name, "name": req.get("name")})
        end = train_job(folder, root)
    finally:
        lock.release()
    return 0 if end.get("phase") == "done" else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]).resolve()
    try:
        os.nice(10)
    except OSError:
        pass

    signal.signal(signal.SIGTERM, lambda signum, frame: _STOP.set())
    code = run(folder)
    sys.stdout.flush()
    sys.stderr.flush()
    # Every file is written (atomically) and the lock is free: no need to wait
    # for the interpreter to tear PyTorch down (a second on a busy machine).
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
