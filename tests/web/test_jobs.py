"""A job's page, its download and "Try again", as each kind of user meets them."""

import io
import json
import logging
import zipfile

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.jobs import HANDLERS, JobKind, start_pdf_pack
from app.models import AuditEvent, ReturnRound, Submission
from app.models.base import utcnow
from app.queries.users import get_user_by_email
from tests.conftest import _client_for, page
from tests.jobs_support import Returns, fake_pdf, load_job

RIVERSIDE_PDF = fake_pdf("Riverside's report")

# Who opens a job about Riverside PCN's submission that Riverside's clinical director asked for, and what they get:
# the page, 404 (not theirs to know about), 403 (their role never sees jobs) or the sign-in page.
PEOPLE = {
    "the one who asked (Riverside's clinical director)": ("cd@example.org", "ok"),
    "the ICB lead of the round's ICB": ("icb@example.org", "ok"),
    "another ICB's lead": ("icb2@example.org", 404),
    "a PCN user of another PCN in the same ICB": ("cd2@example.org", 404),
    "a colleague in Riverside who did not ask": ("manager@example.org", 404),
    "an administrator": ("admin@example.org", 404),
    "the LMC officer": ("lmc@example.org", 403),
    "someone signed out": (None, "sign-in"),
}


@pytest.fixture
def returns(app):
    maker = Returns(app)
    yield maker
    maker.cleanup()


@pytest.fixture
def round_id(returns):
    return returns.round()


@pytest.fixture
def riverside_job(app, returns, round_id):
    """A finished job about Riverside's submission (its PDF), asked for by Riverside's clinical director."""
    submission_id = returns.submit(round_id, "U00001")
    with app.app_context():
        director = get_user_by_email("cd@example.org")
    now = utcnow()
    return returns.job(
        kind="submission_pdf",
        status="done",
        round_id=round_id,
        submission_id=submission_id,
        requested_by_id=director.id,
        done=1,
        total=1,
        attempts=1,
        started_at=now,
        heartbeat_at=now,
        finished_at=now,
        result_name="U00001 Riverside PCN.pdf",
        result=RIVERSIDE_PDF,
    )


def _outcome(response) -> str | int:
    if response.status_code == 302 and response.location.startswith("/sign-in"):
        return "sign-in"
    if response.status_code in (403, 404) or response.status_code >= 500:
        return response.status_code
    return "ok"


def _pack(app, round_id: int) -> int:
    with app.app_context():
        return start_pdf_pack(db.session.get(ReturnRound, round_id), get_user_by_email("icb@example.org")).id


@pytest.mark.parametrize("who", PEOPLE)
def test_each_person_sees_a_job_only_if_they_asked_for_it_or_lead_its_icb(app, riverside_job, who, caplog):
    email, expected = PEOPLE[who]
    client = _client_for(app, email)
    with caplog.at_level(logging.INFO, logger="app.security"):
        shown = client.get(f"/jobs/{riverside_job}")
        downloaded = client.get(f"/jobs/{riverside_job}/download")
        retried = client.post(f"/jobs/{riverside_job}/retry")
    assert _outcome(shown) == expected
    assert _outcome(downloaded) == expected
    assert _outcome(retried) == expected
    if expected == "ok":
        assert "U00001 Riverside PCN.pdf" in page(shown).get_text()
        assert downloaded.data == RIVERSIDE_PDF
        assert retried.status_code == 302 and retried.location.endswith(f"/jobs/{riverside_job}")
    if expected == 404:
        refusals = [json.loads(r.getMessage()) for r in caplog.records if r.name == "app.security"]
        assert [(r["event"], r["job_id"]) for r in refusals] == [("object_access_denied", riverside_job)] * 3
    assert load_job(app, riverside_job).attempts == 1  # nobody's "Try again" reran a job that had not failed


def test_a_job_that_does_not_exist_is_not_found(app):
    assert _client_for(app, "icb@example.org").get("/jobs/999999").status_code == 404


def test_the_lead_who_asked_for_a_pack_downloads_a_zip_of_the_returns(app, returns, round_id):
    returns.submit(round_id, "U00001")
    returns.submit(round_id, "U00002")
    job_id = _pack(app, round_id)
    client = _client_for(app, "icb@example.org")

    soup = page(client.get(f"/jobs/{job_id}"))
    assert soup.h1.get_text(strip=True) == "PDF pack"
    assert "Spring 2027 readiness returns" in soup.select_one(".nhsuk-caption-l").get_text()
    assert "Ready" in soup.select_one(".nhsuk-tag").get_text()
    assert "with 2 returns" in soup.get_text()
    assert soup.find("meta", attrs={"http-equiv": "refresh"}) is None  # finished: nothing more to wait for
    link = soup.find("a", string=lambda text: text and "Download" in text)
    assert link["href"] == f"/jobs/{job_id}/download"
    assert "ZIP" in soup.get_text()

    response = client.get(link["href"])
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "Spring 2027 readiness returns returns.zip" in disposition
    assert response.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert sorted(archive.namelist()) == ["U00001 Riverside PCN.pdf", "U00002 Northfields PCN.pdf"]
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.round_id == round_id)).all()
    assert actions == ["pdf_pack_requested", "export"]

    assert _client_for(app, "icb2@example.org").get(link["href"]).status_code == 404


def test_a_failed_pack_says_why_and_try_again_makes_it(app, returns, round_id):
    returns.submit(round_id, "U00001")
    waiting = returns.submit(round_id, "U00003", pdf=None)
    job_id = _pack(app, round_id)
    client = _client_for(app, "icb@example.org")

    soup = page(client.get(f"/jobs/{job_id}"))
    assert "Did not finish" in soup.select_one(".nhsuk-tag").get_text()
    error = soup.select_one(".app-job-error").get_text(" ", strip=True)
    assert "Harbour and Coast PCN" in error and "has not been made yet" in error
    assert soup.find("meta", attrs={"http-equiv": "refresh"}) is None
    form = soup.find("form", action=f"/jobs/{job_id}/retry")
    assert form.find("button").get_text(strip=True) == "Try again"
    assert soup.find("a", href=f"/jobs/{job_id}/download") is None
    not_yet = client.get(f"/jobs/{job_id}/download")
    assert not_yet.status_code == 302 and not_yet.location.endswith(f"/jobs/{job_id}")

    with app.app_context():  # the PDF is made in the meantime
        db.session.execute(update(Submission).where(Submission.id == waiting).values(pdf=fake_pdf("Harbour")))
        db.session.commit()
    response = client.post(form["action"])
    assert response.status_code == 302 and response.location.endswith(f"/jobs/{job_id}")

    soup = page(client.get(f"/jobs/{job_id}"))
    assert "Ready" in soup.select_one(".nhsuk-tag").get_text()
    assert soup.select_one(".app-job-error") is None
    assert load_job(app, job_id).attempts == 2
    download = client.get(f"/jobs/{job_id}/download")
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert "U00003 Harbour and Coast PCN.pdf" in archive.namelist()


def test_a_job_that_broke_shows_no_internals_and_can_be_tried_again(app, returns, round_id, monkeypatch):
    returns.submit(round_id, "U00001")

    def broken(job, progress):
        raise KeyError("submission.pdf column missing at /srv/app/packs.py line 80")

    monkeypatch.setitem(HANDLERS, "pdf_pack", JobKind("pdf_pack", broken, "PDF pack", "returns"))
    job_id = _pack(app, round_id)
    client = _client_for(app, "icb@example.org")
    text = page(client.get(f"/jobs/{job_id}")).get_text(" ", strip=True)
    assert "Something went wrong" in text and f"job number {job_id}" in text
    assert "/srv/app" not in text and "KeyError" not in text and "Traceback" not in text

    monkeypatch.undo()
    client.post(f"/jobs/{job_id}/retry")
    assert load_job(app, job_id).status == "done"


@pytest.mark.parametrize(
    ("status", "fields", "expected"),
    [
        ("queued", {}, "Waiting to start"),
        ("running", {"done": 3, "total": 6, "attempts": 1}, "In progress"),
    ],
)
def test_a_job_under_way_shows_its_progress_and_refreshes_itself(app, returns, round_id, status, fields, expected):
    with app.app_context():
        lead = get_user_by_email("icb@example.org")
    now = utcnow()
    job_id = returns.job(status=status, round_id=round_id, requested_by_id=lead.id, started_at=now, heartbeat_at=now,
                         **fields)  # fmt: skip
    response = _client_for(app, "icb@example.org").get(f"/jobs/{job_id}")
    soup = page(response)
    assert expected in soup.select_one(".nhsuk-tag").get_text()
    assert soup.find("meta", attrs={"http-equiv": "refresh"})["content"] == "2"
    assert "updates itself" in soup.get_text()
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    bar = soup.find("progress")
    if status == "running":
        assert (bar["value"], bar["max"]) == ("3", "6")
        assert soup.find("label", attrs={"for": bar["id"]}).get_text(strip=True) == "3 of 6 returns done"
    else:
        assert bar is None
    assert soup.find("form", action=f"/jobs/{job_id}/retry") is None
