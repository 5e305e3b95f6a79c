"""The page's language in a real Chromium: a Chinese browser gets the
Chinese page (Streamlit reads ``navigator.language``), an English one the
English page, and a link's ``lang`` overrides the browser's; the characters
are drawn with a CJK font (a screenshot per page). The maps' own words (the
view writes them, from Python's data) follow the page's language, and so do
Fashion-MNIST's class names and plotly's own mode bar."""

from __future__ import annotations

import re

import pytest

from harness.driver import a_point, act, click_data, open_app, wait_answered

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

HEADERS = {"zh": "数据与模型", "en": "Data and models"}
FASHION_ZH = [
    "T恤/上衣",
    "裤子",
    "套头衫",
    "连衣裙",
    "外套",
    "凉鞋",
    "衬衫",
    "运动鞋",
    "包",
    "短靴",
]


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


def test_the_maps_words_and_class_names_follow_the_language(browser, server, shots):
    """On the Chinese page the maps' legends name Fashion-MNIST's classes in
    Chinese, and the selected image's caption, which the view writes itself
    when a point is clicked, is Chinese too."""
    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    try:
        page = context.new_page()
        left, right = open_app(page, server + "/?lang=zh&ds=fashion-mnist")
        for frame in (left, right):
            legend = frame.evaluate(
                "() => { const gd = document.getElementById('map');"
                " const n = +gd.dataset.classTraces;"
                " return gd.data.slice(0, n).map((t) => t.name); }"
            )
            assert legend == FASHION_ZH
            # plotly's own mode bar, through its locale's dictionary
            titles = frame.locator(".modebar-btn").evaluate_all(
                "(els) => els.map((e) => e.getAttribute('data-title'))"
            )
            assert {"缩放", "平移", "套索选择", "重置轴"} <= set(titles), titles
        caption = page.locator(".lx-original figcaption")
        assert caption.inner_text() == "图像 #0（短靴）"
        x, y = a_point(left, 1, 0)  # a pair of trousers
        act(page, lambda: click_data(page, left, x, y))
        wait_answered(page)
        found = re.fullmatch(r"图像 #(\d+)（(.+)）", caption.inner_text())
        assert found and found[1] != "0" and found[2] in FASHION_ZH, (
            caption.inner_text()
        )
        page.screenshot(path=str(shots / "i18n-maps-zh.png"), full_page=True)
    finally:
        context.close()


# Words that stay as they are on the Chinese page: names of models, datasets,
# libraries and file formats, units and formula symbols, and what Streamlit
# draws itself (the README's "Still in English").
ALLOWED = {
    *"AE VAE CVAE PCA UMAP t-SNE tSNE MNIST Fashion-MNIST fashion-mnist mnist".split(),
    *"test train all".split(),  # split names, as the data names them
    *"Latent Explorer".split(),  # the app's name, beside its Chinese one
    *"A B C T".split(),  # the three images a direction uses; T恤 (T-shirt)
    *"KL ELBO IW z x y p q t N I D K log exp".split(),  # formula symbols
    *"PNG JPG JPEG GIF CSV JSON MiB MB nats".split(),
    *"Kingma Welling".split(),  # a citation
    # Streamlit's own: the language switch (both languages by design), the
    # skip link, the file uploader and the deploy button
    *"Language Skip to main content Drag and drop file here Browse files".split(),
    *"Upload upload Limit per Deploy".split(),
}
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
# checkpoint names (fashion-mnist-vae-z2) and file names (weights/README.md)
AS_TYPED = re.compile(r"\b[\w.]+(?:-[\w.]+)*-z\d+\b|\b[\w/-]+\.(?:png|json|csv|md)\b")
# The page's visible text and the maps' and charts' SVG text; code (commands,
# file names) is left out: it is typed as it is in every language.
VISIBLE_TEXT = """() => {
    // longest first: a short line of code ("    )") is also part of longer ones
    const code = Array.from(document.querySelectorAll('code'), (c) => c.innerText)
        .filter((c) => c.trim()).sort((a, b) => b.length - a.length);
    let text = [document.body.innerText,
        ...Array.from(document.querySelectorAll('svg text'), (t) => t.textContent)]
        .join('\\n');
    for (const c of code) text = text.split(c).join(' ');
    return text; }"""


# Every plotly chart on the page has drawn its SVG (axis titles, legends).
CHARTS_DRAWN = """() => [...document.querySelectorAll("[data-testid='stPlotlyChart']")]
    .every((c) => c.querySelector('.main-svg'))"""


def english_words(text: str) -> dict[str, str]:
    """Each English word of ``text`` not allowed, with the text around it."""
    text = AS_TYPED.sub(" ", text)
    return {
        m[0]: text[max(m.start() - 30, 0) : m.end() + 30].replace("\n", " / ")
        for m in WORD.finditer(text)
        if m[0] not in ALLOWED
    }


def test_no_english_is_left_on_the_chinese_page(browser, server, shots):
    """The default page in a Chinese browser, then each tab in turn: the
    visible text (the page's, and the maps' and charts' SVG text) holds no
    English word beyond the names and symbols above."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1400, "height": 1300}
    )
    try:
        page = context.new_page()
        open_app(page, server + "/")
        found = {"(first paint)": english_words(page.evaluate(VISIBLE_TEXT))}
        page.screenshot(path=str(shots / "i18n-zh-every-tab.png"))
        tabs = page.get_by_role("tab")
        for i in range(tabs.count()):
            tab = tabs.nth(i)
            name = tab.inner_text()
            if tab.get_attribute("aria-selected") != "true":
                act(page, tab.click)  # (a tab is drawn by the run its click asks for)
            page.wait_for_selector(
                f"[role='tab'][aria-selected='true']:has-text('{name}')"
            )
            # a chart draws after its run: its words are read once it has
            page.wait_for_function(CHARTS_DRAWN)
            found[name] = english_words(page.evaluate(VISIBLE_TEXT))
        left = {k: v for k, v in found.items() if v}
        assert not left, f"English on the Chinese page: {left}"
    finally:
        context.close()
