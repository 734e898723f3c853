from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .organisation import Organisation
from .user import User


class AssessmentStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class DomainStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class QuestionnaireContent(Base):
    """The exact questionnaire file an assessment was taken against, kept so later edits never change it."""

    __tablename__ = "questionnaire_content"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    questionnaire_key: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuestionnaireOffer(Base):
    """An administrator's choice of whether a core questionnaire is offered to PCNs for self-assessment."""

    __tablename__ = "questionnaire_offer"

    questionnaire_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    offered: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Assessment(Base):
    __tablename__ = "assessment"
    # One assessment in progress per PCN, even when colleagues press "Start" at the same moment.
    __table_args__ = (
        Index(
            "uq_assessment_one_in_progress",
            "pcn_id",
            unique=True,
            sqlite_where=text("status = 'in_progress'"),
            postgresql_where=text("status = 'in_progress'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pcn_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    questionnaire_key: Mapped[str] = mapped_column(String(100))
    questionnaire_version: Mapped[str] = mapped_column(String(40))
    questionnaire_hash: Mapped[str] = mapped_column(ForeignKey("questionnaire_content.content_hash"))
    status: Mapped[str] = mapped_column(String(20), default=AssessmentStatus.IN_PROGRESS)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None]
    answers_updated_at: Mapped[datetime | None]
    plan_generated_at: Mapped[datetime | None]
    # Ceiling on actions a month when the plan was scheduled by count (first edition); kept for old plans.
    max_actions_per_month: Mapped[int | None]
    # Days of PCN work a month the plan may fill; None means the questionnaire's default.
    plan_capacity: Mapped[int | None]
    # A return for an ICB's round: the round's local supplement (if any) is a second section of the assessment.
    round_id: Mapped[int | None] = mapped_column(ForeignKey("return_round.id"), index=True)
    supplement_key: Mapped[str | None] = mapped_column(String(100))
    supplement_hash: Mapped[str | None] = mapped_column(ForeignKey("questionnaire_content.content_hash"))
    # Set while a submission of this assessment stands: its answers are then the ICB's record and stay as they
    # are until the ICB reopens the return. The plan stays the PCN's to work on.
    submitted_at: Mapped[datetime | None]
    # A reassessment: the assessment this one was prefilled from.
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"))

    pcn: Mapped[Organisation] = relationship(lazy="joined")
    started_by: Mapped[User] = relationship()
    answers: Mapped[list["Answer"]] = relationship(back_populates="assessment", cascade="all, delete-orphan")
    domains: Mapped[list["DomainProgress"]] = relationship(back_populates="assessment", cascade="all, delete-orphan")
    actions: Mapped[list["PlanAction"]] = relationship(  # noqa: F821
        back_populates="assessment", cascade="all, delete-orphan", order_by="PlanAction.position"
    )

    @property
    def is_completed(self) -> bool:
        return self.status == AssessmentStatus.COMPLETED


class Answer(Base):
    """One question's answer. A level of None with the `_unsure` flag set means "Not sure"."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("assessment_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    domain_id: Mapped[str] = mapped_column(String(100))
    question_id: Mapped[str] = mapped_column(String(100))
    current: Mapped[int | None] = mapped_column(SmallInteger)
    current_unsure: Mapped[bool] = mapped_column(default=False)
    target: Mapped[int | None] = mapped_column(SmallInteger)
    target_unsure: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    # "Not applicable or not in place locally yet": no levels, and left out of the score.
    not_applicable: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Prefilled from the previous assessment and not yet confirmed or changed by the PCN.
    carried_over: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    assessment: Mapped[Assessment] = relationship(back_populates="answers")

    @property
    def current_answered(self) -> bool:
        return self.current is not None or self.current_unsure or self.not_applicable

    @property
    def target_answered(self) -> bool:
        return self.target is not None or self.target_unsure


class DomainProgress(Base):
    """Status of one domain page, with a revision number that detects two people saving stale copies."""

    __tablename__ = "domain_progress"
    __table_args__ = (UniqueConstraint("assessment_id", "domain_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    domain_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default=DomainStatus.NOT_STARTED)
    revision: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    assessment: Mapped[Assessment] = relationship(back_populates="domains")
    updated_by: Mapped[User | None] = relationship()


class PendingInput(Base):
    """Form input posted after a session ended, held until its author signs in again and sees it restored.

    Bound to the browser that posted it (its token lives only in that browser's cookie) and, when known, to the
    user whose session ended: only they get it back. With no known user (cookies cleared), it goes back only to
    someone who signs in on that browser and may edit the page.
    """

    __tablename__ = "pending_input"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(500))
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The client address it came from, so that what one address may keep for unknown users is capped.
    address: Mapped[str] = mapped_column(String(45), default="", server_default="")
