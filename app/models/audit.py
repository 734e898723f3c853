"""The audit log: who did what, when and from where. The application only ever adds to it."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Kept as text as well as by id, so the record still says who it was if an account is later renamed.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    user_email: Mapped[str] = mapped_column(String(254), default="")
    # The ICB whose area the event belongs to (None: the service as a whole), so each ICB sees its own.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(Text)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("return_round.id"), index=True)
    address: Mapped[str] = mapped_column(String(45), default="")


class AppendOnly(Exception):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_the_audit_log(session: Session, _context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise AppendOnly("the audit log is append-only")
