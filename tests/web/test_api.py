"""The read-only JSON API: personal tokens from the account page, the permission matrix for every role, drafts
never served, problem+json errors, ETags, rate limits, and an OpenAPI document that matches the routes."""

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.api import spec
from app.extensions import db
from app.models import ApiToken, AuditEvent, User
from app.models.base import utcnow
from app.queries.users import get_user_by_email
from app.services import api_tokens
from tests.conftest import _client_for, page
from tests.web.test_rounds import answer_everything, open_round, start_return, submitted_return

EVERYONE = [
    "cd@example.org",
    "manager@example.org",
    "cd2@example.org",
    "cd4@example.org",
    "icb@example.org",
    "icb2@example.org",
    "lmc@example.org",
    "admin@example.org",
]


def token_for(app, email: str, *, days: int = 30) -> str:
    """A token for anyone, made directly (the account page offers them to ICB leads and LMC officers only)."""
    with app.app_context():
        user = get_user_by_email(email)
        secret = f"pcnr_test_{email}_{days}"
        db.session.add(
            ApiToken(
                user_id=user.id,
                name="Test",
                token_hash=hashlib.sha256(secret.encode()).hexdigest(),
                prefix=secret[:9],
                expires_at=utcnow() + timedelta(days=days),
            )
        )
        db.session.commit()
    return secret


def get(client, path: str, token: str | None, **headers):
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.get(path, headers=headers)


def assert_problem(response, status: int, words: str = "") -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["detail"]
    assert words.lower() in body["detail"].lower()


@pytest.fixture
def round_with_a_draft(app, icb_client, cd_client, cd2_client):
    """Riverside (U00001) has submitted; Northfields (U00002) has a draft with answers; U00003 has not started."""
    round_id, _base, submission_id = submitted_return(app, icb_client, cd_client)
    draft = start_return(cd2_client, round_id)
    answer_everything(app, cd2_client, draft)  # complete, but not submitted: still a draft
    return round_id, submission_id


def test_the_openapi_document_lists_every_api_route_and_nothing_else(app, anon_client):
    response = anon_client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    routes = {spec.openapi_path(rule.rule) for rule in spec.api_rules(app)}
    assert set(document["paths"]) == routes
    assert "/api/v1/rounds/{round_id}/returns/{submission_id}" in routes
    for path, item in document["paths"].items():
        assert set(item) == {"get"}, path  # read-only
        assert "200" in item["get"]["responses"]
    assert "ICB primary care leads and LMC officers" in document["info"]["description"]
    assert "/api/v1/benchmarks" in routes and "/api/v1/rounds/{round_id}/benchmark" in routes
    benchmark = document["paths"]["/api/v1/rounds/{round_id}/benchmark"]["get"]
    assert (
        "LMC officers" in benchmark["description"]
        and "LMC" not in document["paths"]["/api/v1/rounds"]["get"]["description"]
    )
    guide = page(anon_client.get("/api"))
    assert guide.find("a", href="/api/v1/openapi.json")
    assert "/api/v1/rounds/{round_id}/returns" in guide.get_text()


def test_an_icb_lead_makes_a_token_sees_it_once_uses_it_and_revokes_it(app, icb_client, anon_client):
    response = icb_client.post("/account/api-tokens", data={"name": "Power BI dashboard", "days": "90"})
    assert response.status_code == 200
    shown = page(response).find("code", class_="app-token").get_text()
    assert shown.startswith("pcnr_")
    again = icb_client.get("/account").get_data(as_text=True)
    assert "Power BI dashboard" in again and shown not in again  # named and listed, never shown again
    with app.app_context():
        stored = db.session.scalar(select(ApiToken))
        assert stored.token_hash == hashlib.sha256(shown.encode()).hexdigest() and shown not in stored.token_hash
        assert stored.last_used_at is None

    assert get(anon_client, "/api/v1/rounds", shown).status_code == 200
    assert get(anon_client, "/api/v1/organisations", shown).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(ApiToken)).last_used_at is not None
        actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["api_token_created", "api_token_used"]  # two uses in the hour: one audit event

    response = icb_client.post("/account/api-tokens/revoke", data={"token_id": str(stored.id)}, follow_redirects=True)
    assert "The token has been revoked" in response.get_data(as_text=True)
    assert_problem(get(anon_client, "/api/v1/rounds", shown), 401, "revoked")
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "api_token_revoked")) == 1


def test_a_token_needs_a_name_and_an_expiry_from_the_list(icb_client):
    response = icb_client.post("/account/api-tokens", data={"name": "", "days": "7"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter a name for the token" in text and "30, 90 or 365 days" in text


@pytest.mark.parametrize("email", ["cd@example.org", "manager@example.org", "admin@example.org"])
def test_only_icb_leads_and_lmc_officers_are_offered_tokens(app, email):
    client = _client_for(app, email)
    assert "API tokens" not in client.get("/account").get_data(as_text=True)
    assert client.post("/account/api-tokens", data={"name": "Mine", "days": "30"}).status_code == 403


def test_every_role_gets_what_the_pages_would_give_it(app, anon_client, round_with_a_draft):
    round_id, submission_id = round_with_a_draft
    paths = {
        "list": "/api/v1/rounds",
        "organisations": "/api/v1/organisations",
        "round": f"/api/v1/rounds/{round_id}",
        "returns": f"/api/v1/rounds/{round_id}/returns",
        "submission": f"/api/v1/rounds/{round_id}/returns/{submission_id}",
        "benchmarks": "/api/v1/benchmarks",
        "benchmark": f"/api/v1/rounds/{round_id}/benchmark",
    }
    expected = {email: dict.fromkeys(paths, 403) for email in EVERYONE}  # PCN roles and admin: refused
    expected["icb@example.org"] = dict.fromkeys(paths, 200)
    expected["icb2@example.org"] = {
        "list": 200,
        "organisations": 200,
        "round": 404,
        "returns": 404,
        "submission": 404,
        "benchmarks": 200,
        "benchmark": 404,
    }
    # An LMC officer reads benchmarks only (lettered): the rounds, returns and organisations are refused outright.
    expected["lmc@example.org"] = {**dict.fromkeys(paths, 403), "benchmarks": 200, "benchmark": 200}
    wrong = []
    for email in EVERYONE:
        token = token_for(app, email)
        for name, path in paths.items():
            response = get(anon_client, path, token)
            if response.status_code != expected[email][name]:
                wrong.append(f"{email} {name}: {response.status_code}")
            elif response.status_code != 200:
                assert response.mimetype == "application/problem+json"
    assert not wrong, wrong
    other = get(anon_client, "/api/v1/rounds", token_for(app, "icb2@example.org", days=90)).get_json()
    assert round_id not in [r["id"] for r in other["items"]]  # another ICB's list never names the round
    icb2_pcns = get(anon_client, "/api/v1/organisations", token_for(app, "icb2@example.org", days=365)).get_json()
    assert "U00001" not in [o["ods_code"] for o in icb2_pcns["items"]]


def test_no_draft_is_ever_served_only_its_status(app, anon_client, round_with_a_draft):
    round_id, submission_id = round_with_a_draft
    token = token_for(app, "icb@example.org")
    items = get(anon_client, f"/api/v1/rounds/{round_id}/returns", token).get_json()["items"]
    rows = {r["pcn"]["ods_code"]: r for r in items}
    assert list(rows) == sorted(rows)  # a stable order, by PCN code
    assert rows["U00001"]["status"] == "submitted" and rows["U00001"]["submission_id"] == submission_id
    assert rows["U00001"]["overall"]["now"] is not None and rows["U00001"]["domains"][0]["now"] is not None
    draft = rows["U00002"]
    assert draft["status"] == "in_progress" and draft["submission_id"] is None and draft["links"] == {}
    assert draft["overall"] == {"now": None, "target": None}
    assert all(d["now"] is None and d["target"] is None for d in draft["domains"])
    assert rows["U00003"]["status"] == "not_started"
    summary = get(anon_client, f"/api/v1/rounds/{round_id}", token).get_json()
    assert summary["status_counts"]["in_progress"] == 1 and summary["status_counts"]["submitted"] == 1

    submission = get(anon_client, f"/api/v1/rounds/{round_id}/returns/{submission_id}", token).get_json()
    assert submission["pcn"]["ods_code"] == "U00001" and submission["is_latest"]
    answers = [a for d in submission["domains"] for a in d["answers"]]
    assert answers and all(a["now"] == 1 and a["target"] == 3 for a in answers)
    # The draft has no submission, so no id names it: the next id along is nothing the token can see.
    assert_problem(get(anon_client, f"/api/v1/rounds/{round_id}/returns/{submission_id + 1}", token), 404)


def test_expired_deactivated_missing_and_unknown_tokens_get_401(app, anon_client, icb_client):
    open_round(app, icb_client)
    expired = token_for(app, "icb@example.org")
    with app.app_context():
        db.session.scalar(select(ApiToken)).expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert_problem(get(anon_client, "/api/v1/rounds", expired), 401, "expired")
    assert_problem(get(anon_client, "/api/v1/rounds", None), 401, "Authorization")
    assert_problem(get(anon_client, "/api/v1/rounds", "pcnr_not-a-real-token"), 401, "not recognised")
    # A session cookie is not a token: the signed-in ICB lead's browser gets 401 from the API.
    assert_problem(icb_client.get("/api/v1/rounds"), 401)

    live = token_for(app, "icb2@example.org")
    assert get(anon_client, "/api/v1/rounds", live).status_code == 200
    with app.app_context():
        db.session.scalar(select(User).where(User.email == "icb2@example.org")).active = False
        db.session.commit()
    try:
        assert_problem(get(anon_client, "/api/v1/rounds", live), 401, "deactivated")
    finally:
        with app.app_context():
            db.session.scalar(select(User).where(User.email == "icb2@example.org")).active = True
            db.session.commit()


def test_lists_send_an_etag_and_304_when_nothing_changed_and_set_no_cookie(app, anon_client, round_with_a_draft):
    round_id, _ = round_with_a_draft
    token = token_for(app, "icb@example.org")
    for path in ("/api/v1/rounds", "/api/v1/organisations", f"/api/v1/rounds/{round_id}/returns"):
        first = get(anon_client, path, token)
        assert first.status_code == 200 and first.headers["ETag"]
        assert "Set-Cookie" not in first.headers
        again = get(anon_client, path, token, **{"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
        assert get(anon_client, path, token, **{"If-None-Match": '"something-else"'}).status_code == 200


def test_bad_pages_unknown_addresses_and_writes_are_plain_problems(app, anon_client, round_with_a_draft):
    round_id, _ = round_with_a_draft
    token = token_for(app, "icb@example.org")
    base = f"/api/v1/rounds/{round_id}/returns"
    body = get(anon_client, base, token).get_json()
    assert body["page"] == 1 and body["pages"] == 1 and body["total"] == 3 and "next" not in body["links"]
    assert_problem(get(anon_client, f"{base}?page=two", token), 400, "whole number")
    assert_problem(get(anon_client, f"{base}?page=0", token), 400, "whole number")
    assert_problem(get(anon_client, f"{base}?page=5", token), 400, "no page 5")
    assert_problem(get(anon_client, "/api/v1/nothing-here", token), 404)
    assert_problem(get(anon_client, "/api/v1/rounds/99999", token), 404, "no round")
    assert_problem(anon_client.post("/api/v1/rounds", headers={"Authorization": f"Bearer {token}"}), 405, "GET")


def test_pages_link_to_each_other_in_a_stable_order(app, anon_client, round_with_a_draft):
    round_id, _ = round_with_a_draft
    token = token_for(app, "icb@example.org")
    app.config["API_PAGE_SIZE"] = 2
    try:
        first = get(anon_client, f"/api/v1/rounds/{round_id}/returns", token).get_json()
        second = get(anon_client, first["links"]["next"], token).get_json()
    finally:
        app.config["API_PAGE_SIZE"] = 50
    assert first["pages"] == 2 and second["page"] == 2 and "next" not in second["links"]
    codes = [r["pcn"]["ods_code"] for r in first["items"] + second["items"]]
    assert codes == ["U00001", "U00002", "U00003"]


def test_each_token_is_rate_limited(app, anon_client):
    token = token_for(app, "icb@example.org")
    other = token_for(app, "icb2@example.org")
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        for _ in range(3):
            assert get(anon_client, "/api/v1/organisations", token).status_code == 200
        refused = get(anon_client, "/api/v1/organisations", token)
        assert_problem(refused, 429, "wait")
        assert int(refused.headers["Retry-After"]) >= 1
        assert get(anon_client, "/api/v1/organisations", other).status_code == 200  # another token is unaffected
    finally:
        app.config["API_RATE_LIMIT"] = "120 per minute"


def test_the_token_service_refuses_pcn_roles(app_ctx):
    with pytest.raises(PermissionError):
        api_tokens.create(get_user_by_email("cd@example.org"), "Mine", 30)
    assert json.dumps(spec.document(app_ctx))  # the document is plain JSON
