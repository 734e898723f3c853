from datetime import timedelta

from sqlalchemy import bindparam, select

from ..extensions import db
from ..models import User, UserSession
from ..models.base import utcnow
from ..services import data_versions

# Every signed-in request runs this, so the statement is built once (SQLAlchemy then reuses its compiled form).
_SESSION_WITH_USER = (
    select(UserSession, User)
    .outerjoin(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)

# A request for a kept page (app/page_cache.py) reads just what deciding to serve it needs, as plain values: is the
# session live, whose is it, and the data counters of every scope a page might depend on.
_GLANCE = (
    select(
        UserSession.user_id,
        UserSession.ended_at,
        UserSession.last_seen_at,
        UserSession.created_at,
        User.active,
        User.role,
        data_versions.OWNER.kind,
        *data_versions.COUNTERS,
    )
    .join(User, User.id == UserSession.user_id)
    .join(data_versions.OWNER, data_versions.OWNER.id == User.organisation_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)


def get_session_with_user(token_hash: str) -> tuple[UserSession, User | None] | None:
    """A session and its user (with their organisation), in one query; the user is None if the account is gone."""
    row = db.session.execute(_SESSION_WITH_USER, {"token_hash": token_hash}).first()
    return (row[0], row[1]) if row else None


def glance_at_session(token_hash: str):
    """The session's row from _GLANCE, or None; read outside any transaction (one round trip, no BEGIN or ROLLBACK)
    and outside the request's ORM session, which it leaves untouched."""
    with db.reader.connect() as connection:
        return connection.execute(_GLANCE, {"token_hash": token_hash}).first()


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
