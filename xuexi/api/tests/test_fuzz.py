"""SECURITY S16: no 5xx under API fuzzing (schemathesis over our own OpenAPI document).

Every operation gets generated valid and invalid requests; whatever they hold, the answer is
a 2xx or a 4xx with the error shape, never a server error.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_operation_answers_with_a_server_error(case):
    response = case.call_and_validate(checks=[not_a_server_error])
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            pytest.fail(
                f"{case.method} {case.path} → {response.status_code}: {response.text[:200]}"
            )
        assert set(body) == {"code", "message", "details"}, body
