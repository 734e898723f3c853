"""The session cookie is checked once per worker (app/cookie_session.py) and is still refused whenever Flask would
refuse it: changed by a character, past its lifetime, or signed with another key."""

import time

from flask import request

from app import cookie_session


def _cookie(app, client) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def _open(app, cookie: str):
    with app.test_request_context("/", headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}):
        return app.session_interface.open_session(app, request)


def _signed_in(app, client) -> str:
    assert client.get("/").status_code == 200
    cookie = _cookie(app, client)
    assert _open(app, cookie)["_user_id"]  # checked in full, and now remembered
    return cookie


def test_a_cookie_changed_by_one_character_is_refused_after_the_real_one_was_remembered(app, cd_client):
    cookie = _signed_in(app, cd_client)
    # The signature's first character: it stands for six whole bits (the last may only hold padding bits).
    payload, signature = cookie.rsplit(".", 1)
    forged = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert dict(_open(app, forged)) == {}
    cd_client.set_cookie(app.config["SESSION_COOKIE_NAME"], forged)
    response = cd_client.get("/")
    assert response.status_code == 302 and response.location.startswith("/sign-in")


def test_a_remembered_cookie_past_its_lifetime_is_refused(app, cd_client, monkeypatch):
    cookie = _signed_in(app, cd_client)
    lifetime = app.permanent_session_lifetime.total_seconds()
    now = time.time()
    monkeypatch.setattr(cookie_session.time, "time", lambda: now + lifetime - 60)
    assert _open(app, cookie)["_user_id"]
    monkeypatch.setattr(cookie_session.time, "time", lambda: now + lifetime + 60)
    assert dict(_open(app, cookie)) == {}


def test_a_remembered_cookie_is_refused_once_the_secret_key_changes(app, cd_client, monkeypatch):
    cookie = _signed_in(app, cd_client)
    monkeypatch.setitem(app.config, "SECRET_KEY", "another key altogether, as after a rotation")
    assert dict(_open(app, cookie)) == {}


def test_what_a_request_does_to_its_session_never_reaches_the_next(app, cd_client):
    cookie = _signed_in(app, cd_client)
    first = _open(app, cookie)
    user_id = first["_user_id"]
    first["_user_id"] = "someone else"
    first["extra"] = "added"
    second = _open(app, cookie)
    assert second["_user_id"] == user_id and "extra" not in second


def test_a_session_holding_a_list_is_never_shared_between_requests(app, cd_client):
    cookie = _signed_in(app, cd_client)
    with cd_client.session_transaction() as session:
        session["_flashes"] = [("success", "Saved")]
    with_message = _cookie(app, cd_client)
    assert with_message != cookie
    first = _open(app, with_message)
    first["_flashes"].append(("success", "Another"))
    assert _open(app, with_message)["_flashes"] == [("success", "Saved")]
