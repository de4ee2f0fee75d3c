"""Accounts for admins: create, assign roles, reset passwords, unlock, deactivate; audited.

Why generated passwords: the admin never chooses (or knows for long) someone else's password.
Creating an account or resetting a password shows a random one-time password once, on the
admin's screen only, to hand over by a separate channel; a reset also ends the person's
sessions at once. ``vigie user add`` still works from the command line.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigie.console import queries as q
from vigie.console import security
from vigie.console.i18n import N_
from vigie.console.web import (
    Me,
    audit,
    checked_form,
    db,
    forbidden,
    now,
    render,
    see_other,
)

router = APIRouter(include_in_schema=False)


def _error(message: str) -> str:
    return "/console/users?error=" + quote(message)


CHANGES = ("unlock", "deactivate", "activate")


def new_password() -> str:
    """16 characters from a 64-symbol alphabet (96 bits): above the 12-character minimum."""
    return secrets.token_urlsafe(12)


def _page(request: Request, me: Me, status_code: int = 200, **extra: object) -> Response:
    with db(request) as s:
        users = q.list_users(s)
        waiting = q.backed_off_emails(s, now())
    # "locked": some address waits before its next try (unlock ends every such wait).
    locked = {u.id for u in users if u.email in waiting}
    return render(
        request,
        "users.html",
        me,
        status_code=status_code,
        users=users,
        locked=locked,
        roles=security.ROLES,
        error=request.query_params.get("error"),
        done=request.query_params.get("done"),
        **extra,
    )


@router.get("/console/users")
def users_page(request: Request, me: Me) -> Response:
    if not me.can("users.manage"):
        return forbidden(request, me, "users.manage")
    return _page(request, me)


@router.post("/console/users")
async def create_user(request: Request, me: Me) -> Response:
    """A new account with a one-time password, shown once on this answer (never stored plain)."""
    form = await checked_form(request, me)
    if not me.can("users.manage"):
        return forbidden(request, me, "users.manage")
    email, role = form.get("email", "").strip().lower()[:320], form.get("role", "")
    if "@" not in email or role not in security.ROLES:
        return see_other(_error(N_("an e-mail address and a role are needed")))
    password = new_password()
    with db(request) as s:
        if q.user_by_email(s, email) is not None:
            return see_other(_error(N_("this e-mail already has an account")))
        user = q.create_user(s, email, role, security.hash_password(password), now())
        audit(s, me, "user.created", f"user:{user.email}", {"role": role})
    return _page(request, me, status_code=201, one_time=(email, password))


@router.post("/console/users/{user_id}/role")
async def change_role(request: Request, user_id: int, me: Me) -> Response:
    form = await checked_form(request, me)
    if not me.can("users.manage"):
        return forbidden(request, me, "users.manage")
    role = form.get("role", "")
    if role not in security.ROLES or user_id == me.id:  # never one's own role: no lock-out
        return see_other(_error(N_("this role cannot be given here")))
    with db(request) as s:
        user = q.user_by_id(s, user_id)
        if user is not None and user.role != role:
            audit(s, me, "user.role", f"user:{user.email}", {"from": user.role, "to": role})
            user.role = role
            q.end_sessions(s, user.id, now())  # new rights from the next log-in
    return see_other("/console/users?done=role")


@router.post("/console/users/{user_id}/password")
async def reset_password(request: Request, user_id: int, me: Me) -> Response:
    await checked_form(request, me)
    if not me.can("users.manage"):
        return forbidden(request, me, "users.manage")
    password = new_password()
    with db(request) as s:
        user = q.user_by_id(s, user_id)
        if user is None or user.id == me.id:
            return see_other("/console/users")
        user.password_hash = security.hash_password(password)
        q.change_user(s, user, "unlock")
        q.end_sessions(s, user.id, now())
        audit(s, me, "user.password_reset", f"user:{user.email}")
        email = user.email
    return _page(request, me, one_time=(email, password))


@router.post("/console/users/{user_id}/{change}")
async def change_user(request: Request, user_id: int, change: str, me: Me) -> Response:
    await checked_form(request, me)
    if not me.can("users.manage"):
        return forbidden(request, me, "users.manage")
    if change not in CHANGES or user_id == me.id:
        return see_other("/console/users")
    with db(request) as s:
        user = q.user_by_id(s, user_id)
        if user is not None:
            q.change_user(s, user, change)
            audit(s, me, f"user.{change}", f"user:{user.email}")
    return see_other("/console/users")
