"""The published OpenAPI schema is complete enough to generate a client from it.

Every request body and every answer body of every route has a schema and an example (on the
media type or on the schema it points to), so a generated client in another language has
concrete shapes to start from; the 422 answer is the one the server really sends.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return dict(spec["components"]["schemas"][ref.rsplit("/", 1)[-1]])


def _bodies(operation: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, media type object) for the request body and each answer body."""
    found = [
        (f"request {kind}", media)
        for kind, media in operation.get("requestBody", {}).get("content", {}).items()
    ]
    for status, answer in operation["responses"].items():
        found += [(f"answer {status} {kind}", m) for kind, m in answer.get("content", {}).items()]
    return found


def _missing_examples(spec: dict[str, Any]) -> list[str]:
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for where, media in _bodies(operation):
                schema = _resolve(spec, media.get("schema", {}))
                has_example = "example" in media or "examples" in media or "examples" in schema
                if not media.get("schema") or not has_example:
                    missing.append(f"{method.upper()} {path}: {where}")
    return missing


def test_every_request_and_answer_body_has_a_schema_with_an_example(
    spec: dict[str, Any],
) -> None:
    assert _missing_examples(spec) == []


def test_the_check_sees_every_route_with_a_body(spec: dict[str, Any]) -> None:
    bodies = {(p, m) for p, ops in spec["paths"].items() for m, op in ops.items() if _bodies(op)}
    assert {("/v1/events", "post"), ("/v1/media", "post"), ("/v1/cases", "get")} <= bodies


def test_the_422_answer_is_the_one_sent(spec: dict[str, Any], client: TestClient) -> None:
    documented = spec["paths"]["/v1/events"]["post"]["responses"]["422"]
    assert documented["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ValidationErrorAnswer"
    )
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_rate_limited_routes_document_429_with_retry_after(spec: dict[str, Any]) -> None:
    for path, operations in spec["paths"].items():
        if path.startswith("/v1/"):
            for operation in operations.values():
                assert "Retry-After" in operation["responses"]["429"]["headers"], path
