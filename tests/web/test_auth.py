"""Signing in and out."""

from tests.conftest import error_messages, page


def test_sign_in_page_has_the_fields_and_button(anon_client):
    soup = page(anon_client.get("/sign-in"))
    assert soup.find("label", string=lambda s: s and "Email address" in s)
    assert soup.find("label", string=lambda s: s and "Password" in s)
    assert soup.find("button", string=lambda s: s and "Sign in" in s)


def test_signed_out_visitors_are_sent_to_sign_in(anon_client):
    response = anon_client.get("/")
    assert response.status_code == 302 and response.location.startswith("/sign-in?next=/")


def test_sign_in_with_the_demo_account_then_sign_out(anon_client):
    response = anon_client.post("/sign-in?next=/", data={"email": "CD@example.org ", "password": "demo-password"})
    assert response.status_code == 302 and response.location == "/"
    soup = page(anon_client.get("/"))
    sign_out = soup.find("button", string=lambda s: s and "Sign out" in s).find_parent("form")
    assert sign_out["method"] == "post" and sign_out["action"] == "/sign-out"
    assert sign_out.find("input", {"name": "csrf_token"})["value"]
    assert "Riverside PCN" in soup.get_text()
    anon_client.post("/sign-out")
    assert anon_client.get("/").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_message(anon_client):
    wrong_password = page(anon_client.post("/sign-in", data={"email": "cd@example.org", "password": "nope"}))
    unknown_email = page(anon_client.post("/sign-in", data={"email": "who@example.org", "password": "nope"}))
    assert error_messages(wrong_password) == error_messages(unknown_email)
    assert "Enter a correct email address and password" in error_messages(wrong_password)[0]
    assert wrong_password.title.get_text().startswith("Error: ")
    # The email typed is kept; the password is not echoed back.
    assert wrong_password.find("input", {"name": "email"})["value"] == "cd@example.org"
    assert not wrong_password.find("input", {"name": "password"}).get("value")


def test_empty_and_malformed_input_get_plain_messages(anon_client):
    soup = page(anon_client.post("/sign-in", data={"email": "", "password": ""}))
    assert error_messages(soup) == ["Enter your email address", "Enter your password"]
    soup = page(anon_client.post("/sign-in", data={"email": "not-an-email", "password": "x"}))
    assert error_messages(soup) == ["Enter an email address in the correct format, like name@example.org"]


def test_next_cannot_send_people_to_another_site(anon_client):
    response = anon_client.post(
        "/sign-in?next=//evil.example/", data={"email": "cd@example.org", "password": "demo-password"}
    )
    assert response.location == "/"


def test_passwords_are_stored_hashed(app_ctx):
    from app.queries.users import get_user_by_email

    user = get_user_by_email("cd@example.org")
    assert user.password_hash.startswith("scrypt:") and "demo-password" not in user.password_hash


def test_session_cookie_is_httponly_and_samesite(anon_client):
    anon_client.post("/sign-in", data={"email": "cd@example.org", "password": "demo-password"})
    cookie = anon_client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    from app.config import build_config

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    config = build_config(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert not config["DEMO_DATA_ALLOWED"]


def test_sign_in_with_csrf_protection_on(app, anon_client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        soup = page(anon_client.get("/sign-in"))
        token = soup.select_one("input[name=csrf_token]")["value"]
        refused = anon_client.post("/sign-in", data={"email": "cd@example.org", "password": "demo-password"})
        assert refused.status_code == 400  # no token: asked again, not signed in, password not kept
        assert "Sign in again" in refused.get_data(as_text=True)
        assert anon_client.get("/").status_code == 302
        token = page(refused).select_one("input[name=csrf_token]")["value"]
        response = anon_client.post(
            "/sign-in", data={"email": "cd@example.org", "password": "demo-password", "csrf_token": token}
        )
        assert response.status_code == 302 and response.location == "/"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_next_with_hidden_characters_cannot_leave_the_site(anon_client):
    for target in ("/%09/evil.example", "/%0d/x", "/\\evil.example", "https://evil.example/"):
        response = anon_client.post(
            f"/sign-in?next={target}", data={"email": "cd@example.org", "password": "demo-password"}
        )
        assert response.status_code == 302 and response.location == "/", target
        anon_client.post("/sign-out")
