"""Shared fixtures: one app and schema per test run (SQLite, or PostgreSQL via DATABASE_URL), one client per role."""

import os
import re
import secrets
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from hypothesis import settings
from sqlalchemy import create_engine, delete, text, update

from app import create_app
from app.extensions import db, limiter
from app.models import (
    Answer,
    ApiToken,
    Assessment,
    AuditEvent,
    BackgroundJob,
    DomainProgress,
    PendingInput,
    PlanAction,
    QuestionnaireContent,
    QuestionnaireOffer,
    ReturnRound,
    RoundPcn,
    Submission,
    SubmissionAnswer,
    SubmissionDomainScore,
    UserSession,
)
from app.queries.users import get_user_by_email
from app.services import database, demo, sessions

FIXTURES = Path(__file__).parent / "fixtures"

# Property tests check behaviour, not speed: no per-example deadline, so a busy machine cannot fail them.
settings.register_profile("project", deadline=None)
settings.load_profile("project")
PER_TEST_TABLES = (
    ApiToken,
    BackgroundJob,
    SubmissionAnswer,
    SubmissionDomainScore,
    Submission,
    PlanAction,
    Answer,
    DomainProgress,
    Assessment,
    RoundPcn,
    AuditEvent,
    ReturnRound,
    PendingInput,
    QuestionnaireContent,
    QuestionnaireOffer,
    UserSession,
)


def _database_url(tmp: Path) -> tuple[str, callable]:
    """A database of this run's own: a fresh SQLite file, or a fresh schema on the shared PostgreSQL server."""
    url = os.environ.get("DATABASE_URL")
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{tmp / 'test.sqlite'}", lambda: None
    schema = f"test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}", drop


@pytest.fixture(scope="session")
def app():
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = _database_url(Path(tmp))
        application = create_app(
            {
                "TESTING": True,
                "APP_ENV": "testing",
                "DATABASE_URL": url,
                "WTF_CSRF_ENABLED": False,
                "SECRET_KEY": "test-secret",
                "SERVER_NAME": "localhost",
                "RATELIMIT_STORAGE_URI": "memory://",
            }
        )
        with application.app_context():
            database.upgrade()
            demo.load()
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()


@pytest.fixture(autouse=True)
def _clean_assessments(request):
    """Organisations and accounts persist for the run; everything a test creates on top is removed."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.rollback()
        for model in PER_TEST_TABLES:
            db.session.execute(delete(model))
        db.session.commit()
        application.extensions["questionnaires"] = None
        limiter.reset()


@pytest.fixture(autouse=True)
def _report_html_parsed_as_weasyprint_would(monkeypatch):
    """Every PDF report the suite renders is parsed both ways, and must give WeasyPrint's own tree: the fast parse
    (app/services/pdf_engine.py) is then tested on every kind of report the tests make, notes and all."""
    from app.services import pdf_engine
    from tests.pdf_trees import as_weasyprint_parses, tree

    fast = pdf_engine.parse_html

    def checked(source: str):
        root = fast(source)
        assert root is not None, "the report's HTML is not well-formed XML: it would be parsed the slow way"
        assert tree(root) == as_weasyprint_parses(source)
        return root

    monkeypatch.setattr(pdf_engine, "parse_html", checked)


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app
        db.session.rollback()


def _client_for(app, email: str | None):
    """A test client signed in as this user, with a live session on the server as a real sign-in makes."""
    client = app.test_client()
    # Like a browser posting a form from one of our own pages (a forged cross-site post says "cross-site").
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    if email:
        with app.app_context():
            user = get_user_by_email(email)
            token = sessions.start(user, "127.0.0.1", "test client")
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
            session["sid"] = token
    return client


def age_session(app, client, **ago) -> None:
    """Make the client's server session look last used this long ago (hours=3), as if the user went to lunch."""
    with client.session_transaction() as session:
        token = session.get("sid")
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == sessions._hash(token))
            .values(last_seen_at=datetime.now(UTC) - timedelta(**ago))
        )
        db.session.commit()


@pytest.fixture
def anon_client(app):
    return _client_for(app, None)


@pytest.fixture
def cd_client(app):
    return _client_for(app, "cd@example.org")


@pytest.fixture
def cd2_client(app):
    return _client_for(app, "cd2@example.org")


@pytest.fixture
def manager_client(app):
    return _client_for(app, "manager@example.org")


@pytest.fixture
def icb_client(app):
    return _client_for(app, "icb@example.org")


@pytest.fixture
def lmc_client(app):
    return _client_for(app, "lmc@example.org")


@pytest.fixture
def admin_client(app):
    return _client_for(app, "admin@example.org")


def page(response) -> BeautifulSoup:
    """Parse a page and check what every page must have: one h1, and a title that starts with it."""
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    headings = soup.find_all("h1")
    assert len(headings) == 1, f"expected one h1, found {len(headings)}"
    title = soup.title.get_text(strip=True)
    h1 = re.sub(r"\s+", " ", headings[0].get_text(" ", strip=True))
    assert h1 in title, f"title {title!r} does not contain h1 {h1!r}"
    return soup


def error_messages(soup: BeautifulSoup) -> list[str]:
    summary = soup.select_one(".nhsuk-error-summary")
    return [a.get_text(" ", strip=True) for a in summary.select("a")] if summary else []


@pytest.fixture
def icb2_client(app):
    return _client_for(app, "icb2@example.org")


@pytest.fixture
def cd3_client(app):
    return _client_for(app, "cd3@example.org")


@pytest.fixture
def cd4_client(app):
    return _client_for(app, "cd4@example.org")
