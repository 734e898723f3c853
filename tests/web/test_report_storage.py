"""Stored PDF reports: rendered once per state of what the report shows, served from storage until that changes.

Most tests stand a counting fake in for WeasyPrint (the storage is what is under test, and a real render takes a
second); the first test renders for real.
"""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Answer, Assessment, Organisation, PlanAction, StoredReport, Submission, User
from app.questionnaires.schema import DEFAULT_EFFORT
from app.services import plans, reports
from tests.helpers import complete_all, start
from tests.jobs_support import Returns
from tests.web.test_rounds import submitted_return


class Renders:
    """Counts renders; each fake PDF names its assessment and a serial number, so every render's bytes differ."""

    def __init__(self):
        self.count = 0
        self.serial = itertools.count(1)

    def __call__(self, assessment):
        self.count += 1
        return f"%PDF-1.7\n% assessment {assessment.id} render {next(self.serial)}\n%%EOF\n".encode()


@pytest.fixture
def renders(monkeypatch) -> Renders:
    counter = Renders()
    monkeypatch.setattr(reports, "render_pdf", counter)
    return counter


@pytest.fixture
def undo():
    """Callables that put back what a test changed in rows that outlive it (organisations, accounts)."""
    steps = []
    yield steps
    for step in reversed(steps):
        if step is not None:
            step()


@pytest.fixture
def completed(app, cd_client) -> tuple[str, int]:
    """A confirmed assessment (confirming also builds the plan): its base path and id."""
    base = start(cd_client)
    complete_all(cd_client, app, base, current="1", target="3")
    assert cd_client.post(f"{base}/check").status_code == 302
    return base, int(base.rstrip("/").split("/")[-1])


def _download(client, base: str) -> bytes:
    response = client.get(f"{base}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def _stored(app, assessment_id: int) -> list[StoredReport]:
    with app.app_context():
        return list(db.session.scalars(select(StoredReport).where(StoredReport.assessment_id == assessment_id)))


def test_second_download_serves_the_stored_bytes_without_rendering(app, cd_client, completed, monkeypatch):
    base, assessment_id = completed
    first = _download(cd_client, base)  # a real render
    assert first.startswith(b"%PDF")
    [stored] = _stored(app, assessment_id)

    def must_not_render(*args, **kwargs):
        raise AssertionError("rendered again although nothing the report shows has changed")

    monkeypatch.setattr(reports, "render_pdf", must_not_render)
    monkeypatch.setattr(reports._Renderer, "pdf", must_not_render)
    assert _download(cd_client, base) == first
    assert _download(cd_client, base) == first
    with app.app_context():
        assert db.session.get(StoredReport, stored.id).pdf == first


def test_stored_report_is_served_to_a_colleague_in_the_same_pcn(app, cd_client, manager_client, completed, renders):
    base, _ = completed
    first = _download(cd_client, base)
    assert _download(manager_client, base) == first
    assert renders.count == 1


def _change_answer_note(app, assessment_id):
    with app.app_context():
        answer = db.session.scalars(select(Answer).where(Answer.assessment_id == assessment_id)).first()
        answer.note = "Changed after the first download."
        db.session.commit()


def _change_answer_level(app, assessment_id):
    with app.app_context():
        db.session.execute(update(Answer).where(Answer.assessment_id == assessment_id).values(target=4))
        db.session.commit()


def _first_action(assessment_id):
    return db.session.scalars(
        select(PlanAction).where(PlanAction.assessment_id == assessment_id, PlanAction.removed.is_(False))
    ).first()


def _change_action(app, assessment_id, **changed):
    with app.app_context():
        action = _first_action(assessment_id)
        fields = {
            "title": action.title,
            "description": action.description,
            "owner": action.owner,
            "month": action.month,
            "status": action.status,
            "note": action.note,
        }
        fields.update(changed)
        user = db.session.get(Assessment, assessment_id).started_by
        plans.update_action(action, plans.ActionChange(**fields), action.revision, user)
        db.session.commit()


def _rename_pcn(app, assessment_id):
    """Organisations outlive the test: the name is put back afterwards (the returned undo)."""
    with app.app_context():
        pcn = db.session.get(Organisation, db.session.get(Assessment, assessment_id).pcn_id)
        pcn_id, old, pcn.name = pcn.id, pcn.name, "Riverside and District PCN"
        db.session.commit()
    return lambda: _set(app, Organisation, pcn_id, name=old)


def _rename_the_director(app, assessment_id):
    """Accounts outlive the test: the name is put back afterwards (the returned undo)."""
    with app.app_context():
        user = db.session.get(Assessment, assessment_id).started_by
        user_id, old, user.name = user.id, user.name, "Dr Asha Patel-Jones"
        db.session.commit()
    return lambda: _set(app, User, user_id, name=old)


def _set(app, model, row_id, **values):
    with app.app_context():
        db.session.execute(update(model).where(model.id == row_id).values(**values))
        db.session.commit()


def _another_pcn_submits(app, assessment_id):
    """A return from another PCN in the same ICB, on the same questionnaire: the peer figures may move."""
    returns = Returns(app)
    returns.submit(returns.round(title="Another round"), "U00003")


def _new_render_version(app, assessment_id, monkeypatch):
    monkeypatch.setattr(reports, "REPORT_FORMAT", reports.REPORT_FORMAT + "-next")


CHANGES = {
    "an answer's note": _change_answer_note,
    "an answer's level": _change_answer_level,
    "an action's status": lambda app, a: _change_action(app, a, status="in_progress"),
    "an action's owner": lambda app, a: _change_action(app, a, owner="Practice manager, Hillview Surgery"),
    "an action's note": lambda app, a: _change_action(app, a, note="Waiting for the ICB's estates team."),
    "an action's month": lambda app, a: _change_action(app, a, month=6),
    "the PCN's name": _rename_pcn,
    "the name of who completed it": _rename_the_director,
    "another PCN submitting a return": _another_pcn_submits,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_to_what_the_report_shows_renders_it_anew(app, cd_client, completed, renders, change, undo):
    base, assessment_id = completed
    first = _download(cd_client, base)
    assert _download(cd_client, base) == first and renders.count == 1
    undo.append(CHANGES[change](app, assessment_id))
    second = _download(cd_client, base)
    assert second != first and renders.count == 2
    assert _download(cd_client, base) == second and renders.count == 2  # and the new one is stored in turn
    assert len(_stored(app, assessment_id)) == 1  # replaced, not piled up


def test_a_change_to_an_earlier_assessment_renders_it_anew(app, cd_client, completed, renders):
    """Plan against delivery and the trend read the PCN's other completed assessments."""
    base, assessment_id = completed
    with app.app_context():
        current = db.session.get(Assessment, assessment_id)
        earlier = Assessment(
            pcn_id=current.pcn_id,
            questionnaire_key=current.questionnaire_key,
            questionnaire_version=current.questionnaire_version,
            questionnaire_hash=current.questionnaire_hash,
            status="completed",
            started_by_id=current.started_by_id,
            completed_at=current.completed_at - timedelta(days=180),
        )
        earlier.answers.append(Answer(domain_id="d", question_id="q", current=1, target=2, note="Then."))
        db.session.add(earlier)
        db.session.commit()
        earlier_id = earlier.id
    first = _download(cd_client, base)
    assert _download(cd_client, base) == first and renders.count == 1
    with app.app_context():
        db.session.execute(update(Answer).where(Answer.assessment_id == earlier_id).values(note="Changed since."))
        db.session.commit()
    assert _download(cd_client, base) != first and renders.count == 2
    with app.app_context():
        db.session.delete(db.session.get(Assessment, earlier_id))
        db.session.commit()


def test_a_new_template_or_stylesheet_renders_it_anew(app, cd_client, completed, renders, monkeypatch):
    base, assessment_id = completed
    first = _download(cd_client, base)
    _new_render_version(app, assessment_id, monkeypatch)
    assert _download(cd_client, base) != first and renders.count == 2


def test_the_key_changes_with_the_plan_through_the_plan_page(app, cd_client, completed, renders):
    base, assessment_id = completed
    first = _download(cd_client, base)
    with app.app_context():
        action = _first_action(assessment_id)
        fields = {"title": action.title, "effort": action.effort or DEFAULT_EFFORT, "revision": str(action.revision)}
        action_id = action.id
    fields |= {"owner": "PCN manager", "month": "2", "status": "done"}
    response = cd_client.post(f"{base}/plan/actions/{action_id}", data=fields)
    assert response.status_code == 302
    assert _download(cd_client, base) != first and renders.count == 2


def test_the_state_key_is_cheap_and_stable(app, completed):
    _, assessment_id = completed
    with app.test_request_context():
        assessment = db.session.get(Assessment, assessment_id)
        key = reports.report_state_key(assessment)
        assert key == reports.report_state_key(assessment) and len(key) == 64
        statements = []
        from sqlalchemy import event

        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            reports.report_state_key(assessment)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) <= 8  # a handful of queries, not a report build


def test_one_pcns_stored_report_is_never_served_to_another(app, cd_client, cd2_client, completed, renders):
    base, assessment_id = completed
    mine = _download(cd_client, base)
    assert cd2_client.get(f"{base}/report.pdf").status_code == 404  # access is checked before any stored bytes
    other_base = start(cd2_client)
    complete_all(cd2_client, app, other_base)
    assert cd2_client.post(f"{other_base}/check").status_code == 302
    theirs = _download(cd2_client, other_base)
    assert theirs != mine and f"assessment {assessment_id} ".encode() not in theirs
    assert _download(cd_client, base) == mine and renders.count == 2


def test_a_download_that_loses_the_race_to_store_the_first_report_still_succeeds(app, completed, renders):
    """Two first downloads at once: both find nothing stored; the second insert hits the unique constraint."""
    _, assessment_id = completed
    with app.test_request_context():
        reports._store(assessment_id, "a" * 64, b"%PDF-1.7 first")
        real_execute = db.session.execute
        calls = []

        def first_update_finds_nothing(statement, *args, **kwargs):
            result = real_execute(statement, *args, **kwargs)
            calls.append(statement)
            if len(calls) == 1:  # as if the other download had not committed its insert yet
                return type("Result", (), {"rowcount": 0})()
            return result

        db.session.execute = first_update_finds_nothing
        try:
            reports._store(assessment_id, "b" * 64, b"%PDF-1.7 second")
        finally:
            del db.session.execute
        db.session.remove()
    [stored] = _stored(app, assessment_id)
    assert stored.state_key == "b" * 64
    with app.app_context():
        assert db.session.get(StoredReport, stored.id).pdf == b"%PDF-1.7 second"


def test_a_submitted_returns_pdf_is_rendered_once_and_never_in_a_request(app, icb_client, cd_client, monkeypatch):
    round_id, _, submission_id = submitted_return(app, icb_client, cd_client)  # the job renders it (immediate)
    with app.app_context():
        stored = db.session.scalar(select(Submission.pdf).where(Submission.id == submission_id))
    assert stored.startswith(b"%PDF")

    def must_not_render(*args, **kwargs):
        raise AssertionError("a submission's PDF was rendered again")

    monkeypatch.setattr(reports._Renderer, "pdf", must_not_render)
    for _ in range(2):
        response = icb_client.get(f"/rounds/{round_id}/returns/{submission_id}/report.pdf")
        assert response.status_code == 200 and response.data == stored
    # The job run again (a lost worker) keeps the stored PDF rather than rendering it anew.
    from app.services.return_jobs import render_submission_pdf

    with app.app_context():
        job = type("Job", (), {"submission_id": submission_id})()
        render_submission_pdf(job, lambda *args: None)
        db.session.commit()
        assert db.session.scalar(select(Submission.pdf).where(Submission.id == submission_id)) == stored


def test_stored_reports_go_with_their_assessment(app, cd_client, completed, renders):
    base, assessment_id = completed
    _download(cd_client, base)
    with app.app_context():
        stored = db.session.scalar(select(StoredReport).where(StoredReport.assessment_id == assessment_id))
        assert stored.rendered_at is not None
        assert stored.state_key == reports.report_state_key(db.session.get(Assessment, assessment_id))
        db.session.execute(StoredReport.__table__.delete().where(StoredReport.assessment_id == assessment_id))
        db.session.commit()
    assert _download(cd_client, base) and renders.count == 2  # nothing stored: rendered again, and stored
    assert len(_stored(app, assessment_id)) == 1
