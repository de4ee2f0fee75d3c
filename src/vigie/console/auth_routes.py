"""Log-in, log-out and lock-out. The login form is CSRF-protected with a double-submit cookie
(there is no session yet); every later form uses the session's own token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

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


@router.post("/console/login")
async def login(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not security.same(form.get("csrf"), request.cookies.get(security.LOGIN_CSRF_COOKIE)):
        return _login_page(request, N_("The form expired; please try again."), 403)
    email, password = form.get("email", "").strip().lower()[:320], form.get("password", "")
    at = now()
    with db(request) as s:
        user = q.user_by_email(s, email)
        locked = user is not None and (q.utc(user.locked_until) or at) > at
        good = security.check_password(user.password_hash if user else None, password)
        if user is None or not user.active or locked or not good:
            newly_locked = False
            if user is not None and not locked and not good:
                newly_locked = q.record_login_failure(
                    s, user, at, security.MAX_FAILURES, security.LOCK_FOR
                )
            action = "console.login_locked" if locked or newly_locked else "console.login_failed"
            audit(s, f"console:{email}", action, f"user:{email}")
            message = (
                N_("Too many failed attempts: this account is locked for a while.")
                if locked or newly_locked
                else N_("Wrong e-mail or password.")
            )
            return _login_page(request, message, 401)
        q.record_login_success(s, user)
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
