"""Error answers platforms can act on: every 422 names the offending field."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigie.pipeline import OverBudget


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def describe(errors: list[Any]) -> list[dict[str, str]]:
    return [
        {"field": _field(e.get("loc", ())), "message": str(e.get("msg", "invalid"))} for e in errors
    ]


def unprocessable(errors: list[Any]) -> dict[str, Any]:
    """The 422 body for validation errors: the first one in words, all of them by field."""
    problems = describe(errors)
    first = problems[0] if problems else {"field": "body", "message": "invalid body"}
    return {"error": f"{first['field']}: {first['message']}", "fields": problems}


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(status_code=422, content=unprocessable(list(exc.errors())))


def over_budget(exc: OverBudget) -> dict[str, Any]:
    """The 422 body of a request over its CPU budget: the batch as a whole is the problem."""
    return {"error": f"events: {exc}", "fields": [{"field": "events", "message": str(exc)}]}


async def _over_budget(_: Request, exc: OverBudget) -> JSONResponse:
    return JSONResponse(status_code=422, content=over_budget(exc))


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    headers = getattr(exc, "headers", None)
    return JSONResponse(
        status_code=exc.status_code, content={"error": str(exc.detail)}, headers=headers
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(OverBudget, _over_budget)  # type: ignore[arg-type]
