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
from contextlib import ExitStack

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
from security.helpers import bearer, new_key, postgres_database
from vigie.api.app import create_app
from vigie.store.migrate import upgrade

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# The operations the contract publishes, each its own test; operations published later are
# fuzzed by test_operations_published_later_are_fuzzed_too until they are listed here.
OPERATIONS = [
    ("POST", "/v1/events"),
    ("POST", "/v1/media"),
    ("GET", "/v1/cases"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/v1/events/{event_id}"),
    ("GET", "/help"),
]


Operations = dict[tuple[str, str], schemathesis.APIOperation]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Operations, str]]:
    """The app's published operations (loaded once per database) and a valid key for them.

    Both databases: PostgreSQL refuses input SQLite takes (NUL characters were a 500 there).
    """
    with ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis')}/vigie.db"
            upgrade(url)
        # Limits stay on (they are part of what is tested) but high enough not to answer 429.
        app = create_app(security_settings(url, rate_limit_per_minute=1_000_000))
        stack.callback(app.state.store.dispose)
        key = new_key(TestClient(app), "fuzzed-platform")
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = {}
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]
            operations[(operation.method.upper(), operation.path)] = operation
        yield operations, key


def _fuzz(operation: schemathesis.APIOperation, mode: GenerationMode, key: str) -> bool:
    """Run the checks on generated cases; False when the operation has no input to vary."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=bearer(key), checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # no parameters and no body: nothing can be made invalid
        return False
    return True


MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


@pytest.mark.parametrize("mode", MODES, ids=["valid", "invalid"])
@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_error_and_answers_match_the_schema(
    fuzzed: tuple[Operations, str], method: str, path: str, mode: GenerationMode
) -> None:
    operations, key = fuzzed
    operation = operations.get((method, path))
    if operation is None:
        pytest.skip(f"{method} {path} is not in this build's schema")
    if not _fuzz(operation, mode, key):
        pytest.skip(f"{method} {path} takes no input to make invalid")


def test_operations_published_later_are_fuzzed_too(fuzzed: tuple[Operations, str]) -> None:
    """Operations added after OPERATIONS was written are fuzzed here, one test for all."""
    operations, key = fuzzed
    for name in sorted(set(operations) - set(OPERATIONS)):
        for mode in MODES:
            _fuzz(operations[name], mode, key)
