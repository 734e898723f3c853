"""The job queue: running a job, its failures, jobs lost with a worker, the PDF pack, and real workers."""

import io
import logging
import re
import zipfile
from datetime import timedelta

import pytest
from huey import RedisHuey, SqliteHuey
from sqlalchemy import event, select, update

from app import create_app
from app.config import build_config
from app.extensions import db
from app.jobs import (
    HANDLERS,
    LOST_ERROR,
    MAX_ATTEMPTS,
    JobError,
    JobKind,
    JobResult,
    enqueue,
    make_huey,
    queue,
    requeue_stale,
    retry,
    start_pdf_pack,
)
from app.models import AuditEvent, BackgroundJob, ReturnRound, Submission
from app.models.base import utcnow
from app.queries.packs import PackEntry
from app.queries.users import get_user_by_email
from app.services.packs import entry_names, safe_file_name
from tests.jobs_support import QueueSetup, Returns, fake_pdf, load_job, load_result, redis_listening

ALL_SIX = ["U00001", "U00002", "U00003", "U00004", "U00005", "U00006"]


def _pack(app, round_id: int, email: str = "icb@example.org") -> int:
    with app.app_context():
        return start_pdf_pack(db.session.get(ReturnRound, round_id), get_user_by_email(email)).id


def _zip(app, job_id: int) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(load_result(app, job_id))) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def returns(app):
    maker = Returns(app)
    yield maker
    maker.cleanup()


@pytest.fixture
def kind(monkeypatch):
    """Register a handler for one test only: kind(name, function, unit=...)."""

    def register(name, run, *, label="Test job", unit="steps"):
        monkeypatch.setitem(HANDLERS, name, JobKind(name, run, label, unit))
        return name

    return register


# The PDF pack -----------------------------------------------------------------------------------------------------


def test_the_pack_holds_each_pcns_latest_standing_return_and_nothing_else(app, returns):
    round_id = returns.round()
    other_round = returns.round("Another round")
    # Riverside submitted, was reopened, and submitted again: only the second is theirs now.
    returns.submit(round_id, "U00001", hours_ago=30, reopened=True)
    riverside = returns.submit(round_id, "U00001", hours_ago=5)
    # Northfields submitted once.
    northfields = returns.submit(round_id, "U00002", hours_ago=20)
    # Harbour and Coast's only return was reopened and not yet sent again: nothing of theirs stands.
    returns.submit(round_id, "U00003", hours_ago=10, reopened=True)
    # Market Towns has two standing submissions on record: the later one counts.
    returns.submit(round_id, "U00004", hours_ago=48)
    market_towns = returns.submit(round_id, "U00004", hours_ago=2)
    # Another round's return is not this round's.
    returns.submit(other_round, "U00005", hours_ago=1)

    job_id = _pack(app, round_id)

    job = load_job(app, job_id)
    assert job.status == "done", job.error
    assert job.result_name == "Spring 2027 readiness returns returns.zip"
    assert (job.done, job.total) == (3, 3)
    assert job.attempts == 1
    files = _zip(app, job_id)
    with app.app_context():
        expected = {
            "U00001 Riverside PCN.pdf": db.session.get(Submission, riverside).pdf,
            "U00002 Northfields PCN.pdf": db.session.get(Submission, northfields).pdf,
            "U00004 Market Towns PCN.pdf": db.session.get(Submission, market_towns).pdf,
        }
    assert files == expected


def test_the_pack_reads_the_submissions_in_two_queries_however_many_pcns(app, returns):
    round_id = returns.round()
    for hours, code in enumerate(ALL_SIX, start=1):
        returns.submit(round_id, code, hours_ago=hours)
    statements = []

    def count(conn, cursor, statement, *args):
        if re.search(r"\b(FROM|JOIN) submission\b", statement):
            statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            job_id = start_pdf_pack(db.session.get(ReturnRound, round_id), get_user_by_email("icb@example.org")).id
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert load_job(app, job_id).status == "done"
    assert len(_zip(app, job_id)) == 6
    assert len(statements) == 2, statements


def test_a_pack_with_a_pdf_not_yet_made_fails_naming_the_pcn_and_works_once_it_is_made(app, returns):
    round_id = returns.round()
    returns.submit(round_id, "U00001")
    waiting = returns.submit(round_id, "U00002", pdf=None)

    job_id = _pack(app, round_id)
    job = load_job(app, job_id)
    assert job.status == "failed"
    assert "Northfields PCN" in job.error and "Riverside" not in job.error
    assert "has not been made yet" in job.error
    assert load_result(app, job_id) is None

    with app.app_context():
        db.session.execute(update(Submission).where(Submission.id == waiting).values(pdf=fake_pdf("late")))
        db.session.commit()
        retry(db.session.get(BackgroundJob, job_id))
    job = load_job(app, job_id)
    assert job.status == "done" and job.error == ""
    assert job.attempts == 2
    assert set(_zip(app, job_id)) == {"U00001 Riverside PCN.pdf", "U00002 Northfields PCN.pdf"}


def test_a_round_with_no_returns_yet_fails_with_a_reason(app, returns):
    job = load_job(app, _pack(app, returns.round()))
    assert job.status == "failed"
    assert "nothing to put in a pack" in job.error


def test_asking_for_a_pack_is_in_the_audit_log(app, returns):
    round_id = returns.round()
    returns.submit(round_id, "U00001")
    _pack(app, round_id)
    with app.app_context():
        entry = db.session.scalar(select(AuditEvent).where(AuditEvent.round_id == round_id))
        assert entry.action == "pdf_pack_requested"
        assert entry.user_email == "icb@example.org"
        assert entry.area_id == db.session.get(ReturnRound, round_id).icb_id


def test_file_names_in_the_pack_are_safe_and_unique():
    assert safe_file_name('A: "B"? <C>|D*') == "A B C D"
    assert safe_file_name("2026/27 returns") == "2026-27 returns"
    assert "/" not in safe_file_name("../../etc/passwd") and "\\" not in safe_file_name("..\\..\\win.ini")
    assert not safe_file_name("../../etc/passwd").startswith(".")
    assert safe_file_name("  ..  ") == "file"
    assert safe_file_name("Ysbyty Gwynedd – Môn PCN") == "Ysbyty Gwynedd – Môn PCN"
    assert len(safe_file_name("x" * 500)) <= 120
    entries = [
        PackEntry(1, "Riverside PCN", "U00001", utcnow(), True),
        PackEntry(2, "Riverside PCN", "U00001", utcnow(), True),
        PackEntry(3, "No code PCN", None, utcnow(), True),
    ]
    assert entry_names(entries) == {
        1: "U00001 Riverside PCN.pdf",
        2: "U00001 Riverside PCN (2).pdf",
        3: "No code PCN.pdf",
    }


# Running a job ----------------------------------------------------------------------------------------------------


def test_a_job_reports_progress_and_keeps_its_result(app, returns, kind):
    seen = []

    def count_to_three(job, progress):
        for done in range(4):
            progress(done, 3)
            seen.append(db.session.scalar(select(BackgroundJob.heartbeat_at).where(BackgroundJob.id == job.id)))
        return JobResult("numbers.txt", b"1 2 3")

    name = kind("count_to_three", count_to_three)
    round_id = returns.round()
    with app.app_context():
        job = enqueue(name, round_id=round_id, params={"upto": 3}, user=get_user_by_email("icb@example.org"))
        assert job.params == '{"upto": 3}'
    job = load_job(app, job.id)
    assert job.status == "done"
    assert (job.done, job.total) == (3, 3)
    assert job.result_name == "numbers.txt" and load_result(app, job.id) == b"1 2 3"
    assert job.started_at and job.finished_at and job.heartbeat_at
    assert seen[0] is not None


def test_a_handlers_own_message_is_kept_but_an_unexpected_error_is_not_shown(app, returns, kind, caplog):
    def refuses(job, progress):
        raise JobError("Nothing to remind: every PCN has sent its return.")

    def breaks(job, progress):
        raise RuntimeError("connection to 10.0.0.7 refused; password=hunter2")

    round_id = returns.round()
    with app.app_context():
        refused = enqueue(kind("refuses", refuses), round_id=round_id).id
        with caplog.at_level(logging.ERROR, logger="app.jobs"):
            broken = enqueue(kind("breaks", breaks), round_id=round_id).id
    assert load_job(app, refused).error == "Nothing to remind: every PCN has sent its return."
    error = load_job(app, broken).error
    assert load_job(app, broken).status == "failed"
    assert "10.0.0.7" not in error and "hunter2" not in error and "RuntimeError" not in error
    assert f"job number {broken}" in error
    # The traceback is in the log for whoever looks after the service.
    assert any(record.exc_info and "hunter2" in str(record.exc_info[1]) for record in caplog.records)


def test_a_job_that_cannot_be_handed_to_the_queue_stays_queued_and_the_sweep_sends_it(app, returns, monkeypatch):
    round_id = returns.round()
    returns.submit(round_id, "U00001")

    def unreachable(task):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with app.app_context():
        monkeypatch.setattr(queue().huey, "enqueue", unreachable)
        job_id = start_pdf_pack(db.session.get(ReturnRound, round_id), get_user_by_email("icb@example.org")).id
        monkeypatch.undo()
    assert load_job(app, job_id).status == "queued"
    with app.app_context():
        db.session.execute(
            update(BackgroundJob).where(BackgroundJob.id == job_id).values(created_at=utcnow() - timedelta(minutes=6))
        )
        db.session.commit()
        assert requeue_stale() == [job_id]
    assert load_job(app, job_id).status == "done"


def test_an_unknown_kind_is_refused_when_asked_for(app_ctx):
    with pytest.raises(ValueError, match="no handler"):
        enqueue("make_tea")


def test_a_run_given_up_for_lost_writes_nothing_when_it_wakes(app, returns, kind):
    """A slow worker's job is given to another; when the first reports progress it stops, and its result is dropped."""

    def taken_over_midway(job, progress):
        progress(1, 2)
        # Meanwhile the sweep decided this run was lost and another worker started the job again.
        db.session.execute(
            update(BackgroundJob).where(BackgroundJob.id == job.id).values(attempts=BackgroundJob.attempts + 1)
        )
        db.session.commit()
        progress(2, 2)
        return JobResult("stale.txt", b"from the lost run")

    round_id = returns.round()
    with app.app_context():
        job_id = enqueue(kind("taken_over", taken_over_midway), round_id=round_id).id
    job = load_job(app, job_id)
    assert job.status == "running" and job.attempts == 2
    assert (job.done, job.total) == (1, 2)
    assert job.result_name is None


def test_a_job_that_is_not_failed_is_not_run_again_by_retry(app, returns):
    round_id = returns.round()
    returns.submit(round_id, "U00001")
    job_id = _pack(app, round_id)
    with app.app_context():
        retry(db.session.get(BackgroundJob, job_id))
    assert load_job(app, job_id).attempts == 1


# Jobs lost with their worker --------------------------------------------------------------------------------------


def test_the_sweep_runs_again_jobs_left_by_a_lost_worker_and_leaves_live_ones_alone(app, returns):
    round_id = returns.round()
    returns.submit(round_id, "U00001")
    long_ago = utcnow() - timedelta(minutes=10)
    just_now = utcnow() - timedelta(seconds=20)
    message_lost = returns.job(round_id=round_id, status="queued", created_at=long_ago)
    worker_died = returns.job(round_id=round_id, status="running", attempts=1, started_at=long_ago,
                              heartbeat_at=long_ago)  # fmt: skip
    still_busy = returns.job(round_id=round_id, status="running", attempts=1, started_at=long_ago,
                             heartbeat_at=just_now)  # fmt: skip
    just_queued = returns.job(round_id=round_id, status="queued", created_at=just_now)
    lost_too_often = returns.job(round_id=round_id, status="running", attempts=MAX_ATTEMPTS, started_at=long_ago,
                                 heartbeat_at=long_ago)  # fmt: skip

    with app.app_context():
        assert requeue_stale() == [message_lost, worker_died]

    # In the tests a job sent to the queue runs at once: both lost jobs are now done, as a worker would make them.
    assert load_job(app, message_lost).status == "done" and load_job(app, message_lost).attempts == 1
    assert load_job(app, worker_died).status == "done" and load_job(app, worker_died).attempts == 2
    assert len(_zip(app, worker_died)) == 1
    assert load_job(app, still_busy).status == "running"
    assert load_job(app, just_queued).status == "queued"
    failed = load_job(app, lost_too_often)
    assert failed.status == "failed"
    assert failed.error == LOST_ERROR.format(attempts=MAX_ATTEMPTS, id=lost_too_often)


def test_a_job_sent_twice_runs_once(app, returns):
    round_id = returns.round()
    returns.submit(round_id, "U00001")
    job_id = _pack(app, round_id)
    with app.app_context():
        queue().send(job_id)  # a second message for a job already done: the worker finds nothing to do
    assert load_job(app, job_id).attempts == 1


# Configuration ----------------------------------------------------------------------------------------------------


def test_the_queue_is_redis_when_a_url_is_set_and_a_sqlite_file_otherwise(tmp_path):
    path = tmp_path / "q" / "jobs.sqlite"
    base = {"JOBS_IMMEDIATE": False, "JOBS_QUEUE_NAME": "readiness", "JOBS_SQLITE_PATH": str(path)}
    on_redis = make_huey({**base, "JOBS_REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert isinstance(on_redis, RedisHuey) and not on_redis.immediate
    on_file = make_huey({**base, "JOBS_REDIS_URL": ""})
    assert isinstance(on_file, SqliteHuey) and on_file.storage.filename == str(path)
    assert path.exists()
    assert make_huey({**base, "JOBS_REDIS_URL": "", "JOBS_IMMEDIATE": True}).immediate


def test_an_app_opens_its_queue_only_when_it_first_uses_it(app, tmp_path):
    path = tmp_path / "jobs.sqlite"
    config = {key: app.config[key] for key in ("TESTING", "DATABASE_URL", "SECRET_KEY", "SERVER_NAME")}
    quiet = create_app(
        {**config, "APP_ENV": "testing", "JOBS_IMMEDIATE": False, "JOBS_REDIS_URL": "", "JOBS_SQLITE_PATH": str(path)}
    )
    try:
        assert not path.exists()  # a CLI command or a page that queues nothing leaves no file behind
        assert isinstance(quiet.extensions["jobs"].huey, SqliteHuey)
        assert path.exists()
    finally:
        with quiet.app_context():
            db.engine.dispose()


def test_the_test_app_runs_jobs_at_once_and_the_default_queue_needs_no_server(app, tmp_path, monkeypatch):
    assert app.extensions["jobs"].huey.immediate
    for name in ("JOBS_REDIS_URL", "REDIS_URL", "JOBS_SQLITE_PATH", "JOBS_STALE_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    config = build_config(tmp_path, {"APP_ENV": "development"})
    assert config["JOBS_REDIS_URL"] == ""
    assert config["JOBS_SQLITE_PATH"] == str(tmp_path / "jobs.sqlite")
    assert config["JOBS_STALE_MINUTES"] == 5 and config["JOBS_IMMEDIATE"] is False
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/0")
    assert build_config(tmp_path, {"APP_ENV": "development"})["JOBS_REDIS_URL"] == "redis://cache.internal:6379/0"


# Real workers -----------------------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_queue(app, tmp_path):
    setup = QueueSetup(app, tmp_path)
    yield setup
    setup.close()


@pytest.fixture
def redis_queue(app, tmp_path):
    if not redis_listening():
        pytest.skip("nothing listens on 127.0.0.1:6379")
    setup = QueueSetup(app, tmp_path, redis_url="redis://127.0.0.1:6379/13")
    yield setup
    setup.close()


def _pack_through(setup: QueueSetup, round_id: int) -> int:
    with setup.app.app_context():
        return start_pdf_pack(db.session.get(ReturnRound, round_id), get_user_by_email("icb@example.org")).id


@pytest.mark.parametrize("backend", ["sqlite_queue", "redis_queue"])
def test_a_real_worker_takes_the_job_from_the_queue_and_finishes_it(app, returns, backend, request):
    setup = request.getfixturevalue(backend)
    assert isinstance(setup.huey, RedisHuey if backend == "redis_queue" else SqliteHuey)
    round_id = returns.round()
    for code in ALL_SIX[:3]:
        returns.submit(round_id, code)

    job_id = _pack_through(setup, round_id)
    assert load_job(app, job_id).status == "queued"  # nothing runs it in this process
    assert setup.huey.storage.queue_size() == 1

    setup.start_worker()
    job = setup.wait_for(job_id)

    assert job.status == "done", f"{job.error}\n{setup.worker_log()}"
    assert job.attempts == 1 and (job.done, job.total) == (3, 3)
    assert set(_zip(app, job_id)) == {
        "U00001 Riverside PCN.pdf",
        "U00002 Northfields PCN.pdf",
        "U00003 Harbour and Coast PCN.pdf",
    }


def test_a_job_left_running_by_a_killed_worker_is_finished_by_the_next_one(app, returns, sqlite_queue):
    round_id = returns.round()
    returns.submit(round_id, "U00001")
    returns.submit(round_id, "U00002")
    job_id = _pack_through(sqlite_queue, round_id)

    # A worker took the message and started, then was killed: the message is gone and the row says running, with a
    # heartbeat that stopped ten minutes ago.
    assert sqlite_queue.huey.storage.dequeue() is not None
    with app.app_context():
        stopped = utcnow() - timedelta(minutes=10)
        db.session.execute(
            update(BackgroundJob)
            .where(BackgroundJob.id == job_id)
            .values(status="running", attempts=1, started_at=stopped, heartbeat_at=stopped, done=1, total=2)
        )
        db.session.commit()
    assert sqlite_queue.huey.storage.queue_size() == 0

    sqlite_queue.start_worker()  # sweeps for lost jobs as it starts
    job = sqlite_queue.wait_for(job_id)

    assert job.status == "done", f"{job.error}\n{sqlite_queue.worker_log()}"
    assert job.attempts == 2 and (job.done, job.total) == (2, 2)
    assert set(_zip(app, job_id)) == {"U00001 Riverside PCN.pdf", "U00002 Northfields PCN.pdf"}
    assert "was running with no sign of life" in sqlite_queue.worker_log()
