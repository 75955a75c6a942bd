"""Schemathesis against the service's own OpenAPI schema: no request makes a 500.

Every operation of the schema is called with generated requests, valid ones and
(for operations with parameters) invalid ones, through Schemathesis's in-process
ASGI client. Checks: no server error, responses match the documented schema and
content type, and invalid requests are rejected with a 4xx.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
)

from service.app import create_app

pytestmark = pytest.mark.full

EXAMPLES_PER_MODE = 60
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    negative_data_rejection,
]


def test_every_operation_survives_generated_requests(full_home: Path) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(full_home))
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {op.label for op in operations} >= {
        "GET /api/search",
        "GET /api/suggest",
        "GET /api/facets",
        "GET /api/codes/{code}",
        "GET /api/health",
    }
    requests: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: list[str] = []

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES_PER_MODE,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: schemathesis.Case[Any]) -> None:
                response = case.call()
                requests[case.operation.label] += 1
                statuses[response.status_code] += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except Exception as error:  # collect all, report together below
                    failures.append(f"{case.as_curl_command()}\n{error}")

            try:
                call()
            except Unsatisfiable:
                # No invalid request exists for an operation without parameters.
                assert mode is GenerationMode.NEGATIVE and not operation.query
    total = sum(requests.values())
    print(f"\nschemathesis: {total} requests, {len(failures)} failures")
    print(f"  by operation: {dict(requests)}")
    print(f"  by status: {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures[:5])
    assert total >= 4 * EXAMPLES_PER_MODE
    assert 500 not in statuses
