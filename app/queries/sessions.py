from sqlalchemy import select

from ..extensions import db
from ..models import UserSession


def get_session_by_hash(token_hash: str) -> UserSession | None:
    return db.session.scalar(select(UserSession).where(UserSession.token_hash == token_hash))


def live_sessions(user_id: int) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
            .order_by(UserSession.last_seen_at.desc())
        )
    )
