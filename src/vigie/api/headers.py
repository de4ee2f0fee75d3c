"""Security headers on the public pages and the contract, and HSTS when configured.

The console sets its own (``console/web.py``). ``/help``, ``/docs``, ``/redoc`` and
``/openapi.json`` answer without credentials, so they are the pages an attacker can point a
browser at: they get the same baseline (no sniffing, no framing, no referrer) and a CSP
that allows only our own files (the docs pages set a stricter one with their scripts'
hashes, ``docs.py``, which is kept). ``Strict-Transport-Security`` goes on every answer once
``hsts_max_age_s`` is set: only behind TLS, which Vigie does not terminate itself.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASELINE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# /help has one inline <style> and no script.
PAGE_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGES = {"/help": PAGE_CSP, "/docs": PAGE_CSP, "/docs/oauth2-redirect": PAGE_CSP,
         "/redoc": PAGE_CSP, "/openapi.json": DATA_CSP}  # fmt: skip


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts_max_age_s: int = 0) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age_s}; includeSubDomains" if hsts_max_age_s else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = PAGES.get(scope.get("path", ""))
        if csp is None and self.hsts is None:
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if csp is not None:
                    for name, value in {**BASELINE, "Content-Security-Policy": csp}.items():
                        headers.setdefault(name, value)
                if self.hsts is not None:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
            await send(message)

        await self.app(scope, receive, with_headers)
