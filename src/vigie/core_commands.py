"""Foundation commands: db upgrade, platform add / rotate-key, scan.

``vigie serve`` is the API room's (``api/commands.py``), ``vigie demo`` the console room's
(``console/commands.py``): this module, like every adapter, imports no other adapter."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vigie.settings import get_settings

err = Console(stderr=True)


def db_upgrade() -> None:
    """Create or migrate the database named by VIGIE_DATABASE_URL."""
    from vigie.store.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    typer.echo(f"database ready: {_safe_url(url)}")


def platform_add(
    name: Annotated[str, typer.Argument(help="platform name")],
    webhook: Annotated[str | None, typer.Option("--webhook", help="webhook URL")] = None,
) -> None:
    """Create a platform; the API key is printed once, on the last line."""
    from vigie.platforms import PlatformExists, create_platform, new_key_hint
    from vigie.store.sql import SqlStore

    store = SqlStore(get_settings().database_url)
    try:
        with store.unit() as unit:
            created = create_platform(unit, name, webhook)
    except PlatformExists as exc:
        typer.echo(f"error: {exc}; {new_key_hint(name)}", err=True)
        raise typer.Exit(1) from exc
    finally:
        store.dispose()
    typer.echo(f"platform: {created.platform.id} ({name})")
    if created.platform.webhook_secret:
        typer.echo(f"webhook-secret: {created.platform.webhook_secret}")
    typer.echo(created.api_key)


def platform_rotate_key(name: Annotated[str, typer.Argument(help="platform name")]) -> None:
    """Give a platform a new API key (printed once, last line); its old keys stop working."""
    from vigie.platforms import KEY_CACHE_SECONDS, UnknownPlatform, rotate_api_key
    from vigie.store.sql import SqlStore

    store = SqlStore(get_settings().database_url)
    try:
        with store.unit() as unit:
            rotated = rotate_api_key(unit, name)
    except UnknownPlatform as exc:
        typer.echo(f"error: {exc} (vigie platform add {name} creates it)", err=True)
        raise typer.Exit(1) from exc
    finally:
        store.dispose()
    typer.echo(f"platform: {rotated.platform.id} ({name})")
    typer.echo(
        f"old keys revoked (a running vigie serve refuses them within {KEY_CACHE_SECONDS:g} s); "
        "new key, shown once:"
    )
    typer.echo(rotated.api_key)


def scan(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="conversations")],
    out: Annotated[Path, typer.Option("--out", help="scan output (JSON Lines)")],
) -> None:
    """Score conversations one message at a time, in order, with no look-ahead."""
    from vigie.conversations import ConversationFormatError, read_conversations
    from vigie.detect.scoring import score_conversation
    from vigie.runtime import text_detectors

    settings = get_settings()
    detectors = text_detectors(settings)
    threshold = settings.detection.flag_threshold
    total = sum(1 for line in file.open(encoding="utf-8") if line.strip())
    flagged = 0
    try:
        with out.open("w", encoding="utf-8") as sink, _progress() as progress:
            task = progress.add_task("scanning", total=total)
            for record in read_conversations(file):
                result = score_conversation(record, detectors, threshold)
                flagged += int(result.flagged)
                sink.write(result.to_json() + "\n")
                progress.advance(task)
    except ConversationFormatError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    err.print(f"{total} conversations scanned, {flagged} flagged → {out}")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not sys.stderr.isatty(),
    )


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def register(app: typer.Typer) -> None:
    """Attach the foundation commands to the ``vigie`` app."""
    db = typer.Typer(help="Database management.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    app.add_typer(db, name="db")
    platform = typer.Typer(help="Platforms (tenants).", no_args_is_help=True)
    platform.command("add")(platform_add)
    platform.command("rotate-key")(platform_rotate_key)
    app.add_typer(platform, name="platform")
    app.command("scan")(scan)
