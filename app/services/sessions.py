"""Server-side sessions: created at sign-in, checked on every request, ended for good on sign-out and more.

The browser's cookie (signed by Flask) carries a random token; the database holds only its SHA-256, the user,
and when it was last used. Any app instance sharing the database sees the same sessions, so ending one ends it
everywhere at once.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update

from ..extensions import db
from ..models import User, UserSession
from ..models.base import as_utc, utcnow
from ..queries.sessions import get_session_with_user, glance_at_session

# last_seen_at is written at most this often, so an active user does not cost a write on every request.
TOUCH_EVERY = timedelta(seconds=60)


class EndReason:
    SIGNED_OUT = "signed_out"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    PASSWORD_CHANGED = "password_changed"
    DEACTIVATED = "deactivated"
    IDLE = "idle"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Check:
    """The outcome of checking a request's session: the user, or why there is none."""

    user: User | None
    session: UserSession | None = None
    ended: str | None = None  # why it ended now (idle, expired), or "revoked"/"unknown" for a dead token


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, address: str, user_agent: str) -> str:
    """A new session for a user who has just signed in; returns the token for their cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(token_hash=_hash(token), user_id=user.id, address=address[:45], user_agent=user_agent[:200])
    )
    db.session.commit()
    return token


def check(token: str | None, user_id: int, idle: timedelta, lifetime: timedelta) -> Check:
    """Whether this token is a live session of this user; ends it if it has been idle or lived too long."""
    if not token or not isinstance(token, str) or len(token) > 100:
        return Check(None, ended="unknown")
    found = get_session_with_user(_hash(token))
    if found is None or found[0].user_id != user_id:
        return Check(None, ended="unknown")
    record, user = found
    if record.ended_at is not None:
        return Check(None, record, ended="revoked")
    now = utcnow()
    if now - as_utc(record.last_seen_at) > idle:
        _end(record, EndReason.IDLE, now)
        return Check(None, record, ended=EndReason.IDLE)
    if now - as_utc(record.created_at) > lifetime:
        _end(record, EndReason.EXPIRED, now)
        return Check(None, record, ended=EndReason.EXPIRED)
    if user is None or not user.active:
        _end(record, EndReason.DEACTIVATED, now)
        return Check(None, record, ended="revoked")
    if now - as_utc(record.last_seen_at) > TOUCH_EVERY:
        record.last_seen_at = now
        db.session.commit()
    return Check(user, record)


def glance(token: str | None, user_id: str | None, idle: timedelta, lifetime: timedelta):
    """For a kept page: the session's row (its user's role, organisation kind and the data counters) if the token
    is a live session of this user that `check` would pass without writing anything; otherwise None, and the
    request takes the usual way through `check`, which ends, refuses or touches the session as it should."""
    if not token or not isinstance(token, str) or len(token) > 100 or not isinstance(user_id, str):
        return None
    row = glance_at_session(_hash(token))
    if row is None or str(row.user_id) != user_id or row.ended_at is not None or not row.active:
        return None
    now = utcnow()
    if now - as_utc(row.last_seen_at) > min(idle, TOUCH_EVERY) or now - as_utc(row.created_at) > lifetime:
        return None
    return row


def _end(record: UserSession, reason: str, now: datetime) -> None:
    record.ended_at = now
    record.end_reason = reason
    db.session.commit()


def end(token: str | None, reason: str = EndReason.SIGNED_OUT) -> None:
    """End the session this token names (signing out)."""
    if token and isinstance(token, str):
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason)
        )
        db.session.commit()


def end_all(user_id: int, reason: str, *, except_token: str | None = None) -> int:
    """End every live session of a user (but the one named, if any); returns how many ended."""
    statement = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if except_token:
        statement = statement.where(UserSession.token_hash != _hash(except_token))
    result = db.session.execute(statement.values(ended_at=utcnow(), end_reason=reason))
    db.session.commit()
    return result.rowcount
