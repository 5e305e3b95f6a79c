"""A link whose keys and values carry Markdown links and images, bare URLs and
HTML, opened in a real Chromium against ``streamlit run``: the notice names
each rejected key or value as typed, as text, and no element of the page (nor
of its maps' frames) links to, loads from or embeds a host the app did not
choose. The same on an ``AppTest`` page, with folder and upload names too:
tests/app/test_untrusted_text.py."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from explorer.app.urlstate import FIELDS
from harness.driver import open_app

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

# Each link carries several hostile parts at once, each in a query parameter
# of its own: a known key with a hostile value, or a hostile unknown key. The
# notice lists every rejected part (one bullet each), so one page load checks
# them all; three links because a link holds one value of each key.
LINKS = {
    "values and a markdown key": {
        "ds": "[Sign in again](https://attacker.example/login)",
        "l": "![x](https://attacker.example/p.png)",
        "tab": "<img src=https://attacker.example/i.png>",
        "sel": "www.attacker.example",
        "path": "me@attacker.example",
        "r": "`https://attacker.example/` ``x`` ```",
        "[k](https://attacker.example)": "1",
    },
    "bare URLs and an html key": {
        "ds": "https://attacker.example/x",
        "https://attacker.example/k": "1",
        '<a href="https://attacker.example">k</a>': "1",
    },
    "html value and a www key": {
        "ds": '<a href="https://attacker.example">x</a>',
        "www.attacker.example": "1",
    },
}
HOSTS = ("127.0.0.1", "localhost")

# Every address an element of a document links to, loads or embeds (links,
# images, frames, stylesheets, scripts, media, forms, SVG links, CSS url()s)
# that is not on this server, nor data:, blob: or about:.
FOREIGN = """(hosts) => {
  const out = [];
  const check = (el, attr, value) => {
    let url;
    try { url = new URL(value, document.baseURI); } catch (e) { url = null; }
    const ok = url && (["data:", "blob:", "about:"].includes(url.protocol) ||
      (["http:", "https:"].includes(url.protocol) && hosts.includes(url.hostname)));
    if (!ok) out.push(`<${el.tagName.toLowerCase()} ${attr}="${value}">`);
  };
  const attrs = ["href", "src", "srcset", "action", "formaction", "poster", "data",
                 "xlink:href"];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of attrs) {
      const value = el.getAttribute(attr);
      if (value !== null && value !== "") check(el, attr, value);
    }
    for (const m of (el.getAttribute("style") || "").matchAll(
        /url\\(\\s*(['"]?)(.*?)\\1\\s*\\)/g)) check(el, "style", m[2]);
  }
  return out;
}"""


def link(url: str, params: dict[str, str]) -> str:
    query = "&".join(
        f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items()
    )
    return f"{url}/?{query}"


def foreign(page) -> list[str]:
    """``FOREIGN`` in the page and in each of its frames."""
    return [
        (frame.url, found)
        for frame in page.frames
        for found in frame.evaluate(FOREIGN, list(HOSTS))
    ]


@pytest.mark.parametrize("name", LINKS)
def test_a_link_plants_no_link_and_its_rejected_parts_show_as_typed(
    browser, server, name
):
    params = LINKS[name]
    rejected = [value if key in FIELDS else key for key, value in params.items()]
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        open_app(page, link(server, params))
        # The run has ended once its notice names the rejected parts.
        notice = page.locator("[data-testid='stAlertContentWarning']").filter(
            has_text="Part of the link could not be used"
        )
        notice.filter(has_text=rejected[-1]).wait_for(state="visible", timeout=60_000)
        text = notice.inner_text()
        for part in rejected:
            assert part in text, (part, text)  # as typed, as text
        assert foreign(page) == []
    finally:
        page.context.close()


def test_the_page_itself_links_nowhere_else(browser, server):
    """The check above can see a foreign address: the page has none of its
    own, and one planted in it is found."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        open_app(page, server)
        assert foreign(page) == []
        page.evaluate(
            """() => {
              const a = document.createElement("a");
              a.href = "https://attacker.example/x";
              const img = document.createElement("img");
              img.style.backgroundImage = "url('//attacker.example/p.png')";
              document.body.append(a, img);
            }"""
        )
        assert [f for _, f in foreign(page)] == [
            '<a href="https://attacker.example/x">',
            '<img style="//attacker.example/p.png">',
        ]
    finally:
        page.context.close()
