"""The public help page, ``GET /help``: what a child can do and who can help, in FR and EN.

No authentication: platforms link to it from their own safety messages. Plain HTML with
no script, so it works on any phone and with screen readers.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from vigie.actions.safety import LANGS, TOPICS, default_catalogue, help_lines, pick_lang

router = APIRouter(tags=["help"])


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("vigie.actions", "templates"), autoescape=select_autoescape(["html"])
    )


def _accepted(header: str | None) -> list[tuple[str, str | None]]:
    """Accept-Language as (language, region) pairs, most preferred first."""
    ranked: list[tuple[float, int, str, str | None]] = []
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        if not tag or tag == "*":
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang, _, region = tag.replace("_", "-").partition("-")
        ranked.append((-q, i, lang.lower(), region.upper() or None))
    return [(lang, region) for _, _, lang, region in sorted(ranked)]


def choose(lang: str | None, country: str | None, accept: str | None) -> tuple[str, str]:
    """Language and country: query parameters first, then Accept-Language, then defaults."""
    cat = default_catalogue()
    prefs = _accepted(accept)
    if lang is None:
        lang = next((lg for lg, _ in prefs if lg in LANGS), "fr")
    known = set(cat.countries())
    if country is None:
        country = next((r for _, r in prefs if r and (r in known or r == "UK")), None)
    return pick_lang(lang), cat.resolve_country(country)


_PAGE_EXAMPLE = '<!doctype html><html lang="fr"><title>Besoin d\'aide ?</title>…</html>'


@router.get(
    "/help",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {"example": _PAGE_EXAMPLE}}}},
)
def help_page(
    request: Request, lang: str | None = None, country: str | None = None
) -> HTMLResponse:
    """The help page; ``?lang=en`` or ``?lang=fr``, ``?country=FR|GB|US``."""
    code, where = choose(lang, country, request.headers.get("accept-language"))
    cat = default_catalogue()
    page = cat.data["page"][code]
    html = (
        _env()
        .get_template("help.html")
        .render(
            lang=code,
            other_lang="en" if code == "fr" else "fr",
            country=where,
            page=page,
            help=help_lines(list(TOPICS), code, where, cat),
            topics=[(t, cat.text("messages", code, t)) for t in TOPICS],
            countries=[c for c in cat.countries() if c != "INT"],
        )
    )
    return HTMLResponse(html, headers={"Content-Language": code, "Vary": "Accept-Language"})
