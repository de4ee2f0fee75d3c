"""Console placeholder until the console issue lands: tells visitors where things are."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Vigie console</title></head><body><main>
<h1>Vigie</h1><p>The safety officers' console is being built.
The events API is documented at <a href="/docs">/docs</a>.</p></main></body></html>"""


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/console", status_code=307)


@router.get("/console")
def console_home() -> HTMLResponse:
    return HTMLResponse(_PAGE)
