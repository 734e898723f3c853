"""Background jobs as people see them: what was asked for, how far it has got, and the result."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from .base import Base, utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BackgroundJob(Base):
    """One piece of long work (a PDF pack, a batch of reminders, a submission's PDF) run by the job queue.

    The row is the truth: the queue only carries its id, so a job whose worker died can be run again from here.
    """

    __tablename__ = "background_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.QUEUED)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("return_round.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # What the job needs beyond the ids above, as JSON (for reminders: the PCNs and the text).
    params: Mapped[str] = mapped_column(Text, default="{}")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    result_name: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    # Touched as the job makes progress; a running job whose heartbeat stops was lost with its worker.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
