"""Kept pages: a page is served again from memory only while nothing it shows has changed.

Each test looks at a page, changes something the way a user (or an administrator, or the command line) would, and
checks the page shows the change at once; and that a change elsewhere (another PCN) leaves a kept page kept. Whether a
page came from memory is told by the SQL it ran: a kept page runs one statement, a glance at the session, which reads
the counters with it.
"""

import re
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import event, select, text, update

from app import page_cache
from app.extensions import db
from app.models import DataVersion, Organisation, User, UserSession
from app.models.base import as_utc, utcnow
from app.page_cache import PageStore, StalePage
from app.queries.organisations import get_organisation_by_code
from app.services import data_versions, sessions
from tests.conftest import _client_for, page
from tests.helpers import complete_all, core, domain_data, start
from tests.web.test_benchmarks import make_round
from tests.web.test_rounds import answer_everything, open_round, start_return


@pytest.fixture(autouse=True)
def _serve_kept_pages(app, monkeypatch):
    """These tests look at kept pages as served; the rest of the suite renders them afresh and compares. The minute
    is held still, so that a test which happens to run across the turn of a minute does not see a page rendered
    afresh for that reason alone (a submission with its PDF takes seconds)."""
    monkeypatch.setitem(app.config, "PAGE_CACHE_VERIFY", False)
    monkeypatch.setattr(page_cache, "minute", lambda: 29_000_000)


KEPT_STATEMENTS = 1  # the glance at the session, which reads the counters with it


class Statements:
    def __init__(self, app):
        self.app = app
        self.count = 0

    def _count(self, *_args):
        self.count += 1

    def get(self, client, path: str):
        self.count = 0
        with self.app.app_context():
            engine = db.engine
            glances = _driver_glances()
        event.listen(engine, "before_cursor_execute", self._count)
        try:
            return client.get(path)
        finally:
            event.remove(engine, "before_cursor_execute", self._count)
            with self.app.app_context():
                self.count += _driver_glances() - glances  # PostgreSQL: the glance goes straight to the driver


def _driver_glances() -> int:
    found = current_app.extensions.get("database_glance")
    return found.calls if found is not None else 0


def _nonce(response) -> str:
    return re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)


def _look(client, path: str):
    """A page as a browser sees it, the second time: the first page after signing in also sets the session's CSRF
    token, and a response that changes the session is never kept."""
    client.get(path)
    return client.get(path)


def _kept(app, client, path: str) -> bool:
    statements = Statements(app)
    response = statements.get(client, path)
    assert response.status_code == 200
    return statements.count <= KEPT_STATEMENTS


def test_a_page_seen_again_is_served_from_memory_with_a_fresh_nonce(app, cd_client):
    base = start(cd_client)
    first = _look(cd_client, base)
    statements = Statements(app)
    again = statements.get(cd_client, base)
    assert statements.count == KEPT_STATEMENTS
    assert _nonce(first) != _nonce(again)
    # The page is the same but for its nonce, and the nonce in the page is the one its header allows.
    assert again.get_data(as_text=True).replace(_nonce(again), "N") == first.get_data(as_text=True).replace(
        _nonce(first), "N"
    )
    assert f'nonce="{_nonce(again)}"' in again.get_data(as_text=True)
    assert _nonce(first) not in again.get_data(as_text=True)


def test_saved_answers_show_at_once_on_every_page_of_the_pcn(app, cd_client, manager_client):
    base = start(cd_client)
    domain = core(app).domains[0]
    domain_path = f"{base}/domains/{domain.id}"
    for client in (cd_client, manager_client):  # both people of the PCN have the pages kept
        for path in (base, domain_path, f"{base}/check"):
            _look(client, path)
            assert _kept(app, client, path)
    response = manager_client.post(domain_path, data=domain_data(domain, "2", "4", note="Agreed with the board"))
    assert response.status_code == 302
    for client in (cd_client, manager_client):
        soup = page(client.get(domain_path))
        question = domain.questions[0]
        assert soup.find("input", {"name": f"{question.id}-now", "value": "2"}).has_attr("checked")
        assert "Agreed with the board" in soup.get_text()
        assert "Agreed with the board" in client.get(f"{base}/check").get_data(as_text=True)


def test_another_pcns_change_leaves_a_kept_page_kept(app, cd_client, cd2_client):
    base = start(cd_client)
    _look(cd_client, base)
    other = start(cd2_client)
    domain = core(app).domains[0]
    assert cd2_client.post(f"{other}/domains/{domain.id}", data=domain_data(domain)).status_code == 302
    assert _kept(app, cd_client, base)


def test_the_icb_lead_sees_a_pcns_return_begun_at_once(app, icb_client, cd_client):
    with app.app_context():
        riverside = get_organisation_by_code("U00001")
        round_id = make_round(app, [riverside.id], title="Kept pages round")
    dashboard = f"/rounds/{round_id}"
    before = _look(icb_client, dashboard).get_data(as_text=True)
    assert _kept(app, icb_client, dashboard)
    response = cd_client.post(f"/rounds/{round_id}/start")  # Riverside begins its return in the round
    assert response.status_code == 302
    after = icb_client.get(dashboard).get_data(as_text=True)
    assert after != before
    row = page(icb_client.get(dashboard)).find(string=re.compile("Riverside PCN")).find_parent("tr")
    assert "In progress" in row.get_text(" ", strip=True)


def test_an_administrators_rename_shows_on_a_pcns_kept_pages(app, cd_client):
    _look(cd_client, "/")
    assert _kept(app, cd_client, "/")
    with app.app_context():
        riverside = get_organisation_by_code("U00001")
        old = riverside.name
        riverside.name = "Riverside and Weir PCN"
        db.session.commit()  # outside any request: the command line, a job, an administrator's import
    try:
        assert "Riverside and Weir PCN" in cd_client.get("/").get_data(as_text=True)
    finally:
        with app.app_context():
            db.session.execute(update(Organisation).where(Organisation.ods_code == "U00001").values(name=old))
            db.session.commit()
    assert "Riverside and Weir PCN" not in cd_client.get("/").get_data(as_text=True)


def test_a_return_submitted_elsewhere_renders_peer_figures_afresh_and_nothing_else(
    app, cd4_client, icb_client, cd_client
):
    round_id = open_round(app, icb_client)  # Riverside, in the first ICB, answers its return
    riverside = start_return(cd_client, round_id)
    answer_everything(app, cd_client, riverside)
    base = start(cd4_client)  # Hillside, in the second ICB: its own assessment, confirmed
    complete_all(cd4_client, app, base)
    assert cd4_client.post(f"{base}/check").status_code == 302
    for path in (base, f"{base}/results"):
        _look(cd4_client, path)
        assert _kept(app, cd4_client, path)
    assessment_id = riverside.rstrip("/").split("/")[-1]
    assert cd_client.post(f"/rounds/submit/{assessment_id}", data={"declaration": "y"}).status_code == 302
    assert not _kept(app, cd4_client, f"{base}/results")  # its peer figures for England may have changed
    assert _kept(app, cd4_client, base)


def test_a_raw_sql_change_renders_every_page_afresh(app, cd_client):
    _look(cd_client, "/")
    with app.app_context():
        before = db.session.scalar(select(DataVersion.version).where(DataVersion.scope == data_versions.EPOCH))
        db.session.execute(text("UPDATE organisation SET name = name WHERE ods_code = 'U00001'"))
        db.session.commit()
        after = db.session.scalar(select(DataVersion.version).where(DataVersion.scope == data_versions.EPOCH))
    assert after == (before or 0) + 1
    assert not _kept(app, cd_client, "/")


def test_the_suites_check_catches_a_change_that_was_not_counted(app, cd_client, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_VERIFY", True)
    _look(cd_client, "/")
    with app.app_context(), db.engine.begin() as connection:  # beside the app's sessions: no counter moves
        connection.execute(text("UPDATE organisation SET name = 'Renamed PCN' WHERE ods_code = 'U00001'"))
    try:
        with pytest.raises(StalePage):
            cd_client.get("/")
    finally:
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(text("UPDATE organisation SET name = 'Riverside PCN' WHERE ods_code = 'U00001'"))
            data_versions.bump(db.session, {data_versions.EPOCH, data_versions.ALL})
            db.session.commit()


def test_a_message_is_shown_on_a_kept_page_once(app, cd_client):
    base = start(cd_client)
    message = "Check and confirm your answers to get your action plan."
    for path in (base, f"{base}/check"):  # wherever the message is shown, the page was kept before it
        _look(cd_client, path)
        assert _kept(app, cd_client, path)
    response = cd_client.get(f"{base}/plan", follow_redirects=True)  # not confirmed yet: sent back with a message
    assert message in response.get_data(as_text=True)
    again = cd_client.get(response.request.path).get_data(as_text=True)
    assert message not in again


def test_an_ended_session_is_never_served_a_kept_page(app, cd_client):
    base = start(cd_client)
    _look(cd_client, base)
    assert _kept(app, cd_client, base)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "cd@example.org"))
        sessions.end_all(user.id, sessions.EndReason.SIGNED_OUT_EVERYWHERE)
    response = cd_client.get(base)
    assert response.status_code == 302
    assert "/sign-in" in response.location


def _behind_the_apps_back(app, statement) -> None:
    """A change made straight to the database, which counts nothing: only the session check can notice it."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(statement)


def _token_hash(client) -> str:
    with client.session_transaction() as session:
        return sessions._hash(session["sid"])


def _this_session(client):
    return update(UserSession).where(UserSession.token_hash == _token_hash(client))


@pytest.mark.parametrize(
    "change",
    [
        lambda client, now: _this_session(client).values(ended_at=now),
        lambda client, now: update(User).where(User.email == "cd@example.org").values(active=False),
        lambda client, now: _this_session(client).values(last_seen_at=now - timedelta(hours=6)),  # idle
        lambda client, now: _this_session(client).values(created_at=now - timedelta(days=3)),  # past its lifetime
    ],
    ids=["ended", "deactivated", "idle", "expired"],
)
def test_a_session_that_is_no_longer_live_is_never_served_a_kept_page(app, cd_client, change):
    base = start(cd_client)
    _look(cd_client, base)
    assert _kept(app, cd_client, base)
    _behind_the_apps_back(app, change(cd_client, utcnow()))
    try:
        response = cd_client.get(base)
        assert response.status_code == 302
        assert "/sign-in" in response.location
    finally:
        _behind_the_apps_back(app, update(User).where(User.email == "cd@example.org").values(active=True))


def test_a_session_due_its_last_seen_time_is_written_and_the_page_rendered_afresh(app, cd_client):
    _look(cd_client, "/")
    assert _kept(app, cd_client, "/")
    two_minutes_ago = utcnow() - timedelta(minutes=2)
    _behind_the_apps_back(app, _this_session(cd_client).values(last_seen_at=two_minutes_ago))
    assert not _kept(app, cd_client, "/")
    with app.app_context():
        seen = db.session.scalar(
            select(UserSession.last_seen_at).where(UserSession.token_hash == _token_hash(cd_client))
        )
    assert as_utc(seen) > two_minutes_ago
    assert _kept(app, cd_client, "/")


def test_a_page_is_rendered_afresh_each_minute(app, cd_client, monkeypatch):
    _look(cd_client, "/")
    assert _kept(app, cd_client, "/")
    monkeypatch.setattr(page_cache, "minute", lambda: 29_000_001)
    assert not _kept(app, cd_client, "/")


def test_people_in_other_sessions_and_roles_never_share_a_kept_page(app, cd_client):
    _look(cd_client, "/")
    other_session = _client_for(app, "cd@example.org")
    other_session.get("/")
    assert not _kept(app, other_session, "/")  # its own session: its own CSRF tokens
    icb = _client_for(app, "icb@example.org")
    assert "Riverside PCN" not in page(icb.get("/")).select_one("header").get_text()


@pytest.mark.parametrize(
    ("tables", "writer", "expected"),
    [
        ({"answer", "domain_progress"}, ["org:5", "area:2"], {"all", "org:5", "area:2"}),
        ({"answer", "organisation"}, ["org:5", "area:2"], {"all", "epoch"}),
        ({"answer"}, None, {"all", "epoch"}),
        ({"user_session", "pending_input"}, None, set()),
        ({"?"}, ["org:5", "area:2"], {"all", "epoch"}),
        # A return submitted: the PCN's own scopes, and the peer figures every PCN's results page shows.
        ({"submission", "submission_answer", "assessment"}, ["org:5", "area:2"], {"all", "org:5", "area:2", "peers"}),
        ({"submission"}, None, {"all", "epoch"}),
    ],
)
def test_what_a_change_bumps(tables, writer, expected):
    assert data_versions.scopes_for(tables, writer) == expected


def test_the_store_drops_the_least_recently_used_page_past_its_limit():
    store = PageStore(limit=10)
    store.put(("a",), b"12345", b"n")
    store.put(("b",), b"12345", b"n")
    assert store.get(("a",)) is not None  # now the most recently used
    store.put(("c",), b"12345", b"n")
    assert store.get(("b",)) is None
    assert store.get(("a",)) is not None and store.get(("c",)) is not None
    store.put(("big",), b"x" * 11, b"n")  # larger than the whole store: not kept
    assert store.get(("big",)) is None
    assert store.used == 10


# Whose kept pages each kind of change reaches -------------------------------------------------------------------

VIEWERS = ("cd@example.org", "cd4@example.org", "icb@example.org", "icb2@example.org", "lmc@example.org")


def _keys(app) -> dict[str, tuple]:
    with app.app_context():
        users = {email: db.session.scalar(select(User).where(User.email == email)) for email in VIEWERS}
        return {email: data_versions.viewer_versions(db.session, user) for email, user in users.items()}


@pytest.mark.parametrize(
    ("writer", "reaches"),
    [
        # Riverside's own change: Riverside's pages, its ICB lead's, and the LMC covering its sub-ICB location.
        ("cd@example.org", {"cd@example.org", "icb@example.org", "lmc@example.org"}),
        # Hillside (the second ICB, not covered by the LMC): only Hillside and its own ICB lead.
        ("cd4@example.org", {"cd4@example.org", "icb2@example.org"}),
        # The first ICB's lead: its PCNs, itself and the LMC; not a PCN or lead of the second ICB.
        ("icb@example.org", {"cd@example.org", "icb@example.org", "lmc@example.org"}),
        # Anyone else (here, no one signed in): everyone.
        (None, set(VIEWERS)),
    ],
)
def test_a_change_reaches_the_kept_pages_of_those_who_see_it_and_no_others(app, writer, reaches):
    before = _keys(app)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == writer)) if writer else None
        scopes = data_versions.scopes_for({"answer"}, data_versions.writer_scopes(user))
        data_versions.bump(db.session, scopes)
        db.session.commit()
    after = _keys(app)
    assert {email for email in VIEWERS if before[email] != after[email]} == reaches


def test_no_kept_page_carries_a_rate_limit(app):
    """A kept page is served before the rate limiter looks at the request (app/page_cache.py): that is sound only
    while none of the kept pages is rate limited. A limit added to one of them must move it out of KEPT_ENDPOINTS."""
    from flask_limiter.util import get_qualified_name

    from app.extensions import limiter
    from app.page_cache import KEPT_ENDPOINTS

    manager = limiter.limit_manager
    with app.app_context():  # the sign-in limits are read from the app's configuration
        assert not manager.application_limits and not manager.default_limits
        for endpoint in KEPT_ENDPOINTS:
            assert not manager.decorated_limits(get_qualified_name(app.view_functions[endpoint])), endpoint
            assert not manager.blueprint_limits(app, endpoint.split(".")[0]), endpoint
        # The check sees a limit where there is one: the sign-in page's.
        assert manager.decorated_limits(get_qualified_name(app.view_functions["auth.sign_in"]))


def test_the_glance_through_the_driver_reads_what_sqlalchemy_reads(app, cd_client, lmc_client, icb_client):
    from app.queries import sessions as session_queries

    for client in (cd_client, lmc_client, icb_client):  # a PCN, an LMC (its covered ICBs) and an ICB
        assert client.get("/").status_code == 200
    with app.app_context():
        reader = db.reader
        if reader.dialect.name != "postgresql":
            pytest.skip("only PostgreSQL reads the glance through the driver")
        hashes = db.session.scalars(select(UserSession.token_hash).where(UserSession.ended_at.is_(None))).all()
        assert len(hashes) >= 3
        glance = session_queries.DriverGlance(reader)
        for token_hash in [*hashes, "no-such-session"]:
            with reader.connect() as connection:
                expected = connection.execute(session_queries._GLANCE, {"token_hash": token_hash}).first()
            found = glance.first(token_hash)
            if expected is None:
                assert found is None
            else:
                assert found._fields == tuple(expected._fields) and tuple(found) == tuple(expected)
        # A statement that fails raises, and leaves no connection out of the pool or broken in it.
        broken = session_queries.DriverGlance(reader)
        broken.sql = "SELECT * FROM no_such_table"
        with pytest.raises(reader.dialect.dbapi.Error):
            broken.first(hashes[0])
        assert reader.pool.checkedout() == 0
        assert glance.first(hashes[0]) is not None
