from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import UserSession
from ..models.base import utcnow


def get_session_by_hash(token_hash: str) -> UserSession | None:
    return db.session.scalar(select(UserSession).where(UserSession.token_hash == token_hash))


def live_sessions(user_id: int, idle: timedelta, lifetime: timedelta) -> list[UserSession]:
    """A user's sessions that have not ended and are within their idle and absolute limits."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at > now - idle,
                UserSession.created_at > now - lifetime,
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )
