"""What every console page shares: who is asking, CSRF, rendering and the audit helper."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from vigie.console import queries as q
from vigie.console import security
from vigie.console.i18n import DEFAULT_LANG, LANG_NAMES, LANGS, Translator, negotiate
from vigie.console.queues import human
from vigie.reports.audit import append_audit
from vigie.store.scope import restrict

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

# Strict by default: only our own files; no inline script; media never embedded from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(slots=True)
class Officer:
    """The signed-in person, as pages need them (a detached copy of the rows)."""

    id: int
    email: str
    role: str
    csrf: str
    token_hash: str
    session_started: datetime
    blur: bool
    greyscale: bool
    mute: bool
    break_minutes: int
    lang: str  # the language pages are in: the saved choice, else the browser's
    saved_lang: str  # "" while the officer has not chosen (the browser's language is used)
    platforms: frozenset[str] | None = None  # what they see; None: every platform

    def can(self, permission: str) -> bool:
        return security.can(self.role, permission)


def now() -> datetime:
    return datetime.now(UTC)


_SCOPE = "vigie_platforms"


@contextmanager
def db(request: Request) -> Iterator[Session]:
    """One transaction on the app's store (committed at the end of the block), that sees only
    the signed-in officer's platforms (``vigie.store.scope``): no console query can forget the
    filter. Before an officer is known (log-in), it sees no platform at all."""
    platforms: frozenset[str] | None = getattr(request.state, _SCOPE, frozenset())
    with request.app.state.store.unit() as unit:
        if platforms is not None:
            restrict(unit.session, platforms)
        yield unit.session


def secret(request: Request) -> str:
    return str(request.app.state.settings.secret_key)


def login_redirect() -> HTTPException:
    return HTTPException(
        status_code=303, detail="log in first", headers={"Location": "/console/login"}
    )


LANG_COOKIE = "vigie_lang"


def browser_lang(request: Request) -> str:
    """Before a saved choice: the login page's switch (``?lang=``, then its cookie), else
    ``Accept-Language``, else English."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in LANGS:
        return str(chosen)
    return negotiate(request.headers.get("accept-language")) or DEFAULT_LANG


def current_officer(request: Request) -> Officer:
    """FastAPI dependency: the officer behind the session cookie, or a redirect to log in."""
    token = security.unsign(secret(request), request.cookies.get(security.COOKIE))
    if token is None:
        raise login_redirect()
    digest = security.token_hash(token)
    with db(request) as s:
        found = q.live_session(s, digest, now(), security.SESSION_IDLE)
        if found is None:
            raise login_redirect()
        row, user = found
        platforms = q.platform_scope(s, user)
        setattr(request.state, _SCOPE, platforms)
        return Officer(
            user.id,
            user.email,
            user.role,
            row.csrf,
            digest,
            q.utc(row.created_at) or now(),
            user.blur,
            user.greyscale,
            user.mute,
            user.break_minutes,
            user.lang if user.lang in LANGS else browser_lang(request),
            user.lang if user.lang in LANGS else "",
            platforms,
        )


# The signed-in officer, as a route parameter: ``def page(request, me: Me)``.
Me = Annotated[Officer, Depends(current_officer)]


async def checked_form(request: Request, officer: Officer) -> dict[str, str]:
    """The POSTed form, once its CSRF token matches the session's."""
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}
    if not security.same(values.get("csrf"), officer.csrf):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong")
    return values


def render(
    request: Request, name: str, officer: Officer | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    lang = officer.lang if officer else browser_lang(request)
    tr = Translator(lang)
    since = (now() - officer.session_started).total_seconds() / 60 if officer else 0
    break_due = bool(officer and officer.break_minutes and since >= officer.break_minutes)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "me": officer,
            **tr.functions(),
            "lang": lang,
            "langs": LANGS,
            "lang_names": LANG_NAMES,
            "path": request.url.path,
            "human": lambda delta: human(delta, tr),
            "colon": tr.label("typography", "colon"),
            "break_due": break_due,
            **context,
        },
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def forbidden(request: Request, officer: Officer, permission: str) -> HTMLResponse:
    return render(request, "forbidden.html", officer, status_code=403, permission=permission)


def see_other(url: str) -> Response:
    response = Response(status_code=303, headers={"Location": url})
    response.headers.update(SECURITY_HEADERS)
    return response


def audit(
    session: Session,
    officer: Officer | str,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    platform_id: str | None = None,
) -> None:
    """Every evidence view, reveal, decision, approval, export and login goes through here."""
    actor = officer if isinstance(officer, str) else f"console:{officer.email}"
    append_audit(session, actor, action, target, details, platform_id=platform_id)
