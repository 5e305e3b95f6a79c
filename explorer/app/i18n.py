"""The words the page shows, in each user's language: English (the source
text) or Simplified Chinese.

The messages are gettext catalogs under ``locales/`` that Babel extracts,
updates and compiles (the README's "Translations" says the commands; a test
fails when a catalog is stale or incomplete). Each session reads its own
language (``K.LANG``) at every call: the catalogs are loaded once per
language and shared read-only, and nothing is installed process-wide
(``gettext.install`` would give every session the last one's language).

In the app a message is ``_("text")``, with ``{name}`` fields filled by
``.format`` after translation (a translator may move them); a message
defined where no session is running (a table of labels) is marked
``N_("text")`` and translated where it is shown.

The Chinese words are the ones learners' notes use
(``../shared/notes/glossary-zh.md``); ``tests/app/test_i18n.py`` checks the
catalog's renderings of the glossary's terms.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

import streamlit as st

from explorer.app import keys as K

DOMAIN = "explorer"
LOCALES = Path(__file__).with_name("locales")
SOURCE = "en"
LANGUAGES = {"en": "English", "zh": "中文"}  # code -> its own name


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` (one of ``LANGUAGES``), loaded once."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    if lang == SOURCE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALES, languages=[lang])


def from_locale(locale: str | None) -> str:
    """The language for a browser's locale (``st.context.locale``, such as
    "zh-CN"): Chinese for any Chinese locale, else English."""
    if locale and locale.replace("_", "-").split("-")[0].lower() == "zh":
        return "zh"
    return SOURCE


def browser_language() -> str:
    """The language of this session's browser (English when unknown)."""
    try:
        return from_locale(st.context.locale)
    except Exception:  # noqa: BLE001 - no browser (a bare script run)
        return SOURCE


def choose() -> None:
    """On a session's first run, sets its language: the link's ``lang`` when
    it names one of ``LANGUAGES``, else the browser's (a link's other value
    is listed in the page's notice, ``state.apply_url``)."""
    ss = st.session_state
    if K.LANG not in ss:
        asked = st.query_params.get("lang")
        ss[K.LANG] = asked if asked in LANGUAGES else browser_language()


def lang() -> str:
    """This session's language (the browser's before it is chosen)."""
    value = st.session_state.get(K.LANG)
    return value if value in LANGUAGES else browser_language()


def _(message: str) -> str:
    """``message`` in this session's language."""
    return translations(lang()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n``, in this session's
    language."""
    return translations(lang()).ngettext(singular, plural, n)


def marked(message: str) -> str:
    """A message marked with ``N_`` elsewhere, in this session's language
    (``_`` itself takes only a literal, which Babel extracts)."""
    return translations(lang()).gettext(message)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog without translating it (it is
    translated with ``_`` where it is shown)."""
    return message


def number(value: float | int, digits: int | None = None) -> str:
    """``value`` written as this session's language writes numbers (grouping
    and decimal signs, Babel's locale data); ``digits`` after the point, or
    as many as it has."""
    from babel.numbers import format_decimal

    if digits is None:
        return format_decimal(value, locale=lang())
    return format_decimal(value, format=f"#,##0.{'0' * digits}", locale=lang())
