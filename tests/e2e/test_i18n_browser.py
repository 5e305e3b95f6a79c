"""The page's language in a real Chromium: a Chinese browser gets the
Chinese page (Streamlit reads ``navigator.language``), an English one the
English page, and a link's ``lang`` overrides the browser's; the characters
are drawn with a CJK font (a screenshot per page)."""

from __future__ import annotations

import pytest

from harness.driver import open_app

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

HEADERS = {"zh": "数据与模型", "en": "Data and models"}


@pytest.mark.parametrize(
    "locale, query, lang",
    [("zh-CN", "", "zh"), ("en-US", "", "en"), ("en-US", "?lang=zh", "zh")],
    ids=["chinese browser", "english browser", "link"],
)
def test_the_page_speaks_the_browsers_language_or_the_links(
    browser, server, shots, locale, query, lang
):
    context = browser.new_context(
        locale=locale, viewport={"width": 1400, "height": 900}
    )
    try:
        page = context.new_page()
        open_app(page, server + "/" + query)
        header = page.locator("[data-testid='stSidebar'] h2").first
        header.wait_for()
        assert header.inner_text() == HEADERS[lang]
        title = page.locator("h1").first.inner_text()
        assert ("隐空间探索器" in title) == (lang == "zh")
        page.screenshot(path=str(shots / f"i18n-{locale}{query.replace('?', '-')}.png"))
    finally:
        context.close()
