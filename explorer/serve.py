"""``latent-explorer serve``: the page on several processes behind HAProxy,
for a class.

Streamlit keeps each browser session (its state, uploads and media) in the
memory of the process that serves it, so each worker is its own
``streamlit run app.py`` on a local port (Streamlit's documented way to run
``app.py``'s ``st.App``), and HAProxy pins each browser to one worker with a
cookie it inserts (not by client address: a school's browsers share one).
Its health checks take a dead worker out, and ``option redispatch`` sends
that worker's users to a live one, where the link restores their view.

This module runs no Streamlit itself: it starts processes, each in its own
process group, and watches them (``Cluster``). The proxy's configuration is
``TEMPLATE``; ``deploy/haproxy.cfg`` is it filled in for two workers, for a
server of one's own.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from explorer.fileio import atomic_write, cache_dir

TEMPLATE = """\
# Latent Explorer on several processes behind HAProxy (2.4 or newer).
# `latent-explorer serve --workers N` writes this file for its N workers;
# for a server of your own, run one `streamlit run app.py --server.port P`
# per worker and list each below as "server wK 127.0.0.1:P cookie wK".

global
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    # the page's websocket (/_stcore/stream) stays open while a tab is
    timeout tunnel 1h
    timeout http-request 30s
    # a worker that refuses the connection (dead, or restarting): the retry
    # goes at once to another one, whatever the cookie says
    retries 2
    option redispatch 1

frontend explorer
    bind $bind
    default_backend workers

backend workers
    # a session is a websocket held open: the worker with the fewest is freest
    balance leastconn
    # a browser stays on the worker that served it first (Streamlit keeps
    # its session in that process's memory); not affinity by client address
    cookie SERVERID insert indirect nocache httponly
    option httpchk
    http-check send meth GET uri /_stcore/health
    http-check expect string ok
    default-server check inter 1s fall 2 rise 1
    # which worker answered (the cookie says it too)
    http-response set-header X-Latent-Worker %[srv_name]
$servers
"""

HEALTH = "/_stcore/health"
INSTALL = "apt-get install haproxy (Debian, Ubuntu) or brew install haproxy (macOS)"


class ServeError(RuntimeError):
    """The proxy is missing, or a worker or the proxy did not start."""


def render(ports: Sequence[int], bind: str) -> str:
    """The proxy's configuration: listen on ``bind`` ("address:port"), one
    server ``w1``, ``w2``, ... per worker port (its cookie value the same)."""
    servers = "\n".join(
        f"    server w{i} 127.0.0.1:{p} cookie w{i}" for i, p in enumerate(ports, 1)
    )
    return string.Template(TEMPLATE).substitute(bind=bind, servers=servers)


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


# The page's app: ``app.py``'s code (a test keeps the two equal), written
# into the cache when the package was installed from a wheel.
APP_SOURCE = """\
import os

# One PyTorch thread in the server (set before anything imports PyTorch): a
# rerun's decodes are a few rows each, for which the intra-op pool's
# hand-offs cost more than they save; the server's parallelism is its
# sessions, and its processes (latent-explorer serve --workers N).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import streamlit as st  # noqa: E402

from explorer.app.routes import SCRIPT, middleware, routes  # noqa: E402

app = st.App(SCRIPT, routes=routes(), middleware=middleware())
"""


def app_file() -> Path:
    """The page's app: the repository's ``app.py`` beside the package, or
    (installed from a wheel) ``APP_SOURCE`` written into the cache."""
    repo = Path(__file__).resolve().parents[1] / "app.py"
    if repo.is_file():
        return repo
    path = cache_dir() / "serve" / "app.py"
    atomic_write(path, APP_SOURCE.encode())
    return path


def worker_command(port: int) -> list[str]:
    """``streamlit run app.py`` on a loopback ``port``."""
    return [
        sys.executable, "-m", "streamlit", "run", str(app_file()),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--server.fileWatcherType", "none",
        "--server.runOnSave", "false", "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
    ]  # fmt: skip


def answers(url: str) -> bool:
    """Whether ``url`` (a health address) says "ok"."""
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


def _own_group() -> None:
    """In the child: a process group of its own (Ctrl-C reaches the
    supervisor only, which stops each group), ended with its parent."""
    os.setsid()
    try:  # Linux: SIGTERM when the supervisor dies, even by SIGKILL
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _start(cmd: list[str], env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_own_group
    )


def _stop(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """Ends ``proc``'s whole process group: SIGTERM, then SIGKILL."""
    if proc is None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout)
            if sig == signal.SIGTERM:
                os.killpg(proc.pid, signal.SIGKILL)  # what the leader left
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


@dataclass
class Worker:
    name: str  # w1, w2, ...: HAProxy's server name and cookie value
    port: int
    proc: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0  # in a row, each within 10 s of the start before

    @property
    def health(self) -> str:
        return f"http://127.0.0.1:{self.port}{HEALTH}"


@dataclass
class Cluster:
    """N workers and the proxy in front of them.

    ``command(port)`` is a worker's command (``worker_command``; a test
    gives another). ``start`` returns once every worker and the proxy
    answer; ``supervise`` restarts a worker that exits until ``stop``."""

    workers: int
    port: int
    address: str = "127.0.0.1"
    command: Callable[[int], list[str]] = worker_command
    env: dict[str, str] = field(default_factory=dict)
    haproxy: str = "haproxy"
    timeout: float = 120.0
    backoff: float = 1.0  # seconds before a second quick restart; doubles
    say: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True)

    def __post_init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="latent-explorer-serve-"))
        self.pool = [Worker(f"w{i}", free_port()) for i in range(1, self.workers + 1)]
        self.proxy: subprocess.Popen | None = None
        self.running = False

    @property
    def url(self) -> str:
        host = "localhost" if self.address in ("127.0.0.1", "0.0.0.0") else self.address
        return f"http://{host}:{self.port}"

    @property
    def config(self) -> Path:
        return self.folder / "haproxy.cfg"

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def start(self) -> None:
        """Starts the workers and the proxy; waits until they answer.

        Raises:
            ServeError: one did not start (its log's end is in the message).
        """
        self.running = True
        for w in self.pool:
            self._launch(w)
        for w in self.pool:
            self._wait(w.health, w.name, lambda w=w: w.proc)
        self.config.write_text(
            render([w.port for w in self.pool], f"{self.address}:{self.port}")
        )
        cmd = [self.haproxy, "-f", str(self.config), "-db"]
        with open(self.log("haproxy"), "ab") as log:
            self.proxy = _start(cmd, {**os.environ}, log)
        self._wait(f"http://127.0.0.1:{self.port}{HEALTH}", "haproxy", self.proxy)

    def _launch(self, w: Worker) -> None:
        with open(self.log(w.name), "ab") as log:
            w.proc = _start(self.command(w.port), {**os.environ, **self.env}, log)
        w.started = time.monotonic()
        self.say(f"worker {w.name}: pid {w.proc.pid}, port {w.port}")

    def _wait(self, url: str, name: str, proc) -> None:
        deadline = time.monotonic() + self.timeout
        while not answers(url):
            p = proc() if callable(proc) else proc
            if p.poll() is not None or time.monotonic() > deadline:
                tail = self.log(name).read_text(errors="replace")[-2000:]
                raise ServeError(f"{name} did not start ({url}):\n{tail}")
            time.sleep(0.2)

    def poll(self) -> list[Worker]:
        """Restarts each worker that has exited (after a pause that grows
        while it keeps dying at once); returns those restarted."""
        if self.proxy is not None and self.proxy.poll() is not None:
            raise ServeError(f"haproxy exited with code {self.proxy.returncode}")
        back = []
        for w in self.pool:
            if w.proc is None or w.proc.poll() is None or not self.running:
                continue
            code = w.proc.returncode
            quick = time.monotonic() - w.started < 10
            w.restarts = w.restarts + 1 if quick else 0
            self.say(
                f"worker {w.name} (pid {w.proc.pid}) exited with code {code}; "
                "restarting it"
            )
            _stop(w.proc, 1.0)  # what its group left
            if w.restarts > 1:
                time.sleep(min(self.backoff * 2.0 ** (w.restarts - 2), 30.0))
            self._launch(w)
            back.append(w)
        return back

    def supervise(self, every: float = 0.5) -> None:
        """Restarts dead workers until ``stop`` (or a signal) ends it."""
        while self.running:
            self.poll()
            time.sleep(every)

    def stop(self) -> None:
        """Stops the proxy, then every worker (each whole process group)."""
        self.running = False
        _stop(self.proxy)
        for w in self.pool:
            _stop(w.proc)
        shutil.rmtree(self.folder, ignore_errors=True)


def serve(
    workers: int,
    port: int,
    address: str = "127.0.0.1",
    env: dict[str, str] | None = None,
    out=sys.stdout,
) -> int:
    """Runs ``workers`` workers behind HAProxy on ``address:port`` until
    Ctrl-C or SIGTERM; returns the exit code (2: no haproxy, or a start
    failed)."""
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        print(
            f"error: serve needs HAProxy, which is not on PATH; install it: {INSTALL}",
            file=sys.stderr,
        )
        return 2
    if workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    cluster = Cluster(workers, port, address, env=env or {}, haproxy=haproxy)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        cluster.start()
        print(
            f"Latent Explorer: {cluster.url}  ({workers} workers behind HAProxy; "
            "Ctrl+C stops them)",
            file=out,
            flush=True,
        )
        cluster.supervise()
    except KeyboardInterrupt:
        return 0
    except ServeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        cluster.stop()
        signal.signal(signal.SIGTERM, old)
    return 0
