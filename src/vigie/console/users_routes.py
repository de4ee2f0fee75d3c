"""Accounts for admins: who has which role, who is locked out; unlock and deactivate.

Creating accounts stays on the command line (``vigie user add``), where the password never
travels through a browser form.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigie.console import queries as q
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


@router.get("/console/users")
def users_page(request: Request, me: Me) -> Response:
    if not me.can("users.manage"):
        return forbidden(request, me, "users.manage")
    with db(request) as s:
        users = q.list_users(s)
    at = now()
    locked = {u.id for u in users if (q.utc(u.locked_until) or at) > at}
    return render(request, "users.html", me, users=users, locked=locked)


@router.post("/console/users/{user_id}/{change}")
async def change_user(request: Request, user_id: int, change: str, me: Me) -> Response:
    await checked_form(request, me)
    if not me.can("users.manage"):
        return forbidden(request, me, "users.manage")
    if change not in ("unlock", "deactivate", "activate") or user_id == me.id:
        return see_other("/console/users")
    with db(request) as s:
        user = q.user_by_id(s, user_id)
        if user is not None:
            q.change_user(s, user, change)
            audit(s, me, f"user.{change}", f"user:{user.email}")
    return see_other("/console/users")
