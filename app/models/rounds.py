"""Readiness return rounds: an ICB asks the PCNs in its area for their assessment by a date."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, LargeBinary, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from .base import Base, utcnow
from .organisation import Organisation
from .user import User


class ReturnRound(Base):
    """A round of readiness returns: the questionnaire (and any local supplement) pinned when it was set up."""

    __tablename__ = "return_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    icb_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    questionnaire_key: Mapped[str] = mapped_column(String(100))
    questionnaire_hash: Mapped[str] = mapped_column(ForeignKey("questionnaire_content.content_hash"))
    supplement_key: Mapped[str | None] = mapped_column(String(100))
    supplement_hash: Mapped[str | None] = mapped_column(ForeignKey("questionnaire_content.content_hash"))
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    closed_early_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The text of the last reminder, offered again as the starting point of the next.
    reminder_text: Mapped[str] = mapped_column(Text, default="")

    icb: Mapped[Organisation] = relationship()
    created_by: Mapped[User] = relationship()
    scope: Mapped[list["RoundPcn"]] = relationship(back_populates="round", cascade="all, delete-orphan")


class RoundPcn(Base):
    """A PCN in a round's scope, with when it was last reminded."""

    __tablename__ = "round_pcn"
    # A letter is one PCN's in its round: two views drawing letters at once cannot give two PCNs the same one.
    __table_args__ = (
        UniqueConstraint("round_id", "pcn_id"),
        UniqueConstraint("round_id", "letter", name="uq_round_pcn_letter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("return_round.id", ondelete="CASCADE"), index=True)
    pcn_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    last_reminded_at: Mapped[datetime | None]
    # The PCN's letter in this round's benchmarks (A, B, … AA): drawn at random across the whole scope the first
    # time the round is benchmarked, and never changed, so letters are stable and say nothing about the PCN.
    letter: Mapped[str | None] = mapped_column(String(4))

    round: Mapped[ReturnRound] = relationship(back_populates="scope")
    pcn: Mapped[Organisation] = relationship()


class Submission(Base):
    """A frozen copy of a PCN's return as it was submitted: answers, scores, plan and the PDF report.

    Later edits to the assessment never change it. A reopened submission stays on record; the PCN's next
    submission for the round is a new row, and the ICB sees the latest.
    """

    __tablename__ = "submission"
    __table_args__ = (Index("ix_submission_round_pcn", "round_id", "pcn_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("return_round.id"))
    pcn_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    declaration: Mapped[str] = mapped_column(Text)
    questionnaire_hash: Mapped[str] = mapped_column(ForeignKey("questionnaire_content.content_hash"))
    supplement_hash: Mapped[str | None] = mapped_column(ForeignKey("questionnaire_content.content_hash"))
    overall_now: Mapped[float] = mapped_column(Float)
    overall_target: Mapped[float] = mapped_column(Float)
    supplement_now: Mapped[float | None] = mapped_column(Float)
    supplement_target: Mapped[float | None] = mapped_column(Float)
    # The plan as it stood, as JSON: a list of actions with their domain, question, month, owner and status.
    plan_json: Mapped[str] = deferred(mapped_column(Text, default="[]"))
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    pdf_rendered_at: Mapped[datetime | None]
    reopened_at: Mapped[datetime | None]
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reopen_reason: Mapped[str | None] = mapped_column(Text)

    round: Mapped[ReturnRound] = relationship()
    pcn: Mapped[Organisation] = relationship()
    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id])
    reopened_by: Mapped[User | None] = relationship(foreign_keys=[reopened_by_id])
    answers: Mapped[list["SubmissionAnswer"]] = relationship(cascade="all, delete-orphan")
    domain_scores: Mapped[list["SubmissionDomainScore"]] = relationship(
        cascade="all, delete-orphan", order_by="SubmissionDomainScore.position"
    )

    @property
    def is_reopened(self) -> bool:
        return self.reopened_at is not None


class SubmissionAnswer(Base):
    __tablename__ = "submission_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    section: Mapped[str] = mapped_column(String(12))  # "core" or "supplement"
    domain_id: Mapped[str] = mapped_column(String(100))
    question_id: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    current: Mapped[int | None] = mapped_column(SmallInteger)
    current_unsure: Mapped[bool] = mapped_column(default=False)
    target: Mapped[int | None] = mapped_column(SmallInteger)
    target_unsure: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    not_applicable: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class SubmissionDomainScore(Base):
    __tablename__ = "submission_domain_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    section: Mapped[str] = mapped_column(String(12))
    domain_id: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    now: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    # False when every question of the domain was "not applicable": the figures are then 0 and not shown.
    applicable: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


class ReturnStatus(StrEnum):
    """Where a PCN is with a round, as the ICB may see it: never anything of a draft but this."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    REOPENED = "reopened"
    OVERDUE = "overdue"


RETURN_STATUS_LABELS = {
    ReturnStatus.NOT_STARTED: "Not started",
    ReturnStatus.IN_PROGRESS: "In progress",
    ReturnStatus.SUBMITTED: "Submitted",
    ReturnStatus.REOPENED: "Reopened",
    ReturnStatus.OVERDUE: "Overdue",
}
