"""Reassessment: a new assessment prefilled from the last, confirmed page by page; plan against delivery; trend;
open actions carried into the new plan."""

import shutil
import subprocess
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from app.extensions import db
from app.models import ActionStatus, Answer, Assessment, DomainProgress, DomainStatus, Organisation, PlanAction
from app.models.base import utcnow
from app.queries.users import get_user_by_email
from app.questionnaires import registry
from app.questionnaires.loader import parse_questionnaire
from app.services import assessments as service
from app.services import progress as progress_service
from app.services import rounds as round_service
from tests.conftest import page
from tests.helpers import complete_all, core, domain_data, start

CARRIED_TAG = "Carried over from your last assessment — check it"


def _id(base: str) -> int:
    return int(base.rstrip("/").split("/")[-1])


def completed(app, client, current="1", target="2") -> str:
    base = start(client)
    complete_all(client, app, base, current, target)
    response = client.post(f"{base}/check")
    assert response.status_code == 302 and response.location.endswith("/results")
    return base


def confirm_all(app, client, base: str, current="1", target="2", overrides=None) -> None:
    """Save every page of a reassessment (confirming what was carried over) and confirm the answers."""
    overrides = overrides or {}
    with app.app_context():
        revisions = {p.domain_id: p.revision for p in db.session.get(Assessment, _id(base)).domains}
    for domain in core(app).domains:
        data = domain_data(domain, current, target, revision=str(revisions.get(domain.id, 0)))
        for key, value in overrides.items():
            if key in data:
                data[key] = value
        response = client.post(f"{base}/domains/{domain.id}", data=data)
        assert response.status_code == 302, (domain.id, response.status_code)
    response = client.post(f"{base}/check")
    assert response.status_code == 302 and response.location.endswith("/results")


def test_a_new_assessment_after_a_completed_one_is_prefilled_and_marked_carried_over(app, cd_client):
    first = completed(app, cd_client, "1", "3")
    second = start(cd_client)
    assert _id(second) != _id(first)
    with app.app_context():
        assessment = db.session.get(Assessment, _id(second))
        questionnaire = service.questionnaire_for(assessment)
        assert assessment.previous_id == _id(first)
        assert len(assessment.answers) == questionnaire.question_count
        assert all(a.carried_over and a.current == 1 and a.target == 3 for a in assessment.answers)
        assert {p.status for p in assessment.domains} == {DomainStatus.IN_PROGRESS}
        level_3 = questionnaire.scale.name(3)
        domain = questionnaire.domains[0]
    soup = page(cd_client.get(f"{second}/domains/{domain.id}"))
    text = soup.get_text(" ", strip=True)
    assert text.count(CARRIED_TAG) == len(domain.questions)
    assert text.count(f"Last time you aimed for: {level_3}") == len(domain.questions)
    assert soup.find("input", {"name": f"{domain.questions[0].id}-now", "value": "1"}).has_attr("checked")
    task_list = page(cd_client.get(second)).get_text(" ", strip=True)
    assert f"{len(assessment.answers)} answers carried over from your last assessment are still to confirm" in task_list
    # Still one assessment in progress: starting again opens the same one.
    assert start(cd_client) == second


def test_a_first_assessment_is_not_prefilled(app, cd_client):
    base = start(cd_client)
    with app.app_context():
        assessment = db.session.get(Assessment, _id(base))
        assert assessment.previous_id is None and assessment.answers == []
    text = page(cd_client.get(f"{base}/domains/{core(app).domains[0].id}")).get_text(" ", strip=True)
    assert CARRIED_TAG not in text and "Last time you aimed for" not in text


def test_saving_a_page_confirms_its_carried_answers_changed_or_not(app, cd_client):
    completed(app, cd_client, "1", "3")
    second = start(cd_client)
    first_domain, other = core(app).domains[0], core(app).domains[1]
    response = cd_client.post(
        f"{second}/domains/{first_domain.id}", data=domain_data(first_domain, "1", "3") | {"later": "1"}
    )
    assert response.status_code == 302
    with app.app_context():
        answers = {a.question_id: a for a in db.session.get(Assessment, _id(second)).answers}
        assert not any(answers[q.id].carried_over for q in first_domain.questions)
        assert all(answers[q.id].carried_over for q in other.questions)
        progress = db.session.scalar(
            select(DomainProgress).where(
                DomainProgress.assessment_id == _id(second), DomainProgress.domain_id == first_domain.id
            )
        )
        assert progress.status == DomainStatus.COMPLETED
    text = page(cd_client.get(f"{second}/domains/{first_domain.id}")).get_text(" ", strip=True)
    assert CARRIED_TAG not in text and "Last time you aimed for" in text


def test_carried_answers_block_completing_and_submitting(app, cd_client):
    completed(app, cd_client, "1", "3")
    second = start(cd_client)
    domains = core(app).domains
    with app.app_context():
        assessment = db.session.get(Assessment, _id(second))
        for p in assessment.domains:  # as if every page were done, but one section never saved
            p.status = DomainStatus.COMPLETED
        db.session.commit()
        for domain in domains[1:]:
            for a in assessment.answers:
                if a.domain_id == domain.id:
                    a.carried_over = False
        db.session.commit()
        with pytest.raises(service.CarriedOverAnswers) as refused:
            service.complete_assessment(assessment)
        assert str(refused.value).startswith(service.CARRIED_OVER)
        assert domains[0].title in str(refused.value)
        assert db.session.get(Assessment, _id(second)).status == "in_progress"

        # A return for a round is refused too, naming the section.
        icb = db.session.scalar(select(Organisation).where(Organisation.ods_code == "QDM"))
        today = round_service.today()
        round_ = round_service.create_round(
            icb, get_user_by_email("icb@example.org"), title="Spring return", core=registry().get(
                "neighbourhood-readiness"), supplement=None, opens_on=today, closes_on=today + timedelta(days=14),
            pcn_ids=[assessment.pcn_id],
        )  # fmt: skip
        assessment.round_id = round_.id
        assessment.status = "completed"
        assessment.completed_at = utcnow()
        db.session.commit()
        with pytest.raises(round_service.RoundError) as refused:
            round_service.submit(assessment, get_user_by_email("cd@example.org"), declared=True)
        assert service.CARRIED_OVER in str(refused.value) and domains[0].title in str(refused.value)
        assert assessment.submitted_at is None


def _changed_core(app):
    """The shipped core with its first question removed and a new one added, as a new version."""
    shipped = core(app)
    data = yaml.safe_load(shipped.source)
    questions = data["domains"][0]["questions"]
    # A question no other question depends on, so the rest of the file stays valid without it.
    removed = next(q for q in reversed(questions) if shipped.source.count(q["id"]) == 1)
    questions.remove(removed)
    added = dict(questions[0], id="new-question", text="Has the PCN agreed how it will hear from patients?")
    for key in ("depends_on", "requires"):
        added.pop(key, None)
    questions.append(added)
    data["version"] = "2.1"
    return parse_questionnaire(yaml.safe_dump(data, sort_keys=False), "changed.yaml"), removed["id"]


def test_a_new_version_carries_over_by_question_id_and_says_what_is_new(app, cd_client, monkeypatch):
    first = completed(app, cd_client, "1", "3")
    changed, removed = _changed_core(app)
    with app.app_context():
        registry().pin(changed)
        db.session.commit()
        monkeypatch.setitem(registry().current, changed.id, changed)
        second = start(cd_client)
        assessment = db.session.get(Assessment, _id(second))
        assert assessment.questionnaire_hash == changed.content_hash and assessment.previous_id == _id(first)
        answers = {a.question_id: a for a in assessment.answers}
        assert removed not in answers and "new-question" not in answers
        assert set(answers) == set(changed.questions_by_id) - {"new-question"}
        assert all(a.carried_over for a in answers.values())
        assert service.new_question_ids(assessment) == {"new-question"}
        domain = changed.domains[0]
    soup = page(cd_client.get(f"{second}/domains/{domain.id}"))
    new_section = soup.find(id="new-question-previous")
    assert "New in this version" in new_section.get_text(" ", strip=True)
    assert CARRIED_TAG not in new_section.get_text(" ", strip=True)
    assert soup.get_text(" ", strip=True).count(CARRIED_TAG) == len(domain.questions) - 1


def test_plan_against_delivery_on_a_worked_example(app, cd_client):
    first = completed(app, cd_client, "1", "2")
    domain = core(app).domains[0]
    reached_q, missed_q = domain.questions[0], domain.questions[1]
    with app.app_context():
        actions = db.session.scalars(select(PlanAction).where(PlanAction.assessment_id == _id(first))).all()
        for_reached = [a for a in actions if a.question_id == reached_q.id]
        for_missed = [a for a in actions if a.question_id == missed_q.id]
        assert for_reached and for_missed
        for a in for_reached:
            a.status = ActionStatus.DONE
        for_missed[0].status = ActionStatus.DROPPED
        db.session.commit()
        missed_titles = {a.title for a in for_missed}
        missed_open = len(for_missed) - 1
    second = start(cd_client)
    # Now: every question at level 2 (its target) except one still at level 1.
    confirm_all(app, cd_client, second, "2", "3", overrides={f"{missed_q.id}-now": "1"})
    with app.app_context():
        result = progress_service.progress_of(db.session.get(Assessment, _id(second)))
        assert result is not None
        d = result.domains[0]
        by_id = {q.question.id: q for q in d.questions}
        assert by_id[reached_q.id].reached and by_id[reached_q.id].actions.done == len(for_reached)
        missed = by_id[missed_q.id]
        assert missed.missed
        assert (missed.actions.done, missed.actions.dropped, missed.actions.open) == (0, 1, missed_open)
        assert set(missed.not_done) == missed_titles
        assert (d.reached_count, d.missed_count) == (len(domain.questions) - 1, 1)
        assert result.reached_count == core(app).question_count - 1 and result.missed_count == 1
        level_names = (core(app).scale.name(2), core(app).scale.name(1))
    text = page(cd_client.get(f"{second}/results")).get_text(" ", strip=True)
    assert "Plan against delivery" in text and "You reached your target" in text
    assert f"{missed_q.text.strip()} You aimed for {level_names[0]} and you are at {level_names[1]}" in " ".join(
        text.split()
    )
    report = page(cd_client.get(f"/assessments/{_id(second)}/report")).get_text(" ", strip=True)
    assert "Plan against delivery" in report and "Target not reached yet" in report
    pdf = cd_client.get(f"/assessments/{_id(second)}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # A first assessment has nothing to compare.
    assert "Plan against delivery" not in page(cd_client.get(f"{first}/results")).get_text(" ", strip=True)


def test_the_trend_has_one_point_per_completed_assessment(app, cd_client):
    completed(app, cd_client, "1", "2")
    second = start(cd_client)
    confirm_all(app, cd_client, second, "2", "3")
    third = start(cd_client)
    confirm_all(app, cd_client, third, "3", "4")
    with app.app_context():
        result = progress_service.progress_of(db.session.get(Assessment, _id(third)))
        assert len(result.trend) == 3
        first_domain = core(app).domains[0].id
        assert [round(p.scores[first_domain]) for p in result.trend] == sorted(
            round(p.scores[first_domain]) for p in result.trend
        )
        assert result.trend[0].scores[first_domain] < result.trend[-1].scores[first_domain]
    soup = page(cd_client.get(f"{third}/results"))
    assert soup.find("svg", class_="app-chart--trend") is not None
    table = soup.find("table", class_="app-trend")
    assert len(table.find("thead").find_all("th")) == 1 + 3


def test_open_actions_are_carried_into_the_new_plan_once(app, cd_client, cd2_client):
    first = completed(app, cd_client, "1", "3")
    with app.app_context():
        actions = db.session.scalars(
            select(PlanAction).where(PlanAction.assessment_id == _id(first)).order_by(PlanAction.id)
        ).all()
        actions[0].status = ActionStatus.DONE
        actions[1].status = ActionStatus.DROPPED
        actions[2].status, actions[2].owner, actions[2].note = ActionStatus.IN_PROGRESS, "Dr Patel", "Half done"
        actions[3].removed = True
        actions[4].partner = "The LMC"
        db.session.commit()
        open_ids = {a.id for a in actions if not a.removed and a.is_open}
        expected = {
            a.id: (a.title, a.description, a.owner, a.partner, a.effort, a.note, a.status, a.month)
            for a in actions
            if a.id in open_ids
        }
    second = start(cd_client)
    confirm_all(app, cd_client, second, "1", "3")
    plan = page(cd_client.get(f"{second}/plan")).get_text(" ", strip=True)
    assert f"Bring in the {len(open_ids)} open actions from your last plan" in plan
    # Another PCN cannot, and an assessment with no previous one has nothing to carry.
    assert cd2_client.post(f"{second}/plan/carry").status_code == 404
    assert cd_client.post(f"{first}/plan/carry").status_code == 404
    response = cd_client.post(f"{second}/plan/carry", follow_redirects=True)
    assert f"{len(open_ids)} open actions from your last plan are now in this plan" in page(response).get_text(
        " ", strip=True
    )
    with app.app_context():
        carried = db.session.scalars(
            select(PlanAction).where(PlanAction.assessment_id == _id(second), PlanAction.carried_from_id.is_not(None))
        ).all()
        assert {a.carried_from_id for a in carried} == open_ids
        for a in carried:
            assert (a.title, a.description, a.owner, a.partner, a.effort, a.note, a.status, a.month) == expected[
                a.carried_from_id
            ]
        # The new plan already suggests the same steps: the old actions join them rather than appear twice.
        titles = db.session.scalars(
            select(PlanAction.title).where(PlanAction.assessment_id == _id(second), PlanAction.removed.is_(False))
        ).all()
        assert len(titles) == len(set(titles))
    again = cd_client.post(f"{second}/plan/carry", follow_redirects=True)
    assert "already in this plan" in page(again).get_text(" ", strip=True)
    with app.app_context():
        count = len(
            db.session.scalars(
                select(Answer.id).where(Answer.assessment_id == _id(second))  # answers untouched
            ).all()
        )
        assert count == core(app).question_count
        assert len(
            db.session.scalars(
                select(PlanAction).where(
                    PlanAction.assessment_id == _id(second), PlanAction.carried_from_id.is_not(None)
                )
            ).all()
        ) == len(open_ids)
    assert "Bring in the" not in page(cd_client.get(f"{second}/plan")).get_text(" ", strip=True)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs pdftotext (poppler-utils)")
def test_a_submitted_reassessment_keeps_plan_against_delivery_in_the_icbs_pdf(app, cd_client, icb_client):
    from app.models import Submission
    from tests.web.test_rounds import answer_everything, open_round, start_return

    first = completed(app, cd_client, "1", "2")
    with app.app_context():
        done = db.session.scalars(select(PlanAction).where(PlanAction.assessment_id == _id(first))).first()
        done.status = ActionStatus.DONE
        db.session.commit()
    base = start_return(cd_client, open_round(app, icb_client))
    answer_everything(app, cd_client, base)  # level 1 now and 3 at target everywhere: level 2 was not reached
    assert cd_client.post(f"/rounds/submit/{_id(base)}", data={"declaration": "y"}).status_code == 302
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.assessment_id == _id(base)))
        assert db.session.get(Assessment, _id(base)).previous_id == _id(first)
        pdf = submission.pdf
    text = " ".join(
        subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode().split()
    )
    assert "Plan against delivery" in text and "Target not reached yet" in text
    assert "Readiness over time" in text  # the trend, with this return as its last point
    # The submission's answers are what it is scored from, in plan against delivery and in the trend alike.
    from app.services.scoring import AnswerValue

    with app.app_context():
        top = {q.id: AnswerValue(current=4, target=4) for d in core(app).domains for q in d.questions}
        result = progress_service.progress_of(db.session.get(Assessment, _id(base)), now=top)
        assert result.missed_count == 0 and result.reached_count == core(app).question_count
        assert set(result.trend[-1].scores.values()) == {100.0}
