"""Schemathesis against the API's own OpenAPI document: generated requests, with a live token, never get a server
error or a response that breaks the document. Bounded (a few examples per operation) to run in seconds."""

import hashlib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, ReturnRound
from app.models.base import utcnow
from app.queries.users import get_user_by_email
from app.services import demo_rounds
from tests.web.test_rounds import submitted_return

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

EXAMPLES = 15


def test_generated_requests_get_no_server_errors_and_match_the_document(app, icb_client, cd_client, monkeypatch):
    from app.jobs import JobQueue

    monkeypatch.setattr(JobQueue, "send", lambda self, job_id: None)  # the demo returns' figures, not their PDFs
    with app.app_context():
        demo_rounds.load()  # the winter round: eight submitted returns, so benchmarks have figures to check
        winter_id = db.session.scalar(select(ReturnRound.id).where(ReturnRound.title == demo_rounds.WINTER))
    round_id, _base, submission_id = submitted_return(app, icb_client, cd_client)
    secrets = {"icb@example.org": "pcnr_fuzz_token", "lmc@example.org": "pcnr_fuzz_lmc_token"}
    with app.app_context():
        for email, secret in secrets.items():
            db.session.add(
                ApiToken(
                    user_id=get_user_by_email(email).id,
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
                # Often, ids that exist, so that the happy path is checked against the document too: the round
                # with one return, or the winter round with eight (a benchmark with figures).
                given_id = case.path_parameters.get("round_id", 1) if case.path_parameters else 1
                if given_id % 3 == 0:
                    case.path_parameters["round_id"] = winter_id
                elif given_id % 3 == 1 and case.path_parameters:
                    case.path_parameters["round_id"] = round_id
                    if "submission_id" in case.path_parameters:
                        case.path_parameters["submission_id"] = submission_id
                # An ICB lead's token, and now and then an LMC officer's (benchmarks only; the rest is 403).
                secret = secrets["lmc@example.org" if len(tried) % 3 == 0 else "icb@example.org"]
                headers = {"Authorization": f"Bearer {secret}"}
                response = case.call(headers=headers)
                case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
                tried.append(response.status_code)

            run()
        # And every time, whatever was generated: the benchmark with figures, as each token reads it.
        benchmark = schema["/api/v1/rounds/{round_id}/benchmark"]["GET"]
        for secret in secrets.values():
            response = benchmark.Case(path_parameters={"round_id": winter_id}).call(
                headers={"Authorization": f"Bearer {secret}"}
            )
            assert response.status_code == 200 and response.json()["enough"]
            benchmark.validate_response(response)
    finally:
        app.config["API_RATE_LIMIT"] = "120 per minute"
    assert 200 in tried and 404 in tried and 403 in tried
