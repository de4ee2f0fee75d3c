"""``vigie serve``: the API room's command (registered by ``cli.py``'s list of rooms).

It serves the events API and, through the parts the composition root names
(``runtime/web.py``), the console and the help page, in one process.
"""

from __future__ import annotations

import errno
import socket
from typing import Annotated, Any

import typer

from vigie.settings import Settings, get_settings


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


def register(app: typer.Typer) -> None:
    """Attach ``vigie serve`` to the ``vigie`` app."""
    app.command("serve")(serve)
