"""The published OpenAPI schema, completed where FastAPI's generated one falls short.

Clients in other languages are generated from ``/openapi.json``, so it must describe what
the server really answers: the 422 body is ours (``error`` + ``fields``), not FastAPI's
default; every ``/v1`` route can answer 429 with ``Retry-After``; and every request and
answer body carries an example (``tests/api/test_openapi_examples.py`` checks each route).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from vigie.api.schemas import ErrorAnswer, ValidationErrorAnswer

_REF = "#/components/schemas/{model}"
_RETRY_AFTER = {
    "description": "seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 1},
}
# Schemas FastAPI makes up for multipart forms, completed with an example here.
_FORM_EXAMPLES = {
    "Body_post_media_v1_media_post": {
        "event": '{"type": "media", "id": "ev-3", "conversation": "c-9", "sender": "u-123", '
        '"recipients": ["u-456"]}',
        "file": "(the image or video bytes)",
    },
}


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` with the completed schema (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with our 422 body, the 429 answers and the form examples filled in."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorAnswer, ValidationErrorAnswer):
        _add_model(components, model)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            _our_validation_answer(operation)
            if path.startswith("/v1/"):
                operation["responses"].setdefault("429", _rate_limited())
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for name, example in _FORM_EXAMPLES.items():
        if name in components:
            components[name]["examples"] = [example]
    return schema


def _add_model(components: dict[str, Any], model: Any) -> None:
    generated = model.model_json_schema(ref_template=_REF)
    for name, sub in generated.pop("$defs", {}).items():
        components.setdefault(name, sub)
    components.setdefault(model.__name__, generated)


def _json_answer(model: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=model)}}}


def _our_validation_answer(operation: dict[str, Any]) -> None:
    """FastAPI documents its own 422 shape; ours names the field (``errors.py``)."""
    answer = operation.get("responses", {}).get("422")
    if answer is not None:
        answer["content"] = _json_answer("ValidationErrorAnswer")
        if answer.get("description") == "Validation Error":
            answer["description"] = "malformed request; names the field"


def _rate_limited() -> dict[str, Any]:
    return {
        "description": "over the rate limit; retry after Retry-After seconds",
        "headers": {"Retry-After": _RETRY_AFTER},
        "content": _json_answer("ErrorAnswer"),
    }
