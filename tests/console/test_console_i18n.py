"""Bilingual for real: the catalogues are complete, and French pages hold no English.

Two checks on every page rendered in French: nothing was looked up without a French entry
(``i18n.MISSES``), and no visible text outside ``translate="no"`` (what people wrote, ids,
e-mails) contains an English-only word, which catches text never passed through the catalogue.
"""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir
from console_seed import ConsoleEnv
from fastapi.testclient import TestClient

from vigie.console import i18n, practice, queues
from vigie.console.case_routes import DECISIONS
from vigie.console.security import PERMISSIONS, ROLES
from vigie.domain.categories import CATEGORIES, Category
from vigie.reports.authorities import AUTHORITIES

CONSOLE = Path(i18n.__file__).parent
POLICY = CONSOLE.parent / "policy" / "default_policy.toml"
KEYWORDS = {"t": None, "tn": (1, 2), "N_": None}
STATUSES = ("open", "in_review", "escalated", "report_pending", "actioned", "dismissed", "closed")


def _entries(lang: str) -> dict[tuple[str | None, str], object]:
    return {
        (m.context, m.id if isinstance(m.id, str) else m.id[0]): m.string
        for m in i18n.read_catalogue(lang)
        if m.id
    }


def _extracted() -> set[str]:
    found = extract_from_dir(
        str(CONSOLE),
        method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        keywords=KEYWORDS,
    )
    return {m if isinstance(m, str) else m[0] for _, _, m, _, _ in found if m}


def test_every_french_entry_is_translated_with_the_same_placeholders() -> None:
    catalog = i18n.read_catalogue("fr")
    assert catalog.num_plurals == 2
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"no French for {message.id!r}"
        if message.python_format:
            python_format(catalog, message)  # raises on a placeholder mismatch


def test_every_string_in_templates_and_code_has_a_french_entry() -> None:
    french = _entries("fr")
    missing = sorted(m for m in _extracted() if (None, m) not in french)
    assert not missing, f"add these to locale/fr/LC_MESSAGES/console.po: {missing}"


def _policy() -> list[dict[str, str]]:
    return list(tomllib.loads(POLICY.read_text())["rule"])


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_identifier_has_a_human_label(lang: str) -> None:
    """Pages never show snake_case ids: statuses, categories (the new ones too), rules,
    decisions, roles, authorities, permissions and queue names all have labels."""
    entries = _entries(lang)
    wanted = [
        *(("status", s) for s in STATUSES),
        *(("category", c.value) for c in Category),
        ("category", "deepfake_threat"),
        ("category", "livestream_commissioning"),
        *(("rule", r["name"]) for r in _policy()),
        *(("decision", d) for d in DECISIONS),
        *(("role", r) for r in ROLES),
        *(("authority", a) for a in AUTHORITIES),
        *(("permission", p) for p in PERMISSIONS),
    ]
    missing = [key for key in wanted if not entries.get(key)]
    assert not missing, f"no {lang} label for {missing}"
    if lang == "fr":
        texts = [*CATEGORIES.values(), *(r["why"] for r in _policy())]
        texts += [x for qu in queues.QUEUES for x in (qu.title, qu.why)]
        assert not [x for x in texts if not entries.get((None, x))]


def test_language_from_header_then_switch_then_saved_choice(console: ConsoleEnv) -> None:
    client = TestClient(console.app, base_url="http://testserver")
    assert "Mot de passe" in client.get("/console/login", headers=_FR).text
    assert "Password" in client.get("/console/login", headers={"Accept-Language": "en"}).text
    client.get("/console/login?lang=fr")
    assert "Mot de passe" in client.get("/console/login").text  # the switch's cookie
    mod = console.login("mod@vigie.test")
    page = mod.get("/console/queues", headers=_FR).text
    assert "Tableau de bord" in page
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    mod.post("/console/lang", data={"csrf": token.group(1), "lang": "en", "next": "/console"})
    mod.cookies.clear()
    mod = console.login("mod@vigie.test")
    assert "Dashboard" in mod.get("/console/queues", headers=_FR).text  # saved beats browser


_FR = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
# Words that are English only: in English msgids and labels, never in a French one.
_STOP = {"the", "and", "of", "by", "with", "to", "your", "you", "is", "are", "this", "from"}
_ALLOWED = {"vigie", "p1", "p2", "p3", "p4", "p95", "csv", "ncmec", "pharos", "ofmin", "sla"}
_DATA = re.compile(r"[0-9_@/]|\w-\w")
_WORD = re.compile(r"[a-zàâçéèêëîïôûùüÿœ']{2,}", re.I)


def _english_words() -> set[str]:
    english: set[str] = set(_STOP)
    for lang in i18n.LANGS:
        for (_, msgid), _string in _entries(lang).items():
            english.update(w.lower() for w in _WORD.findall(msgid))
    for (_, _), string in _entries("en").items():
        for text in string if isinstance(string, tuple) else (string,):
            english.update(w.lower() for w in _WORD.findall(str(text)))
    french: set[str] = set()
    for case in practice.practice_cases():  # French content is French vocabulary too
        fr = case.in_lang("fr")
        texts = [fr["title"], fr["why"], *(m["text"] for m in fr["messages"])]
        french.update(w.lower() for text in texts for w in _WORD.findall(text))
    for string in _entries("fr").values():
        for text in string if isinstance(string, tuple) else (string,):
            french.update(w.lower() for w in _WORD.findall(str(text)))
    return english - french - _ALLOWED


class _Visible(HTMLParser):
    """Text a person reads (and attribute text they see: titles, labels, placeholders),
    leaving out what is marked ``translate="no"``, scripts and styles."""

    VOID: ClassVar[set[str]] = {"br", "hr", "img", "input", "meta", "link", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.texts: list[str] = []

    def _skipping(self) -> bool:
        return any(self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        skip = a.get("translate") == "no" or tag in ("script", "style", "code", "time")
        if not self._skipping() and not skip:
            for name in ("title", "aria-label", "placeholder"):
                if a.get(name):
                    self.texts.append(str(a[name]))
        if tag not in self.VOID:
            self.stack.append(skip)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping() and data.strip():
            self.texts.append(data.strip())


def _untranslated(html: str, english: set[str]) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return [text for text in parser.texts if _english_in(text, english)]


def _english_in(text: str, english: set[str]) -> bool:
    """Tokens with digits, ``_``, ``-``, ``@`` or ``/`` are ids, dates or addresses: data."""
    words = [w for tok in text.split() if not _DATA.search(tok) for w in _WORD.findall(tok)]
    return any(w.lower() in english for w in words)


def _pages(console: ConsoleEnv, client: TestClient) -> list[str]:
    pages = [f"/console/queues?q={k}" for k in queues.QUEUE_KEYS]
    pages += [f"/console/cases/{console.demo_case}", "/console/cases/case-report"]
    pages += ["/console/reports", "/console/appeals", "/console/dashboard", "/console/settings"]
    pages += ["/console/audit", "/console/users", "/console/cases/no-such-case"]
    pages += [
        "/console/practice",
        "/console/practice/grooming-secrecy",
        "/console/practice-progress",
    ]
    return pages


@pytest.mark.parametrize("email", ["ref1@vigie.test", "admin@vigie.test", "audit@vigie.test"])
def test_pages_in_french_have_no_english(console: ConsoleEnv, email: str) -> None:
    english = _english_words()
    client = console.login(email)
    i18n.MISSES.clear()
    problems: dict[str, list[str]] = {}
    for path in _pages(console, client):
        resp = client.get(path, headers=_FR)
        assert resp.status_code in (200, 403, 404), path
        found = _untranslated(resp.text, english)
        if found:
            problems[path] = found
    login = TestClient(console.app, base_url="http://testserver").get("/console/login", headers=_FR)
    if _untranslated(login.text, english):
        problems["/console/login"] = _untranslated(login.text, english)
    assert not i18n.MISSES, f"looked up without a French entry: {sorted(i18n.MISSES, key=str)}"
    assert not problems, f"English left in French pages: {problems}"


def test_the_check_catches_english(console: ConsoleEnv) -> None:
    """The check itself: a hard-coded English sentence is found, quoted chat is not."""
    english = _english_words()
    html = '<p>Prepared by the officer</p><p translate="no">send me a photo</p>'
    assert _untranslated(html, english) == ["Prepared by the officer"]
    i18n.MISSES.clear()
    i18n.Translator("fr").t("A sentence nobody translated")
    assert list(i18n.MISSES) == [(None, "A sentence nobody translated")]
    i18n.MISSES.clear()
