"""Walks an app's route table, whatever nests it: included routers, mounts, static files."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Door:
    method: str
    path: str
    kind: str  # class name of the route: APIRoute, Route, Mount, WebSocketRoute...


def walk(routes: Iterable[Any], prefix: str = "") -> Iterator[Door]:
    """Every (method, path) an app answers.

    FastAPI >= 0.130 keeps included routers as nodes (``effective_candidates``) instead of
    copying their routes into ``app.routes``; both shapes are handled, and a shape this
    function does not know fails loudly instead of being skipped.
    """
    for route in routes:
        if callable(getattr(route, "effective_candidates", None)):
            yield from walk(route.effective_candidates(), prefix)
        elif hasattr(route, "original_route"):
            yield from _doors(prefix + route.path, route.original_route)
        elif type(route).__name__ in {"Mount", "Host"}:
            inner = list(getattr(route, "routes", None) or [])
            if inner:
                yield from walk(inner, prefix + route.path)
            else:  # a mounted app without a route table (StaticFiles, WSGI): probe one file
                for method in ("GET", "POST"):
                    yield Door(method, prefix + route.path + "/{path}", type(route).__name__)
        elif hasattr(route, "path"):
            yield from _doors(prefix + route.path, route)
        else:
            raise TypeError(f"unknown route shape {type(route).__name__}; teach walk() about it")


def _doors(path: str, route: Any) -> Iterator[Door]:
    methods = getattr(route, "methods", None)
    if methods is None:  # websocket
        yield Door("WEBSOCKET", path, type(route).__name__)
        return
    for method in sorted(methods):
        yield Door(method, path, type(route).__name__)
