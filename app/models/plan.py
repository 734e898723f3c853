from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class ActionOrigin(StrEnum):
    SUGGESTED = "suggested"  # a step up the scale, from the questionnaire's suggested actions
    FIND_OUT = "find_out"  # a "Not sure" answer to resolve
    USER = "user"  # added by the PCN


class ActionStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


ACTION_STATUS_LABELS = {
    ActionStatus.NOT_STARTED: "Not started",
    ActionStatus.IN_PROGRESS: "In progress",
    ActionStatus.DONE: "Done",
    ActionStatus.DROPPED: "Dropped",
}


class PlanAction(Base):
    """One action in an assessment's six-month plan.

    Generated actions carry a stable `key` (question and step) so regenerating the plan can tell them apart
    from what the PCN added, and a removed generated action stays as a hidden row so it is not added back.
    `month` is 1-6, or None for an action that did not fit in six months at the chosen load.
    """

    __tablename__ = "plan_action"
    __table_args__ = (UniqueConstraint("assessment_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    key: Mapped[str | None] = mapped_column(String(120))
    origin: Mapped[str] = mapped_column(String(12))
    domain_id: Mapped[str | None] = mapped_column(String(100))
    question_id: Mapped[str | None] = mapped_column(String(100))
    step: Mapped[int | None] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(120), default="")
    # Who the PCN works with on it (the ICB, the LMC, the community provider…), and the effort: days, weeks or months.
    partner: Mapped[str] = mapped_column(String(120), default="", server_default="")
    effort: Mapped[str | None] = mapped_column(String(10))
    # Carried over from the previous assessment's plan, keeping its owner and notes.
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("plan_action.id", ondelete="SET NULL"))
    month: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(12), default=ActionStatus.NOT_STARTED)
    note: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[float] = mapped_column(Float, default=0)
    position: Mapped[int] = mapped_column(default=0)
    edited: Mapped[bool] = mapped_column(default=False)
    removed: Mapped[bool] = mapped_column(default=False)
    gap_closed: Mapped[bool] = mapped_column(default=False)
    revision: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    assessment = relationship("Assessment", back_populates="actions")

    @property
    def status_label(self) -> str:
        return ACTION_STATUS_LABELS[ActionStatus(self.status)]

    @property
    def is_open(self) -> bool:
        return self.status in (ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS)
