"""Property-based run over the whole OpenAPI schema: no 5xx, every response matches the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings


@pytest.fixture(scope="session")
def api_schema(slice_api_url: str) -> schemathesis.BaseSchema:
    """The live API's own OpenAPI document."""
    return schemathesis.openapi.from_url(f"{slice_api_url}/schema/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case: schemathesis.Case) -> None:
    case.call_and_validate()
