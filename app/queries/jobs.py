"""Background jobs: finding one, what it is about, and the ones a lost worker left behind."""

from datetime import datetime

from sqlalchemy import and_, func, or_, select

from ..extensions import db
from ..models import BackgroundJob, JobStatus, ReturnRound, Submission


def get_job(job_id: int) -> BackgroundJob | None:
    return db.session.get(BackgroundJob, job_id)


def job_subject(job: BackgroundJob) -> tuple[ReturnRound | None, int | None]:
    """The round a job is about (directly, or through its submission) and the PCN whose submission it is."""
    if job.submission_id is not None:
        row = db.session.execute(
            select(ReturnRound, Submission.pcn_id)
            .join(Submission, Submission.round_id == ReturnRound.id)
            .where(Submission.id == job.submission_id)
        ).first()
        if row is not None:
            return row[0], row[1]
    if job.round_id is not None:
        return db.session.get(ReturnRound, job.round_id), None
    return None, None


def result_size(job_id: int) -> int:
    """How many bytes the job's result file holds, without loading it."""
    return db.session.scalar(select(func.length(BackgroundJob.result)).where(BackgroundJob.id == job_id)) or 0


def stale_condition(cutoff: datetime):
    """Queued but not started (or sent again) since `cutoff`, or running with no heartbeat since then."""
    queued_since = func.coalesce(BackgroundJob.heartbeat_at, BackgroundJob.created_at)
    running_since = func.coalesce(BackgroundJob.heartbeat_at, BackgroundJob.started_at, BackgroundJob.created_at)
    return or_(
        and_(BackgroundJob.status == JobStatus.QUEUED, queued_since < cutoff),
        and_(BackgroundJob.status == JobStatus.RUNNING, running_since < cutoff),
    )


def stale_jobs(cutoff: datetime) -> list[tuple[int, str, int]]:
    """(id, status, attempts) of the jobs a lost queue message or a lost worker left behind."""
    rows = db.session.execute(
        select(BackgroundJob.id, BackgroundJob.status, BackgroundJob.attempts)
        .where(stale_condition(cutoff))
        .order_by(BackgroundJob.id)
    )
    return [(row.id, row.status, row.attempts) for row in rows]
