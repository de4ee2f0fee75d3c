"""Liveness and readiness, the only routes besides /help that need no credentials."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from vigie.api.schemas import HealthAnswer

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthAnswer)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=None,
    responses={
        200: {"model": HealthAnswer, "description": "ready to take events"},
        503: {"model": HealthAnswer, "description": "database, decider or bus not ready"},
    },
)
def readyz(request: Request) -> dict[str, str] | JSONResponse:
    try:
        with request.app.state.store.read() as unit:
            unit.get_platform("-")
    except Exception as exc:  # the database is down or unreachable
        return JSONResponse(
            status_code=503, content={"status": "unavailable", "reason": type(exc).__name__}
        )
    from vigie.detect.text import model_problem

    problem = model_problem(request.app.state.settings.detection)
    if problem is not None:  # no text model: chat cannot be read, so not ready
        return JSONResponse(status_code=503, content={"status": "unavailable", "reason": problem})
    decider = getattr(request.app.state, "decider", None)
    if decider is not None and decider.starting:  # events would be decided here meanwhile
        return JSONResponse(
            status_code=503, content={"status": "starting", "reason": "decider process loading"}
        )
    from vigie.api.events import bus_publisher

    publisher = bus_publisher(request.app)  # asynchronous mode: the bus must answer too
    problem = publisher.check() if publisher is not None else None
    if problem is not None:
        return JSONResponse(status_code=503, content={"status": "unavailable", "reason": problem})
    return {"status": "ready"}
