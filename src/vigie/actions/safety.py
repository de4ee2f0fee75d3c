"""Safety messages for children: what the platform shows the younger participant on warn_child.

Texts and helplines live in a catalogue file (``safety_messages.toml``), not in code, so that
child-protection staff can review and translate them, and a deployment can add its country
with a small file named by ``VIGIE_SAFETY_MESSAGES`` (merged over the shipped one).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from vigie.settings import merge_dicts

TOPICS = ("secrecy", "off_platform", "image_request", "meeting", "threat", "general")
LANGS = ("fr", "en")
# Order in which several topics are shown: the most urgent first.
_URGENCY = ("threat", "image_request", "meeting", "off_platform", "secrecy", "general")
_MAX_TOPICS = 2


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The parsed catalogue: texts per language and help per country."""

    data: dict[str, Any]

    def text(self, section: str, lang: str, key: str | None = None) -> str:
        table = self.data[section] if key is None else self.data[section][lang]
        return str(table[lang] if key is None else table[key])

    def countries(self) -> list[str]:
        return sorted(self.data.get("countries", {}))

    def help_for(self, country: str) -> list[dict[str, Any]]:
        countries = self.data.get("countries", {})
        chosen = country if country in countries else self.data.get("fallback_country", "INT")
        return list(countries.get(chosen, {}).get("help", []))

    def resolve_country(self, country: str | None) -> str:
        code = (country or self.data.get("default_country", "FR")).upper()
        code = "GB" if code == "UK" else code
        countries = self.data.get("countries", {})
        return code if code in countries else str(self.data.get("fallback_country", "INT"))


@lru_cache(maxsize=4)
def load_catalogue(extra: str | None = None) -> Catalogue:
    """The shipped catalogue, with ``extra`` (a TOML file of the same shape) merged over it."""
    shipped = resources.files("vigie.actions").joinpath("safety_messages.toml")
    data = tomllib.loads(shipped.read_text(encoding="utf-8"))
    if extra:
        with Path(extra).open("rb") as fh:
            data = merge_dicts(data, tomllib.load(fh))
    return Catalogue(data)


def default_catalogue() -> Catalogue:
    return load_catalogue(os.environ.get("VIGIE_SAFETY_MESSAGES") or None)


def pick_lang(lang: str | None) -> str:
    """'fr-FR' → 'fr'; anything not translated yet → English."""
    code = (lang or "").split("-")[0].split("_")[0].lower()
    return code if code in LANGS else "en"


def _order_topics(topics: list[str]) -> list[str]:
    known = [t for t in _URGENCY if t in set(topics)]
    return known[:_MAX_TOPICS] or ["general"]


def _help_line(entry: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        "name": entry["name"],
        "phone": entry.get("phone"),
        "url": entry.get("url"),
        "kind": entry.get("kind", "talk"),
        "description": entry.get(lang) or entry.get("en", ""),
    }


def help_lines(
    topics: list[str], lang: str, country: str | None, catalogue: Catalogue | None = None
) -> list[dict[str, Any]]:
    """The help offered with these topics in this country, in catalogue order."""
    cat = catalogue or default_catalogue()
    wanted = set(topics)
    entries = cat.help_for(cat.resolve_country(country))
    chosen = [e for e in entries if "*" in e.get("topics", []) or wanted & set(e["topics"])]
    return [_help_line(e, pick_lang(lang)) for e in chosen]


def safety_message(
    topics: list[str], lang: str, country: str = "FR", catalogue: Catalogue | None = None
) -> dict[str, Any]:
    """The message to show a child for these risk topics, and the help they can reach.

    At most two topics are spoken to (the most urgent first), so the message stays short.
    Returns ``{"lang", "country", "topics", "title", "text", "help", "help_page"}``.
    """
    cat = catalogue or default_catalogue()
    code = pick_lang(lang)
    shown = _order_topics(topics)
    parts = [cat.text("messages", code, t) for t in shown] + [cat.text("closing", code)]
    where = cat.resolve_country(country)
    return {
        "lang": code,
        "country": where,
        "topics": shown,
        "title": cat.text("title", code),
        "text": " ".join(parts),
        "help": help_lines(shown, code, where, cat),
        "help_page": f"/help?lang={code}&country={where}",
    }
