"""The job queue: long work (PDF packs, reminder batches, a submission's PDF) run by Huey workers.

The BackgroundJob row is the truth and the queue carries only its id, so nothing is lost with a queue message or a
worker: a sweep every minute (and when a worker starts) sends again any job queued but not started for
JOBS_STALE_MINUTES, and any running job whose heartbeat has been silent that long. A job can therefore run more than
once, so every handler must be safe to run twice; a run that was given up for lost and then wakes up finds the job
taken over at its next progress report and stops without writing anything.

A handler is a function of the job and a progress callback, registered by kind:

    @handler("pdf_pack", label="PDF pack", unit="returns")
    def build_pack(job, progress):
        progress(0, len(items))
        ...                                   # each step complete before it is reported
        progress(done, len(items))            # saves the session, with the progress and the heartbeat
        return JobResult("Spring returns.zip", content)   # or None: no file to download

and started with `enqueue("pdf_pack", round_id=..., user=current_user)`. A handler raises JobError with a message
for the person who asked; anything else it raises is logged with its traceback and the page says only that
something went wrong.

Storage: RedisHuey when JOBS_REDIS_URL is set, else SqliteHuey at JOBS_SQLITE_PATH; in testing each job runs at once,
inside enqueue (Huey's immediate mode). Workers: `huey_consumer app.worker.huey -w 4 -k thread`.
"""

import importlib
import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import select, update

from ..extensions import db
from ..models import BackgroundJob, JobStatus, User
from ..models.base import utcnow
from ..queries.jobs import stale_condition, stale_jobs

logger = logging.getLogger("app.jobs")

# Modules whose handlers register themselves when imported; add yours here.
HANDLER_MODULES = ("app.services.packs", "app.services.return_jobs")
# A job that has been lost with its worker this many times is failed rather than run again.
MAX_ATTEMPTS = 3
# Progress is written at most this often (seconds), and always at the last step.
PROGRESS_INTERVAL = 1.0

UNEXPECTED_ERROR = (
    "Something went wrong and this did not finish. Try again. If it goes wrong again, tell the service's "
    "administrator, quoting job number {id}."
)
LOST_ERROR = (
    "This stopped without finishing {attempts} times. Try again. If it stops again, tell the service's "
    "administrator, quoting job number {id}."
)
UNKNOWN_KIND_ERROR = "This version of the service cannot do this kind of job. Tell the service's administrator."


class JobError(Exception):
    """A handler's reason for failing, in plain English for the person who asked: shown on the job's page."""


class JobSuperseded(Exception):
    """This run was given up for lost and the job handed to another: stop, and write nothing."""


@dataclass(frozen=True)
class JobResult:
    """A finished job's file: its name as downloaded (the extension gives its type) and its bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class JobKind:
    kind: str
    run: Callable[[BackgroundJob, Callable[[int, int], None]], JobResult | None]
    label: str  # what the job makes, for its page: "PDF pack"
    unit: str  # what its progress counts, in the plural: "returns"


HANDLERS: dict[str, JobKind] = {}


def handler(kind: str, *, label: str | None = None, unit: str = "steps") -> Callable:
    """Register the function that does jobs of this kind."""
    if len(kind) > 30:
        raise ValueError(f"job kind {kind!r} is longer than 30 characters")

    def decorator(run: Callable) -> Callable:
        existing = HANDLERS.get(kind)
        if existing and (existing.run.__module__, existing.run.__qualname__) != (run.__module__, run.__qualname__):
            raise ValueError(f"two handlers for job kind {kind!r}: {existing.run.__qualname__} and {run.__qualname__}")
        HANDLERS[kind] = JobKind(kind, run, label or kind.replace("_", " ").capitalize(), unit)
        return run

    return decorator


def kind_of(job: BackgroundJob) -> JobKind | None:
    return HANDLERS.get(job.kind)


def params_of(job: BackgroundJob) -> dict:
    return json.loads(job.params or "{}")


# The queue -------------------------------------------------------------------------------------------------------


def make_huey(config: dict) -> Huey:
    immediate = bool(config["JOBS_IMMEDIATE"])
    name = config["JOBS_QUEUE_NAME"]
    if config["JOBS_REDIS_URL"]:
        return RedisHuey(name, url=config["JOBS_REDIS_URL"], immediate=immediate, results=False)
    path = Path(config["JOBS_SQLITE_PATH"])
    if not immediate:
        path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(path), immediate=immediate, results=False)


class JobQueue:
    """One app's Huey instance and its tasks. Each task runs in an app context of that app.

    Huey is set up on first use (a job sent, or the worker starting), so an app that never queues anything (a CLI
    command, most tests) opens no queue file and no Redis connection.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stale_after = timedelta(minutes=app.config["JOBS_STALE_MINUTES"])
        self._huey: Huey | None = None
        self._lock = threading.Lock()

    @property
    def huey(self) -> Huey:
        with self._lock:
            if self._huey is None:
                self._huey = self._set_up()
            return self._huey

    def _set_up(self) -> Huey:
        app = self.app
        huey = make_huey(app.config)

        @huey.task(name="run_job")
        def run_job_task(job_id: int) -> None:
            with _context_of(app):
                run_job(job_id)

        @huey.periodic_task(crontab(minute="*"), name="requeue_stale_jobs")
        def requeue_stale_task() -> None:
            with _context_of(app):
                requeue_stale()

        @huey.on_startup("requeue_stale_jobs")
        def requeue_stale_on_startup() -> None:
            with _context_of(app):
                requeue_stale()

        self._run_job_task = run_job_task
        return huey

    def send(self, job_id: int) -> None:
        """Hand a job's id to the workers. If the queue cannot be reached, the job stays queued for the sweep."""
        try:
            self.huey.enqueue(self._run_job_task.s(job_id))
        except Exception:
            logger.exception("Could not hand job %s to the queue; it stays queued and will be sent again", job_id)


def _context_of(app: Flask):
    """The app's context: the current one when the job runs at once inside it (testing), else a new one."""
    if has_app_context() and current_app._get_current_object() is app:
        return nullcontext()
    return app.app_context()


def queue() -> JobQueue:
    return current_app.extensions["jobs"]


def init_app(app: Flask) -> None:
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    app.extensions["jobs"] = JobQueue(app)

    from .views import bp

    app.register_blueprint(bp)


# Starting, running and finishing a job ---------------------------------------------------------------------------


def enqueue(
    kind: str,
    *,
    round_id: int | None = None,
    submission_id: int | None = None,
    params: dict | None = None,
    user: User | None = None,
) -> BackgroundJob:
    """Save a queued job (with anything else pending in the session), then hand its id to the workers."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler for job kind {kind!r}")
    job = BackgroundJob(
        kind=kind,
        status=JobStatus.QUEUED,
        round_id=round_id,
        submission_id=submission_id,
        requested_by_id=user.id if user else None,
        params=json.dumps(params or {}, sort_keys=True),
    )
    db.session.add(job)
    db.session.commit()
    queue().send(job.id)
    db.session.refresh(job)
    return job


def start_pdf_pack(round_, user: User) -> BackgroundJob:
    """Ask for a round's PDF pack (app/services/packs.py): audited, and queued."""
    from ..services.packs import start_pdf_pack as start

    return start(round_, user)


def retry(job: BackgroundJob) -> BackgroundJob:
    """Queue a failed job again. Anything else is left as it is."""
    changed = db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job.id, BackgroundJob.status == JobStatus.FAILED)
        .values(
            status=JobStatus.QUEUED,
            error="",
            done=0,
            total=0,
            started_at=None,
            finished_at=None,
            heartbeat_at=utcnow(),
            result=None,
            result_name=None,
        )
    ).rowcount
    db.session.commit()
    if changed:
        logger.info("Job %s (%s) queued again by request", job.id, job.kind)
        queue().send(job.id)
    db.session.refresh(job)
    return job


class Progress:
    """The callback a handler reports progress through: progress(done, total).

    Each call saves the session, so a step reported is a step kept. The job's progress and heartbeat are written with
    it at most once every PROGRESS_INTERVAL seconds (and always at the last step); a run found superseded then stops.
    """

    def __init__(self, job_id: int, token: int) -> None:
        self.job_id = job_id
        self.token = token  # the attempt this run is: a later attempt of the same job supersedes it
        self._last_write: float | None = None

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self._last_write is not None and done < total and now - self._last_write < PROGRESS_INTERVAL:
            db.session.commit()
            return
        changed = db.session.execute(
            _this_run(self.job_id, self.token).values(done=done, total=total, heartbeat_at=utcnow())
        ).rowcount
        if not changed:
            db.session.rollback()
            raise JobSuperseded(f"job {self.job_id} was handed to another run")
        db.session.commit()
        self._last_write = now


def _this_run(job_id: int, token: int):
    return update(BackgroundJob).where(
        BackgroundJob.id == job_id, BackgroundJob.attempts == token, BackgroundJob.status == JobStatus.RUNNING
    )


def _claim(job_id: int) -> int | None:
    """Mark a queued job running, as one more attempt; the attempt's number, or None if it is not waiting to run."""
    now = utcnow()
    changed = db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, BackgroundJob.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            attempts=BackgroundJob.attempts + 1,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            done=0,
            total=0,
            error="",
        )
    ).rowcount
    if not changed:
        db.session.rollback()
        return None
    token = db.session.scalar(select(BackgroundJob.attempts).where(BackgroundJob.id == job_id))
    db.session.commit()
    return token


def _finish(job_id: int, token: int, status: JobStatus, *, error: str = "", result: JobResult | None = None) -> None:
    now = utcnow()
    values: dict = {"status": status, "error": error, "finished_at": now, "heartbeat_at": now}
    if result is not None:
        values.update(result_name=result.name[:200], result=result.content)
    if db.session.execute(_this_run(job_id, token).values(**values)).rowcount:
        db.session.commit()
    else:
        db.session.rollback()
        logger.warning("Job %s attempt %s finished after it was handed to another run; its outcome is dropped",
                       job_id, token)  # fmt: skip


def run_job(job_id: int) -> None:
    """What a worker does with a job id from the queue. Safe to call for a job that is not waiting: it does nothing."""
    token = _claim(job_id)
    if token is None:
        logger.info("Job %s is not waiting to run (done, running elsewhere or unknown here): nothing to do", job_id)
        return
    job = db.session.get(BackgroundJob, job_id, populate_existing=True)
    kind = kind_of(job)
    logger.info("Job %s (%s) attempt %s started", job_id, job.kind, token)
    if kind is None:
        logger.error("Job %s is of kind %r, which has no handler here", job_id, job.kind)
        _finish(job_id, token, JobStatus.FAILED, error=UNKNOWN_KIND_ERROR)
        return
    try:
        result = kind.run(job, Progress(job_id, token))
    except JobSuperseded:
        db.session.rollback()
        logger.warning("Job %s attempt %s stopped: the job was handed to another run", job_id, token)
    except JobError as exc:
        db.session.rollback()
        logger.info("Job %s (%s) failed: %s", job_id, job.kind, exc)
        _finish(job_id, token, JobStatus.FAILED, error=str(exc))
    except Exception:
        db.session.rollback()
        logger.exception("Job %s (%s) attempt %s failed with an unexpected error", job_id, job.kind, token)
        _finish(job_id, token, JobStatus.FAILED, error=UNEXPECTED_ERROR.format(id=job_id))
    else:
        _finish(job_id, token, JobStatus.DONE, result=result)
        logger.info("Job %s (%s) done", job_id, job.kind)


def requeue_stale() -> list[int]:
    """Send again the jobs a lost queue message or a lost worker left behind; the ids sent again.

    Each change is made only if the job is still as it was found, so several workers sweeping at once (as they do
    when they start together) send each job once. A job lost MAX_ATTEMPTS times is failed instead.
    """
    cutoff = utcnow() - queue().stale_after
    again = []
    for job_id, status, attempts in stale_jobs(cutoff):
        unchanged = (
            update(BackgroundJob)
            .where(BackgroundJob.id == job_id, BackgroundJob.status == status, BackgroundJob.attempts == attempts)
            .where(stale_condition(cutoff))
        )
        if status == JobStatus.RUNNING and attempts >= MAX_ATTEMPTS:
            lost = unchanged.values(
                status=JobStatus.FAILED, error=LOST_ERROR.format(attempts=attempts, id=job_id), finished_at=utcnow()
            )
            if db.session.execute(lost).rowcount:
                logger.error("Job %s was lost with its worker %s times: failed", job_id, attempts)
        elif db.session.execute(unchanged.values(status=JobStatus.QUEUED, heartbeat_at=utcnow())).rowcount:
            logger.warning("Job %s was %s with no sign of life since before %s: sent again", job_id, status, cutoff)
            again.append(job_id)
        db.session.commit()
    for job_id in again:
        queue().send(job_id)
    return again
