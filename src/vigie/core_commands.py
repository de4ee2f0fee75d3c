"""Foundation commands: db upgrade, platform add / rotate-key, serve, scan, demo."""

from __future__ import annotations

import errno
import socket
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vigie.settings import Settings, get_settings

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
    from vigie.platforms import PlatformExists, create_platform
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


def new_key_hint(name: str) -> str:
    """How to get a key for an existing platform: keys are shown once, so a lost one is
    replaced, never shown again."""
    return f"for a new API key (the old one then stops working): vigie platform rotate-key {name}"


def platform_rotate_key(name: Annotated[str, typer.Argument(help="platform name")]) -> None:
    """Give a platform a new API key (printed once, last line); its old keys stop working."""
    from vigie.api.auth import KEY_CACHE_SECONDS
    from vigie.platforms import UnknownPlatform, rotate_api_key
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


def serve(
    host: Annotated[str | None, typer.Option("--host")] = None,
    port: Annotated[int | None, typer.Option("--port")] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="processes serving requests (api.workers)"),
    ] = None,
) -> None:
    """Serve the events API, the console and the help page."""
    import uvicorn

    from vigie.api.app import create_app
    from vigie.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)  # JSON lines; never message texts or secrets
    _require_text_model(settings)
    count = workers or settings.api.workers
    if settings.api.decider == "auto":  # one process serving: the pipeline gets its own
        chosen = "process" if count == 1 else "loop"
        settings = settings.model_copy(
            update={"api": settings.api.model_copy(update={"decider": chosen})}
        )
    host, port = host or settings.host, port or settings.port
    _check_port(host, port)  # before loading models: a busy port fails in a second, readably
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": settings.log_level,
        "access_log": False,
        "log_config": None,  # keep the JSON handler configured above
    }
    if count > 1:
        # Each worker process builds its own app from the same settings (environment and
        # TOML file); on SQLite their writes take turns through a lock file.
        uvicorn.run("vigie.api.app:worker_app", factory=True, workers=count, **options)
    else:
        uvicorn.run(create_app(settings), **options)


def _require_text_model(settings: Settings) -> None:
    """Stop at once, in one readable line, when the text model cannot be loaded."""
    from vigie.detect.text import model_problem

    problem = model_problem(settings.detection)
    if problem is not None:
        typer.echo(f"vigie serve: {problem}", err=True)
        raise typer.Exit(2)


def _check_port(host: str, port: int) -> None:
    """Exit with one readable line when ``host:port`` cannot be listened on.

    Uvicorn would say it too, but as a JSON log line after the models have loaded; a newcomer
    running ``make run`` beside another server needs the reason and the way out at once.
    """
    try:
        _try_bind(host, port)
    except OSError as exc:
        typer.echo(f"vigie serve: {_bind_problem(host, port, exc)}", err=True)
        raise typer.Exit(1) from exc


def _try_bind(host: str, port: int) -> None:
    """Bind (and release) a socket the way uvicorn will, SO_REUSEADDR included."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use "
            "(choose another: --port P, VIGIE_PORT=P, or make run PORT=P)"
        )
    reason = exc.strerror or str(exc)
    return f"cannot listen on {host} port {port}: {reason}"


def demo() -> None:
    """Seed the demo platform and conversations (once); prints the demo API key."""
    from vigie.demo import DEMO_PLATFORM, seed_demo
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
    from datetime import UTC, datetime

    from vigie.console import queries as q
    from vigie.console.security import hash_password
    from vigie.store.sql import SqlStore

    store = SqlStore(url)
    try:
        with store.unit() as unit:
            if q.user_by_email(unit.session, DEMO_OFFICER) is not None:
                return None
            password = secrets.token_urlsafe(12)
            q.create_user(
                unit.session, DEMO_OFFICER, "referent", hash_password(password), datetime.now(UTC)
            )
            return password
    finally:
        store.dispose()


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
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.command("scan")(scan)
