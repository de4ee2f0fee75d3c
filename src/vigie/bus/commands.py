"""``vigie worker`` and ``vigie dead-letters``: the command-line side of the asynchronous mode."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from typing import Annotated, Any

import typer

from vigie.settings import get_settings


def _config() -> Any:
    from vigie.transport.config import BusConfig

    settings = get_settings()
    if not settings.bus_url:
        typer.echo("VIGIE_BUS_URL is not set (example: nats://127.0.0.1:4222)", err=True)
        raise typer.Exit(2)
    return BusConfig.from_settings(settings)


# One thread per numerical library per worker process: scale with processes, one per core.
# Measured on two cores (bench_scale): with the libraries' defaults (a thread per core in every
# process, spinning while idle) two workers spent twice the CPU per event of one; with one
# thread each, the CPU per event stays flat as workers are added. These are read when the
# libraries load, so the worker re-starts itself once with them set (values already set win).
SINGLE_THREADED = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}


def _single_threaded_libraries() -> None:
    missing = {k: v for k, v in SINGLE_THREADED.items() if k not in os.environ}
    if missing:
        os.environ.update(missing)
        os.execv(sys.executable, [sys.executable, "-m", "vigie.cli", *sys.argv[1:]])


def worker(
    name: Annotated[str | None, typer.Option("--name", help="name in logs")] = None,
    metrics_port: Annotated[
        int | None, typer.Option("--metrics-port", help="serve Prometheus metrics on this port")
    ] = None,
    webhooks: Annotated[
        bool, typer.Option("--webhooks/--no-webhooks", help="also deliver the webhook outbox")
    ] = True,
) -> None:
    """Consume events from the bus named by VIGIE_BUS_URL until SIGTERM."""
    _single_threaded_libraries()
    from vigie.bus.worker import run_worker
    from vigie.logging import configure_logging

    settings = get_settings()
    config = _config()
    configure_logging(settings.log_level)
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port)
    handle = None
    if webhooks and settings.deliver_webhooks:
        from vigie.actions.dispatcher import start_dispatcher
        from vigie.store.engine import make_engine

        handle = start_dispatcher(make_engine(settings.database_url), settings)
    try:
        run_worker(settings, config, name or f"{socket.gethostname()}-{os.getpid()}")
    finally:
        if handle is not None:
            handle.stop()


def dead_letters_list(
    limit: Annotated[int, typer.Option("--limit")] = 50,
) -> None:
    """The newest dead letters, one JSON object a line (no message text)."""
    from vigie.bus.deadletter import list_dead_letters

    for entry in asyncio.run(_with_js(lambda js, c: list_dead_letters(js, c, limit))):
        typer.echo(json.dumps(entry))


def dead_letters_replay(
    seq: Annotated[int, typer.Argument(help="sequence number shown by `list`")],
) -> None:
    """Put a dead letter back on its partition (after fixing what made it fail)."""
    from vigie.bus.deadletter import replay

    typer.echo(f"replayed {asyncio.run(_with_js(lambda js, c: replay(js, c, seq)))}")


async def _with_js(action: Any) -> Any:
    import nats

    config = _config()
    nc = await nats.connect(config.servers, connect_timeout=3, max_reconnect_attempts=1)
    try:
        return await action(nc.jetstream(), config)
    finally:
        await nc.close()


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    dead = typer.Typer(help="Events that kept failing on the bus.", no_args_is_help=True)
    dead.command("list")(dead_letters_list)
    dead.command("replay")(dead_letters_replay)
    app.add_typer(dead, name="dead-letters")
