"""Extensions, created unbound and attached to the app in create_app."""

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session


class Database:
    """One engine per app and one SQLAlchemy session per app context (request, CLI command or test).

    The engine belongs to the app (several apps may live in one process, as in the tests); each session is bound
    to the engine of the app whose context opened it.
    """

    def __init__(self) -> None:
        self.session: scoped_session[Session] = scoped_session(self._new_session)

    @staticmethod
    def _new_session() -> Session:
        return Session(bind=current_app.extensions["database_engine"], expire_on_commit=False)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["database_engine"]

    @property
    def reader(self) -> Engine:
        """For a single read that needs no transaction around it. On PostgreSQL, an engine and pool of its own whose
        connections are in autocommit from the start, which saves the BEGIN and ROLLBACK round trips and setting
        the isolation level on each checkout. SQLite's driver starts no transaction for a read anyway, and there
        autocommit would cost a statement of its own (a PRAGMA resetting the isolation level each time the
        connection goes back to the pool), so this is the ordinary engine."""
        return current_app.extensions["database_reader"]

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        # hide_parameters: a failed statement's log line never carries what someone typed.
        options: dict = {"future": True, "hide_parameters": True}
        if url.startswith("sqlite"):
            options["connect_args"] = {"check_same_thread": False}
        engine = create_engine(url, **options)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        app.extensions["database"] = self
        app.extensions["database_engine"] = engine
        app.extensions["database_reader"] = (
            engine if url.startswith("sqlite") else create_engine(url, isolation_level="AUTOCOMMIT", **options)
        )
        app.teardown_appcontext(lambda exc: self.session.remove())


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # Wait for another worker's write to finish rather than failing at once with "database is locked".
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


db = Database()
csrf = CSRFProtect()
login_manager = LoginManager()
# Limits are declared on the routes they guard (sign-in); storage is in-process, or Redis when REDIS_URL is set.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
