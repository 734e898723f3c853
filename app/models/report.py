from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from .base import Base, utcnow


class StoredReport(Base):
    """The PDF report of an assessment as last rendered, with the state key it was rendered for.

    One row per assessment (a newer state replaces the bytes in place): the download serves `pdf` while
    `state_key` matches the assessment's state now (app/services/reports.py, `report_state_key`).
    """

    __tablename__ = "stored_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), unique=True)
    state_key: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    rendered_at: Mapped[datetime] = mapped_column(default=utcnow)
