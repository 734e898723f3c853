"""The API's benchmarks: an LMC token reads the demo winter round's benchmark with only the PCN that chose to be
named by name, and can reach nothing that names another PCN, nor any return or draft; an ICB token gets names;
another ICB's token gets 404; fewer than five submitted returns give no figures at all; a revoked token gets 401."""

import json
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, Organisation, ReturnRound, Submission
from app.queries.organisations import get_organisation_by_code
from app.services import demo, demo_rounds
from tests.conftest import page
from tests.web.test_api import assert_problem, get, token_for
from tests.web.test_rounds import submitted_return

NAMED = "Orchard Vale PCN"


@pytest.fixture
def winter(app, monkeypatch):
    """The demo's winter round (eight submitted returns; Orchard Vale chose to be named to its LMC): its id."""
    from app.jobs import JobQueue

    monkeypatch.setattr(JobQueue, "send", lambda self, job_id: None)  # the returns' figures, not their PDFs
    with app.app_context():
        named_before = {o.ods_code: o.named_to_lmc for o in db.session.scalars(select(Organisation))}
        for organisation in db.session.scalars(select(Organisation)):
            organisation.named_to_lmc = organisation.ods_code in demo.NAMED_TO_LMC
        db.session.commit()
        demo_rounds.load()
        icb = get_organisation_by_code("QDM")
        round_id = db.session.scalar(
            select(ReturnRound.id).where(ReturnRound.icb_id == icb.id, ReturnRound.title == demo_rounds.WINTER)
        )
    yield round_id
    with app.app_context():
        for organisation in db.session.scalars(select(Organisation)):
            organisation.named_to_lmc = named_before.get(organisation.ods_code, False)
        db.session.commit()


def demo_pcns_but_the_named_one() -> list[str]:
    """Every demo PCN's name and ODS code, except Orchard Vale's name."""
    found = []
    for name, code in demo.PCNS + demo.OTHER_PCNS:
        found.append(code)
        if name != NAMED:
            found.append(name)
    return found


def test_an_lmc_token_reads_the_benchmark_lettered_and_nothing_names_another_pcn(app, anon_client, winter):
    token = token_for(app, "lmc@example.org")
    listed = get(anon_client, "/api/v1/benchmarks", token)
    assert listed.status_code == 200 and listed.headers["ETag"]
    item = next(i for i in listed.get_json()["items"] if i["id"] == winter)
    assert item["icb"] == "Demo ICB" and item["returns_counted"] == 8
    assert item["questionnaire"]["title"] and item["questionnaire"]["version"]
    assert item["links"]["benchmark"] == f"/api/v1/rounds/{winter}/benchmark"
    assert get(anon_client, "/api/v1/benchmarks", token, **{"If-None-Match": listed.headers["ETag"]}).status_code == 304

    response = get(anon_client, item["links"]["benchmark"], token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["enough"] is True and body["named"] is False and body["small_numbers"] is None
    assert body["returns"]["count"] == 8 and body["returns"]["round"] == demo_rounds.WINTER
    assert body["letters"] and "letter" in body["letters"]
    labels = [p["label"] for p in body["pcns"]]
    assert labels[0] == NAMED and body["pcns"][0]["named"] is True
    assert len(labels) == 8 and all(re.fullmatch(r"PCN [A-Z]{1,2}", label) for label in labels[1:])
    assert not any(p["named"] for p in body["pcns"][1:])
    assert body["domains"] and all(d["now"] is None or d["now"]["low"] <= d["now"]["median"] for d in body["domains"])
    assert body["weakest"]
    for figure in body["not_sure"]:
        count = figure["not_sure"]["count"]
        assert count is None or count >= 5  # one to four PCNs are never given as a number
        if count is None:
            assert figure["not_sure"]["text"].startswith("fewer than 5 of ")
    for action in body["common_actions"]:
        assert action["planned_by"]["count"] is None or action["planned_by"]["count"] >= 5

    # Everything an LMC token can reach: the benchmark routes, and the others, which refuse it.
    reachable = {"/api/v1/benchmarks": listed, item["links"]["benchmark"]: response}
    for path in (
        "/api/v1/rounds",
        "/api/v1/organisations",
        f"/api/v1/rounds/{winter}",
        f"/api/v1/rounds/{winter}/returns",
    ):
        refused = get(anon_client, path, token)
        assert_problem(refused, 403, "benchmarks")
        reachable[path] = refused
    with app.app_context():
        submission_ids = list(db.session.scalars(select(Submission.id).where(Submission.round_id == winter)))
    assert len(submission_ids) == 8
    for submission_id in submission_ids:
        path = f"/api/v1/rounds/{winter}/returns/{submission_id}"
        refused = get(anon_client, path, token)
        assert_problem(refused, 403)
        reachable[path] = refused
    for path, answer in reachable.items():
        text = answer.get_data(as_text=True)
        leaked = [word for word in demo_pcns_but_the_named_one() if word in text]
        assert not leaked, f"{path} names {leaked}"


def test_an_icb_token_gets_names_and_another_icbs_token_gets_404(app, anon_client, winter):
    body = get(anon_client, f"/api/v1/rounds/{winter}/benchmark", token_for(app, "icb@example.org")).get_json()
    assert body["named"] is True and body["letters"] is None
    labels = {p["label"] for p in body["pcns"]}
    assert NAMED in labels and "Northfields PCN" in labels and all(p["named"] for p in body["pcns"])
    assert not any(re.fullmatch(r"PCN [A-Z]{1,2}", label) for label in labels)

    other = token_for(app, "icb2@example.org")
    assert_problem(get(anon_client, f"/api/v1/rounds/{winter}/benchmark", other), 404, "benchmark")
    assert winter not in [r["id"] for r in get(anon_client, "/api/v1/benchmarks", other).get_json()["items"]]
    assert_problem(get(anon_client, "/api/v1/rounds/999999/benchmark", other), 404)


def test_fewer_than_five_returns_give_no_figures_at_all(app, anon_client, icb_client, cd_client):
    round_id, _base, _submission_id = submitted_return(app, icb_client, cd_client)
    for email in ("icb@example.org", "lmc@example.org"):
        response = get(anon_client, f"/api/v1/rounds/{round_id}/benchmark", token_for(app, email))
        assert response.status_code == 200, email
        body = response.get_json()
        assert body["enough"] is False and body["returns"]["count"] == 1
        assert body["small_numbers"].startswith("Fewer than 5 PCNs have submitted returns here")
        for key in ("domains", "pcns", "weakest", "not_sure", "common_actions"):
            assert key not in body
        assert "Riverside" not in json.dumps(body) and "U00001" not in json.dumps(body)


def test_an_lmc_officer_makes_a_token_on_the_account_page_and_a_revoked_one_gets_401(app, lmc_client, anon_client):
    assert "API tokens" in lmc_client.get("/account").get_data(as_text=True)
    response = lmc_client.post("/account/api-tokens", data={"name": "LMC dashboard", "days": "30"})
    assert response.status_code == 200
    secret = page(response).find("code", class_="app-token").get_text()
    assert get(anon_client, "/api/v1/benchmarks", secret).status_code == 200
    assert_problem(get(anon_client, "/api/v1/rounds", secret), 403, "benchmarks")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "LMC dashboard"))
    revoked = lmc_client.post("/account/api-tokens/revoke", data={"token_id": str(token_id)}, follow_redirects=True)
    assert "The token has been revoked" in revoked.get_data(as_text=True)
    assert_problem(get(anon_client, "/api/v1/benchmarks", secret), 401, "revoked")
