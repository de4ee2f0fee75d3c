"""French and English for the console, from gettext catalogues (``locale/<lang>/console.po``).

Why gettext and not a table in code: translators work on ``.po`` files with the usual tools
(``pybabel extract/update``, Poedit, Weblate), the English text stays readable in templates,
and plural rules come from the catalogue. The ``.po`` files are read with Babel when the
process starts (no separate compile step to forget).

Two kinds of entries:
- sentences and labels: the English text is the ``msgid``; English needs no entry.
- human names of identifiers (statuses, categories, rules, queues, decisions, roles, audit
  actions): ``msgctxt`` says the kind and ``msgid`` is the identifier; both languages have an
  entry so no page ever shows ``report_pending``.

A French lookup with no entry falls back to English and is remembered in ``MISSES``: the
console tests render every page in French and fail if anything landed there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup, escape

LANGS = ("en", "fr")
DEFAULT_LANG = "en"
LANG_NAMES = {"en": "English", "fr": "Français"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "console"

# (context, msgid) looked up in French without an entry, since the process started.
MISSES: set[tuple[str | None, str]] = set()


def N_(msgid: str) -> str:
    """Marks an English msgid where it is written (for ``pybabel extract``); pages translate it
    when they show it."""
    return msgid


@dataclass(frozen=True, slots=True)
class _Loaded:
    translations: Translations
    keys: frozenset[tuple[str | None, str]]


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(lang: str) -> Catalog:
    with po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


@lru_cache(maxsize=len(LANGS))
def _load(lang: str) -> _Loaded:
    """The catalogue compiled in memory once per process (Babel writes the .mo bytes)."""
    catalog = read_catalogue(lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    keys = frozenset(
        (m.context, str(m.id if isinstance(m.id, str) else m.id[0]))
        for m in catalog
        if m.id and m.string and (not isinstance(m.string, tuple) or all(m.string))
    )
    return _Loaded(Translations(buffer, domain=DOMAIN), keys)


def negotiate(accept_language: str | None) -> str | None:
    """The first of our languages in an ``Accept-Language`` header, by quality."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGS and quality > 0:
            ranked.append((-quality, i, lang))
    return min(ranked)[2] if ranked else None


@dataclass(slots=True)
class Translator:
    """What templates call: ``t`` (sentences), ``tn`` (plurals), ``label`` (identifiers)."""

    lang: str
    _loaded: _Loaded = field(init=False)

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            self.lang = DEFAULT_LANG
        self._loaded = _load(self.lang)

    def _note(self, context: str | None, msgid: str) -> None:
        if self.lang != DEFAULT_LANG and (context, msgid) not in self._loaded.keys:
            MISSES.add((context, msgid))

    def t(self, msgid: str, **values: Any) -> str:
        """A sentence; ``%(name)s`` placeholders are filled after translation."""
        self._note(None, msgid)
        text = self._loaded.translations.gettext(msgid)
        return text % values if values else text

    def tn(self, singular: str, plural: str, n: int, **values: Any) -> str:
        self._note(None, singular)
        text = self._loaded.translations.ngettext(singular, plural, n)
        return text % {"n": n, **values}

    def label(self, context: str, ident: str | None) -> str:
        """The human name of an identifier; an unknown one is shown readable, never raw."""
        if not ident:
            return "—"
        if (context, ident) not in self._loaded.keys:
            MISSES.add((context, ident))
            return ident.replace("_", " ").replace(".", " ")
        return str(self._loaded.translations.pgettext(context, ident))

    def labels(self, context: str, idents: list[str] | None) -> str:
        return ", ".join(self.label(context, i) for i in idents or []) or "—"

    def explain(self, text: str) -> Markup:
        """A detector's explanation in this language, when it follows a known template. What
        people wrote (quotes, report reasons) stays as written, marked ``translate="no"``."""
        if (None, text) in self._loaded.keys:  # a fixed sentence (context signals)
            return escape(self.t(text))
        for pattern, render in _EXPLANATIONS:
            match = pattern.match(text)
            if match:
                return render(self, match.groupdict())
        return _verbatim(text)

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {
            "t": self.t,
            "tn": self.tn,
            "label": self.label,
            "labels": self.labels,
            "explain": self.explain,
        }


def _verbatim(text: str) -> Markup:
    return Markup('<span translate="no">%s</span>') % text


def _text_hit(tr: Translator, g: dict[str, str | None]) -> Markup:
    """``meaning (how): “quote” [note]``, as the text detectors write it."""
    meaning = g["what"] or "?"
    what = escape(tr.t(meaning))
    how = tr.t(g["how"].strip(" ()")) if g["how"] else ""
    out = what + (Markup(" (%s)") % how if how else "") + escape(tr.label("typography", "colon"))
    out += escape(tr.label("typography", "open-quote")) + _verbatim(g["evidence"] or "")
    out += escape(tr.label("typography", "close-quote"))
    if g["n"]:
        note = tr.t("long message: scored on its first %(n)s characters", n=g["n"])
        out += Markup(" [%s]") % note
    return Markup(out)


def _user_report(tr: Translator, g: dict[str, str | None]) -> Markup:
    return (
        escape(tr.t("A user reported this account:")) + Markup(" ") + _verbatim(g["reason"] or "")
    )


def _media(tr: Translator, g: dict[str, str | None]) -> Markup:
    head = escape(tr.t("media matches a hash list:"))
    return head + Markup(" ") + _verbatim(f"{g['list']} ({g['label']})")


_EXPLANATIONS: tuple[
    tuple[re.Pattern[str], Callable[[Translator, dict[str, str | None]], Markup]], ...
] = (
    (
        re.compile(
            r"^(?P<what>[^“]+?)(?P<how> \((?:similar to known examples|the model's reading of"
            r" the message)\))?: “(?P<evidence>.*)”"
            r"(?: \[long message: scored on its first (?P<n>\d+) characters\])?$",
            re.S,
        ),
        _text_hit,
    ),
    (re.compile(r"^A user reported this account: (?P<reason>.*)$", re.S), _user_report),
    (re.compile(r"^media matches hash list '(?P<list>[^']*)' \((?P<label>[^)]*)\)", re.S), _media),
)
