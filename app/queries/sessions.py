from datetime import timedelta

from sqlalchemy import bindparam, select

from ..extensions import db
from ..models import User, UserSession
from ..models.base import utcnow
from ..services import data_versions

# Every signed-in request runs this, so the statement is built once (SQLAlchemy then reuses its compiled form).
# The data counters come with it, so that a kept page costs no second statement (app/page_cache.py).
_SESSION_WITH_USER = (
    select(UserSession, User, *data_versions.COUNTERS)
    .outerjoin(User, User.id == UserSession.user_id)
    .outerjoin(data_versions.OWNER, data_versions.OWNER.id == User.organisation_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)


def get_session_with_user(token_hash: str) -> tuple[UserSession, User | None, object] | None:
    """A session, its user (with their organisation) and the data counters, in one query; the user is None if the
    account is gone."""
    row = db.session.execute(_SESSION_WITH_USER, {"token_hash": token_hash}).first()
    return (row[0], row[1], row) if row else None


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
