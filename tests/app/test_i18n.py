"""The page in each user's language (``explorer.app.i18n``): the catalogs
are fresh, complete and Chinese, in the learners' words; each session has
its own language; and the modules translated so far wrap every string they
show."""

from __future__ import annotations

import ast
import gettext
import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from PIL import Image
from streamlit.testing.v1 import AppTest

from explorer.app import i18n
from tests.helpers import APP, REPO

APP_DIR = REPO / "explorer" / "app"
PO = i18n.LOCALES / "zh" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
MO = PO.with_suffix(".mo")
POT = i18n.LOCALES / f"{i18n.DOMAIN}.pot"
FIX = (
    "pybabel extract -F babel.cfg --no-location --sort-output "
    "-o explorer/app/locales/explorer.pot . && pybabel update -i "
    "explorer/app/locales/explorer.pot -d explorer/app/locales -D explorer "
    "--no-fuzzy-matching --ignore-obsolete, translate, then pybabel compile "
    "-d explorer/app/locales -D explorer (the README's Translations)"
)

# Modules whose every shown string goes through the catalogs (each is
# checked by name), and those not yet translated: none now. A new module is
# held to the same rule: the test below fails on any module of the app that
# shows a string of its own, unless it is listed in NOT_YET (which must
# then still show one, so the list only shrinks).
TRANSLATED = [
    "lesson/__init__.py",
    "lesson/basics.py",
    "lesson/check.py",
    "lesson/frame.py",
    "lesson/spaces.py",
    "errors.py",
    "page.py",
    "panel.py",
    "script.py",
    "selection.py",
    "sidebar.py",
    "tabs/computation.py",
    "tabs/conditional.py",
    "tabs/dimensions.py",
    "tabs/directions.py",
    "tabs/interpolation.py",
    "tabs/manifold.py",
    "tabs/metrics.py",
    "tabs/movement.py",
    "tabs/prior.py",
    "tabs/selected.py",
    "tabs/trainer.py",
    "tabs/training.py",
    "tabs/beta.py",
    "tabs/unusual.py",
    "viewdata.py",
    "tabs/your_image.py",
    "replay.py",
    "widgets.py",
]
NOT_YET: list[str] = []
# Strings shown as they are in every language.
AS_IS = {"Language · 语言"}

# The learners' words (../shared/notes/glossary-zh.md): an English term in a
# message, and what its Chinese rendering must hold.
GLOSSARY = [
    (r"\bautoencoder|\bAE\b", "自编码器"),
    (r"\bVAE\b|variational autoencoder", "变分自编码器"),
    (r"\bencoder\b", "编码器"),
    (r"\bdecoder\b", "解码器"),
    (r"\bencod(e|ed|es|ing)\b", "编码"),
    (r"\bdecod(e|ed|es|ing)\b", "解码"),
    (r"\blatent\b", "隐"),
    (r"\bprior\b", "先验"),
    (r"\bposterior\b", "后验"),
    (r"\blikelihood\b", "似然"),
    (r"\bELBO\b", "证据下界"),
    (r"\bKL\b", "KL"),
    (r"\breparameteri[sz]ation\b", "重参数化"),
    (r"\breconstruction\b", "重构"),
    (r"\bsampl(e|es|ed|ing)\b", "采样"),
    (r"\bnoise\b", "噪声"),
    (r"\bmean\b", "均值"),
    (r"\bvariance\b", "方差"),
    (r"\bstandard deviation\b", "标准差"),
    (r"\bloss\b", "损失"),
    (r"\binterpolat(e|ed|ion)\b", "插值"),
    (r"\bdimensions?\b|\b\d*-?D latent\b|\{d\}-D", "维"),
]


def catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def messages(cat) -> dict:
    return {m.id: m for m in cat if m.id}


def test_the_template_is_what_the_code_says_now():
    found = {
        (msg[2] if isinstance(msg[2], str) else tuple(msg[2]))
        for msg in extract_from_dir(
            str(REPO),
            method_map=[("explorer/app/**.py", "python")],
        )
    }
    assert set(messages(catalog(POT))) == found, f"stale catalog: {FIX}"


def test_every_message_is_in_chinese_and_compiled():
    template, zh = messages(catalog(POT)), messages(catalog(PO))
    assert set(zh) == set(template), f"the Chinese catalog is stale: {FIX}"
    compiled = gettext.GNUTranslations(MO.open("rb"))
    chinese = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
    for mid, m in zh.items():
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(forms), f"no translation of {mid!r}"
        assert not m.fuzzy, f"fuzzy: {mid!r}"
        for form in forms:
            assert chinese.search(form), f"no Chinese in the rendering of {mid!r}"
            fields = {f for _, f, _, _ in string.Formatter().parse(form) if f}
            source = mid[0] if isinstance(mid, tuple) else mid
            want = {f for _, f, _, _ in string.Formatter().parse(source) if f}
            assert fields == want, f"{mid!r}: fields {fields} for {want}"
        if isinstance(mid, tuple):
            assert compiled.ngettext(*mid, 2) == forms[0]
        else:
            assert compiled.gettext(mid) == forms[0], f"compile the catalog: {FIX}"


def test_the_chinese_uses_the_learners_words():
    zh = messages(catalog(PO))
    for mid, m in zh.items():
        source = " ".join(mid) if isinstance(mid, tuple) else mid
        rendering = " ".join(m.string) if isinstance(m.string, tuple) else m.string
        for term, word in GLOSSARY:
            if re.search(term, source, re.IGNORECASE):
                assert word in rendering, f"{term} as {word} in {source!r}"


def test_a_locale_picks_its_language():
    assert i18n.from_locale("zh-CN") == "zh" and i18n.from_locale("zh_TW") == "zh"
    assert i18n.from_locale("en-GB") == "en" and i18n.from_locale(None) == "en"
    assert i18n.from_locale("fr") == "en"
    with pytest.raises(ValueError):
        i18n.translations("xx")


def _at(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    return at


def _header(at: AppTest) -> str:
    return at.sidebar.header[0].value


def test_two_sessions_in_two_languages_at_once():
    zh, en = _at(lang="zh").run(), _at().run()
    assert not zh.exception and not en.exception
    assert _header(zh) == "数据与模型" and zh.title[0].value.startswith("隐空间探索器")
    assert _header(en) == "Data and models" and en.title[0].value == "Latent Explorer"
    zh.run()  # one session's rerun after the other's: each keeps its own
    assert _header(zh) == "数据与模型"
    assert zh.query_params["lang"] == "zh" and "lang" not in en.query_params
    # the sidebar's switch, back to the browser's language: the link drops it
    en = en.selectbox(key="lang").set_value("zh").run()
    assert _header(en) == "数据与模型" and en.query_params["lang"] == "zh"
    en = en.selectbox(key="lang").set_value("en").run()
    assert _header(en) == "Data and models" and "lang" not in en.query_params


def test_an_unknown_language_in_a_link_falls_back_with_a_notice():
    at = _at(lang="<b>klingon</b>").run()
    assert _header(at) == "Data and models"
    (notice,) = [w.value for w in at.warning if "language" in w.value]
    assert "unknown language '`<b>klingon</b>`'" in notice  # as typed


def _open_tab(at: AppTest) -> str:
    """The label of the tab the page shows open."""
    (tabs,) = [
        b
        for b in at.main.children.values()
        if getattr(b, "type", "") == "tab_container"
    ]
    return at.tabs[tabs.proto.tab_container.default_tab_index].label


def test_the_tabs_show_their_labels_and_a_link_keeps_their_ids():
    at = _at(lang="zh", tab="Interpolation").run()
    assert not at.exception and not at.warning
    assert [t.label for t in at.tabs][:3] == ["所选图像", "计算图", "插值"]
    assert _open_tab(at) == "插值" and at.query_params["tab"] == "Interpolation"
    at.session_state["tab"] = "Prior samples"  # an id, as a test or a link sets it
    at.run()
    assert _open_tab(at) == "先验采样" and at.query_params["tab"] == "Prior samples"


def test_the_open_tab_stays_open_when_the_language_changes():
    at = _at(tab="Dimensions").run()
    assert _open_tab(at) == "Dimensions"
    at = at.selectbox(key="lang").set_value("zh").run()
    assert not at.exception
    assert _open_tab(at) == "维度" and at.query_params["tab"] == "Dimensions"
    at.session_state["tab"] = "异常图像"  # the label a click in Chinese stores
    at = at.selectbox(key="lang").set_value("en").run()
    assert _open_tab(at) == "Unusual images"
    assert at.query_params["tab"] == "Unusual images" and "lang" not in at.query_params


def test_the_link_notices_are_in_the_language_and_keep_values_as_typed():
    at = _at(lang="zh", tab="<b>Nowhere</b>", steps="99").run()
    (notice,) = [w.value for w in at.warning]
    assert notice.startswith("链接的一部分无法使用")
    assert (
        "未知标签页 '`<b>Nowhere</b>`'" in notice
        and "steps 必须在 3 到 20 之间" in notice
    )
    assert _open_tab(at) == "所选图像"


def _imports_underscore(tree: ast.Module) -> bool:
    return any(
        isinstance(n, ast.ImportFrom)
        and n.module == "explorer.app.i18n"
        and any(a.name == "_" for a in n.names)
        for n in tree.body
    )


def test_no_module_that_translates_with_underscore_assigns_it():
    """``for _, x in ...`` would hide the translation function."""
    for path in APP_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text())
        if not _imports_underscore(tree):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "_":
                assert isinstance(node.ctx, ast.Load), f"{path}:{node.lineno}"


SHOWN_KEYWORDS = {"label", "help", "placeholder", "caption", "body"}


# Streamlit's calls that show their first argument (and their SHOWN_KEYWORDS).
SHOWS = {
    "title", "header", "subheader", "caption", "markdown", "write", "text",
    "info", "warning", "error", "success", "toast", "spinner", "status",
    "button", "download_button", "link_button", "form_submit_button",
    "toggle", "checkbox", "selectbox", "select_slider", "slider", "radio",
    "multiselect", "text_input", "text_area", "number_input", "file_uploader",
    "expander", "popover", "metric", "image", "tabs",
}  # fmt: skip


def _on_st(func: ast.expr) -> bool:
    """A call of ``st.x`` or ``st.sidebar.x`` that shows text (``SHOWS``)."""
    if not (isinstance(func, ast.Attribute) and func.attr in SHOWS):
        return False
    while isinstance(func, ast.Attribute):
        func = func.value
    return isinstance(func, ast.Name) and func.id == "st"


def _unwrapped(node: ast.expr) -> bool:
    """Words written in the code itself rather than through ``_``."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and v.value.strip() for v in node.values)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-z]{2}", node.value)) and node.value not in AS_IS
    if isinstance(node, ast.BinOp):
        return _unwrapped(node.left) or _unwrapped(node.right)
    if isinstance(node, ast.IfExp):
        return _unwrapped(node.body) or _unwrapped(node.orelse)
    return False


def unwrapped_strings(source: str) -> list[int]:
    """Lines where a string shown by a Streamlit call is not translated."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and _on_st(node.func)):
            continue
        shown = node.args[:1] + [
            k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS
        ]
        lines += [n.lineno for n in shown if _unwrapped(n)]
    return lines


@pytest.mark.parametrize("module", TRANSLATED)
def test_a_translated_module_shows_no_string_of_its_own(module):
    assert unwrapped_strings((APP_DIR / module).read_text()) == []


def test_the_modules_not_yet_translated_are_listed_and_still_untranslated():
    every = {p.relative_to(APP_DIR).as_posix() for p in APP_DIR.rglob("*.py")}
    shown = {m for m in every if unwrapped_strings((APP_DIR / m).read_text())}
    assert shown <= set(NOT_YET), f"wrap these or list them: {shown - set(NOT_YET)}"
    done = [m for m in NOT_YET if m not in shown]
    assert done == [], f"translated now, move to TRANSLATED: {done}"


@pytest.mark.parametrize(
    "line",
    [
        'st.caption("Words")',
        'st.sidebar.toggle("x", help="More words")',
        'st.warning(f"About {x}")',
        'st.info("some " + "words")',
        'st.error("Words" if x else _("B"))',
    ],
)
def test_the_check_sees_a_string_shown_untranslated(line):
    assert unwrapped_strings(line) == [1]


@pytest.mark.parametrize(
    "line",
    [
        'st.caption(_("Words"))',
        'st.sidebar.toggle(_("x"), key=K.X, help=_("More"))',
        'st.warning(_("About {x}").format(x=x))',
        'st.code(u.command, language="bash")',
        'st.selectbox("Language · 语言", LANGUAGES)',
    ],
)
def test_the_check_passes_translated_strings(line):
    assert unwrapped_strings(line) == []


def test_the_words_of_lower_layers_are_marked_where_shown():
    """The measures' words (``explorer.latent``) and the upload's (``explorer.data``)
    have catalog entries in the tabs that show them, in the same English."""
    from explorer.app.errors import TEXTS
    from explorer.app.tabs.unusual import RANKS
    from explorer.app.tabs.your_image import DATA_WORDS
    from explorer.data.upload import UploadError, preprocess
    from explorer.latent.measures import MEASURES

    assert RANKS == {k: m.text for k, m in MEASURES.items()}
    # a dark grey image, a light one (inverted) and a colour one
    made = [("L", 0, 255, 1), ("L", 255, 0, 1), ("RGB", (0, 0, 0), (200, 30, 30), 3)]
    done = set()
    for mode, back, mark, channels in made:
        im = Image.new(mode, (20, 20), back)
        im.paste(mark, (5, 5, 15, 15))
        done.add(preprocess(_png(im), (channels, 28, 28))[1]["done"])
    assert len(done) == 3 and done <= set(DATA_WORDS)
    for data in [b"", b"not an image", _png(Image.new("L", (9, 9), 40))]:
        with pytest.raises(UploadError) as e:
            preprocess(data, (1, 28, 28))
        assert (UploadError, e.value.code) in TEXTS


def _png(im) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def test_the_colourings_words_are_the_measures_names():
    """The sidebar's colourings are marked for the catalog in the app
    (``catalogue.COLOURINGS``); they must say what the measures are called."""
    from explorer.app import catalogue
    from explorer.latent.measures import MEASURES

    assert list(catalogue.COLOURINGS) == ["class", *MEASURES]
    for key, m in MEASURES.items():
        assert catalogue.COLOURINGS[key] == m.name
