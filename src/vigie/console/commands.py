"""``vigie user add EMAIL --role ROLE``: console accounts from the command line; ``vigie demo``:
the demo platform, its conversations and the référent account that reviews them here.

The password is read from standard input (one line), so it never appears in the process list
or the shell history; on a terminal it is asked for twice, hidden.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated, Any

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
    platform: Annotated[
        list[str] | None,
        typer.Option("--platform", help="a platform (by name) whose cases they see; repeat"),
    ] = None,
    all_platforms: Annotated[
        bool, typer.Option("--all-platforms", help="every platform, present and future")
    ] = False,
) -> None:
    """Create a console account; the password is read from standard input.

    Without ``--platform`` or ``--all-platforms`` the account sees every platform, which only a
    single-platform install allows (with several, say which)."""
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
            ids = _platform_ids(unit, platform or [])
            try:
                user = q.create_user(
                    unit.session, email, role, hash_password(password), datetime.now(UTC),
                    ids, all_platforms=all_platforms,
                )  # fmt: skip
            except ValueError as exc:
                typer.echo(f"error: {exc} (--platform NAME or --all-platforms)", err=True)
                raise typer.Exit(2) from exc
            details = {"role": role, "platforms": ids, "all_platforms": user.all_platforms}
            unit.audit("cli", "user.created", f"user:{user.email}", details)
    finally:
        store.dispose()
    typer.echo(f"user {user.email} ({role}) created")


def demo() -> None:
    """Seed the demo platform and conversations (once); prints the demo API key."""
    from vigie.demo import DEMO_PLATFORM, seed_demo
    from vigie.platforms import new_key_hint
    from vigie.runtime import build_pipeline
    from vigie.store.sql import SqlStore

    settings = get_settings()
    store = SqlStore(settings.database_url)
    created = seed_demo(store, build_pipeline(settings, store))
    store.dispose()
    if created is None:
        typer.echo(f"demo platform {DEMO_PLATFORM!r} already exists (its key was shown once);")
        typer.echo(new_key_hint(DEMO_PLATFORM))
        return
    typer.echo(f"demo platform {DEMO_PLATFORM!r} created with demo conversations.")
    password = _demo_officer(settings.database_url)
    if password:
        typer.echo(f"console: {DEMO_OFFICER} / {password} (référent; shown once)")
    typer.echo(f"API key (shown once): {created.api_key}")


DEMO_OFFICER = "demo-referent@vigie.local"


def _demo_officer(url: str) -> str | None:
    """A référent account for the demo console, with a random password; None if it exists."""
    import secrets

    from vigie.console import queries as q
    from vigie.console.security import hash_password
    from vigie.demo import DEMO_PLATFORM
    from vigie.store.sql import SqlStore

    store = SqlStore(url)
    try:
        with store.unit() as unit:
            if q.user_by_email(unit.session, DEMO_OFFICER) is not None:
                return None
            password = secrets.token_urlsafe(12)
            demo = unit.platform_by_name(DEMO_PLATFORM)
            q.create_user(
                unit.session,
                DEMO_OFFICER,
                "referent",
                hash_password(password),
                datetime.now(UTC),
                [demo.id] if demo is not None else [],  # the demo platform's cases only
            )
            return password
    finally:
        store.dispose()


def _platform_ids(unit: Any, names: list[str]) -> list[str]:
    """The ids of the named platforms; an unknown name stops the command."""
    ids = []
    for name in names:
        found = unit.platform_by_name(name)
        if found is None:
            typer.echo(f"error: no platform named {name!r}", err=True)
            raise typer.Exit(2)
        ids.append(found.id)
    return ids


def register(app: typer.Typer) -> None:
    """Attach ``vigie user add`` and ``vigie demo`` to the ``vigie`` app."""
    app.command("demo")(demo)
    users = typer.Typer(help="Console accounts.", no_args_is_help=True)
    users.command("add")(user_add)
    app.add_typer(users, name="user")
