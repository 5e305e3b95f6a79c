"""The Computation graph tab in Chromium: hovering each node lights up its
mark on the VAE's map (checked by the mark's own ``data-mark``, not where
it is) and its line of code; hovering a code line or a mark on the map lights
up the node. All in one page load, with no rerun (the hovers never reach
Python); screenshots of the tab in English and Chinese, with the VAE and the
AE."""

from __future__ import annotations

import pytest

from harness.driver import (
    MapRef,
    act,
    click_data,
    empty_spot,
    open_app,
    watch,
)

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

URL = "/?tab=Computation%20graph&sel=7"
VAE = "right"  # the default pair: the AE's map left, the VAE's right
MAP = f".lx-map[data-lx-slot='{VAE}']"
# node -> (its mark on the maps, a piece of its code line): the explorer's VAE
NODES = {
    "x": ("selected", "def encode(self, x"),
    "encoder": (None, "h = self.encoder("),
    "mu": ("selected", "mean, logvar = h.chunk(2, dim=1)"),
    "logvar": ("ellipse", "mean, logvar = h.chunk(2, dim=1)"),
    "sigma": ("ellipse", "torch.exp(0.5 * enc.logvar) * eps"),
    "eps": (None, "eps = torch.randn("),
    "z": ("cursor", "return enc.mean + torch.exp(0.5 * enc.logvar) * eps"),
    "decoder": (None, "self.decode_logits(z, y)"),
    "xhat": (None, "self.decode_logits(z, y)"),
    "recon": (None, "return nll"),
    "kl": (None, "return 0.5 * (logvar.exp()"),
}
# What is in focus: the marks drawn as such on each map, the graph's nodes
# and the code lines.
FOCUS = """() => ({
    marks: [...document.querySelectorAll('.lx-marks .focus')].map((e) =>
        e.closest('.lx-map').dataset.lxSlot + ':' + e.dataset.mark),
    nodes: document.querySelector('.lx-graph').dataset.focus || '',
    lines: [...document.querySelectorAll('.lx-graph .lx-line.focus .lx-src')]
        .map((e) => e.textContent),
})"""
# Page pixel of a point on a mark: a ring's line, the middle of a polyline,
# a cross's centre.
ON_MARK = """([root, mark]) => {
    const e = document.querySelector(`${root} .lx-marks [data-mark='${mark}']`);
    const m = e.getScreenCTM();
    let p;
    if (e.tagName === 'circle') {
        const a = (k) => +e.getAttribute(k);
        p = new DOMPoint(a('cx') + a('r'), a('cy'));
    } else if (e.tagName === 'polyline') {
        p = e.getPointAtLength(e.getTotalLength() / 4);
    } else {
        const b = e.getBBox();
        p = new DOMPoint(b.x + b.width / 2, b.y + b.height / 2);
    }
    const q = new DOMPoint(p.x, p.y).matrixTransform(m);
    return [q.x, q.y];
}"""


def focus_is(page, marks: list[str], nodes: str, lines: list[str]) -> None:
    """Waits until the focus is these marks, nodes and code lines (each
    focused line holds one of ``lines``, and each of them is in one), else
    says what it is."""
    try:
        _wait_focus(page, marks, nodes, lines)
    except playwright_api.TimeoutError:
        got = page.evaluate(FOCUS)
        raise AssertionError(f"want {marks, nodes, lines}, got {got}") from None


def _wait_focus(page, marks, nodes, lines) -> None:
    page.wait_for_function(
        """([js, marks, nodes, lines]) => {
            const f = eval(js)();
            return JSON.stringify(f.marks.sort()) === JSON.stringify(marks)
                && f.nodes === nodes
                && f.lines.every((t) => lines.some((l) => t.includes(l)))
                && lines.every((l) => f.lines.some((t) => t.includes(l)));
        }""",
        arg=[FOCUS, sorted(marks), nodes, lines],
        timeout=5_000,
    )


def test_hovers_link_the_graph_the_code_and_the_maps(browser, server, shots):
    ctx = browser.new_context(viewport={"width": 1600, "height": 1900})
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_app(page, server + URL)
    vae = MapRef(page, VAE)
    # the × away from the selected image, so each mark stands apart
    act(page, lambda: click_data(page, vae, *empty_spot(vae)))
    page.wait_for_selector(".lx-graph[data-ready='1']")
    page.wait_for_selector(f"{MAP} .lx-marks [data-mark='ellipse']")
    runs = watch(page).mark()

    for node, (mark, line) in NODES.items():
        page.hover(f".lx-graph .lx-node[data-node='{node}']")
        # every mark drawn in focus is this node's (the 1σ and 2σ ellipses
        # both), on the VAE's map only; the hint names the node
        n = page.locator(f"{MAP} .lx-marks [data-mark='{mark}']").count() if mark else 0
        focus_is(page, [f"{VAE}:{mark}"] * n, node, [line])
        hint = page.locator(".lx-graph-hint").inner_text()
        label = page.locator(f".lx-node[data-node='{node}'] .lx-label")
        assert hint.startswith(label.text_content())
        if mark is None:
            assert "No mark on the maps" in hint

    # a code line -> its node (and the node's mark)
    page.hover(".lx-graph .lx-line[data-node='eps']")
    focus_is(page, [], "eps", ["eps = torch.randn("])
    page.mouse.move(5, 5)
    focus_is(page, [], "", [])

    # a mark on the map -> the nodes that show it, and their code lines
    page.locator(MAP).scroll_into_view_if_needed()
    for mark, nodes in [
        ("selected", "x mu"),
        ("ellipse", "logvar sigma"),
        ("cursor", "z"),
    ]:
        page.mouse.move(*page.evaluate(ON_MARK, [MAP, mark]))
        n = page.locator(f"{MAP} .lx-marks [data-mark='{mark}']").count()
        lines = [NODES[k][1] for k in nodes.split()]
        focus_is(page, [f"{VAE}:{mark}"] * n, nodes, lines)
        page.mouse.move(5, 5)
        focus_is(page, [], "", [])
    assert watch(page).mark() == runs  # no hover asked Python for a rerun
    assert not errors
    page.locator(".lx-graph").screenshot(path=str(shots / "graph-vae-en.png"))
    ctx.close()
