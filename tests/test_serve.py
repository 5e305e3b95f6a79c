"""``latent-explorer serve``: HAProxy's configuration, the supervisor's
restart of a worker that exits, and a clear refusal without HAProxy. (The
page behind the proxy, in Chromium: tests/e2e/test_serve_browser.py.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

from explorer import serve
from explorer.cli import main
from tests.helpers import REPO


def test_the_config_pins_by_an_inserted_cookie_and_haproxy_accepts_it(tmp_path):
    text = serve.render([20001, 20002, 20003], "0.0.0.0:8080")
    assert "bind 0.0.0.0:8080" in text
    assert re.search(r"^\s+cookie SERVERID insert indirect nocache", text, re.M)
    assert "option redispatch" in text and "balance source" not in text
    assert "http-check send meth GET uri /_stcore/health" in text
    servers = re.findall(
        r"^\s+server (w\d) 127\.0\.0\.1:(\d+) cookie (w\d)$", text, re.M
    )
    assert servers == [(f"w{i}", str(20000 + i), f"w{i}") for i in (1, 2, 3)]
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text)
    check = subprocess.run(
        [shutil.which("haproxy") or "haproxy", "-c", "-f", str(cfg)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_repositorys_config_is_the_one_serve_prints(capsys):
    assert main(["serve", "--workers", "2", "--port", "8080", "--address", "*",
                 "--print-config"]) == 0  # fmt: skip
    assert capsys.readouterr().out == (REPO / "deploy" / "haproxy.cfg").read_text()


def test_serve_refuses_without_haproxy_and_says_how_to_install_it(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("PATH", str(tmp_path))  # no haproxy there
    assert main(["serve", "--workers", "2", "--port", "8099"]) == 2
    err = capsys.readouterr().err
    assert "HAProxy" in err and "apt-get install haproxy" in err
    assert "brew install haproxy" in err


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead: its parent has not reaped it yet
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(") ")[1][0] != "Z"


def test_a_worker_that_exits_is_restarted_and_stop_ends_its_group(tmp_path):
    said = []
    flag = tmp_path / "first"
    # The first run exits with code 3; the next one starts a child in its
    # group and waits (stop must end both).
    code = (
        "import pathlib, subprocess, sys, time\n"
        f"flag = pathlib.Path({str(flag)!r})\n"
        "if not flag.exists():\n"
        "    flag.touch(); sys.exit(3)\n"
        "sleep = [sys.executable, '-c', 'import time; time.sleep(60)']\n"
        "child = subprocess.Popen(sleep)\n"
        f"pathlib.Path({str(tmp_path / 'child')!r}).write_text(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    cluster = serve.Cluster(
        1, 0, command=lambda port: [sys.executable, "-c", code], say=said.append,
        backoff=0.01,
    )  # fmt: skip
    try:
        cluster.running = True
        worker = cluster.pool[0]
        cluster._launch(worker)
        first = worker.proc.pid
        deadline = time.monotonic() + 20
        while not cluster.poll():
            assert time.monotonic() < deadline, said
            time.sleep(0.05)
        assert f"worker w1 (pid {first}) exited with code 3; restarting it" in said
        assert worker.proc.pid != first and worker.proc.poll() is None
        while not (tmp_path / "child").is_file():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child = int((tmp_path / "child").read_text())
        assert cluster.poll() == []  # alive: not restarted again
    finally:
        cluster.stop()
    assert worker.proc.poll() is not None
    deadline = time.monotonic() + 10
    while _alive(child):
        assert time.monotonic() < deadline, "the worker's child outlived stop"
        time.sleep(0.05)


def test_serve_refuses_no_workers(capsys):
    assert serve.serve(0, 8099) == 2
    assert "--workers" in capsys.readouterr().err


def test_serve_passes_the_folders_to_the_workers(tmp_path, monkeypatch):
    got = {}
    monkeypatch.setattr(serve, "serve", lambda *a: got.setdefault("args", a) and 0)
    args = ["serve", "--workers", "3", "--port", "8123", "--weights", str(tmp_path),
            "--stores", str(tmp_path / "s")]  # fmt: skip
    assert main(args) == 0
    workers, port, address, env = got["args"]
    assert (workers, port, address) == (3, 8123, "127.0.0.1")
    assert env == {
        "EXPLORER_WEIGHTS_DIR": str(tmp_path),
        "EXPLORER_SPACES_DIR": str(tmp_path / "s"),
    }


def test_the_wheels_app_is_the_repositorys_app_py(monkeypatch):
    """``app.py`` is its docstring and ``APP_SOURCE``: a server from a wheel
    runs the same app, one PyTorch thread in it (``OMP_NUM_THREADS``, set
    before anything imports PyTorch, unless the user set it)."""
    import ast

    text = (REPO / "app.py").read_text()
    doc = ast.get_docstring(ast.parse(text), clean=False)
    assert text == f'"""{doc}"""\n\n' + serve.APP_SOURCE
    setup = compile(serve.APP_SOURCE.split("import streamlit")[0], "app.py", "exec")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    exec(setup, {})  # noqa: S102 - the repository's own app
    assert os.environ["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    exec(setup, {})  # noqa: S102
    assert os.environ["OMP_NUM_THREADS"] == "4"  # a user's own setting stays
