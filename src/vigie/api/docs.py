"""The API's documentation pages, with everything they load served by Vigie itself.

FastAPI's own ``/docs`` and ``/redoc`` load Swagger UI and ReDoc from a CDN, with no
integrity check and no Content-Security-Policy: whoever controls the CDN (or the network on
the way) runs script on a page of Vigie's origin (issue 21). The same files come here from
the ``fastapi-offline`` package, pinned with its hash in ``requirements.lock``, under
``/docs/static``; each page's CSP allows our origin and the hash of its one inline script.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = "/docs/static"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def csp_for(html: str) -> str:
    """A Content-Security-Policy for a page whose inline scripts are those in ``html``: only
    they and our own files run. Styles may be inline (both UIs set styles from script); ReDoc
    renders in a worker started from a blob."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def _page(response: HTMLResponse) -> tuple[str, str]:
    """A page's HTML and its CSP."""
    html = bytes(response.body).decode()
    return html, csp_for(html)


def install(app: FastAPI) -> None:
    """``/docs``, ``/docs/oauth2-redirect``, ``/redoc`` and their files (``create_app``
    builds the app with FastAPI's own pages turned off)."""
    title = app.title + " - API"
    openapi = app.openapi_url or "/openapi.json"
    swagger = _page(
        get_swagger_ui_html(
            openapi_url=openapi,
            title=title,
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
            oauth2_redirect_url=OAUTH2_REDIRECT,
        )
    )
    redirect = _page(get_swagger_ui_oauth2_redirect_html())
    redoc = _page(
        get_redoc_html(
            openapi_url=openapi,
            title=title,
            redoc_js_url=f"{STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC}/favicon.png",
            with_google_fonts=False,
        )
    )
    app.mount(STATIC, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-static")
    for path, page in (("/docs", swagger), (OAUTH2_REDIRECT, redirect), ("/redoc", redoc)):
        app.add_api_route(path, _serve(page), include_in_schema=False, methods=["GET"])


def _serve(page: tuple[str, str]) -> Any:
    html, csp = page

    async def serve() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    return serve
