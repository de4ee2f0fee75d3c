"""The FastAPI application: API, console and help page in one process.

Its pipeline comes from the composition root (:func:`vigie.runtime.build_pipeline`), as the
bus worker's and the decider process's do.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from vigie import __version__
from vigie.api import (
    cases,
    docs,
    errors,
    events,
    fastlane,
    health,
    help,
    media,
    metrics,
    openapi,
    ratelimit,
)
from vigie.api.decider import Decider
from vigie.api.group_commit import GroupCommitter
from vigie.api.headers import SecurityHeadersMiddleware
from vigie.api.limits import BodyLimitMiddleware, JsonBodyMiddleware
from vigie.pipeline import Pipeline
from vigie.runtime import build_pipeline
from vigie.runtime.web import web_routers
from vigie.settings import DEFAULT_SECRET_KEY, Settings, get_settings
from vigie.store.base import Store
from vigie.store.sql import SqlStore

log = logging.getLogger(__name__)


def _warn_of_defaults(settings: Settings) -> None:
    """The default secret_key is refused in production (settings.py); elsewhere, said."""
    if settings.secret_key == DEFAULT_SECRET_KEY:
        log.warning("secret_key is the default: console sessions can be forged; set it")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the app runs, background threads deliver webhooks from the outbox and, on SQLite,
    checkpoint the write-ahead log."""
    handle = checkpointer = None
    engine = getattr(app.state.store, "engine", None)
    if app.state.settings.deliver_webhooks and engine is not None:
        from vigie.actions.dispatcher import start_dispatcher

        handle = start_dispatcher(engine, app.state.settings)
    if engine is not None:
        from vigie.store.checkpoint import start_checkpointer

        checkpointer = start_checkpointer(engine)
    decider = app.state.decider = _start_decider(app)
    _freeze_startup_objects()
    try:
        yield
    finally:
        if decider is not None:
            decider.stop()
        if handle is not None:
            handle.stop()
        if checkpointer is not None:
            checkpointer.stop()


def _start_decider(app: FastAPI) -> Decider | None:
    """The decider process, when configured and the pipeline runs here (SQLite, no bus)."""
    settings = app.state.settings
    if settings.api.decider != "process" or app.state.committer is None or settings.bus_url:
        return None
    decider = Decider(settings)
    decider.start()
    return decider


def _freeze_startup_objects() -> None:
    """Keep what startup loaded (models, example banks, hash index, ~250k objects) out of the
    garbage collector's full passes: one of those took 125 ms, paid by whichever request
    happened to trigger it."""
    gc.collect()
    gc.freeze()


class VigieApp(FastAPI):
    """FastAPI, with ``POST /v1/events``'s common case answered in front of it
    (``fastlane.py``); everything else, and every request the lane steps aside for, goes
    through FastAPI as usual."""

    events_lane: fastlane.EventsLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.events_lane is not None and fastlane.takes(scope):
            await self.events_lane(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def full_stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None, store: Store | None = None, pipeline: Pipeline | None = None
) -> FastAPI:
    settings = settings or get_settings()
    store = store or SqlStore(settings.database_url)
    _warn_of_defaults(settings)
    app = VigieApp(
        title="Vigie",
        version=__version__,
        description="Child-safety events API: events in, decisions out.",
        lifespan=_lifespan,
        docs_url=None,  # served by docs.py, from the package rather than a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.pipeline = pipeline or build_pipeline(settings, store)
    app.state.pipeline.cpu_budget_s = settings.api.cpu_budget_s  # per request (issue 21)
    engine = getattr(store, "engine", None)
    sqlite = engine is not None and engine.dialect.name == "sqlite"
    app.state.committer = GroupCommitter(app.state.pipeline) if sqlite else None
    errors.install(app)
    openapi.install(app)
    for module in (events, media, cases, health, metrics, help):
        app.include_router(module.router)
    from vigie.api.matrix import actions as matrix_actions
    from vigie.api.matrix import routes as matrix_routes

    for part in web_routers():  # the console (runtime/web.py): an adapter the API never imports
        app.include_router(part)
    docs.install(app)
    app.include_router(matrix_actions.router)  # before the callbacks' catch-all
    app.include_router(matrix_routes.router)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.api.max_body_bytes,
        overrides={"/v1/media": settings.media.max_upload_bytes + 64 * 1024},
    )
    ratelimit.install(app, settings)  # rate limit, timeout, JSON guard (security)
    app.add_middleware(SecurityHeadersMiddleware, hsts_max_age_s=settings.hsts_max_age_s)
    app.add_middleware(JsonBodyMiddleware, paths=("/v1/events",))  # outermost
    app.events_lane = fastlane.EventsLane(app, app.full_stack)
    return app


def worker_app() -> FastAPI:
    """The app of one ``vigie serve --workers N`` process (uvicorn calls this in each)."""
    from vigie.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
