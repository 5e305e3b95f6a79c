"""Drive the app in a real Chromium: start the server, find things, click.

Used by the browser tests and the benchmark; needs Playwright (the test extra)
and a Chromium (Debian: apt-get install chromium).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("EXPLORER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Ports for the servers the tests start. Not the kernel's ephemeral range:
# a port found free there by binding port 0 and closing could be handed to
# any other socket (another test process's, a browser's connection) before
# the server binds it. Below that range only explicit binders take a port,
# and each pytest-xdist worker ("gw0", "gw1", ...) hands out ports of its own
# band, in turn, so no two of the suite's servers can ever pick the same one.
PORT_BASE, PORT_BAND = 20_000, 500
_next_port = 0


def _worker() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name[2:]) if name[2:].isdigit() else 0


def free_port() -> int:
    """A loopback port no socket holds now, from this process's band (the
    next one in turn), below the kernel's ephemeral ports."""
    global _next_port
    low = PORT_BASE + _worker() * PORT_BAND
    try:
        ephemeral = int(
            Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]
        )
    except (OSError, ValueError, IndexError):
        ephemeral = 32_768
    if low + PORT_BAND > ephemeral:
        raise RuntimeError(
            f"worker {_worker()}'s ports would reach the ephemeral range"
        )
    for _ in range(PORT_BAND):
        port = low + _next_port % PORT_BAND
        _next_port += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # held by a socket of another program
        return port
    raise RuntimeError(f"no free port in {low}..{low + PORT_BAND - 1}")


@contextmanager
def streamlit_server(
    env: dict | None = None, timeout: float = 60.0, app: Path | None = None
):
    """Runs ``streamlit run app.py`` (or ``app``) on a free loopback port;
    yields its URL."""
    with streamlit_process(env, timeout, app) as (url, _):
        yield url


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB."""
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


@contextmanager
def streamlit_process(
    env: dict | None = None, timeout: float = 60.0, app: Path | None = None
):
    """Runs ``streamlit run app.py`` (or ``app``, such as the benchmark's
    classic page) on a free loopback port; yields its URL and the server
    process."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app or REPO / "app.py"),
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", "--global.developmentMode", "false",
    ]  # fmt: skip
    # The server's output goes to a file, not a pipe: nobody reads a pipe while
    # the server runs, and a chatty server would block once it filled up.
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(
        cmd, cwd=REPO, env={**os.environ, **(env or {})},
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"streamlit did not start:\n{log.read()}")
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def launch(playwright):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"no Chromium at {CHROMIUM}: apt-get install -y chromium "
            "(or set EXPLORER_CHROMIUM)"
        )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def user_page(playwright, url: str, errors: list, timeout: float = 240_000):
    """One user of a benchmark: a Chromium of its own with a 1300x1100 page,
    whose page errors are appended to ``errors``, opened on ``url``.
    Returns the browser, the page and its left map."""
    browser = launch(playwright)
    page = browser.new_page(viewport={"width": 1300, "height": 1100})
    page.on("pageerror", lambda e: errors.append(f"page: {e}"))
    left, _ = open_app(page, url, timeout=timeout)
    return browser, page, left


def _event_ids(payload: bytes) -> frozenset:
    """The ids of the view's events a rerun request carries (its widgets'
    JSON trigger values hold each event as ``{"id": N, ...}``)."""
    return frozenset(int(i) for i in re.findall(rb'"id":(\d+)', payload))


class Frame(NamedTuple):
    """A received websocket frame: its socket (the page's key for it, which
    the page's clock tags onto the socket's address; None when the page has
    no clock) and its index among that socket's frames."""

    socket: str | None
    index: int


def _socket_key(url: str) -> str | None:
    """The page clock's key for the websocket at ``url`` (its ``lx`` query
    parameter), or None."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return query.get("lx", [None])[0]


class Runs:
    """A page's script runs, as its websocket carries them: each rerun the
    page asks for (a ``rerun_script`` BackMsg), each run's start (Streamlit's
    ``new_session``) and end (``script_finished``), numbered in the order the
    page sent and received them. A run stopped early for a rerun does not
    count as ended: the rerun follows it. A fragment's run (an explore
    session's selection watch reruns every second) is not the page's run: it
    neither answers an action nor counts, asked, started or ended. But a
    fragment's rerun asked for while the page's run is going runs on at the
    end of that run, and Streamlit then ends both with one
    ``script_finished``, marked as the fragment's: any end while the page's
    run is going ends it."""

    def __init__(self) -> None:
        self.n = 0
        self.asked = self.started = self.ended = 0
        self.runs = 0  # runs ended, in all
        self.per_socket: dict[str | None, int] = {}  # frames received, by socket
        self.asks: list[tuple[int, frozenset]] = []  # (n, the event ids it carries)
        self.starts: list[int] = []  # n of each run's start
        self.ends: list[tuple[int, Frame]] = []  # (n, the frame that ended it)

    @staticmethod
    def _message(cls, payload):
        """A websocket frame as Streamlit's message ``cls``, or None (a text
        frame, or bytes that are not one)."""
        from google.protobuf.message import DecodeError

        if isinstance(payload, str):
            return None
        msg = cls()
        try:
            msg.ParseFromString(payload)
        except DecodeError:
            return None
        return msg

    def sent(self, payload) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = self._message(BackMsg, payload)
        if (
            msg is not None
            and msg.WhichOneof("type") == "rerun_script"
            and not msg.rerun_script.fragment_id
        ):
            self.n += 1
            self.asked = self.n
            self.asks.append((self.n, _event_ids(payload)))

    def received(self, payload, socket: str | None = None) -> None:
        """A frame the page received on ``socket`` (``Frame.socket``)."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        frame = Frame(socket, self.per_socket.get(socket, 0))
        self.per_socket[socket] = frame.index + 1
        msg = self._message(ForwardMsg, payload)
        if msg is None:
            return
        kind = msg.WhichOneof("type")
        if kind == "new_session" and not msg.metadata.run.fragment_ids:
            self.n += 1
            self.started = self.n
            self.starts.append(self.n)
        elif (
            kind == "script_finished"
            and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
            and self.started > self.ended  # the page's run is going
        ):
            self.n += 1
            self.ended = self.n
            self.runs += 1
            self.ends.append((self.n, frame))

    def end_of(self, event_id) -> Frame | None:
        """The received frame that ended the run answering the
        view's event ``event_id`` (None until it has come): the first run to
        start after the rerun request carrying that event, and end. A rerun
        asked for anything else, before or after, is not this one."""
        event_id = int(event_id)
        asked = next((n for n, ids in self.asks if event_id in ids), None)
        if asked is None:
            return None
        start = next((n for n in self.starts if n > asked), None)
        if start is None:
            return None
        return next((frame for n, frame in self.ends if n > start), None)

    @property
    def frames(self) -> int:
        """Websocket frames received, of every kind, on every socket."""
        return sum(self.per_socket.values())

    @property
    def last_end(self) -> Frame | None:
        """The frame that ended the last run to end, if any."""
        return self.ends[-1][1] if self.ends else None

    def mark(self) -> int:
        """Where the page is now: ``settled(since=mark)`` then waits for a
        run asked for after this."""
        return self.n

    def settled(self, since: int | None = None) -> bool:
        """Every run the page asked for has started and ended (with ``since``:
        and one was asked for after that mark)."""
        if since is not None and self.asked <= since:
            return False
        return self.ended > self.started > self.asked


# The page's own clock (an init script, so it is in place before Streamlit
# opens its socket), in milliseconds since the Unix epoch. Each websocket
# the page opens gets a key (the document's random id and the socket's
# number in it), tagged onto its address as ``lx=<key>`` (the server ignores
# it) so that Playwright's frames (``Runs``, ``Frame``) and the page's are
# the same frames, across navigations and reconnections. For each socket,
# ``__lxSockets[key]`` holds:
# - ``times``: when each frame's message event reached the page's script;
# - ``paints``: for each frame, when the next frame of the page had been
#   painted (a task after that frame's animation frame), and whether the
#   page then showed itself running (the app root's
#   ``data-test-script-state``, which React commits once Streamlit has
#   handled a run's ``script_finished``, after every element the run sent).
# And for the document:
# - ``__lxIdle``: each time the page came to show itself not running: when
#   the DOM said so, and when the frame that shows it had been painted;
# - ``__lxPress``: the last press, by the mousedown event's own time stamp.
_CLOCK = """(() => {
    if (window.__lxSockets || !window.WebSocket) return;
    const now = () => performance.timeOrigin + performance.now();
    const state = "data-test-script-state";
    const shown = () => {
        const app = document.querySelector("[data-testid='stApp']");
        return app ? app.getAttribute(state) : null;
    };
    const painted = (done) => requestAnimationFrame(() => setTimeout(done, 0));
    const doc = Math.random().toString(36).slice(2);
    let opened = 0;
    const sockets = window.__lxSockets = {}, idle = window.__lxIdle = [];
    const Base = window.WebSocket;
    window.WebSocket = class extends Base {
        constructor(url, ...rest) {
            const key = `${doc}.${opened++}`, tagged = new URL(url, location.href);
            tagged.searchParams.set("lx", key);
            super(tagged.href, ...rest);
            const s = sockets[key] = { times: [], paints: [] };
            this.addEventListener("message", () => {
                const i = s.times.length;
                s.times.push(now());
                painted(() => { s.paints[i] = { at: now(), state: shown() }; });
            });
        }
    };
    new MutationObserver((records) => {
        for (const r of records) {
            if (r.target.getAttribute(state) !== "notRunning") continue;
            const at = { committed: now(), painted: null };
            idle.push(at);
            painted(() => { at.painted = now(); });
        }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: [state] });
    addEventListener("mousedown",
        (e) => { window.__lxPress = performance.timeOrigin + e.timeStamp; }, true);
})()"""


def watch(page) -> Runs:
    """The page's ``Runs``, recorded from now on (call before ``goto``),
    with the page's clock of its frames and presses (``frame_time``,
    ``drawn_after``, ``pressed_at``)."""
    runs = getattr(page, "_latent_runs", None)
    if runs is None:
        runs = Runs()
        page._latent_runs = runs
        page.add_init_script(_CLOCK)

        def on_socket(ws) -> None:
            key = _socket_key(ws.url)
            ws.on("framesent", runs.sent)
            ws.on("framereceived", lambda payload: runs.received(payload, key))

        page.on("websocket", on_socket)
    return runs


def frame_time(page, frame: Frame) -> float:
    """Milliseconds (the page's clock) at which received ``frame`` reached
    the page's script."""
    t = page.evaluate(
        "([k, i]) => window.__lxSockets?.[k]?.times[i] ?? null", list(frame)
    )
    if t is None:
        raise AssertionError(f"the page has no time for {frame}")
    return float(t)


def drawn_after(page, frame: Frame, timeout: float = 60_000) -> float:
    """Milliseconds (the page's clock) by which the page had drawn what
    received ``frame`` ended (say, a run's ``script_finished``: the run's
    elements and the page no longer running): the paint that followed that
    frame, if the page then showed itself not running; else the paint after
    the page came to show that (React committed it later). Waits for that
    paint."""
    handle = page.wait_for_function(
        """([k, i]) => {
            const s = window.__lxSockets[k], p = s && s.paints[i];
            if (!p) return null;
            if (p.state !== "running") return p.at;
            const a = window.__lxIdle.find((x) => x.committed >= s.times[i]);
            return a && a.painted;
        }""",
        arg=list(frame),
        timeout=timeout,
    )
    return float(handle.json_value())


# Whether the page shows what the run that ended with frame ``[k, i]`` sent:
# the page has handled that frame, shows itself not running, and each of its
# components-v2 elements has drawn every data it was given (the loader's
# ``data-lx-given`` and ``data-lx-drawn``, explorer/app/components/view.py).
_DRAWN = """([k, i]) => {
    const s = window.__lxSockets && window.__lxSockets[k];
    if (!s || s.times.length <= i) return false;
    const app = document.querySelector("[data-testid='stApp']");
    if (!app || app.getAttribute("data-test-script-state") === "running") return false;
    return [...document.querySelectorAll("[data-lx-given]")]
        .every((h) => h.dataset.lxGiven === h.dataset.lxDrawn);
}"""


def page_drawn(page, frame: Frame | None) -> bool:
    """Whether the page shows what the run that ended with ``frame`` sent
    (``_DRAWN``). Without the page's clock (``frame.socket`` None: the page
    was opened before ``watch``), only the frame's arrival is known: True.
    False while the page navigates."""
    from playwright.sync_api import Error

    if frame is None or frame.socket is None:
        return frame is not None
    try:
        return bool(page.evaluate(_DRAWN, list(frame)))
    except Error:  # the document went away under the call
        return False


def pressed_at(page) -> float:
    """Milliseconds (the page's clock, Unix epoch) of the page's last press,
    as the browser stamped its mousedown event."""
    t = page.evaluate("() => window.__lxPress ?? null")
    if t is None:
        raise AssertionError("no press recorded on this page")
    return float(t)


def wait_single_click(page, frame, timeout: float = 10_000) -> None:
    """Waits until a press on ``frame``'s map would be a click of its own, as
    a person's next click on another point is: plotly takes a press within
    its double-click delay of the last press (300 ms unless configured) as a
    double click, which resets the axes and redraws the map."""
    delay = frame.evaluate(
        "() => document.getElementById('map')._context.doubleClickDelay"
    )
    page.wait_for_function(
        "(ms) => !window.__lxPress"
        " || performance.timeOrigin + performance.now() - window.__lxPress > ms",
        arg=float(delay),
        timeout=timeout,
    )


def mark(page) -> int:
    """A mark before an action, for ``wait_idle(page, since=mark)``."""
    return watch(page).mark()


def wait_idle(page, timeout: float = 60_000, since: int | None = None) -> None:
    """Waits until every script run the page asked for has ended, by the
    server's own messages (``Runs``), and the page shows what the last run
    sent (``page_drawn``: the run handled, the page not running, the view's
    maps drawn with its data). After an action, pass ``since`` (its
    ``mark``): the wait then also needs a run asked for after the action,
    so it cannot return before the action's rerun has begun. Polls (each
    poll lets Playwright deliver the websocket's frames) until ``timeout``
    milliseconds."""
    runs = watch(page)
    deadline = time.monotonic() + timeout / 1000
    while not (runs.settled(since) and page_drawn(page, runs.last_end)):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"script runs not settled and drawn after {timeout / 1000:.0f} s "
                f"(asked {runs.asked}, started {runs.started}, ended {runs.ended}"
                f", mark {since}; the last run's end drawn: "
                f"{page_drawn(page, runs.last_end)})"
            )
        page.wait_for_timeout(10)


def act(page, action, timeout: float = 60_000):
    """Does ``action()`` and waits until the rerun it asked for has ended;
    returns what the action returned."""
    since = mark(page)
    out = action()
    wait_idle(page, timeout, since)
    return out


# The instant design (explorer/app/components/view.py) draws both maps in one
# element of the page; the classic one (``benchmarks/classic``, the
# benchmark's baseline) in an iframe per map. ``MapRef`` gives a map of the
# view the part of Playwright's Frame API these helpers and the tests use on
# a classic map's iframe, so each works on both: its ``evaluate`` runs in the
# page with ``document`` scoped to that map (``#map`` is its plot, ``#marks``
# its marks, ``#density`` its density layer), and its coordinates are the
# page's own.
VIEW = ".lx-root[data-ready='1']"
_IDS = {
    "#map": ".lx-plot",
    "#marks": ".lx-marks",
    "#density": ".lx-density",
    "#img": "canvas",
}


def _scoped(selector: str) -> str:
    for old, new in _IDS.items():
        selector = selector.replace(old, new)
    return selector


_SCOPE = """([root, sliders, arg]) => {
    const el = window.document.querySelector(root);
    const scope = (s) => s.replace(/#map\\b/g, ".lx-plot")
        .replace(/#marks\\b/g, ".lx-marks").replace(/#density\\b/g, ".lx-density");
    const slot = el.dataset.lxSlot;
    const within = sliders ? window.document.querySelector(sliders) : el;
    const view = Object.values(window.latentExplorer.views)
        .find((v) => v.maps.has(slot));
    const strip = `.lx-decoded[data-lx-slot="${slot}"] canvas`;
    const canvas = window.document.querySelector(strip);
    const document = {
        getElementById: (id) =>
            id === "img" ? canvas : el.querySelector(scope("#" + id)),
        querySelector: (s) => within.querySelector(scope(s)),
        querySelectorAll: (s) => el.querySelectorAll(scope(s)),
    };
    const window_ = { liveStats: view.decoded.get(slot).stats };
    return ((window) => (%s))(window_)(arg);
}"""


class _Origin:
    def bounding_box(self):
        return {"x": 0.0, "y": 0.0, "width": 0.0, "height": 0.0}


class MapRef:
    """One map of the instant view (``slot`` "left" or "right"); with
    ``sliders``, that model's sliders and decoded image instead (what a
    classic live-decoder iframe held)."""

    def __init__(self, page, slot: str, sliders: bool = False):
        self.page, self.slot, self.sliders = page, slot, sliders
        self.root = f".lx-map[data-lx-slot='{slot}']"
        self.within = f".lx-sliders[data-lx-slot='{slot}']" if sliders else self.root

    def evaluate(self, js: str, arg=None):
        return self.page.evaluate(
            _SCOPE.replace("%s", js),
            [self.root, self.within if self.sliders else None, arg],
        )

    def locator(self, selector: str):
        return self.page.locator(self.within).locator(_scoped(selector))

    def wait_for_selector(self, selector: str, **kw):
        return self.page.wait_for_selector(f"{self.within} {_scoped(selector)}", **kw)

    def wait_for_function(self, js: str, arg=None, **kw):
        deadline = time.monotonic() + kw.get("timeout", 30_000) / 1000
        while not self.evaluate(js, arg):
            if time.monotonic() > deadline:
                raise AssertionError(f"{js} still false")
            self.page.wait_for_timeout(5)

    def frame_element(self):
        return _Origin()


def answered_and_echo(page) -> list | None:
    """The id of the view's last event answered in the page, and the last
    one Python's rerun echoed (None in the classic design)."""
    return page.evaluate(
        "() => { const r = document.querySelector('.lx-root');"
        " return r ? [r.dataset.answered, r.dataset.echo] : null; }"
    )


def answered_image(page) -> int | None:
    """The dataset index of the image the view's strip shows as the selected
    one (a click's answer, or Python's selection), or None."""
    index = page.evaluate(
        "() => { const f = document.querySelector('.lx-original');"
        " return f ? f.dataset.index ?? null : null; }"
    )
    return None if index is None else int(index)


def wait_answered(page, timeout: float = 30.0) -> None:
    """Waits until the view has answered its newest input in the page (the
    images and marks of a click drawn: it marks the input's id answered)."""
    wait_until(
        lambda: (answered_and_echo(page) or [None])[0] == latest_input(page), timeout
    )


def link_params(page) -> dict[str, str]:
    """The page's link as Python last wrote it: its query, one value a key."""
    query = page.evaluate("() => window.location.search")
    return {k: v[-1] for k, v in urllib.parse.parse_qs(query[1:]).items()}


def latest_input(page) -> str | None:
    """The id of the newest input the view took (a click, a slider change, a
    zoom), or None before any (or in the classic design)."""
    return page.evaluate(
        "() => { const r = document.querySelector('.lx-root');"
        " return r ? r.dataset.latest ?? null : null; }"
    )


def density_drawn(frame) -> str | None:
    """What a large map shows now: the window the view drew itself, or the
    server's density image (its first view, or every view in the classic
    design); it changes once a zoom's points are drawn."""
    return frame.evaluate(
        "() => document.getElementById('map').dataset.window"
        " || document.querySelector('#density img').dataset.file"
    )


def window_drawn(frame) -> str | None:
    """The window a large map's view drew itself, once it is the window the
    map shows and no redraw is pending (None before); a zoom's points are on
    screen when this returns its range."""
    return frame.evaluate(
        "() => { const gd = document.getElementById('map'), L = gd._fullLayout;"
        " const w = gd.dataset.window; if (!w || gd.dataset.windowBusy) return null;"
        " const s = (r) => (r[0] <= r[1] ? [+r[0], +r[1]] : [+r[1], +r[0]]);"
        " return JSON.stringify([...s(L.xaxis.range), ...s(L.yaxis.range)]) === w"
        " ? w : null; }"
    )


def instant(page) -> bool:
    """Whether the page shows the instant view (else the classic iframes)."""
    return page.locator(".lx-root").count() > 0


def map_frames(page, timeout: float = 60_000, n: int = 2) -> list:
    """The ``n`` main latent maps, left then right, once their points are
    drawn (a tab may hold another map below them): ``MapRef``s of the view,
    or the classic design's iframes."""
    deadline = time.monotonic() + timeout / 1000
    maps = page.locator("iframe[title*='latent_map']")
    while time.monotonic() < deadline:
        if page.locator(VIEW).count() or maps.count() >= n:
            break
        page.wait_for_timeout(100)
    if page.locator(".lx-root").count():
        page.wait_for_selector(VIEW, timeout=timeout)
        slots = page.locator(".lx-map").evaluate_all(
            "(els) => els.map((e) => e.dataset.lxSlot)"
        )
        refs = [MapRef(page, s) for s in slots[:n]]
        for r in refs:
            r.wait_for_selector("#map[data-ready='1']", timeout=timeout)
        return refs
    frames = []
    for handle in maps.element_handles()[:n]:
        frame = handle.content_frame()
        frame.wait_for_selector("#map[data-ready='1']", timeout=timeout)
        frames.append(frame)
    return frames


def maps_drawn(page, url: str, timeout: float = 60_000, maps: int = 2) -> list:
    """Opens the page and returns its maps as soon as they are drawn (with
    the view's images), without waiting for the script to finish."""
    watch(page)
    page.goto(url, timeout=timeout)
    frames = map_frames(page, timeout, maps)
    assert len(frames) == maps, f"expected {maps} latent maps, found {len(frames)}"
    return frames


def open_app(page, url: str, timeout: float = 60_000, maps: int = 2):
    """Opens the page and returns its maps once its first run has ended."""
    watch(page)
    page.goto(url, timeout=timeout)
    page.wait_for_selector("[data-testid='stAppViewContainer']", timeout=timeout)
    wait_idle(page, timeout)
    frames = map_frames(page, timeout, maps)
    assert len(frames) == maps, f"expected {maps} latent maps, found {len(frames)}"
    return frames


def data_to_page(frame, x: float, y: float) -> tuple[float, float]:
    """Page pixel of data coordinates (x, y) on a map."""
    px, py = frame.evaluate(
        """([x, y]) => {
            const gd = document.getElementById('map');
            const L = gd._fullLayout, r = gd.getBoundingClientRect();
            return [r.left + L.xaxis.d2p(x) + L._size.l,
                    r.top + L.yaxis.d2p(y) + L._size.t];
        }""",
        [x, y],
    )
    box = frame.frame_element().bounding_box()
    return box["x"] + px, box["y"] + py


_AT = """([x, y]) => {
    const gd = document.getElementById('map'), L = gd._fullLayout;
    const r = gd.getBoundingClientRect();
    const px = r.left + L._size.l + L.xaxis.d2p(x);
    const py = r.top + L._size.t + L.yaxis.d2p(y);
    const el = gd.ownerDocument.elementFromPoint(px, py);
    const drag = gd.querySelector('.nsewdrag');
    const hx = gd._hoverXVals, hy = gd._hoverYVals;
    return {
        free: el === drag,
        under: el ? `${el.tagName}.${el.getAttribute('class') || ''}` : null,
        hovered: Boolean(hx && hy) && Math.abs(L.xaxis.c2p(hx[0]) - L.xaxis.d2p(x)) <= 1
            && Math.abs(L.yaxis.c2p(hy[0]) - L.yaxis.d2p(y)) <= 1,
    };
}"""


def pressable(frame, x: float, y: float) -> bool:
    """Whether a press at data coordinates (x, y) reaches the map: the spot
    is in view and nothing (the mode bar, a note) covers it."""
    return frame.evaluate(_AT, [x, y])["free"]


def hover_data(page, frame, x: float, y: float, timeout: float = 10.0):
    """Moves the mouse onto data coordinates and waits until plotly has
    registered the hover there (its hover is throttled: a press before that
    would be taken at the mouse's previous spot). If the map is drawn anew
    meanwhile (its axes moved, the spot with them), the mouse follows the
    spot, as a hand would: plotly hovers only on a move. Returns the page
    pixel."""
    deadline = time.monotonic() + timeout
    moved = None
    while True:
        px, py = data_to_page(frame, x, y)
        at = frame.evaluate(_AT, [x, y])
        if moved is None or max(abs(px - moved[0]), abs(py - moved[1])) > 0.5:
            if not at["free"]:
                raise AssertionError(
                    f"({x:.3g}, {y:.3g}) on the map is under {at['under']}"
                )
            page.mouse.move(px - 3, py - 3)
            page.mouse.move(px, py)
            moved = (px, py)
        elif at["hovered"]:
            return px, py
        if time.monotonic() > deadline:
            raise AssertionError(f"plotly never registered a hover at ({x}, {y})")
        page.wait_for_timeout(5)


def press(page, frame, x: float, y: float, timeout: float = 10.0) -> float:
    """Presses the map at data coordinates, as a hand would: hovers there,
    then re-reads the spot's pixel just before the press; if a redraw moved
    the map meanwhile, it hovers again at the spot's new pixel. Returns the
    moment of the press (``time.perf_counter``)."""
    deadline = time.monotonic() + timeout
    while True:
        where = hover_data(page, frame, x, y, timeout)
        if data_to_page(frame, x, y) == where:
            t = time.perf_counter()
            page.mouse.down()
            page.mouse.up()
            return t
        if time.monotonic() > deadline:
            raise AssertionError(f"({x}, {y}) kept moving on the page")


def click_data(page, frame, x: float, y: float) -> None:
    """Clicks the map at data coordinates (``press``)."""
    press(page, frame, x, y)


def scroll_zoom(
    page, frame, steps: int = 3, delta: float = -300, pause_ms: float = 100
) -> None:
    """Zooms a map in (negative ``delta``) with the mouse wheel over the centre
    of its plot area, ``steps`` wheel turns ``pause_ms`` apart."""
    box = frame.locator(".nsewdrag").first.bounding_box()  # page pixels
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(steps):
        page.mouse.wheel(0, delta)
        page.wait_for_timeout(pause_ms)


def draw_lasso(page, frame, polygon, steps: int = 6) -> None:
    """Drags a lasso through data coordinates ``polygon`` ``[[x, y], ...]``
    and back to its start with the map's "Lasso Select" tool, the mouse
    still down (``mouse.up`` selects)."""
    frame.locator(".modebar-btn[data-title='Lasso Select']").first.click(force=True)
    pts = [data_to_page(frame, float(x), float(y)) for x, y in polygon]
    page.mouse.move(*pts[0])
    page.mouse.down()
    for p in pts[1:] + pts[:1]:
        page.mouse.move(*p, steps=steps)


def lasso(page, frame, polygon, steps: int = 6) -> None:
    """Selects with a lasso through data coordinates ``polygon``."""
    draw_lasso(page, frame, polygon, steps)
    page.mouse.up()


def a_point(frame, trace: int = 1, index: int = 0) -> tuple[float, float]:
    """Data coordinates of a drawn data point."""
    return tuple(
        frame.evaluate(
            "([c, i]) => { const d = document.getElementById('map').data[c];"
            " return [d.x[i], d.y[i]]; }",
            [trace, index],
        )
    )


def empty_spot(frame) -> tuple[float, float]:
    """Data coordinates in an empty corner of the visible map."""
    return tuple(
        frame.evaluate(
            """() => {
                const L = document.getElementById('map')._fullLayout;
                const [x0, x1] = L.xaxis.range, [y0, y1] = L.yaxis.range;
                return [x0 + 0.04 * (x1 - x0), y1 - 0.04 * (y1 - y0)];
            }"""
        )
    )


def drawn_mark(frame, cls: str, nth: int = 0) -> tuple[float, float] | None:
    """Page pixel of the centre of a mark as drawn: the ``nth`` SVG element of
    class ``cls`` in the map's marks layer ("selected", "cursor", "endpoint",
    "sample", "upload"), or None when none is drawn."""
    centre = frame.evaluate(
        """([cls, n]) => {
            const e = document.querySelectorAll(`#marks .${cls}`)[n];
            if (!e) return null;
            const r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2];
        }""",
        [cls, nth],
    )
    if centre is None:
        return None
    box = frame.frame_element().bounding_box()
    return box["x"] + centre[0], box["y"] + centre[1]


def empty_spots(frame, n: int, rng, min_px: float = 12.0) -> list[tuple[float, float]]:
    """``n`` spots of the visible map, each ``min_px`` to 4 x ``min_px``
    screen pixels from the nearest drawn point (a click there is a click on
    empty space, near the data, where each model decodes something of its
    own; far corners can all decode to one saturated image), and at least
    2.5 x ``min_px`` apart from each other, where nothing (the mode bar)
    covers the map."""
    import numpy as np
    from sklearn.neighbors import NearestNeighbors

    (x0, x1), (y0, y1) = frame.evaluate(
        "() => { const L = document.getElementById('map')._fullLayout;"
        " return [L.xaxis.range, L.yaxis.range]; }"
    )
    xs, ys = frame.evaluate(
        "() => { const gd = document.getElementById('map');"
        " const t = gd.data.slice(0, +gd.dataset.classTraces);"
        " return [t.flatMap((d) => Array.from(d.x)),"
        " t.flatMap((d) => Array.from(d.y))]; }"
    )
    scale = np.array(pixels_per_unit(frame))
    pts = np.stack([xs, ys], 1) * scale
    cand = np.stack(
        [rng.uniform(x0 + 0.05 * (x1 - x0), x1 - 0.05 * (x1 - x0), 20_000),
         rng.uniform(y0 + 0.05 * (y1 - y0), y1 - 0.05 * (y1 - y0), 20_000)], 1
    )  # fmt: skip
    dist = NearestNeighbors(n_neighbors=1).fit(pts).kneighbors(cand * scale)[0][:, 0]
    near = cand[(dist >= min_px) & (dist <= 4 * min_px)]
    chosen: list = []
    for c in near:
        if all(
            np.linalg.norm((c - o) * scale) >= 2.5 * min_px for o in chosen
        ) and pressable(frame, float(c[0]), float(c[1])):  # nothing covers it
            chosen.append(c)
        if len(chosen) == n:
            break
    if len(chosen) < 2:
        raise AssertionError("no two empty spots near the data on this map")
    return [tuple(map(float, chosen[i % len(chosen)])) for i in range(n)]


def pixels_per_unit(frame) -> tuple[float, float]:
    """Screen pixels per data unit along each axis of a map."""
    return tuple(
        frame.evaluate(
            """() => {
                const L = document.getElementById('map')._fullLayout, s = L._size;
                return [s.w / (L.xaxis.range[1] - L.xaxis.range[0]),
                        s.h / (L.yaxis.range[1] - L.yaxis.range[0])];
            }"""
        )
    )


def shown_image(page, caption: str, nth: int = 0):
    """The pixels of the nth ``st.image`` whose caption contains ``caption``,
    as the browser received them: uint8 ``[H, W]`` or ``[H, W, 3]``."""
    import io

    import numpy as np
    from PIL import Image

    src = image_src(page, caption, nth)
    image = Image.open(io.BytesIO(src_bytes(page, src)))
    if src.startswith("data:"):  # a canvas of the view: RGBA, grey as drawn
        img = np.asarray(image.convert("RGB"))
        return img[..., 0] if (img == img[..., :1]).all() else img
    return np.asarray(image)


def src_bytes(page, src: str) -> bytes:
    """The bytes of an image's ``src``: a data URL's own, or what the server
    serves at that address."""
    if src.startswith("data:"):
        import base64

        return base64.b64decode(src.split(",", 1)[1])
    return page.request.get(urllib.parse.urljoin(page.url, src)).body()


def image_src(page, caption: str, nth: int = 0) -> str:
    """The src of the nth ``st.image`` whose caption contains ``caption``;
    or, when no ``st.image`` has it, the pixels (a PNG data URL) of the nth
    image of the view's strip with that caption."""
    return page.evaluate(_SRC, [caption, nth])


def wait_change(get, old, timeout: float = 20.0):
    """Polls ``get()`` until it differs from ``old``; returns the new value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = get()
        if new != old:
            return new
        time.sleep(0.05)
    raise AssertionError(f"still {old!r} after {timeout}s")


def wait_until(ok, timeout: float = 20.0, page=None) -> None:
    """Polls ``ok()`` until it is true. With ``page``, each poll waits on
    the page, which lets Playwright deliver its events meanwhile (the
    websocket's frames that ``Runs`` counts, a route's requests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ok():
            return
        if page is None:
            time.sleep(0.02)
        else:
            page.wait_for_timeout(20)
    raise AssertionError(f"not so after {timeout}s")


def slider(page, label: str, nth: int = 0):
    """The range input of the nth slider with this label (an ``st.slider``,
    or one of the view's: "live z[0]" while it decodes in the browser)."""
    return page.locator(f"input[type='range'][aria-label='{label}']").nth(nth)


_SRC = """([cap, n]) => {
    const els = [...document.querySelectorAll("[data-testid='stImage']")]
        .filter((e) => e.innerText.includes(cap));
    if (els.length) {
        const img = els[n] && els[n].querySelector("img");
        return img ? img.getAttribute("src") : null;
    }
    const figs = [...document.querySelectorAll(".lx-strip figure")]
        .filter((f) => f.querySelector("figcaption").textContent.includes(cap));
    const c = figs[n] && figs[n].querySelector("canvas");
    return c && c.width ? c.toDataURL() : null;
}"""


def wait_src_change(page, caption: str, nth: int, old: str, timeout: float = 30_000):
    """Waits, polling every frame in the page, until an image's src changes."""
    page.wait_for_function(
        f"([cap, n, old]) => ({_SRC})([cap, n]) !== old",
        arg=[caption, nth, old],
        polling="raf",
        timeout=timeout,
    )


def wait_all_change(page, waits, old, timeout: float = 30_000):
    """Waits until every image of ``waits`` (``(caption, nth)``) differs from
    its ``old`` src, checked together in each animation frame."""
    page.wait_for_function(
        f"""([waits, old]) => waits.every(
            ([cap, n], k) => ({_SRC})([cap, n]) !== old[k])""",
        arg=[[list(w) for w in waits], old],
        polling="raf",
        timeout=timeout,
    )


def trace_counts(frame) -> list[int]:
    """How many points each class trace of a map holds."""
    return frame.evaluate(
        "() => { const gd = document.getElementById('map');"
        " return gd.data.slice(0, +gd.dataset.classTraces).map((t) => t.x.length); }"
    )


POINT = "click a point until the original and both reconstructions are drawn"
SPACE = "click empty space until that model's decode is drawn"
SLIDER = "slider change until the image changed"
PYTHON = "Python state after a click (neighbours, URL)"


# True once Python's reruns have echoed the view's last answered event (or a
# later one: a pan or zoom's window is an event too).
CAUGHT_UP = """() => { const r = document.querySelector('.lx-root');
    return Boolean(r.dataset.answered) && +r.dataset.echo >= +r.dataset.answered; }"""


def measure_interactions(page, frames, n: int, seed: int = 0) -> dict[str, list[float]]:
    """Seconds from input to the changed pixels, ``n`` times for each
    interaction, in either design. A point click waits for the selected image
    (the view's strip, or the classic "Selected image" tab's original) and
    both models' decodes at the point; in the instant design, also until
    Python's rerun has caught up (``PYTHON``)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    left, _ = frames
    view = instant(page)
    out: dict[str, list[float]] = {POINT: [], SPACE: [], SLIDER: []}
    if view:
        out[PYTHON] = []

    def timed_click(x, y, waits, key=None):
        """Seconds until the images changed, or None when they did not in
        10 s (two decodes can be the same image: the sample is left out)."""
        old = [image_src(page, cap, i) for cap, i in waits]
        since = mark(page)
        t = press(page, left, x, y)
        try:
            wait_all_change(page, waits, old, timeout=10_000)
            dt = time.perf_counter() - t
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError
            dt = None
        if view:
            page.wait_for_function(CAUGHT_UP, polling="raf", timeout=60_000)
            if key is not None and dt is not None:
                out[PYTHON].append(time.perf_counter() - t)
        wait_idle(page, since=since)
        return dt

    counts = trace_counts(left)
    original = ("Image #", 0) if view else ("original", 0)
    both = [original, ("decoded at", 0), ("decoded at", 1)]
    for _ in range(n):
        while True:  # a point a user can press: nothing (the mode bar) covers it
            c = int(rng.choice(np.flatnonzero(np.asarray(counts) > 0)))
            x, y = a_point(left, c, int(rng.integers(counts[c])))
            if pressable(left, x, y):
                break
        dt = timed_click(x, y, both, key=POINT)
        if dt is not None:
            out[POINT].append(dt)
    spots = empty_spots(left, n, rng)
    for x, y in spots:
        dt = timed_click(x, y, [("decoded at", 0)], key=SPACE)
        if dt is not None:
            out[SPACE].append(dt)
    # Back on a data point, so the slider is inside its range, not pinned at an end.
    x, y = a_point(left, int(np.argmax(counts)), 0)
    timed_click(x, y, both)
    live = view and page.locator("[aria-label='live z[0]']").count()
    thumb = slider(page, "live z[0]" if live else "z[0]", 0)
    for i in range(n):
        thumb.focus()
        old = image_src(page, "decoded at", 0)
        since = mark(page)
        t = time.perf_counter()
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        wait_src_change(page, "decoded at", 0, old)
        out[SLIDER].append(time.perf_counter() - t)
        wait_idle(page, since=since)
    return out


def set_live(page, on: bool) -> None:
    """Switches the sidebar's live decoding toggle to ``on``."""
    box = page.get_by_role("switch", name="Decode in the browser while dragging")
    if box.is_checked() != on:
        act(page, lambda: box.click(force=True))


def live_frames(page) -> list:
    """The live decoders, left then right, once drawn: the view's sliders
    (``MapRef``) or the classic design's iframes."""
    if instant(page):
        page.wait_for_selector(VIEW, timeout=60_000)
        return [MapRef(page, s, sliders=True) for s in ("left", "right")]
    loc = page.locator("iframe[title*='live_decoder']")
    deadline = time.monotonic() + 60
    while loc.count() < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    frames = [h.content_frame() for h in loc.element_handles()]
    for f in frames:
        f.wait_for_selector("body[data-ready='1']", timeout=60_000)
    return frames


def measure_live_drag(page, frame, seconds: float = 2.0) -> dict[str, float]:
    """Drags a live slider back and forth for ``seconds``; frames decoded per
    second and milliseconds per decode, as counted in the page."""
    thumb = frame.locator("input[type='range']").first
    box = thumb.bounding_box()
    y = box["y"] + box["height"] / 2
    x0, width = box["x"] + 10, box["width"] - 20
    lo, hi = (float(thumb.get_attribute(a)) for a in ("min", "max"))
    start = (float(thumb.input_value()) - lo) / (hi - lo)
    before = frame.evaluate("() => ({...window.liveStats})")
    page.mouse.move(x0 + width / 2, y)
    page.mouse.down()
    t = time.perf_counter()
    k = 0
    while time.perf_counter() - t < seconds:
        phase = (k % 60) / 60
        page.mouse.move(x0 + width * (0.2 + 0.6 * abs(2 * phase - 1)), y)
        k += 1
    elapsed = time.perf_counter() - t
    # Released at the far side from the value the slider had before the
    # press: a range input tells of a release ("change") only when its value
    # differs from that one, and the back-and-forth can end on it (the last
    # drag's release, say): then no rerun would come.
    page.mouse.move(x0 + width * (0.9 if start < 0.5 else 0.1), y)
    page.wait_for_timeout(50)
    after = frame.evaluate("() => ({...window.liveStats})")
    since = mark(page)
    page.mouse.up()  # the release tells the server
    wait_idle(page, since=since)
    frames = after["frames"] - before["frames"]
    return {
        "fps": frames / elapsed,
        "ms_per_decode": (after["ms"] - before["ms"]) / max(frames, 1),
        "moves_per_s": k / elapsed,
    }


def measure_live_steps(page, frame, n: int) -> list[float]:
    """Seconds from a key press on a live slider until the browser has drawn
    the new decode (the default mode: no server round trip in the way)."""
    thumb = frame.locator("input[type='range']").first
    out = []
    for i in range(n):
        thumb.focus()
        before = frame.evaluate("() => window.liveStats.frames")
        since = mark(page)
        t = time.perf_counter()
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        frame.wait_for_function(
            "(n) => window.liveStats.frames > n", arg=before, polling="raf"
        )
        out.append(time.perf_counter() - t)
        wait_idle(page, since=since)  # the release also tells the server
    return out


def thumbs_drawn(frame) -> int:
    """How many images a map draws instead of dots now (0: dots)."""
    return int(
        frame.evaluate("() => +(document.getElementById('map').dataset.thumbs || 0)")
    )


def zoom_to_thumbs(page, frame, max_steps: int = 60) -> int:
    """Wheel-zooms into a map's centre until its dots become images; returns
    how many are drawn."""
    for _ in range(max_steps):
        if thumbs_drawn(frame):
            return thumbs_drawn(frame)
        # the view tells Python of the new range (a rerun)
        act(page, lambda: scroll_zoom(page, frame, steps=2, delta=-300, pause_ms=40))
    raise AssertionError("no images drawn after zooming in")


def measure_pan_fps(page, frame, seconds: float = 2.0) -> float:
    """Drags a map back and forth (plotly's pan) for ``seconds``; the
    animation frames the page drew per second meanwhile."""
    box = frame.locator(".nsewdrag").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.evaluate(
        "() => { window.__frames = 0; window.__panning = true;"
        " const tick = () => { window.__frames++;"
        " if (window.__panning) requestAnimationFrame(tick); };"
        " window.__t0 = performance.now(); requestAnimationFrame(tick); }"
    )
    t, k = time.perf_counter(), 0
    while time.perf_counter() - t < seconds:
        phase = (k % 40) / 40
        page.mouse.move(cx + 80 * (abs(2 * phase - 1) - 0.5), cy)
        k += 1
    frames, ms = page.evaluate(
        "() => { window.__panning = false;"
        " return [window.__frames, performance.now() - window.__t0]; }"
    )
    # The drag ends 60 px from where it began, whatever number of moves the
    # host managed: a wave stopped at its midpoint would pan by nothing.
    page.mouse.move(cx + 60, cy)
    act(page, page.mouse.up)  # the view tells Python of the new range
    return frames / (ms / 1000)


def measure_lasso(page, frame, polygons) -> dict[str, list[float]]:
    """For each lasso (data coordinates): seconds from the mouse's release
    until both maps grey around the selection ("maps", in the browser), and
    until Python's rerun has handled it and the page is drawn, the selection
    panel with it ("panel")."""
    from_maps, from_panel = [], []
    for poly in polygons:
        draw_lasso(page, frame, poly, steps=4)
        page.evaluate(
            "() => { for (const gd of document.querySelectorAll('.lx-plot'))"
            " delete gd.dataset.selected; }"
        )
        before = latest_input(page)
        since = mark(page)
        t = time.perf_counter()
        page.mouse.up()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.lx-plot')]"
            ".every((gd) => gd.dataset.selected !== undefined)",
            polling="raf",
        )
        from_maps.append(time.perf_counter() - t)
        sent = wait_change(lambda: latest_input(page), before, 30)
        wait_until(lambda s=sent: (answered_and_echo(page) or [0, 0])[1] == s, 60)
        wait_idle(page, since=since)  # the rest of that run
        from_panel.append(time.perf_counter() - t)
    return {"maps": from_maps, "panel": from_panel}
