"""A checked roster file waiting for the ICB lead to confirm what it will add and rename."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from .base import Base, utcnow


class RosterUpload(Base):
    __tablename__ = "roster_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    icb_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    filename: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[str] = deferred(mapped_column(Text))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
