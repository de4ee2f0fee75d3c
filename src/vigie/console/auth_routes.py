"""Log-in, log-out and the log-in back-off. The login form is CSRF-protected with a
double-submit cookie (there is no session yet); every later form uses the session's own token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from vigie.console import queries as q
from vigie.console import security
from vigie.console.i18n import LANGS, N_
from vigie.console.web import (
    LANG_COOKIE,
    Me,
    audit,
    checked_form,
    db,
    now,
    render,
    secret,
    see_other,
)

router = APIRouter(include_in_schema=False)

# The one answer to every refused log-in (unknown e-mail, wrong password, backed off, inactive):
# a different message would tell which e-mails have an account.
LOGIN_REFUSED = N_("Wrong e-mail or password, or too many attempts: please wait and try again.")


def _secure(request: Request) -> bool:
    """Cookies only over TLS: when Vigie sees https, or when told (``cookie_secure``) that a
    TLS proxy in front of it speaks http to it."""
    return bool(request.app.state.settings.cookie_secure) or request.url.scheme == "https"


def _login_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    token = security.new_token()
    response = render(request, "login.html", None, status_code=status_code, csrf=token, error=error)
    response.set_cookie(
        security.LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/console",
    )
    return response


@router.get("/console/login")
def login_form(request: Request) -> Response:
    """The login form; ``?lang=fr`` (its language switch) is remembered in a cookie."""
    response = _login_page(request)
    lang = request.query_params.get("lang")
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, str(lang), samesite="strict", path="/", max_age=31536000)
    return response


def client_address(request: Request) -> str:
    """The address the back-off counts against: the peer, or the one uvicorn took from
    ``X-Forwarded-For`` when told to trust the proxy (``--forwarded-allow-ips``)."""
    return (request.client.host if request.client else "unknown")[:64]


def _refused(request: Request, s: Session, email: str, action: str, address: str) -> Response:
    """Every refused log-in reads the same (one message, one status): only the audit trail
    says why, with the address it came from."""
    audit(s, f"console:{email}", action, f"user:{email}", {"address": address})
    return _login_page(request, LOGIN_REFUSED, 401)


@router.post("/console/login")
async def login(request: Request) -> Response:
    """Log in, with back-off per (e-mail, client address): guessing from one address slows
    down that address only, so nobody can lock an officer out from elsewhere."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not security.same(form.get("csrf"), request.cookies.get(security.LOGIN_CSRF_COOKIE)):
        return _login_page(request, N_("The form expired; please try again."), 403)
    email, password = form.get("email", "").strip().lower()[:320], form.get("password", "")
    address, at = client_address(request), now()
    with db(request) as s:
        if q.backed_off_until(s, email, address, at) is not None:
            return _refused(request, s, email, "console.login_locked", address)
        user = q.user_by_email(s, email)
        good = security.check_password(user.password_hash if user else None, password)
        if user is None or not user.active or not good:
            q.record_login_failure(s, email, address, at, security.backoff, security.FORGET_AFTER)
            return _refused(request, s, email, "console.login_failed", address)
        q.clear_backoff(s, email, address)
        token = security.new_token()
        q.create_session(
            s,
            security.token_hash(token),
            user.id,
            security.new_token(),
            at,
            security.SESSION_LIFETIME,
        )
        audit(
            s, f"console:{user.email}", "console.login", f"user:{user.email}", {"role": user.role}
        )
    response = see_other("/console/queues")
    response.set_cookie(
        security.COOKIE,
        security.sign(secret(request), token),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
        max_age=int(security.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(security.LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/console/logout")
async def logout(request: Request, me: Me) -> Response:
    await checked_form(request, me)
    with db(request) as s:
        q.revoke_session(s, me.token_hash, now())
        audit(s, me, "console.logout", f"user:{me.email}")
    response = see_other("/console/login")
    response.delete_cookie(security.COOKIE, path="/")
    return response


@router.get("/console")
def home(request: Request) -> Response:
    if security.unsign(secret(request), request.cookies.get(security.COOKIE)) is None:
        return see_other("/console/login")
    return see_other("/console/queues")


@router.get("/")
def root() -> Response:
    return see_other("/console")


@router.get("/console/forbidden", response_class=HTMLResponse)
def forbidden_page(request: Request, me: Me) -> Response:
    return render(request, "forbidden.html", me, status_code=403, permission="")
