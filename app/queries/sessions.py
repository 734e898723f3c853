from collections import namedtuple
from datetime import timedelta
from enum import Enum

from flask import current_app
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
    reader = db.reader
    if reader.dialect.name == "postgresql":
        return _driver_glance(reader).first(token_hash)
    with reader.connect() as connection:
        return connection.execute(_GLANCE, {"token_hash": token_hash}).first()


class DriverGlance:
    """_GLANCE on PostgreSQL, straight through the driver: compiled once, then run on a pooled connection's own
    cursor. Every request for a kept page runs it, and SQLAlchemy's execution and result handling around the one
    round trip cost about as much as the round trip itself: 0.22-0.29 ms a glance against 0.13 ms, median
    (tests/benchmarks/glance_benchmark.py). The values are those SQLAlchemy returns: its types for these columns
    (text, integers, a boolean and timestamps) take psycopg's values as they are; a test compares the two. SQLite
    keeps SQLAlchemy's way: its driver hands timestamps back as text.
    """

    def __init__(self, engine):
        compiled = _GLANCE.compile(dialect=engine.dialect)
        self.engine = engine
        self.sql = compiled.string
        # The statement's own literals (the counters' scope names and so on), as plain values.
        self.params = {
            name: value.value if isinstance(value, Enum) else value
            for name, value in compiled.construct_params({"token_hash": ""}).items()
        }
        self.Row = namedtuple("GlanceRow", [column.key for column in _GLANCE.selected_columns])
        self.calls = 0

    def first(self, token_hash: str):
        self.calls += 1
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self.sql, {**self.params, "token_hash": token_hash})
                row = cursor.fetchone()
            finally:
                cursor.close()
        except self.engine.dialect.dbapi.Error:
            connection.invalidate()  # never back into the pool in an unknown state
            raise
        finally:
            connection.close()  # back to the pool
        return None if row is None else self.Row(*row)


def _driver_glance(reader) -> DriverGlance:
    found = current_app.extensions.get("database_glance")
    if found is None or found.engine is not reader:
        found = current_app.extensions["database_glance"] = DriverGlance(reader)
    return found


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
