"""Accounts for admins: create, assign roles and platforms, reset passwords, unlock,
deactivate; audited.

Why platforms here: one Vigie may serve several platforms. An admin who sees every platform
manages every account; an admin of some platforms sees the accounts of those, gives only those,
and changes the whole of an account (role, password, lock, activity) only when it belongs to
none other.

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
from sqlalchemy.orm import Session

from vigie.console import queries as q
from vigie.console import security
from vigie.console.i18n import N_
from vigie.console.web import (
    Me,
    Officer,
    audit,
    checked_form,
    db,
    forbidden,
    now,
    render,
    see_other,
)
from vigie.store.console_tables import ConsoleUserRow

router = APIRouter(include_in_schema=False)


def _error(message: str) -> str:
    return "/console/users?error=" + quote(message)


CHANGES = ("unlock", "deactivate", "activate")


def new_password() -> str:
    """16 characters from a 64-symbol alphabet (96 bits): above the 12-character minimum."""
    return secrets.token_urlsafe(12)


def visible(me: Officer, user: ConsoleUserRow, theirs: frozenset[str]) -> bool:
    """An admin of some platforms sees the accounts that belong to one of them."""
    return me.platforms is None or (not user.all_platforms and bool(theirs & me.platforms))


def manageable(me: Officer, user: ConsoleUserRow, theirs: frozenset[str]) -> bool:
    """Role, password, unlock and deactivation change the whole account: only for an admin of
    every platform it belongs to (else one platform's admin could take over an account that
    sees another platform's cases). Memberships in their own platforms they may always set."""
    if me.platforms is None:
        return True
    return not user.all_platforms and bool(theirs) and theirs <= me.platforms


def _page(request: Request, me: Me, status_code: int = 200, **extra: object) -> Response:
    with db(request) as s:
        everyone = q.list_users(s)
        member = q.memberships(s, [u.id for u in everyone])
        users = [u for u in everyone if visible(me, u, member[u.id])]
        waiting = q.backed_off_emails(s, now())
        platforms = q.platforms_by_id(s)
    # "locked": some address waits before its next try (unlock ends every such wait).
    locked = {u.id for u in users if u.email in waiting}
    return render(
        request,
        "users.html",
        me,
        status_code=status_code,
        users=users,
        locked=locked,
        member=member,
        platforms=platforms,
        manageable={u.id for u in users if manageable(me, u, member[u.id])},
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
    chosen, every = await _chosen_platforms(request, me)
    if not chosen and not every and me.platforms is not None:
        return see_other(_error(N_("choose at least one platform")))
    password = new_password()
    with db(request) as s:
        if q.user_by_email(s, email) is not None:
            return see_other(_error(N_("this e-mail already has an account")))
        hashed = security.hash_password(password)
        try:  # none ticked: every platform, on an install that has one (``create_user``)
            user = q.create_user(s, email, role, hashed, now(), chosen, all_platforms=every)
        except ValueError:
            return see_other(_error(N_("choose at least one platform")))
        details = {"role": role, "platforms": sorted(chosen), "all_platforms": every}
        audit(s, me, "user.created", f"user:{user.email}", details)
    return _page(request, me, status_code=201, one_time=(email, password))


async def _chosen_platforms(request: Request, me: Officer) -> tuple[set[str], bool]:
    """The platforms ticked on the form that this admin may give, and "every platform" (only
    an admin who sees every platform may give it)."""
    form = await request.form()  # already read and checked by ``checked_form``
    ticked = {str(v) for v in form.getlist("platform")}
    with db(request) as s:
        known = set(q.platforms_by_id(s))  # this admin's platforms only
    every = me.platforms is None and form.get("all_platforms") == "1"
    return ticked & known, every


@router.post("/console/users/{user_id}/platforms")
async def change_platforms(request: Request, user_id: int, me: Me) -> Response:
    """Set an account's platforms among the admin's own; the others stay as they are."""
    await checked_form(request, me)
    if not me.can("users.manage"):
        return forbidden(request, me, "users.manage")
    chosen, every = await _chosen_platforms(request, me)
    with db(request) as s:
        user = q.user_by_id(s, user_id)
        theirs = q.memberships(s, [user_id])[user_id] if user else frozenset()
        if user is None or user.id == me.id or not visible(me, user, theirs):
            return see_other("/console/users")
        before, after = q.set_memberships(s, user, chosen, me.platforms)
        was_every, user.all_platforms = user.all_platforms, every if me.platforms is None else False
        if before != after or was_every != user.all_platforms:
            details = {"from": sorted(before), "to": sorted(after), "all_platforms": every}
            audit(s, me, "user.platforms", f"user:{user.email}", details)
            q.end_sessions(s, user.id, now())  # what they see changes from the next log-in
    return see_other("/console/users?done=platforms")


def _managed(s: Session, me: Officer, user_id: int) -> ConsoleUserRow | None:
    """The account, when this admin may change the whole of it (``manageable``)."""
    user = q.user_by_id(s, user_id)
    if user is None or not manageable(me, user, q.memberships(s, [user_id])[user_id]):
        return None
    return user


@router.post("/console/users/{user_id}/role")
async def change_role(request: Request, user_id: int, me: Me) -> Response:
    form = await checked_form(request, me)
    if not me.can("users.manage"):
        return forbidden(request, me, "users.manage")
    role = form.get("role", "")
    if role not in security.ROLES or user_id == me.id:  # never one's own role: no lock-out
        return see_other(_error(N_("this role cannot be given here")))
    with db(request) as s:
        user = _managed(s, me, user_id)
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
        user = _managed(s, me, user_id)
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
        user = _managed(s, me, user_id)
        if user is not None:
            q.change_user(s, user, change)
            audit(s, me, f"user.{change}", f"user:{user.email}")
    return see_other("/console/users")
