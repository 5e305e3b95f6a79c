"""The view's frontend folder is versioned as a whole: its modules are
served under a route named by the hash of every file in it, so a change to
any of them (not only the entry) is a new address the browser loads."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from explorer.app import first, routes
from explorer.app.components import view

IMPORT = re.compile(r"""^import .* from "([^"]+)";$""", re.M)
URL = re.compile(r"""new URL\("([^"]+)", import\.meta\.url\)""")


@pytest.fixture
def fresh_url():
    """``view.module_url`` computed anew (it is cached per process)."""
    view.served_module.cache_clear()
    view.module_urls.cache_clear()
    yield
    view.served_module.cache_clear()
    view.module_urls.cache_clear()


@pytest.fixture
def client():
    return TestClient(Starlette(routes=routes.routes()))


def test_the_page_loads_the_folder_under_its_version(fresh_url, client):
    url = view.module_url()
    assert url == routes.file_url(f"view-{view.version()}", "main.js")
    prefix = url.rsplit("/", 1)[0]
    for f in sorted(view.FOLDER.iterdir()):
        r = client.get(f"{prefix}/{f.name}")
        assert r.status_code == 200, f.name
        assert r.content == f.read_bytes()
        assert "immutable" in r.headers["cache-control"]
    css = client.get(f"{prefix}/view.css")
    assert css.headers["content-type"].startswith("text/css")


def test_a_changed_sibling_is_a_new_address(fresh_url, client, tmp_path, monkeypatch):
    folder = tmp_path / "view"
    shutil.copytree(view.FOLDER, folder)
    monkeypatch.setattr(view, "FOLDER", folder)
    before, code_before = view.module_url(), first._code()
    assert before == routes.file_url(f"view-{view.version(folder)}", "main.js")
    # a module the entry imports, not the entry itself
    with (folder / "marks.js").open("a") as f:
        f.write("// changed\n")
    view.served_module.cache_clear()
    after = view.module_url()
    assert after != before and after.endswith("/main.js")
    assert first._code() != code_before  # and the first paint's key follows
    # the new address serves the changed file beside the entry
    changed = client.get(after.rsplit("/", 1)[0] + "/marks.js")
    assert changed.status_code == 200 and changed.content.endswith(b"// changed\n")


def test_every_relative_address_stays_in_the_folder():
    """Imports and the stylesheet resolve against the module's own URL, so
    they share its versioned folder only if they are files beside it."""
    names = {f.name for f in view.FOLDER.iterdir()}
    for f in sorted(view.FOLDER.glob("*.js")):
        text = f.read_text()
        for target in IMPORT.findall(text) + URL.findall(text):
            assert target.startswith("./") and "/" not in target[2:], (f.name, target)
            assert target[2:] in names, (f.name, target)


def test_the_folder_is_flat_modules_of_at_most_400_lines():
    files = list(view.FOLDER.iterdir())
    assert all(f.is_file() for f in files)
    assert {f.suffix for f in files} == {".js", ".css"}
    for f in files:
        assert routes.NAME.match(f.name), f.name
        assert len(f.read_text().splitlines()) <= 400, f.name


def test_the_loader_preloads_every_file_of_the_versioned_folder(fresh_url):
    """A new visitor fetches the whole folder in one round: the loader is
    given every module and the stylesheet, each under the folder's version."""
    urls = json.loads(view.module_urls())
    prefix = view.module_url().rsplit("/", 1)[0]
    files = sorted(f.name for f in view.FOLDER.iterdir() if f.suffix in (".js", ".css"))
    assert urls == [f"{prefix}/{name}" for name in files]
    assert "main.js" in files and "view.css" in files
    assert "modulepreload" in view.LOADER and "args.data.modules" in view.LOADER
