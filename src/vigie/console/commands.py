"""``vigie user add EMAIL --role ROLE``: console accounts from the command line.

The password is read from standard input (one line), so it never appears in the process list
or the shell history; on a terminal it is asked for twice, hidden.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from vigie.settings import get_settings

MIN_PASSWORD = 12


def _read_password() -> str:
    if sys.stdin.isatty():
        return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


def user_add(
    email: Annotated[str, typer.Argument(help="the officer's e-mail (their login)")],
    role: Annotated[str, typer.Option("--role", help="moderator, referent, admin or auditor")],
) -> None:
    """Create a console account; the password is read from standard input."""
    from vigie.console import queries as q
    from vigie.console.security import ROLES, hash_password
    from vigie.store.sql import SqlStore

    if role not in ROLES:
        typer.echo(f"error: unknown role {role!r} (one of: {', '.join(ROLES)})", err=True)
        raise typer.Exit(2)
    if "@" not in email:
        typer.echo(f"error: {email!r} is not an e-mail address", err=True)
        raise typer.Exit(2)
    password = _read_password()
    if len(password) < MIN_PASSWORD:
        typer.echo(f"error: the password needs at least {MIN_PASSWORD} characters", err=True)
        raise typer.Exit(2)
    store = SqlStore(get_settings().database_url)
    try:
        with store.unit() as unit:
            if q.user_by_email(unit.session, email) is not None:
                typer.echo(f"error: a user {email.lower()!r} already exists", err=True)
                raise typer.Exit(1)
            user = q.create_user(
                unit.session, email, role, hash_password(password), datetime.now(UTC)
            )
            unit.audit("cli", "user.created", f"user:{user.email}", {"role": role})
    finally:
        store.dispose()
    typer.echo(f"user {user.email} ({role}) created")


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="Console accounts.", no_args_is_help=True)
    users.command("add")(user_add)
    app.add_typer(users, name="user")
