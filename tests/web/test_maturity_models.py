"""Any maturity model: a four-stage questionnaire in the style of the 2019 PCN Maturity Matrix, offered by an
administrator, taken by a PCN through the journey, the plan and the PDF; and "Not applicable" answers."""

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, PlanAction
from tests.conftest import FIXTURES, error_messages, page
from tests.helpers import core, domain_data, start

STAGES = FIXTURES / "questionnaires" / "pcn-maturity-2019.yaml"
SHIPPED = Path(__file__).resolve().parents[2] / "questionnaires"


@pytest.fixture
def with_stages(app, tmp_path):
    """The shipped questionnaires plus the four-stage one, as if an administrator had dropped its file in."""
    for path in [*SHIPPED.glob("*.yaml"), STAGES]:
        shutil.copy(path, tmp_path)
    before = app.config["QUESTIONNAIRE_DIR"]
    app.config["QUESTIONNAIRE_DIR"] = str(tmp_path)
    app.extensions["questionnaires"] = None
    yield
    app.config["QUESTIONNAIRE_DIR"] = before
    app.extensions["questionnaires"] = None


def offer(admin_client, *keys):
    return admin_client.post("/questionnaires", data={"offered": list(keys)})


def test_an_administrator_sees_every_checked_questionnaire_and_chooses_what_is_offered(app, with_stages, admin_client):
    soup = page(admin_client.get("/questionnaires"))
    text = soup.get_text(" ")
    assert "PCN maturity stages" in text and "Foundation, Step 1, Step 2, Step 3" in text
    assert "Kent and Medway" in text  # supplements are listed too, for rounds
    boxes = {box["value"]: box.has_attr("checked") for box in soup.select("input[name=offered]")}
    assert boxes == {"neighbourhood-readiness": True, "pcn-maturity-stages": False}

    assert offer(admin_client, "neighbourhood-readiness", "pcn-maturity-stages").status_code == 302
    with app.app_context():
        entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "questionnaire_offer")).one()
        assert "PCN maturity stages" in entry.summary


def test_offering_nothing_or_an_unknown_questionnaire_is_refused_and_changes_nothing(app, with_stages, admin_client):
    for data, message in (
        ({}, "Offer at least one questionnaire, or PCNs could not start a self-assessment"),
        ({"offered": ["no-such-questionnaire"]}, "Choose questionnaires from the list"),
    ):
        response = admin_client.post("/questionnaires", data=data)
        assert response.status_code == 400
        assert error_messages(page(response)) == [message]
    soup = page(admin_client.get("/questionnaires"))
    assert [b["value"] for b in soup.select("input[name=offered][checked]")] == ["neighbourhood-readiness"]


def test_only_an_administrator_may_choose(app, with_stages, cd_client, icb_client, lmc_client):
    for client in (cd_client, icb_client, lmc_client):
        assert client.get("/questionnaires").status_code == 403
        assert offer(client, "pcn-maturity-stages").status_code == 403


def test_a_four_stage_questionnaire_goes_through_the_journey_plan_and_pdf(app, with_stages, admin_client, cd_client):
    offer(admin_client, "neighbourhood-readiness", "pcn-maturity-stages")
    home = page(cd_client.get("/"))
    choices = {r["value"] for r in home.select("input[name=questionnaire]")}
    assert choices == {"neighbourhood-readiness", "pcn-maturity-stages"}
    assert "Scale: Foundation, Step 1, Step 2, Step 3" in home.get_text(" ")

    refused = cd_client.post("/assessments/start", data={"questionnaire": "not-offered"})
    assert refused.status_code == 302 and "/assessments/" not in refused.location

    response = cd_client.post("/assessments/start", data={"questionnaire": "pcn-maturity-stages"})
    base = response.location
    tasks = page(cd_client.get(base)).get_text(" ")
    assert "PCN maturity stages" in tasks and "Leadership and planning" in tasks and "About" in tasks

    domain = page(cd_client.get(f"{base}/domains/stages-leadership"))
    radios = domain.select("input[name=stages-plan-now]")
    now_labels = [domain.select_one(f"label[for={r['id']}]").get_text(" ", strip=True) for r in radios]
    assert [label.split(" – ")[0] for label in now_labels] == ["Foundation", "Step 1", "Step 2", "Step 3", "Not sure"]
    assert now_labels[1] == "Step 1 – A draft plan has been discussed by the clinical directors."
    words = " ".join(domain.get_text(" ").split())
    assert "Level 4" not in words and "You could point to: The draft plan." in words
    assert "Words used on this page" in words and "Primary care network" in words

    # A level beyond this scale's top is refused with a message, and nothing is saved.
    bad = cd_client.post(f"{base}/domains/stages-leadership", data=domain_data_for(base, "stages-leadership", "4", "4"))
    assert bad.status_code == 200
    assert "Select one of the levels shown, or Not sure" in " ".join(error_messages(page(bad)))

    ok = cd_client.post(f"{base}/domains/stages-leadership", data={
        "revision": "0", "stages-plan-now": "0", "stages-plan-target": "2",
        "stages-data-now": "not-applicable", "stages-data-target": "3",
    })  # fmt: skip
    assert ok.status_code == 302
    cd_client.post(
        f"{base}/domains/stages-care", data={"revision": "0", "stages-team-now": "1", "stages-team-target": "3"}
    )
    assert cd_client.post(f"{base}/check").status_code == 302

    results = page(cd_client.get(f"{base}/results")).get_text(" ")
    assert "Foundation → Step 2" in results and "Step 1 → Step 3" in results
    assert '1 question was answered "Not applicable or not in place locally yet"' in results
    # Leadership: one applicable question (weight 1) at 0 of 3 now, 2 of 3 at target; stages-data left out.
    assert "67%" in results

    with app.app_context():
        actions = db.session.scalars(select(PlanAction).where(PlanAction.origin == "suggested")).all()
        assert {(a.question_id, a.step) for a in actions} == {
            ("stages-plan", 1), ("stages-plan", 2), ("stages-team", 2), ("stages-team", 3)
        }  # fmt: skip
        assert not any(a.question_id == "stages-data" for a in actions)  # not applicable: nothing to do

    pdf = cd_client.get(f"{base}/report.pdf").data
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        assert "Foundation" in text and "Step 3" in text and "Not applicable or not in place locally yet" in text
        assert "level 4" not in text.lower()


def domain_data_for(base, domain_id, now, target):
    data = {"revision": "0"}
    for question_id in ("stages-plan", "stages-data"):
        data[f"{question_id}-now"], data[f"{question_id}-target"] = now, target
    return data


def test_not_applicable_is_offered_only_where_the_question_allows_it(app, cd_client):
    base = start(cd_client)
    questionnaire = core(app)
    allowed = next(q for d in questionnaire.domains for q in d.questions if q.allows_not_applicable)
    refused = next(q for d in questionnaire.domains for q in d.questions if not q.allows_not_applicable)
    for question in (allowed, refused):
        domain = questionnaire.domain(question.domain_id)
        data = domain_data(domain)
        data[f"{question.id}-now"] = "not-applicable"
        data[f"{question.id}-target"] = ""
        response = cd_client.post(f"{base}/domains/{domain.id}", data=data)
        if question is allowed:
            assert response.status_code == 302
            soup = page(cd_client.get(f"{base}/domains/{domain.id}"))
            assert soup.select_one(f"input[name={question.id}-now][value=not-applicable]").has_attr("checked")
        else:
            assert response.status_code == 200
            assert "Select one of the levels shown, or Not sure" in " ".join(error_messages(page(response)))


def test_an_icb_round_names_its_questionnaire_and_a_supplement_for_it(
    app, with_stages, admin_client, icb_client, cd_client
):
    from tests.web.test_rounds import round_form

    offer(admin_client, "neighbourhood-readiness", "pcn-maturity-stages")
    form = page(icb_client.get("/rounds/new"))
    assert {r["value"] for r in form.select("input[name=questionnaire]")} == {
        "neighbourhood-readiness", "pcn-maturity-stages"
    }  # fmt: skip

    for questionnaire, message in (
        ("no-such-questionnaire", "Choose a questionnaire from the list"),
        ("pcn-maturity-stages", "Choose a supplement written for the questionnaire you chose, or no supplement"),
    ):
        data = round_form(app, codes=("U00001",)) | {"questionnaire": questionnaire}
        response = icb_client.post("/rounds/new", data=data)
        assert response.status_code == 200 and message in error_messages(page(response))
    with app.app_context():
        from app.models import ReturnRound

        assert db.session.scalar(select(ReturnRound.id).where(ReturnRound.title == "Winter readiness return")) is None

    data = round_form(app, supplement="none", codes=("U00001",)) | {"questionnaire": "pcn-maturity-stages"}
    created = icb_client.post("/rounds/new", data=data)
    assert created.status_code == 302
    round_id = int(created.location.rstrip("/").split("/")[-1])
    started = cd_client.post(f"/rounds/{round_id}/start")
    tasks = page(cd_client.get(started.location)).get_text(" ")
    assert "PCN maturity stages" in tasks and "Leadership and planning" in tasks


def test_a_domain_whose_every_question_is_not_applicable_is_left_out_of_the_overall_figure(app, cd_client):
    from tests.helpers import complete_all

    base = start(cd_client)
    complete_all(cd_client, app, base)  # level 1 now, level 3 target everywhere: 25% now
    questionnaire = core(app)
    domain = next(d for d in questionnaire.domains if all(q.allows_not_applicable for q in d.questions))
    data = {"revision": "1"} | {f"{q.id}-now": "not-applicable" for q in domain.questions}
    assert cd_client.post(f"{base}/domains/{domain.id}", data=data).status_code == 302
    cd_client.post(f"{base}/check")
    soup = page(cd_client.get(f"{base}/results"))
    row = next(r for r in soup.select("table tr") if domain.title in r.get_text())
    assert "Not applicable" in row.get_text() and "%" not in row.get_text()
    overall = soup.select_one(".app-score").get_text(strip=True)
    assert overall == "25%"  # the other domains alone, not pulled down by a zero


def test_an_assessment_pinned_to_the_first_edition_still_opens_scores_and_prints(app, cd_client):
    """Old assessments keep their pinned copy: the first edition's five unnamed levels, owners and no efforts."""
    from app.models import Assessment
    from app.queries.users import get_user_by_email
    from app.questionnaires import registry
    from app.questionnaires.loader import parse_questionnaire
    from app.services import assessments
    from app.services.scoring import AnswerValue

    source = (FIXTURES / "questionnaires" / "first-edition" / "neighbourhood-readiness-1.0.yaml").read_text()
    with app.app_context():
        first = parse_questionnaire(source, "first edition", strict=False)
        user = get_user_by_email("cd@example.org")
        assessment = assessments.start_assessment(user.organisation, user, first)
        for domain in first.domains:
            values = {q.id: AnswerValue(current=1, target=3) for q in domain.questions}
            assessments.save_domain(assessment, domain, values, 0, user)
        assessments.complete_assessment(assessment)
        assessment_id = assessment.id
        app.extensions["questionnaires"] = None  # a fresh process: the first edition comes from the stored copy
        assert registry().by_hash(first.content_hash).version == "1.0"
        assert db.session.get(Assessment, assessment_id).questionnaire_version == "1.0"

    base = f"/assessments/{assessment_id}"
    results = page(cd_client.get(f"{base}/results")).get_text(" ")
    assert "25%" in results and "Level 1 → Level 3" in results  # the first edition's levels keep their names
    domain = page(cd_client.get(f"{base}/domains/{first.domains[0].id}"))
    assert "Level 4" in domain.get_text(" ")
    plan = page(cd_client.get(f"{base}/plan")).get_text(" ")
    assert "Month 1" in plan
    assert cd_client.get(f"{base}/report.pdf").data.startswith(b"%PDF")
