"""What one web process serves besides the events API: the parts, named here.

``vigie serve`` runs the API and the safety officers' console in one process, yet ``api/``
and ``console/`` are adapters that never import each other (the independence contract in
``pyproject.toml``). The composition root names the other adapters' routers by module, as
``cli.py`` names the rooms' commands; the API's app includes what it is handed. A part is a
module exposing ``router`` (a FastAPI ``APIRouter``), and knows nothing of the API.
"""

from __future__ import annotations

import importlib

from fastapi import APIRouter

# One line per adapter that adds pages to the web process; included in this order.
WEB_PARTS: tuple[str, ...] = ("vigie.console.routes",)


def web_routers(parts: tuple[str, ...] = WEB_PARTS) -> list[APIRouter]:
    """The routers of ``parts``, imported when the app is built (never at import time, so
    that importing the API does not load the console)."""
    routers = [importlib.import_module(name).router for name in parts]
    for name, router in zip(parts, routers, strict=True):
        if not isinstance(router, APIRouter):
            raise TypeError(f"{name}.router is not an APIRouter")
    return routers
