"""ICB readiness returns: a round set up by the ICB lead, answered and submitted by a PCN, seen on the dashboard."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Assessment,
    AuditEvent,
    Organisation,
    ReturnRound,
    Submission,
    SubmissionAnswer,
)
from app.questionnaires import registry
from app.services import mail
from app.services import rounds as round_service
from tests.conftest import error_messages, page
from tests.helpers import assert_typed_text_never_a_formula, domain_data

SUPPLEMENT = "kent-medway-snh-supplement"


def _date_fields(name: str, day) -> dict:
    return {f"{name}[day]": str(day.day), f"{name}[month]": str(day.month), f"{name}[year]": str(day.year)}


def _pcn_ids(app, *codes) -> list[str]:
    with app.app_context():
        query = select(Organisation.id).where(Organisation.ods_code.in_(codes))
        return [str(i) for i in db.session.scalars(query)]


def round_form(app, *, title="Winter readiness return", supplement=SUPPLEMENT, opens=None, closes=None, codes=None):
    with app.app_context():
        today = round_service.today()
    data = {"title": title, "supplement": supplement}
    data |= _date_fields("opens_on", opens or today)
    data |= _date_fields("closes_on", closes or today + timedelta(days=21))
    data["pcns"] = _pcn_ids(app, *(codes or ("U00001", "U00002", "U00003")))
    return data


def open_round(app, icb_client, **kwargs) -> int:
    response = icb_client.post("/rounds/new", data=round_form(app, **kwargs))
    assert response.status_code == 302, error_messages(page(response))
    return int(response.location.rstrip("/").split("/")[-1])


def answer_everything(app, client, base: str) -> None:
    with app.app_context():
        assessment = db.session.get(Assessment, int(base.rstrip("/").split("/")[-1]))
        from app.services.assessments import questionnaire_for

        domains = questionnaire_for(assessment).domains
    for domain in domains:
        response = client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, "1", "3"))
        assert response.status_code == 302, (domain.id, response.status_code)
    assert client.post(f"{base}/check").status_code == 302


def start_return(client, round_id: int) -> str:
    response = client.post(f"/rounds/{round_id}/start")
    assert response.status_code == 302, response.status_code
    assert "/assessments/" in response.location
    return response.location


def submitted_return(app, icb_client, cd_client) -> tuple[int, str, int]:
    round_id = open_round(app, icb_client)
    base = start_return(cd_client, round_id)
    answer_everything(app, cd_client, base)
    assessment_id = int(base.rstrip("/").split("/")[-1])
    response = cd_client.post(f"/rounds/submit/{assessment_id}", data={"declaration": "y"})
    assert response.status_code == 302, response.status_code
    with app.app_context():
        submission_id = db.session.scalar(select(Submission.id).where(Submission.assessment_id == assessment_id))
    return round_id, base, submission_id


def test_an_icb_lead_sets_up_a_round_and_its_pcns_see_it_with_their_deadline(app, icb_client, cd_client, cd3_client):
    round_id = open_round(app, icb_client, codes=("U00001", "U00002"))
    dashboard = page(icb_client.get(f"/rounds/{round_id}"))
    assert "0 of 2" in dashboard.get_text(" ")
    home = page(cd_client.get("/")).get_text(" ")
    assert "Winter readiness return" in home and "Closing date" in home
    # Harbour and Coast was left out of the round: its home page says nothing of it.
    assert "Winter readiness return" not in page(cd3_client.get("/")).get_text(" ")
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.round_id == round_id)) == "round_opened"


def test_the_return_has_the_supplement_as_a_second_section_scored_separately(app, icb_client, cd_client):
    round_id = open_round(app, icb_client)
    base = start_return(cd_client, round_id)
    task_list = page(cd_client.get(base))
    headings = [h.get_text(" ", strip=True) for h in task_list.select("h2")]
    supplement = registry_title(app, SUPPLEMENT)
    assert any(supplement in h for h in headings)
    answer_everything(app, cd_client, base)
    results = page(cd_client.get(f"{base}/results")).get_text(" ")
    assert supplement in results and "scored separately" in results
    # The report gives the supplement a table of its own, with its bands and its overall figure.
    report = page(cd_client.get(f"{base}/report"))
    table = next(t for t in report.select("table") if supplement in t.caption.get_text())
    overall = [cell.get_text(strip=True) for cell in table.select("tr.total th, tr.total td")]
    assert overall[0] == "Overall" and overall[1].endswith("%") and overall[3].endswith("%")
    assert overall[2] and overall[4] and overall[5].isdigit()  # the bands, now and at target, and the gap
    plan = cd_client.get(f"{base}/plan").get_data(as_text=True)
    assert "Frailty" in plan or "frailty" in plan  # the supplement's actions are in the plan too


def registry_title(app, questionnaire_id: str) -> str:
    with app.app_context():
        return registry().get(questionnaire_id).title


def test_submission_freezes_a_snapshot_that_later_plan_edits_never_change(app, icb_client, cd_client):
    round_id, base, submission_id = submitted_return(app, icb_client, cd_client)
    with app.app_context():
        submission = db.session.get(Submission, submission_id)
        assert submission.pdf_rendered_at is not None and submission.pdf.startswith(b"%PDF")
        answers = db.session.scalar(select(func.count()).where(SubmissionAnswer.submission_id == submission_id))
        core, supplement = registry().get("neighbourhood-readiness"), registry().get(SUPPLEMENT)
        assert answers == core.question_count + supplement.question_count  # every core and supplement question
        plan_before = submission.plan_json
        assessment = db.session.get(Assessment, submission.assessment_id)
        action = assessment.actions[0]
    # The PCN goes on working on its plan: the ICB's copy does not move.
    response = cd_client.post(
        f"{base}/plan/actions/{action.id}",
        data={
            "title": "Changed after submission",
            "owner": "PCN manager",
            "month": "2",
            "status": "in_progress",
            "revision": str(action.revision),
        },
    )
    assert response.status_code in (200, 302)
    with app.app_context():
        assert db.session.get(Submission, submission_id).plan_json == plan_before
    seen = icb_client.get(f"/rounds/{round_id}/returns/{submission_id}").get_data(as_text=True)
    assert "Changed after submission" not in seen
    # Answers are locked once submitted.
    with app.app_context():
        domain = registry().get("neighbourhood-readiness").domains[0]
    response = cd_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, "4", "4", revision="1"))
    assert response.status_code == 409
    assert "submitted while you were editing" in response.get_data(as_text=True)


def test_only_the_clinical_director_submits_and_only_with_the_declaration(app, icb_client, cd_client, manager_client):
    round_id = open_round(app, icb_client)
    base = start_return(cd_client, round_id)
    answer_everything(app, cd_client, base)
    assessment_id = int(base.rstrip("/").split("/")[-1])
    manager_client.post(f"/rounds/submit/{assessment_id}", data={"declaration": "y"})
    refused = cd_client.post(f"/rounds/submit/{assessment_id}", data={})
    assert "Confirm that these answers reflect the PCN's agreed view" in error_messages(page(refused))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_the_icb_sees_no_draft_only_its_status(app, icb_client, cd_client):
    round_id = open_round(app, icb_client)
    base = start_return(cd_client, round_id)
    with app.app_context():
        domain = registry().get("neighbourhood-readiness").domains[0]
    cd_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, "2", "3", note="Draft note only"))
    dashboard = icb_client.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "In progress" in dashboard and "Draft note only" not in dashboard
    for sheet in ("wide", "long"):
        assert "Draft note only" not in icb_client.get(f"/rounds/{round_id}/export.csv?sheet={sheet}").get_data(
            as_text=True
        )
    # The assessment itself is the PCN's alone.
    assert icb_client.get(base).status_code == 403


def test_dashboard_heatmap_and_drill_down_show_the_submitted_return(app, icb_client, cd_client):
    round_id, _, submission_id = submitted_return(app, icb_client, cd_client)
    dashboard = page(icb_client.get(f"/rounds/{round_id}"))
    row = next(tr for tr in dashboard.select("table.app-returns tbody tr") if "Riverside" in tr.get_text())
    assert "Submitted" in row.get_text() and "25%" in row.get_text()  # level 1 of 4 everywhere
    heat = page(icb_client.get(f"/rounds/{round_id}/heatmap"))
    cells = heat.select("table.app-heatmap tbody td.app-heat")
    assert cells and all(c.get_text(strip=True).startswith("25") for c in cells)  # the number, not only a colour
    assert "Emerging" in heat.select_one("table.app-heatmap").get_text()  # each cell's band, in words
    drill = page(icb_client.get(f"/rounds/{round_id}/returns/{submission_id}")).get_text(" ")
    assert "These answers reflect the PCN's agreed view" in drill
    pdf = icb_client.get(f"/rounds/{round_id}/returns/{submission_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_sorting_and_filtering_work_by_following_links(app, icb_client, cd_client):
    round_id, _, _ = submitted_return(app, icb_client, cd_client)
    soup = page(icb_client.get(f"/rounds/{round_id}?sort=now&order=desc"))
    names = [th.get_text(" ", strip=True) for th in soup.select("table.app-returns tbody th")]
    assert names[0].startswith("Riverside")  # the only return with a score sorts first; no score goes last
    header = soup.select_one("th[aria-sort]")
    assert header and header["aria-sort"] == "descending"
    filtered = page(icb_client.get(f"/rounds/{round_id}?status=submitted"))
    assert len(filtered.select("table.app-returns tbody tr")) == 1
    # Nonsense in the query string is ignored, never an error.
    assert icb_client.get(f"/rounds/{round_id}?sort=%00&order=up&status=x&sub_icb=%3Cb%3E").status_code == 200


def test_exports_have_wide_and_long_sheets_and_neutralise_formulas(app, icb_client, cd_client):
    round_id = open_round(app, icb_client)
    base = start_return(cd_client, round_id)
    with app.app_context():
        assessment = db.session.get(Assessment, int(base.rstrip("/").split("/")[-1]))
        from app.services.assessments import questionnaire_for

        domains = questionnaire_for(assessment).domains
    for domain in domains:
        cd_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, "1", "3", note="=HYPERLINK(1)"))
    cd_client.post(f"{base}/check")
    assessment_id = int(base.rstrip("/").split("/")[-1])
    assert cd_client.post(f"/rounds/submit/{assessment_id}", data={"declaration": "y"}).status_code == 302

    wide = list(csv.reader(io.StringIO(icb_client.get(f"/rounds/{round_id}/export.csv?sheet=wide").get_data(True))))
    assert wide[0][:4] == ["Sub-ICB location code", "Sub-ICB location", "PCN code", "PCN"]
    assert len(wide) == 1 + 3  # one row per PCN in scope
    long = list(csv.reader(io.StringIO(icb_client.get(f"/rounds/{round_id}/export.csv?sheet=long").get_data(True))))
    notes = [row[-1] for row in long[1:]]
    assert notes and all(n == "'=HYPERLINK(1)" for n in notes)
    xlsx = icb_client.get(f"/rounds/{round_id}/export.xlsx").data
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames == ["Returns", "Answers"]
    answers = list(book["Answers"].iter_rows(values_only=True))
    assert answers[1][-1] == "=HYPERLINK(1)"  # as typed, with no apostrophe showing: a text cell, not a formula
    assert_typed_text_never_a_formula(xlsx, "=HYPERLINK(1)")
    returns = list(book["Returns"].iter_rows(values_only=True))
    riverside = next(r for r in returns if r[3] == "Riverside PCN")
    assert riverside[4] == "Submitted" and riverside[7] == 25.0
    with app.app_context():
        exports = db.session.scalar(select(func.count()).where(AuditEvent.action == "export"))
    assert exports == 3


def test_reopen_with_a_reason_then_resubmit_keeps_every_submission(app, icb_client, cd_client):
    round_id, base, first = submitted_return(app, icb_client, cd_client)
    refused = icb_client.post(f"/rounds/{round_id}/returns/{first}/reopen", data={"reason": "  "})
    assert "Enter why you are reopening this return" in error_messages(page(refused))
    response = icb_client.post(f"/rounds/{round_id}/returns/{first}/reopen", data={"reason": "Please check domain 3"})
    assert response.status_code == 302
    assert "Please check domain 3" in cd_client.get(base).get_data(as_text=True)
    assert "Reopened" in icb_client.get(f"/rounds/{round_id}").get_data(as_text=True)
    assessment_id = int(base.rstrip("/").split("/")[-1])
    assert cd_client.post(f"/rounds/submit/{assessment_id}", data={"declaration": "y"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 2
        latest = round_service.latest_submission(round_id, db.session.get(Assessment, assessment_id).pcn_id)
        assert latest.id != first and not latest.is_reopened


def test_reminders_go_to_the_chosen_pcns_members_and_are_dated(app, icb_client, cd_client):
    round_id = open_round(app, icb_client)
    with app.app_context():
        mail.outbox().clear()
    chase = page(icb_client.get(f"/rounds/{round_id}/chase"))
    assert "cd@example.org" in chase.select_one("#chase-emails").get_text()
    ids = _pcn_ids(app, "U00001")
    response = icb_client.post(f"/rounds/{round_id}/chase", data={"pcns": ids, "text": "Please finish by Friday."})
    assert response.status_code == 302 and "/jobs/" in response.location
    with app.app_context():
        messages = list(mail.outbox())
    assert {m["To"] for m in messages} == {"cd@example.org", "manager@example.org"}
    assert all("Please finish by Friday." in m.get_content() for m in messages)
    chase = icb_client.get(f"/rounds/{round_id}/chase").get_data(as_text=True)
    assert "Not yet" in chase  # the others were not reminded
    bad = icb_client.post(f"/rounds/{round_id}/chase", data={"pcns": ["999999"], "text": ""})
    messages = error_messages(page(bad))
    assert "Choose PCNs that have not yet submitted" in messages and "Enter the text of the reminder" in messages


def test_pdf_pack_holds_every_submitted_report(app, icb_client, cd_client):
    round_id, _, _ = submitted_return(app, icb_client, cd_client)
    response = icb_client.post(f"/rounds/{round_id}/pdf-pack")
    assert response.status_code == 302
    job_page = icb_client.get(response.location)
    assert job_page.status_code == 200
    download = icb_client.get(response.location.rstrip("/") + "/download")
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert any("U00001" in n and n.endswith(".pdf") for n in names)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"title": ""}, "Enter a title for the round"),
        ({"title": "x" * 201}, "Title must be 200 characters or fewer"),
        ({"supplement": "made-up"}, "Choose a supplement from the list, or none"),
        (
            {"opens_on[day]": "31", "opens_on[month]": "2"},
            "The opening date must be a real date, for example 15 3 2027",
        ),
        ({"closes_on[year]": ""}, "The closing date must include a year"),
        ({"pcns": []}, "Choose at least one PCN"),
        ({"pcns": ["999999"]}, "Choose PCNs in your ICB's area only"),
    ],
)
def test_bad_round_details_are_refused_plainly_and_kept(app, icb_client, change, message):
    data = round_form(app) | change
    response = icb_client.post("/rounds/new", data=data)
    soup = page(response)
    assert message in error_messages(soup)
    if change.get("title") is not None and len(change["title"]) > 200:
        assert soup.select_one("#title")["value"] == change["title"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReturnRound)) == 0


def test_the_closing_date_cannot_be_before_the_opening_date(app, icb_client):
    with app.app_context():
        today = round_service.today()
    data = round_form(app, opens=today + timedelta(days=5), closes=today + timedelta(days=1))
    assert "The closing date must be on or after the opening date" in error_messages(
        page(icb_client.post("/rounds/new", data=data))
    )


def test_a_round_can_be_changed_until_it_opens_and_closed_early(app, icb_client, cd_client):
    with app.app_context():
        today = round_service.today()
    later = open_round(app, icb_client, opens=today + timedelta(days=3), closes=today + timedelta(days=30))
    data = round_form(app, title="Renamed", opens=today + timedelta(days=3), closes=today + timedelta(days=30))
    assert icb_client.post(f"/rounds/{later}/edit", data=data).status_code == 302
    assert "Renamed" in icb_client.get(f"/rounds/{later}").get_data(as_text=True)
    assert "Renamed" not in cd_client.get("/").get_data(as_text=True)  # not open yet
    now_open = open_round(app, icb_client)
    assert icb_client.get(f"/rounds/{now_open}/edit").status_code == 302  # open: no more changes
    assert icb_client.post(f"/rounds/{now_open}/close").status_code == 302
    assert "This round is closed" in cd_client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ReturnRound, now_open).closed_early_at is not None


def test_another_icb_cannot_see_or_touch_a_round(app, icb_client, icb2_client, cd_client, cd4_client):
    round_id, base, submission_id = submitted_return(app, icb_client, cd_client)
    for path in (
        f"/rounds/{round_id}",
        f"/rounds/{round_id}/heatmap",
        f"/rounds/{round_id}/chase",
        f"/rounds/{round_id}/export.xlsx",
        f"/rounds/{round_id}/returns/{submission_id}",
        f"/rounds/{round_id}/returns/{submission_id}/report.pdf",
    ):
        assert icb2_client.get(path).status_code == 404, path
    assert icb2_client.post(f"/rounds/{round_id}/close").status_code == 404
    assert cd4_client.post(f"/rounds/{round_id}/start").status_code == 404  # not in scope
    with app.app_context():
        assert db.session.get(ReturnRound, round_id).closed_early_at is None


def test_overdue_after_the_closing_date(app, icb_client):
    round_id = open_round(app, icb_client)
    with app.app_context():
        round_ = db.session.get(ReturnRound, round_id)
        round_.closes_on = round_service.today() - timedelta(days=1)
        db.session.commit()
        rows = round_service.return_rows(round_)
    assert {r.status for r in rows} == {"overdue"}


def test_a_return_in_a_closed_round_cannot_be_reopened(app, icb_client, cd_client):
    round_id, _, submission_id = submitted_return(app, icb_client, cd_client)
    icb_client.post(f"/rounds/{round_id}/close")
    assert "Reopen this return" not in icb_client.get(f"/rounds/{round_id}/returns/{submission_id}").get_data(True)
    icb_client.post(f"/rounds/{round_id}/returns/{submission_id}/reopen", data={"reason": "Too late"})
    with app.app_context():
        assert db.session.get(Submission, submission_id).reopened_at is None


def test_a_draft_left_in_a_closed_round_becomes_the_next_rounds_return(app, icb_client, cd_client):
    first = open_round(app, icb_client, title="Autumn", supplement="none")
    base = start_return(cd_client, first)
    with app.app_context():
        domain = registry().get("neighbourhood-readiness").domains[0]
    cd_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, "2", "3"))
    icb_client.post(f"/rounds/{first}/close")
    second = open_round(app, icb_client, title="Winter")
    assert start_return(cd_client, second) == base  # the same assessment, its answers kept
    with app.app_context():
        assessment = db.session.get(Assessment, int(base.rstrip("/").split("/")[-1]))
        assert assessment.round_id == second and assessment.supplement_key == SUPPLEMENT
        assert any(a.current == 2 for a in assessment.answers)


def test_no_reminders_before_a_round_opens(app, icb_client):
    with app.app_context():
        today = round_service.today()
        mail.outbox().clear()
    round_id = open_round(app, icb_client, opens=today + timedelta(days=2), closes=today + timedelta(days=20))
    chase = icb_client.get(f"/rounds/{round_id}/chase").get_data(as_text=True)
    assert "Send the reminder" not in chase
    icb_client.post(f"/rounds/{round_id}/chase", data={"pcns": _pcn_ids(app, "U00001"), "text": "Hello"})
    with app.app_context():
        assert not mail.outbox()


def test_the_audit_log_takes_any_page_number_without_failing(icb_client):
    for page_number in ("²", "-1", "0", "99999999999", "x"):
        assert icb_client.get(f"/rounds/audit?page={page_number}").status_code == 200


def test_a_return_is_submitted_once_even_if_asked_twice(app, icb_client, cd_client):
    round_id = open_round(app, icb_client)
    base = start_return(cd_client, round_id)
    answer_everything(app, cd_client, base)
    assessment_id = int(base.rstrip("/").split("/")[-1])
    with app.app_context():
        from sqlalchemy import update

        from app.models.base import utcnow
        from app.queries.users import get_user_by_email

        cd = get_user_by_email("cd@example.org")
        assessment = db.session.get(Assessment, assessment_id)  # read before the other request saved
        with db.engine.begin() as other_request:  # a double click: the first submission lands meanwhile
            other_request.execute(
                update(Assessment).where(Assessment.id == assessment_id).values(submitted_at=utcnow())
            )
        assert assessment.submitted_at is None  # this request has not seen it
        with pytest.raises(round_service.RoundError, match="already been submitted"):
            round_service.submit(assessment, cd, declared=True)
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_one_address_that_cannot_be_reached_does_not_stop_the_reminders(app, icb_client, monkeypatch):
    round_id = open_round(app, icb_client)
    real_send = mail.send

    def send(to, subject, body):
        if to == "manager@example.org":
            raise mail.MailError("mailbox unavailable")
        real_send(to, subject, body)

    monkeypatch.setattr(mail, "send", send)
    with app.app_context():
        mail.outbox().clear()
    ids = _pcn_ids(app, "U00001", "U00002")
    response = icb_client.post(f"/rounds/{round_id}/chase", data={"pcns": ids, "text": "Please finish."})
    job_page = icb_client.get(response.location).get_data(as_text=True)
    assert "could not be sent to manager@example.org" in job_page and "Try again" in job_page
    with app.app_context():
        assert {m["To"] for m in mail.outbox()} == {"cd@example.org", "cd2@example.org"}


def test_the_audit_log_cannot_be_changed_or_deleted_through_the_application(app, icb_client):
    from app.models import AppendOnly

    round_id = open_round(app, icb_client)
    with app.app_context():
        entry = db.session.scalar(select(AuditEvent).where(AuditEvent.round_id == round_id))
        original = entry.summary
        entry.summary = "Nothing happened here"
        with pytest.raises(AppendOnly):
            db.session.commit()
        db.session.rollback()
        entry = db.session.scalar(select(AuditEvent).where(AuditEvent.round_id == round_id))
        db.session.delete(entry)
        with pytest.raises(AppendOnly):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(AuditEvent.summary).where(AuditEvent.round_id == round_id)) == original
    assert original.startswith("Set up the round")
    assert "Set up the round" in icb_client.get("/rounds/audit").get_data(as_text=True)  # still there, unchanged
