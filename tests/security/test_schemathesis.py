"""Schemathesis against the published OpenAPI schema, in process, with a valid key.

Every operation gets generated requests, valid (positive) and invalid (negative); the answer
must never be a 5xx, and whatever is answered must match the response schema the contract
publishes. The example count is small so the suite stays fast; raise SCHEMATHESIS_EXAMPLES
for a deeper run (``SCHEMATHESIS_EXAMPLES=500 pytest tests/security -k schemathesis``).

Schemathesis' own pytest integration (``from_fixture``) does not work with pytest 9, so the
operations are driven here through their Hypothesis strategies: the same generation, one
test per (operation, mode), named after the operation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from security.conftest import security_settings
from security.helpers import bearer, new_key
from vigie.api.app import create_app
from vigie.store.migrate import upgrade

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# The operations the contract publishes; a new one must be added here to be fuzzed, and the
# test below fails if the schema has one this list does not name.
OPERATIONS = [
    ("POST", "/v1/events"),
    ("POST", "/v1/media"),
    ("GET", "/v1/cases"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/v1/events/{event_id}"),
]


Operations = dict[tuple[str, str], schemathesis.APIOperation]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Operations, str]]:
    """The app's published operations (loaded once) and a valid key for them."""
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{folder}/vigie.db"
    upgrade(url)
    # Limits stay on (they are part of what is tested) but high enough not to answer 429.
    app = create_app(security_settings(url, rate_limit_per_minute=1_000_000))
    key = new_key(TestClient(app), "fuzzed-platform")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        operations[(operation.method.upper(), operation.path)] = operation
    yield operations, key
    app.state.store.dispose()


def test_every_published_operation_is_fuzzed(fuzzed: tuple[Operations, str]) -> None:
    published = set(fuzzed[0])
    assert published <= set(OPERATIONS), f"add to OPERATIONS: {published - set(OPERATIONS)}"


@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"]
)
@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_error_and_answers_match_the_schema(
    fuzzed: tuple[Operations, str], method: str, path: str, mode: GenerationMode
) -> None:
    operations, key = fuzzed
    operation = operations.get((method, path))
    if operation is None:
        pytest.skip(f"{method} {path} is not in this build's schema")

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=bearer(key), checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # no parameters and no body: nothing can be made invalid
        pytest.skip(f"{method} {path} takes no input to make invalid")
