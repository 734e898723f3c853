"""Trust: sessions that end, sign-in that resists guessing, headers, forged posts, bad input, configuration.

Each test names the finding it pins (issue "Trust", items 1-11).
"""

import logging
import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db, limiter
from app.models import Answer, Organisation, PendingInput, User, UserSession
from app.queries.users import get_user_by_email
from app.services import pending_input, sessions, users
from tests.conftest import age_session, error_messages, page
from tests.helpers import complete_all, core, domain_data, start

PASSWORD = "demo-password"


def sign_in(client, email="cd@example.org", password=PASSWORD):
    return client.post("/sign-in", data={"email": email, "password": password})


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def token_on(client, path: str) -> str:
    return page(client.get(path)).select_one("input[name=csrf_token]")["value"]


def answers(app) -> int:
    with app.app_context():
        return db.session.query(Answer).count()


# --- 1. Signing out ends the session, wherever its cookie was copied ----------------------------------------------


def test_a_copied_cookie_is_dead_after_sign_out(app, anon_client):
    assert sign_in(anon_client).status_code == 302
    base = start(anon_client)
    complete_all(anon_client, app, base)
    anon_client.post(f"{base}/check")
    copy = app.test_client()
    copy.set_cookie("session", anon_client.get_cookie("session").value)
    assert copy.get(f"{base}/plan.csv").status_code == 200  # a copy works while the session lives
    anon_client.post("/sign-out")
    assert copy.get(f"{base}/plan.csv").status_code == 302
    domain = core(app).domains[0]
    before = answers(app)
    response = copy.post(f"{base}/domains/{domain.id}", data=domain_data(domain, current="4", target="4"))
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    with app.app_context():
        assert db.session.query(Answer).count() == before
        assert {a.current for a in db.session.query(Answer)} == {1}  # nothing of the replay was saved


def test_replaying_a_cookie_never_keeps_an_idle_session_alive(app, cd_client):
    assert cd_client.get("/").status_code == 200
    cookie = cd_client.get_cookie("session").value
    age_session(app, cd_client, minutes=31)
    assert cd_client.get("/").status_code == 302  # idle past the limit: ended on the server
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    age_session(app, replay, minutes=0)  # even if its last use looked recent again
    assert replay.get("/").status_code == 302  # an ended session never comes back


def test_a_busy_session_still_ends_at_its_absolute_lifetime(app, cd_client):
    with cd_client.session_transaction() as session:
        token = session["sid"]
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == sessions._hash(token))
            .values(created_at=datetime.now(UTC) - timedelta(hours=13))
        )
        db.session.commit()
    assert cd_client.get("/").status_code == 302


def test_sign_out_of_all_devices(app, cd_client):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop)
    sign_in(phone)
    soup = page(laptop.get("/account"))
    assert "signed in on 3 devices" in soup.get_text(" ")  # and the fixture session
    assert laptop.post("/account/sign-out-everywhere").status_code == 302
    assert laptop.get("/").status_code == 302 and phone.get("/").status_code == 302
    assert cd_client.get("/").status_code == 302  # the fixture's session too: every device


def test_changing_the_password_ends_the_other_sessions(app, csrf_on):
    laptop, phone = app.test_client(), app.test_client()
    for client in (laptop, phone):
        client.post("/sign-in", data={"email": "manager@example.org", "password": PASSWORD,
                                      "csrf_token": token_on(client, "/sign-in")})  # fmt: skip
    new = "correct horse battery staple"
    try:
        response = laptop.post(
            "/account/password",
            data={"current_password": PASSWORD, "new_password": new, "confirm_password": new,
                  "csrf_token": token_on(laptop, "/account")},
        )  # fmt: skip
        assert response.status_code == 302
        assert laptop.get("/").status_code == 200  # this device stays signed in
        assert phone.get("/").status_code == 302
    finally:
        with app.app_context():
            get_user_by_email("manager@example.org").set_password(PASSWORD)
            db.session.commit()


def test_password_change_refuses_bad_input_and_changes_nothing(app, manager_client):
    cases = [
        ({"current_password": "wrong", "new_password": "x" * 12, "confirm_password": "x" * 12},
         "Your current password is not correct"),
        ({"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
         "New password must be between 12 and 128 characters"),
        ({"current_password": PASSWORD, "new_password": "x" * 12, "confirm_password": "y" * 12},
         "The new passwords do not match"),
        ({"current_password": "", "new_password": "", "confirm_password": ""}, "Enter your current password"),
    ]  # fmt: skip
    for data, message in cases:
        response = manager_client.post("/account/password", data=data)
        assert response.status_code in (400, 401)
        assert message in error_messages(page(response)), data
    with app.app_context():
        assert get_user_by_email("manager@example.org").check_password(PASSWORD)


def test_deactivating_a_user_ends_their_sessions(app, manager_client):
    assert manager_client.get("/").status_code == 200
    try:
        with app.app_context():
            assert users.deactivate(get_user_by_email("manager@example.org")) == 1
        assert manager_client.get("/").status_code == 302
        assert sign_in(app.test_client(), "manager@example.org").status_code == 401
    finally:
        with app.app_context():
            get_user_by_email("manager@example.org").active = True
            db.session.commit()


def test_deactivate_command(app):
    client = app.test_client()
    sign_in(client, "manager@example.org")
    try:
        result = app.test_cli_runner().invoke(args=["users", "deactivate", "Manager@example.org"])
        assert result.exit_code == 0 and "1 session(s) ended" in result.output
        assert client.get("/").status_code == 302
        result = app.test_cli_runner().invoke(args=["users", "deactivate", "nobody@example.org"])
        assert result.exit_code == 1 and "No account" in result.output
    finally:
        with app.app_context():
            get_user_by_email("manager@example.org").active = True
            db.session.commit()


# --- 2 and 3. Sign-in resists guessing and does not tell which emails have accounts ------------------------------


def test_wrong_passwords_for_one_account_are_throttled(app, anon_client):
    for _ in range(5):
        assert sign_in(anon_client, password="guess").status_code == 401
    response = sign_in(anon_client)  # even the right password, until the window passes
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    soup = page(response)
    assert "too many attempts to sign in" in error_messages(soup)[0]
    assert anon_client.get("/").status_code == 302
    # Other accounts, from the same address, are not locked out by someone guessing at this one.
    assert sign_in(app.test_client(), "cd2@example.org").status_code == 302


def test_ordinary_failures_do_not_tell_clients_to_wait(anon_client):
    response = sign_in(anon_client, password="guess")
    assert response.status_code == 401 and "Retry-After" not in response.headers


def test_one_address_guessing_does_not_lock_the_owner_out_elsewhere(app, anon_client):
    for _ in range(5):
        sign_in(anon_client, password="guess")
    assert sign_in(anon_client).status_code == 429
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert sign_in(owner).status_code == 302


def test_guessing_one_account_from_many_addresses_is_capped(app):
    for n in range(20):  # 4 guesses each from 5 addresses: under each address's limit, at the account's
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n // 4}"
        assert sign_in(client, password="guess").status_code == 401
    fresh = app.test_client()
    fresh.environ_base["REMOTE_ADDR"] = "203.0.113.99"
    assert sign_in(fresh).status_code == 429


def test_ipv6_addresses_are_counted_by_their_64_network(app):
    app.config["SIGN_IN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    try:
        for n in range(3):
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"2001:db8:1:2::{n + 1}"
            assert sign_in(client, f"person{n}@example.org", "guess").status_code == 401
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "2001:db8:1:2::99"
        assert sign_in(client, "cd2@example.org").status_code == 429
    finally:
        app.config["SIGN_IN_LIMIT_PER_ADDRESS"] = "50 per 15 minutes"


def test_guessing_the_current_password_on_the_account_page_is_throttled(app, manager_client):
    wrong = {"current_password": "guess", "new_password": "x" * 12, "confirm_password": "x" * 12}
    for _ in range(5):
        assert manager_client.post("/account/password", data=wrong).status_code == 401
    right = {**wrong, "current_password": PASSWORD}
    response = manager_client.post("/account/password", data=right)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "too many wrong current passwords" in error_messages(page(response))[0]
    with app.app_context():
        assert get_user_by_email("manager@example.org").check_password(PASSWORD)


def test_hidden_characters_in_passwords_are_refused(app, manager_client, anon_client):
    nul = "\x00" * 12
    response = manager_client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": nul, "confirm_password": nul}
    )
    assert response.status_code == 400
    assert "Passwords cannot contain hidden control characters" in error_messages(page(response))[0]
    with app.app_context():
        assert get_user_by_email("manager@example.org").check_password(PASSWORD)
    response = sign_in(anon_client, "manager@example.org", PASSWORD + "\x00")
    assert response.status_code == 200 and "hidden control characters" in error_messages(page(response))[0]


def test_successful_sign_ins_do_not_count_towards_the_limit(app):
    for _ in range(8):
        client = app.test_client()
        assert sign_in(client).status_code == 302


def test_guessing_across_many_accounts_from_one_address_is_throttled(app, anon_client):
    app.config["SIGN_IN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    try:
        for n in range(3):
            assert sign_in(anon_client, f"person{n}@example.org", "guess").status_code == 401
        assert sign_in(anon_client, "cd2@example.org").status_code == 429
        other_address = app.test_client()
        other_address.environ_base["REMOTE_ADDR"] = "192.0.2.7"
        assert sign_in(other_address, "cd2@example.org").status_code == 302
    finally:
        app.config["SIGN_IN_LIMIT_PER_ADDRESS"] = "50 per 15 minutes"


def test_limits_are_shared_between_app_instances_through_redis(tmp_path):
    import os

    import redis

    url = "redis://127.0.0.1:6379/15"  # a database number of this test's own, emptied before and after
    try:
        store = redis.Redis.from_url(url)
        store.flushdb()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail("no Redis server on 127.0.0.1:6379 (CI machines run one)")
        pytest.skip("no Redis server on 127.0.0.1:6379")
    from app import create_app
    from app.services import database, demo

    config = {"APP_ENV": "testing", "SECRET_KEY": "s", "WTF_CSRF_ENABLED": False,
              "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite'}", "RATELIMIT_STORAGE_URI": url}  # fmt: skip
    saved = limiter._storage, limiter._limiter
    try:
        first, second = create_app(config), create_app(config)  # two instances, one database, one Redis
        with first.app_context():
            database.upgrade()
            demo.load()
        for _ in range(3):
            assert sign_in(first.test_client(), password="guess").status_code == 401
        for _ in range(2):
            assert sign_in(second.test_client(), password="guess").status_code == 401
        assert sign_in(first.test_client()).status_code == 429
        assert sign_in(second.test_client()).status_code == 429
        assert store.dbsize() > 0  # the counts really are in Redis
    finally:
        limiter._storage, limiter._limiter = saved
        store.flushdb()


def test_an_unknown_email_costs_the_same_password_check_as_a_known_one(app, anon_client, monkeypatch):
    import app.auth as auth
    import app.models.user as user_model

    calls = []

    def counting(real):
        def check(hash_, password):
            calls.append(hash_.split("$")[0])
            return real(hash_, password)

        return check

    monkeypatch.setattr(auth, "check_password_hash", counting(auth.check_password_hash))
    monkeypatch.setattr(user_model, "check_password_hash", counting(user_model.check_password_hash))
    sign_in(anon_client, "nobody@example.org", "guess")
    sign_in(anon_client, "cd@example.org", "guess")
    assert len(calls) == 2 and calls[0] == calls[1]  # one scrypt check each, with the same parameters


# --- 4. Security headers on every response -----------------------------------------------------------------------


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";"))}


def test_pages_carry_the_security_headers(app, cd_client):
    base = start(cd_client)
    complete_all(cd_client, app, base)
    cd_client.post(f"{base}/check")
    for path in ("/", base, f"{base}/results", f"{base}/plan", f"{base}/plan.csv", f"{base}/report.pdf", "/sign-in"):
        response = cd_client.get(path)
        csp = _csp(response)
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"], path
        assert csp["frame-ancestors"] == "frame-ancestors 'none'" and csp["object-src"] == "object-src 'none'"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store", path  # the back button shows nothing after sign-out
        assert "Strict-Transport-Security" not in response.headers  # development and tests run on plain HTTP


def test_every_inline_script_carries_this_responses_nonce(cd_client):
    response = cd_client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = page(response).find_all("script")
    assert scripts and all(s.get("nonce") == nonce for s in scripts)
    assert nonce not in cd_client.get("/").headers["Content-Security-Policy"]  # fresh for every response


def test_design_system_files_may_be_cached(anon_client):
    response = anon_client.get("/frontend/nhsuk-frontend.min.css")
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_production_adds_hsts(production_app):
    response = production_app.test_client().get("/sign-in", base_url="https://readiness.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# --- 5. The CSRF token changes at sign-in ------------------------------------------------------------------------


def test_sign_in_rotates_the_csrf_token_and_the_session(app, anon_client, csrf_on):
    token = token_on(anon_client, "/sign-in")
    with anon_client.session_transaction() as session:
        before = session["csrf_token"]
    anon_client.post("/sign-in", data={"email": "cd@example.org", "password": PASSWORD, "csrf_token": token})
    page(anon_client.get("/"))
    with anon_client.session_transaction() as session:
        assert session["csrf_token"] != before
        assert session["sid"]
    # A form signed with the old token is refused now.
    assert anon_client.post("/assessments/start", data={"csrf_token": token}).status_code == 400


# --- 6. A forged post is refused and nothing of it is shown back -------------------------------------------------


def test_a_forged_post_in_a_live_session_is_refused_and_not_played_back(app, cd_client, csrf_on):
    base = start_with_csrf(cd_client)
    domain = core(app).domains[0]
    path = f"{base}/domains/{domain.id}"
    for token in (None, "forged-token"):
        data = domain_data(domain, note="Planted by someone else")
        if token:
            data["csrf_token"] = token
        response = cd_client.post(path, data=data, headers={"Sec-Fetch-Site": "cross-site"})
        assert response.status_code == 400
        assert "Nothing was saved" in response.get_data(as_text=True)
    assert "Planted by someone else" not in cd_client.get(path).get_data(as_text=True)
    with app.app_context():
        assert db.session.query(PendingInput).count() == 0
        assert db.session.query(Answer).count() == 0


def start_with_csrf(client) -> str:
    response = client.post("/assessments/start", data={"csrf_token": token_on(client, "/")})
    assert response.status_code == 302
    return response.location


def test_a_tab_left_open_across_signing_in_again_gets_its_input_back(app, anon_client, csrf_on):
    anon_client.post("/sign-in", data={"email": "cd@example.org", "password": PASSWORD,
                                       "csrf_token": token_on(anon_client, "/sign-in")})  # fmt: skip
    base = start_with_csrf(anon_client)
    domain = core(app).domains[0]
    path = f"{base}/domains/{domain.id}"
    old_tab_token = token_on(anon_client, path)
    age_session(app, anon_client, hours=3)
    # In another tab, the session has ended and they sign in again: a new session, a new token.
    anon_client.get("/")
    anon_client.post("/sign-in", data={"email": "cd@example.org", "password": PASSWORD,
                                       "csrf_token": token_on(anon_client, "/sign-in")})  # fmt: skip
    typed = {**domain_data(domain, note="Typed in the old tab"), "csrf_token": old_tab_token}
    response = anon_client.post(path, data=typed)
    assert response.status_code == 302 and response.location == path
    soup = page(anon_client.get(path))
    assert "You signed in again after opening this page" in soup.get_text()
    assert soup.select_one(f'textarea[name="{domain.questions[0].id}-note"]').get_text().strip() == (
        "Typed in the old tab"
    )


def test_one_user_can_keep_only_a_few_pages(app):
    with app.test_request_context():
        user = get_user_by_email("cd@example.org")
        from werkzeug.datastructures import MultiDict

        for n in range(pending_input.PER_USER + 4):
            assert pending_input.stash(f"/assessments/1/domains/d{n}", MultiDict({"n": "x" * 5000}), user.id, "a")
        assert db.session.query(PendingInput).filter_by(user_id=user.id).count() == pending_input.PER_USER


# --- 7. Sign-out is a POST with a CSRF token ---------------------------------------------------------------------


def test_a_link_cannot_sign_anyone_out(cd_client, csrf_on):
    assert cd_client.get("/sign-out").status_code == 405
    assert cd_client.post("/sign-out").status_code == 302  # no token: ignored
    assert cd_client.get("/").status_code == 200
    assert cd_client.post("/sign-out", data={"csrf_token": token_on(cd_client, "/")}).status_code == 302
    assert cd_client.get("/").status_code == 302


# --- 8. Bad input is a message or a 404, never a 500 -------------------------------------------------------------


@pytest.mark.parametrize("revision", [str(10**25), str(2**31), "-5", "1e3", "\x00"])
def test_a_tampered_revision_is_a_conflict_not_an_error(app, cd_client, revision):
    base = start(cd_client)
    domain = core(app).domains[0]
    response = cd_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, revision=revision))
    assert response.status_code == 409
    assert answers(app) == 0


def test_a_tampered_action_revision_is_a_conflict_not_an_error(app, cd_client):
    base = start(cd_client)
    complete_all(cd_client, app, base)
    cd_client.post(f"{base}/check")
    links = [a["href"] for a in page(cd_client.get(f"{base}/plan")).select("a[href*='/plan/actions/']")]
    path = next(link for link in links if re.search(r"/plan/actions/\d+$", link))
    form = {"title": "T", "owner": "O", "effort": "days", "month": "1", "status": "done", "revision": str(10**25)}
    assert cd_client.post(path, data=form).status_code == 409


@pytest.mark.parametrize(
    "path",
    [
        "/assessments/9223372036854775808",
        "/assessments/2147483648",
        "/assessments/2147483648/plan",
        "/assessments/1/plan/actions/99999999999999999999",
        "/assessments/1/domains/" + "x" * 600,
    ],
)
def test_ids_beyond_the_database_range_are_not_found(cd_client, path):
    assert cd_client.get(path).status_code == 404


@pytest.mark.parametrize("client_name", ["cd_client", "anon_client"])
@pytest.mark.parametrize(
    "path",
    ["/assessments/1/domains/a%00b", "/assessments/1/domains/" + "y" * 600,
     "/assessments/1/domains/a%0d%0aSet-Cookie:x",
     "/assessments/1/plan/actions/new%0d%0a"],
)  # fmt: skip
def test_odd_paths_in_posts_that_fail_their_csrf_check_are_handled(request, client_name, path, csrf_on):
    client = request.getfixturevalue(client_name)
    for method in ("post", "get"):
        response = getattr(client, method)(path, data={"note": "x"})
        assert response.status_code < 500, (method, path)
        assert "\n" not in response.headers.get("Location", "") and "\r" not in response.headers.get("Location", "")


# --- 9. Configuration fails closed -------------------------------------------------------------------------------


@pytest.fixture
def production_app(tmp_path, monkeypatch):
    from app import create_app
    from app.services import database

    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")  # production will not start with nowhere to send email
    monkeypatch.setenv("MAIL_FROM", "readiness@example.org")
    monkeypatch.delenv("APP_ENV", raising=False)  # unset means production
    application = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite'}"})
    with application.app_context():
        database.upgrade()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    security_logger = logging.getLogger("app.security")
    for handler in list(security_logger.handlers):  # it wrote to this test's captured standard error
        security_logger.removeHandler(handler)


def test_unset_app_env_means_production(production_app):
    config = production_app.config
    assert config["APP_ENV"] == "production" and not config["DEMO_DATA_ALLOWED"]
    assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_NAME"] == "__Host-session"


@pytest.mark.parametrize("key", [None, "", "x", "a" * 31])
def test_production_refuses_to_start_without_a_proper_secret_key(tmp_path, monkeypatch, key):
    from app import create_app
    from app.config import ConfigError

    monkeypatch.delenv("APP_ENV", raising=False)
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
        (tmp_path / "secret_key").write_text("a development key file must never be used in production" * 2)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})


def test_an_unknown_app_env_is_refused(tmp_path, monkeypatch):
    from app import create_app
    from app.config import ConfigError

    monkeypatch.setenv("APP_ENV", "prod")
    with pytest.raises(ConfigError, match="APP_ENV"):
        create_app()


def test_production_ignores_flask_debug(tmp_path, monkeypatch):
    from flask.helpers import get_debug_flag

    from app import create_app

    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("MAIL_FROM", "readiness@example.org")
    monkeypatch.delenv("APP_ENV", raising=False)
    application = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    assert application.debug is False and get_debug_flag() is False  # `flask run` will not start its debugger


def test_production_refuses_to_serve_while_demo_accounts_exist(production_app):
    from app.services import demo

    with production_app.app_context():
        demo.load()
    client = production_app.test_client()
    response = client.get("/sign-in", base_url="https://readiness.example")
    assert response.status_code == 503 and "demo accounts" in response.get_data(as_text=True)
    assert sign_in(client).status_code in (400, 503)  # the public demo password opens nothing
    with production_app.app_context():
        assert db.session.query(UserSession).count() == 0
    result = production_app.test_cli_runner().invoke(args=["demo", "remove"])
    assert result.exit_code == 0 and f"{len(demo.ACCOUNTS)} demo account(s) removed" in result.output
    assert client.get("/sign-in", base_url="https://readiness.example").status_code == 200


# --- 10. Security events are logged, without secrets -------------------------------------------------------------


def test_security_events_are_logged_as_structured_lines_without_secrets(app, anon_client, cd_client, caplog):
    import json

    caplog.set_level(logging.INFO, logger="app.security")
    for _ in range(6):
        sign_in(anon_client, password="a-wrong-secret")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        cd_client.post("/assessments/start", data={"csrf_token": "forged"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "app.security"]
    kinds = {(e["event"], e["outcome"]) for e in events}
    assert {("sign_in", "failed"), ("sign_in", "throttled"), ("csrf_failure", "refused")} <= kinds
    failed = next(e for e in events if e["event"] == "sign_in" and e["outcome"] == "failed")
    assert failed["address"] == "127.0.0.1" and failed["user_id"] and failed["reason"] == "wrong_password"
    assert "a-wrong-secret" not in caplog.text and "demo-password" not in caplog.text


def test_refused_access_is_logged(app, icb_client, cd_client, cd2_client, caplog):
    import json

    caplog.set_level(logging.INFO, logger="app.security")
    assert icb_client.post("/assessments/start").status_code == 403
    base = start(cd_client)
    assert cd2_client.get(base).status_code == 404  # another PCN probing an id
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "app.security"]
    assert any(e["event"] == "access_denied" and e["path"] == "/assessments/start" for e in events)
    assert any(e["event"] == "object_access_denied" and e["path"] == base for e in events)


# --- 11. Input is not lost when the browser loses its session ----------------------------------------------------


def test_input_posted_after_cookies_were_cleared_comes_back_after_signing_in(app, cd_client, csrf_on):
    base = start_with_csrf(cd_client)
    domain = core(app).domains[0]
    path = f"{base}/domains/{domain.id}"
    typed = {**domain_data(domain, current="2", target="3", note="Typed before the cookies went"),
             "csrf_token": token_on(cd_client, path)}  # fmt: skip
    cd_client.delete_cookie("session")
    response = cd_client.post(path, data=typed)
    assert response.status_code == 302 and response.location == f"/sign-in?next={path}"
    assert "Sign in again to see them and save them" in cd_client.get(response.location).get_data(as_text=True)
    token = token_on(cd_client, "/sign-in")
    response = cd_client.post(response.location, data={"email": "cd@example.org", "password": PASSWORD,
                                                        "csrf_token": token})  # fmt: skip
    assert response.location == path
    soup = page(cd_client.get(path))
    assert "Your answers are not saved yet" in soup.get_text()
    assert soup.select_one(f'textarea[name="{domain.questions[0].id}-note"]').get_text().strip() == (
        "Typed before the cookies went"
    )


def test_kept_input_from_a_browser_without_cookies_goes_only_to_someone_who_may_edit_the_page(app, cd_client, csrf_on):
    base = start_with_csrf(cd_client)
    domain = core(app).domains[0]
    path = f"{base}/domains/{domain.id}"
    stranger = app.test_client()
    stranger.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    stranger.post(path, data=domain_data(domain, note="Typed on a shared computer"))
    stranger.post("/sign-in", data={"email": "cd2@example.org", "password": PASSWORD,
                                     "csrf_token": token_on(stranger, "/sign-in")})  # fmt: skip
    assert stranger.get(path).status_code == 404  # another PCN: not theirs to see, kept or not


def test_a_cross_site_post_keeps_nothing_and_says_so(app, cd_client, csrf_on):
    base = start_with_csrf(cd_client)
    domain = core(app).domains[0]
    path = f"{base}/domains/{domain.id}"
    cd_client.delete_cookie("session")
    response = cd_client.post(
        path, data=domain_data(domain, note="From another site"), headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 302
    assert "they could not be kept" in cd_client.get(response.location).get_data(as_text=True)
    with app.app_context():
        assert db.session.query(PendingInput).count() == 0


def test_security_events_reach_standard_error_outside_the_tests(capsys, production_app):
    production_app.test_client().post(
        "/sign-in", data={"email": "x@example.org", "password": "p"}, base_url="https://readiness.example"
    )
    assert '"event": "csrf_failure"' in capsys.readouterr().err  # no token: refused, and an operator sees it


def test_https_sign_in_works_with_the_referrer_our_pages_send(production_app):
    from app.services import demo

    with production_app.app_context():
        demo.load()
        demo.remove()  # as a real deployment: no demo accounts, one real user
        user = User(email="lead@example.org", name="Lead", role="icb_lead",
                    organisation_id=db.session.scalar(select(Organisation.id).limit(1)))  # fmt: skip
        user.set_password("a long real password")
        db.session.add(user)
        db.session.commit()
    client = production_app.test_client()
    base = "https://readiness.example"
    sign_in_page = client.get("/sign-in", base_url=base)
    assert sign_in_page.headers["Referrer-Policy"] == "same-origin"  # so the browser sends the next header
    token = page(sign_in_page).select_one("input[name=csrf_token]")["value"]
    response = client.post(
        "/sign-in", base_url=base, headers={"Referer": f"{base}/sign-in"},
        data={"email": "lead@example.org", "password": "a long real password", "csrf_token": token},
    )  # fmt: skip
    assert response.status_code == 302 and response.location == "/"


def test_passwords_use_scrypt_with_n_of_at_least_2_16_and_old_hashes_are_upgraded(app, anon_client):
    from werkzeug.security import generate_password_hash

    with app.app_context():
        user = get_user_by_email("cd2@example.org")
        assert user.password_hash.startswith("scrypt:65536:8:1$")
        user.password_hash = generate_password_hash(PASSWORD, method="scrypt:32768:8:1")
        db.session.commit()
    assert sign_in(anon_client, "cd2@example.org").status_code == 302
    with app.app_context():
        assert get_user_by_email("cd2@example.org").password_hash.startswith("scrypt:65536:8:1$")
