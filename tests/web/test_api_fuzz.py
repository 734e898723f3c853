"""Schemathesis against the API's own OpenAPI document: generated requests, with a live token, never get a server
error or a response that breaks the document. Bounded (a few examples per operation) to run in seconds."""

import hashlib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings

from app.extensions import db
from app.models import ApiToken
from app.models.base import utcnow
from app.queries.users import get_user_by_email
from tests.web.test_rounds import submitted_return

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

EXAMPLES = 15


def test_generated_requests_get_no_server_errors_and_match_the_document(app, icb_client, cd_client):
    round_id, _base, submission_id = submitted_return(app, icb_client, cd_client)
    secret = "pcnr_fuzz_token"
    with app.app_context():
        db.session.add(
            ApiToken(
                user_id=get_user_by_email("icb@example.org").id,
                name="Fuzz",
                token_hash=hashlib.sha256(secret.encode()).hexdigest(),
                prefix=secret[:9],
                expires_at=utcnow() + timedelta(days=1),
            )
        )
        db.session.commit()
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tried = []
    try:
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), database=None)
            def run(case):
                # Half the time, ids that exist, so that the happy path is checked against the document too.
                if case.path_parameters and case.path_parameters.get("round_id", 0) % 2 == 0:
                    case.path_parameters["round_id"] = round_id
                    if "submission_id" in case.path_parameters:
                        case.path_parameters["submission_id"] = submission_id
                headers = {"Authorization": f"Bearer {secret}"}
                response = case.call(headers=headers)
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
                tried.append(response.status_code)

            run()
    finally:
        app.config["API_RATE_LIMIT"] = "120 per minute"
    assert 200 in tried and 404 in tried
