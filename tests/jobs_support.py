"""Rounds with submitted returns and background jobs, for the job queue's tests; all of it removed afterwards.

Also a real queue worker (`huey_consumer app.worker.huey`) in a subprocess, against the test run's database.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from app import create_app
from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import Assessment, AuditEvent, BackgroundJob, ReturnRound, Submission
from app.models.base import utcnow
from app.queries.organisations import get_organisation_by_code
from app.queries.users import get_user_by_email
from app.questionnaires import registry
from tests.servers import stop

CORE = "neighbourhood-readiness"


def fake_pdf(label: str) -> bytes:
    """Stands in for a rendered report: the pack copies PDFs as they are, so only their bytes matter here."""
    return f"%PDF-1.7\n% {label}\n%%EOF\n".encode()


class Returns:
    """Makes rounds, submissions and jobs directly in the database, and removes them at the end of the test."""

    def __init__(self, app):
        self.app = app
        self.round_ids: list[int] = []
        self.assessment_ids: list[int] = []
        self.job_ids: list[int] = []

    def round(self, title: str = "Spring 2027 readiness returns", icb: str = "QDM") -> int:
        with self.app.app_context():
            questionnaire = registry().get(CORE)
            registry().pin(questionnaire)
            round_ = ReturnRound(
                icb_id=get_organisation_by_code(icb).id,
                title=title,
                questionnaire_key=questionnaire.id,
                questionnaire_hash=questionnaire.content_hash,
                opens_on=date.today() - timedelta(days=14),
                closes_on=date.today() + timedelta(days=14),
                created_by_id=get_user_by_email("icb@example.org").id,
            )
            db.session.add(round_)
            db.session.commit()
            self.round_ids.append(round_.id)
            return round_.id

    def submit(
        self, round_id: int, pcn: str, *, pdf: bytes | None = b"", hours_ago: float = 1, reopened: bool = False
    ) -> int:
        """A submission of this PCN's return (by ODS code); pdf=b"" makes a fake PDF, None leaves it unmade."""
        with self.app.app_context():
            questionnaire = registry().get(CORE)
            organisation = get_organisation_by_code(pcn)
            director = get_user_by_email("cd@example.org")
            when = utcnow() - timedelta(hours=hours_ago)
            assessment = Assessment(
                pcn_id=organisation.id,
                questionnaire_key=questionnaire.id,
                questionnaire_version=questionnaire.version,
                questionnaire_hash=questionnaire.content_hash,
                status="completed",
                started_by_id=director.id,
                completed_at=when,
            )
            db.session.add(assessment)
            db.session.flush()
            submission = Submission(
                round_id=round_id,
                pcn_id=organisation.id,
                assessment_id=assessment.id,
                submitted_by_id=director.id,
                submitted_at=when,
                declaration="We confirm this return reflects the PCN's agreed view.",
                questionnaire_hash=questionnaire.content_hash,
                overall_now=1.5,
                overall_target=2.5,
                pdf=fake_pdf(f"{pcn} {hours_ago}") if pdf == b"" else pdf,
                pdf_rendered_at=when if pdf is not None else None,
                reopened_at=when + timedelta(minutes=30) if reopened else None,
            )
            db.session.add(submission)
            db.session.commit()
            self.assessment_ids.append(assessment.id)
            return submission.id

    def job(self, **fields) -> int:
        """A job row as a worker might have left it (no queue involved)."""
        with self.app.app_context():
            job = BackgroundJob(**{"kind": "pdf_pack", **fields})
            db.session.add(job)
            db.session.commit()
            self.job_ids.append(job.id)
            return job.id

    def cleanup(self) -> None:
        with self.app.app_context():
            db.session.rollback()
            submissions = select(Submission.id).where(Submission.round_id.in_(self.round_ids))
            db.session.execute(
                delete(BackgroundJob).where(
                    BackgroundJob.round_id.in_(self.round_ids)
                    | BackgroundJob.submission_id.in_(submissions)
                    | BackgroundJob.id.in_(self.job_ids)
                )
            )
            # The application never deletes audit events; these were made by the test, about its own rounds.
            db.session.execute(delete(AuditEvent).where(AuditEvent.round_id.in_(self.round_ids)))
            db.session.execute(delete(Submission).where(Submission.round_id.in_(self.round_ids)))
            db.session.execute(delete(Assessment).where(Assessment.id.in_(self.assessment_ids)))
            db.session.execute(delete(ReturnRound).where(ReturnRound.id.in_(self.round_ids)))
            db.session.commit()


def load_job(app, job_id: int) -> BackgroundJob:
    """The job as it is in the database now (a worker in another process may have changed it)."""
    with app.app_context():
        return db.session.scalar(
            select(BackgroundJob).where(BackgroundJob.id == job_id).execution_options(populate_existing=True)
        )


def load_result(app, job_id: int) -> bytes | None:
    with app.app_context():
        return db.session.scalar(select(BackgroundJob.result).where(BackgroundJob.id == job_id))


# A real worker -----------------------------------------------------------------------------------------------------


def redis_listening(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class QueueSetup:
    """Queue settings shared by a second app on the test database (which enqueues) and the worker subprocesses."""

    def __init__(self, app, tmp_path: Path, redis_url: str = ""):
        self.test_app = app
        self.tmp_path = tmp_path
        self.settings = {
            "JOBS_REDIS_URL": redis_url,
            "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite"),
            "JOBS_QUEUE_NAME": f"test{os.getpid()}{secrets.token_hex(4)}",
        }
        self.app = create_app(
            {
                "TESTING": True,
                "APP_ENV": "testing",
                "DATABASE_URL": app.config["DATABASE_URL"],
                "SECRET_KEY": app.config["SECRET_KEY"],
                "SERVER_NAME": "localhost",
                "RATELIMIT_STORAGE_URI": "memory://",
                "JOBS_IMMEDIATE": False,
                **self.settings,
            }
        )
        self.workers: list[tuple[subprocess.Popen, Path]] = []

    @property
    def huey(self):
        return self.app.extensions["jobs"].huey

    def start_worker(self, threads: int = 2) -> subprocess.Popen:
        log = self.tmp_path / f"worker-{len(self.workers) + 1}.log"
        env = {
            **os.environ,
            "APP_ENV": "testing",
            "SECRET_KEY": self.test_app.config["SECRET_KEY"],
            "DATABASE_URL": self.test_app.config["DATABASE_URL"],
            **self.settings,
        }
        consumer = Path(sys.executable).parent / "huey_consumer"
        # -d/-m: poll an empty SQLite queue every 0.1 s at first and never less often than every 0.5 s.
        command = [str(consumer), "app.worker.huey", "-w", str(threads), "-k", "thread", "-d", "0.1", "-m", "0.5"]
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.workers.append((process, log))
        return process

    def worker_log(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')}" for _, log in self.workers if log.exists()
        )

    def wait_for(self, job_id: int, statuses=("done", "failed"), timeout: float = 30) -> BackgroundJob:
        deadline = time.monotonic() + timeout
        while True:
            job = load_job(self.test_app, job_id)
            if job.status in statuses:
                return job
            if any(process.poll() is not None for process, _ in self.workers):
                pytest.fail(f"a worker stopped while job {job_id} was {job.status}:\n{self.worker_log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"job {job_id} still {job.status} after {timeout} s:\n{self.worker_log()}")
            time.sleep(0.2)

    def close(self) -> None:
        for process, _ in self.workers:
            stop(process)
        try:
            self.huey.storage.flush_all()
        finally:
            with self.app.app_context():
                db.engine.dispose()
