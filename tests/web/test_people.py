"""People and invitations through the browser's eyes: invite, receive the email, accept, sign in; links that no
longer work; a clinical director looking after their PCN's team; and who may see and do what."""

import hashlib
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.models import AuditEvent, Invitation, Organisation, Role, User, UserSession
from app.queries.organisations import get_organisation_by_code
from app.queries.users import get_user_by_email
from app.services import demo, mail
from tests.conftest import _client_for, error_messages, page
from tests.servers import free_port

NEW_PASSWORD = "a kettle, a ladder and a lantern"
DEMO_EMAILS = {email for email, *_ in demo.ACCOUNTS}


# --- Fixtures: everything made here is taken away again ----------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_people(app):
    """Invitations, accounts and audit records these tests make are removed; demo accounts are put back as they were."""
    with app.app_context():
        last_audit = db.session.scalar(select(func.max(AuditEvent.id))) or 0
        app.extensions[mail.OUTBOX] = []
    yield
    with app.app_context():
        db.session.rollback()
        made = [u.id for u in db.session.scalars(select(User)) if u.email.lower() not in DEMO_EMAILS]
        db.session.execute(delete(AuditEvent).where(AuditEvent.id > last_audit))
        db.session.execute(delete(Invitation))
        if made:
            db.session.execute(delete(UserSession).where(UserSession.user_id.in_(made)))
            db.session.execute(delete(User).where(User.id.in_(made)))
        for email, _name, role, _org in demo.ACCOUNTS:
            db.session.execute(update(User).where(User.email == email).values(role=role, active=True))
        db.session.commit()
        app.extensions[mail.OUTBOX] = []


def ids(app, *emails) -> list[int]:
    with app.app_context():
        return [get_user_by_email(e).id for e in emails]


def org_id(app, code: str) -> int:
    with app.app_context():
        return get_organisation_by_code(code).id


def outbox(app):
    return list(app.extensions.get(mail.OUTBOX, []))


def link_in(message) -> str:
    """The invitation link in an email, as a path for the test client."""
    found = re.search(r"https?://\S+/invitations/accept/\S+", message.get_content())
    assert found, message.get_content()
    return urlsplit(found.group(0)).path


def invite(client, *, email="new.person@example.org", name="Alex Morgan", organisation=None, role="pcn_member"):
    data = {"email": email, "name": name, "role": role}
    if organisation is None:
        return client.post("/pcn/members/invite", data=data)
    return client.post("/people/invite", data={**data, "organisation": str(organisation)})


def accept(client, link, password=NEW_PASSWORD, confirm=None):
    return client.post(link, data={"new_password": password, "confirm_password": confirm or password})


def invitation_for(app, email) -> Invitation:
    with app.app_context():
        return db.session.scalar(select(Invitation).where(Invitation.email == email))


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(Invitation.id))),
            db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(AuditEvent.id))),
        )


# --- Invite, email, accept, signed in ----------------------------------------------------------------------------


def test_an_icb_lead_invites_someone_who_then_joins_their_pcn(app, icb_client):
    riverside = org_id(app, "U00001")
    response = invite(icb_client, email="Alex.Morgan@Example.org", organisation=riverside, role="clinical_director")
    assert response.status_code == 302 and response.location == "/people"
    assert "Invitation sent to Alex Morgan at alex.morgan@example.org" in icb_client.get("/people").get_data(True)

    [message] = outbox(app)
    assert message["To"] == "alex.morgan@example.org"
    assert message["Subject"] == "Your invitation to Riverside PCN on PCN Neighbourhood Readiness"
    text = message.get_content()
    assert "Priya Shah of Demo ICB has invited you" in text and "as a clinical director for Riverside PCN" in text
    link = link_in(message)
    token = link.rsplit("/", 1)[1]
    stored = invitation_for(app, "alex.morgan@example.org")
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in repr(vars(stored))

    visitor = app.test_client()
    soup = page(visitor.get(link))
    assert soup.h1.get_text() == "Accept your invitation"
    shown = soup.select_one(".nhsuk-summary-list").get_text(" ", strip=True)
    assert "Alex Morgan" in shown and "Riverside PCN" in shown and "Clinical director" in shown

    response = accept(visitor, link, confirm="something else entirely")
    assert response.status_code == 400 and "The passwords do not match" in error_messages(page(response))
    response = accept(visitor, link, password="too short")
    assert "Password must be between 12 and 128 characters" in error_messages(page(response))
    with app.app_context():
        assert get_user_by_email("alex.morgan@example.org") is None  # nothing made yet

    response = accept(visitor, link)
    assert response.status_code == 302 and response.location == "/"
    home = visitor.get("/")
    assert home.status_code == 200 and "Welcome, Alex Morgan" in home.get_data(as_text=True)
    with app.app_context():
        user = get_user_by_email("alex.morgan@example.org")
        assert user.role == Role.CLINICAL_DIRECTOR and user.organisation_id == riverside and user.active
        assert user.check_password(NEW_PASSWORD)
        assert db.session.scalar(select(func.count(UserSession.id)).where(UserSession.user_id == user.id)) == 1
    assert visitor.get("/pcn/members").status_code == 200  # a clinical director of Riverside now

    fresh = app.test_client()  # and they can sign in again later with the password they chose
    assert (
        fresh.post("/sign-in", data={"email": "alex.morgan@example.org", "password": NEW_PASSWORD}).status_code == 302
    )
    assert audit_actions(app) == ["invitation_sent", "invitation_accepted"]
    with app.app_context():
        areas = set(db.session.scalars(select(AuditEvent.area_id)))
        assert areas == {org_id(app, "QDM")}


def test_a_used_link_does_not_work_again(app, cd_client):
    assert invite(cd_client).status_code == 302
    link = link_in(outbox(app)[0])
    assert accept(app.test_client(), link).status_code == 302
    before = counts(app)
    for client in (app.test_client(), app.test_client()):
        response = client.get(link)
        assert response.status_code == 410 and page(response).h1.get_text() == "This invitation has already been used"
        response = accept(client, link, password="another password entirely")
        assert response.status_code == 410
    assert counts(app) == before
    with app.app_context():
        assert get_user_by_email("new.person@example.org").check_password(NEW_PASSWORD)  # not replaced


def test_an_expired_link_says_so_and_makes_nothing(app, cd_client):
    invite(cd_client)
    link = link_in(outbox(app)[0])
    with app.app_context():
        db.session.execute(update(Invitation).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        db.session.commit()
    visitor = app.test_client()
    soup = page(visitor.get(link))
    assert soup.h1.get_text() == "This invitation has expired" and "Ask the person who invited you" in soup.text
    assert accept(visitor, link).status_code == 410
    with app.app_context():
        assert get_user_by_email("new.person@example.org") is None
    invitation_id = invitation_for(app, "new.person@example.org").id
    assert page(cd_client.get("/pcn/members")).select(f"#invitation-{invitation_id}") == []  # off the list
    assert invite(cd_client).status_code == 302  # and they can be invited again


def test_invitations_last_the_configured_number_of_days(app, cd_client, monkeypatch):
    monkeypatch.setitem(app.config, "INVITATION_DAYS", 3)
    invite(cd_client)
    stored = invitation_for(app, "new.person@example.org")
    lasts = stored.expires_at.replace(tzinfo=UTC) - stored.created_at.replace(tzinfo=UTC)
    assert lasts == timedelta(days=3)


def test_a_withdrawn_link_says_so(app, cd_client):
    invite(cd_client)
    link = link_in(outbox(app)[0])
    invitation_id = invitation_for(app, "new.person@example.org").id
    members = page(cd_client.get("/pcn/members"))
    assert members.select_one(f"#invitation-{invitation_id}") is not None
    response = cd_client.post(f"/invitations/{invitation_id}/withdraw")
    assert response.status_code == 302 and response.location == "/pcn/members"
    members = cd_client.get("/pcn/members").get_data(as_text=True)
    assert "has been withdrawn" in members and f"invitation-{invitation_id}" not in members
    response = app.test_client().get(link)
    assert response.status_code == 410 and page(response).h1.get_text() == "This invitation has been withdrawn"
    assert accept(app.test_client(), link).status_code == 410
    with app.app_context():
        assert get_user_by_email("new.person@example.org") is None
    assert audit_actions(app) == ["invitation_sent", "invitation_withdrawn"]


def test_a_made_up_link_is_not_found(app, anon_client):
    for token in ("x" * 43, "not-a-token", "a" * 500):
        response = anon_client.get(f"/invitations/accept/{token}")
        assert response.status_code == 404 and page(response).h1.get_text() == "This invitation link is not valid"
    assert accept(anon_client, "/invitations/accept/" + "y" * 43).status_code == 404


def test_a_link_for_an_email_that_has_an_account_by_now_says_so(app, cd_client):
    invite(cd_client)
    link = link_in(outbox(app)[0])
    with app.app_context():  # someone else invited them too, and they accepted that one first
        user = User(email="new.person@example.org", name="Alex Morgan", role=Role.PCN_MEMBER,
                    organisation_id=org_id(app, "U00002"))  # fmt: skip
        user.set_password("an earlier password here")
        db.session.add(user)
        db.session.commit()
    response = app.test_client().get(link)
    assert response.status_code == 409
    assert "There is already an account for new.person@example.org" in page(response).text
    assert accept(app.test_client(), link).status_code == 409
    with app.app_context():
        assert get_user_by_email("new.person@example.org").check_password("an earlier password here")


def test_someone_signed_in_is_asked_to_sign_out_before_accepting(app, cd_client, cd2_client):
    invite(cd_client)
    link = link_in(outbox(app)[0])
    response = cd2_client.get(link)
    assert response.status_code == 409 and "You are signed in as Dr Tom Hughes" in page(response).text
    assert accept(cd2_client, link).status_code == 409
    with app.app_context():
        assert get_user_by_email("new.person@example.org") is None


def test_an_invitation_dies_with_its_senders_right_to_send_it(app, cd_client):
    invite(cd_client, email="second.director@example.org", role="clinical_director")
    accept(app.test_client(), link_in(outbox(app)[0]))
    second = _client_for(app, "second.director@example.org")
    assert invite(second, email="third.person@example.org").status_code == 302
    link = link_in(outbox(app)[-1])
    [second_id] = ids(app, "second.director@example.org")
    assert cd_client.post(f"/pcn/members/{second_id}/role", data={"role": "pcn_member"}).status_code == 302
    response = app.test_client().get(link)
    assert response.status_code == 410 and page(response).h1.get_text() == "This invitation is no longer valid"


def test_accepting_with_the_page_timed_out_asks_again(app, cd_client):
    invite(cd_client)
    link = link_in(outbox(app)[0])
    visitor = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = accept(visitor, link)  # no CSRF token: the session the page was opened in is gone
        assert response.status_code == 302 and response.location.endswith(link)
        soup = page(visitor.get(link))
        assert "This page timed out" in soup.text
        token = soup.select_one("input[name=csrf_token]")["value"]
        response = visitor.post(
            link, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302 and visitor.get("/").status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_guessing_links_is_throttled(app, cd_client, anon_client):
    invite(cd_client)
    link = link_in(outbox(app)[0])
    for n in range(20):
        assert anon_client.get(f"/invitations/accept/guess-{n}").status_code == 404
    response = anon_client.get(link)  # even a real link, from this address, until the window passes
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert "too many attempts to open invitation links" in page(response).text
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert elsewhere.get(link).status_code == 200  # the invitee, from their own network, is not locked out


def test_the_token_is_never_logged_or_audited(app, cd_client, caplog):
    caplog.set_level(logging.DEBUG)
    invite(cd_client)
    link = link_in(outbox(app)[0])
    token = link.rsplit("/", 1)[1]
    visitor = app.test_client()
    visitor.get(link)
    accept(visitor, link, confirm="not the same password")
    accept(visitor, link)
    app.test_client().get(link)  # used: refused, and logged as such
    assert token not in caplog.text
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "app.security"]
    kinds = {(e["event"], e["outcome"]) for e in events}
    assert {("invitation_sent", "succeeded"), ("invitation_accepted", "succeeded"), ("sign_in", "succeeded"),
            ("invitation_link", "refused")} <= kinds  # fmt: skip
    assert all(e["path"] == "/invitations/accept/[token]" for e in events if e["event"] == "invitation_link")
    with app.app_context():
        assert not any(token in s for s in db.session.scalars(select(AuditEvent.summary)))


def test_when_the_email_cannot_be_sent_the_invitation_is_not_left_open(app, icb_client, monkeypatch):
    for key, value in {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(),
                       "MAIL_USE_TLS": False}.items():  # fmt: skip
        monkeypatch.setitem(app.config, key, value)  # a mail server that is not there
    response = invite(icb_client, organisation=org_id(app, "U00001"))
    assert response.status_code == 503
    soup = page(response)
    assert any("The invitation email could not be sent" in m for m in error_messages(soup))
    assert soup.select_one("#email")["value"] == "new.person@example.org"  # what was typed is still there
    stored = invitation_for(app, "new.person@example.org")
    assert stored.withdrawn_at is not None  # no link nobody received stays usable
    assert audit_actions(app) == ["invitation_sent", "invitation_not_sent"]
    assert "new.person@example.org" not in icb_client.get("/people").get_data(as_text=True)


# --- The invitation forms: bad input changes nothing and keeps what was typed ------------------------------------

GOOD = {"email": "new.person@example.org", "name": "Alex Morgan", "role": "pcn_member"}
BAD_INPUT = [
    ({"email": ""}, "Enter their email address"),
    ({"email": "alex.morgan"}, "Enter an email address in the correct format, like name@example.org"),
    ({"email": "alex morgan@example.org"}, "Enter an email address in the correct format, like name@example.org"),
    ({"email": "a@example.org, b@example.org"}, "Enter an email address in the correct format, like name@example.org"),
    ({"email": "x" * 250 + "@example.org"}, "Email address must be 254 characters or fewer"),
    ({"name": ""}, "Enter their full name"),
    ({"name": "A" * 201}, "Full name must be 200 characters or fewer"),
    ({"name": "Alex\x00 Morgan"}, "Full name had a hidden character that cannot be saved (such as a NUL). "
                                  "We have taken it out below: check the text, then save again."),
    ({"role": ""}, "Select their role"),
    ({"role": "admin"}, None),  # a role not offered: the form's own message
    ({"role": "superuser"}, None),
    ({"email": "manager@example.org"}, "manager@example.org already has an account. They can sign in with it"),
    ({"email": "MANAGER@example.org"}, "manager@example.org already has an account. They can sign in with it"),
]  # fmt: skip


@pytest.mark.parametrize("change, message", BAD_INPUT, ids=[repr(c)[:40] for c, _ in BAD_INPUT])
def test_bad_input_on_a_clinical_directors_invitation_changes_nothing(app, cd_client, change, message):
    before = counts(app)
    response = cd_client.post("/pcn/members/invite", data={**GOOD, **change})
    assert response.status_code == 400
    soup = page(response)
    errors = error_messages(soup)
    assert errors and (message is None or message in errors), errors
    if message is None:
        assert errors == ["Select clinical director or PCN team member"]
    assert counts(app) == before and outbox(app) == []
    typed = {**GOOD, **change}
    assert soup.select_one("#name")["value"] == typed["name"].replace("\x00", "")
    if len(typed["email"]) < 254:
        assert soup.select_one("#email")["value"] == typed["email"].strip()


ICB_BAD_INPUT = [
    ({"organisation": ""}, "Select the organisation they will belong to"),
    ({"organisation": "hillside"}, "Select an organisation from the list"),  # another ICB's PCN (filled in below)
    ({"organisation": "999999"}, "Select an organisation from the list"),
    ({"organisation": "abc"}, "Select an organisation from the list"),
    ({"role": "lmc_officer"}, "Someone invited to Riverside PCN must be a clinical director or a PCN team member"),
    ({"role": "icb_lead"}, "Someone invited to Riverside PCN must be a clinical director or a PCN team member"),
    ({"role": "admin"}, "Select one of the roles shown"),
    ({"email": "cd4@example.org"}, "cd4@example.org already has an account. They can sign in with it"),
]


@pytest.mark.parametrize("change, message", ICB_BAD_INPUT, ids=[repr(c)[:40] for c, _ in ICB_BAD_INPUT])
def test_bad_input_on_an_icb_leads_invitation_changes_nothing(app, icb_client, change, message):
    data = {**GOOD, "organisation": str(org_id(app, "U00001")), **change}
    if data["organisation"] == "hillside":
        data["organisation"] = str(org_id(app, "U00007"))
    before = counts(app)
    response = icb_client.post("/people/invite", data=data)
    assert response.status_code == 400
    soup = page(response)
    assert message in error_messages(soup)
    assert counts(app) == before and outbox(app) == []
    assert soup.select_one("#email")["value"] == data["email"] and soup.select_one("#name")["value"] == data["name"]


def test_someone_already_invited_is_not_invited_twice(app, cd_client, icb_client):
    assert invite(cd_client).status_code == 302
    before = counts(app)
    response = invite(icb_client, email="New.Person@example.org", organisation=org_id(app, "U00002"))
    assert response.status_code == 400
    assert error_messages(page(response)) == [
        "new.person@example.org has already been invited and the invitation has not expired. "
        "It can be withdrawn from the list of invitations, then sent again"
    ]
    assert counts(app) == before and len(outbox(app)) == 1


# --- ICB leads and administrators ---------------------------------------------------------------------------------


def offered(client) -> set[str]:
    soup = page(client.get("/people/invite"))
    return {o.get_text(strip=True) for o in soup.select("#organisation option") if o.get("value")}


def test_an_icb_lead_is_offered_its_own_area_only(app, icb_client):
    choices = offered(icb_client)
    assert {"Demo ICB (QDM)", "Demo Local Medical Committee", "Riverside PCN (U00001)"} <= choices
    assert not any("Hillside" in c or "Second Demo ICB" in c or "service" in c for c in choices)
    assert offered(_client_for(app, "icb2@example.org")) == {"Second Demo ICB (QSD)", "Hillside PCN (U00007)"}


def test_an_icb_lead_cannot_invite_to_another_icbs_pcn(app):
    icb2 = _client_for(app, "icb2@example.org")
    for client, pcn in ((icb2, "U00001"), (icb2, "U00002"), (_client_for(app, "icb@example.org"), "U00007")):
        before = counts(app)
        response = invite(client, organisation=org_id(app, pcn))
        assert response.status_code == 400
        assert error_messages(page(response)) == ["Select an organisation from the list"]
        assert counts(app) == before and outbox(app) == []


def test_an_icb_lead_invites_an_lmc_officer_and_another_icb_lead(app, icb_client):
    lmc = db_id_of_lmc(app)
    assert invite(icb_client, email="officer@example.org", organisation=lmc, role="lmc_officer").status_code == 302
    icb = org_id(app, "QDM")
    assert invite(icb_client, email="colleague@example.org", organisation=icb, role="icb_lead").status_code == 302
    assert [m["To"] for m in outbox(app)] == ["officer@example.org", "colleague@example.org"]


def db_id_of_lmc(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Organisation.id).where(Organisation.name == demo.LMC))


def test_an_administrator_invites_anyone_anywhere(app, admin_client):
    choices = offered(admin_client)
    assert {"Hillside PCN (U00007)", "Second Demo ICB (QSD)", "Riverside PCN (U00001)", demo.ADMIN_ORG} <= choices
    with app.app_context():
        service = db.session.scalar(select(Organisation.id).where(Organisation.name == demo.ADMIN_ORG))
    assert invite(admin_client, email="ops@example.org", organisation=service, role="admin").status_code == 302
    assert invite(admin_client, email="hill@example.org", organisation=org_id(app, "U00007"),
                  role="clinical_director").status_code == 302  # fmt: skip
    response = invite(admin_client, email="wrong@example.org", organisation=service, role="pcn_member")
    assert error_messages(page(response)) == [f"Someone invited to {demo.ADMIN_ORG} can only be an administrator"]
    accept(app.test_client(), link_in(outbox(app)[0]))
    with app.app_context():
        ops = get_user_by_email("ops@example.org")
        assert ops.role == Role.ADMIN and ops.organisation_id == service


def test_the_people_page_shows_an_icb_leads_area_and_an_administrator_everyone(app, icb_client, admin_client):
    invite(icb_client, organisation=org_id(app, "U00002"))
    text = page(icb_client.get("/people")).get_text(" ")
    assert "People in Demo ICB" in text
    assert "manager@example.org" in text and "cd2@example.org" in text and "lmc@example.org" in text
    assert "cd4@example.org" not in text and "icb2@example.org" not in text and "admin@example.org" not in text
    assert "new.person@example.org" in text  # the invitation waiting
    other = page(_client_for(app, "icb2@example.org").get("/people")).get_text(" ")
    assert "cd4@example.org" in other and "manager@example.org" not in other and "new.person" not in other
    everyone = page(admin_client.get("/people")).get_text(" ")
    assert all(email in everyone for email in DEMO_EMAILS) and "new.person@example.org" in everyone


def test_an_icb_lead_withdraws_an_invitation_in_its_area_but_not_in_another(app, icb_client, cd4_client):
    invite(icb_client, organisation=org_id(app, "U00002"))
    northfields = invitation_for(app, "new.person@example.org").id
    invite(cd4_client, email="hill.person@example.org")
    hillside = invitation_for(app, "hill.person@example.org").id
    assert icb_client.post(f"/invitations/{hillside}/withdraw").status_code == 404
    response = icb_client.post(f"/invitations/{northfields}/withdraw")
    assert response.status_code == 302 and response.location == "/people"
    with app.app_context():
        assert db.session.get(Invitation, hillside).withdrawn_at is None
        assert db.session.get(Invitation, northfields).withdrawn_at is not None


@pytest.fixture
def cd4_client(app):
    return _client_for(app, "cd4@example.org")


# --- A clinical director looks after their PCN's team ------------------------------------------------------------


def test_a_clinical_director_invites_promotes_and_deactivates_a_member(app, cd_client):
    assert invite(cd_client, email="sam.jones@example.org", name="Sam Jones").status_code == 302
    newcomer = app.test_client()
    accept(newcomer, link_in(outbox(app)[0]))
    [sam] = ids(app, "sam.jones@example.org")
    assert newcomer.get("/pcn/members/invite").status_code == 403  # a PCN team member does not invite

    soup = page(cd_client.get(f"/pcn/members/{sam}/role"))
    assert soup.select_one("input[name=role][value=pcn_member]").has_attr("checked")
    response = cd_client.post(f"/pcn/members/{sam}/role", data={"role": "clinical_director"})
    assert response.status_code == 302 and response.location == "/pcn/members"
    assert "Sam Jones is now a clinical director" in cd_client.get("/pcn/members").get_data(as_text=True)
    assert newcomer.get("/pcn/members/invite").status_code == 200  # from their very next page

    soup = page(cd_client.get(f"/pcn/members/{sam}/deactivate"))
    assert soup.h1.get_text() == "Deactivate the account of Sam Jones?"
    response = cd_client.post(f"/pcn/members/{sam}/deactivate")
    assert response.status_code == 302 and response.location == "/pcn/members"
    members = page(cd_client.get("/pcn/members"))
    assert "Sam Jones's account has been deactivated" in members.text
    assert "Deactivated" in members.select_one(f"#person-{sam}").get_text()
    assert newcomer.get("/").status_code == 302  # signed out at once
    assert (
        app.test_client()
        .post("/sign-in", data={"email": "sam.jones@example.org", "password": NEW_PASSWORD})
        .status_code
        == 401
    )
    assert audit_actions(app) == ["invitation_sent", "invitation_accepted", "role_changed", "user_deactivated"]
    with app.app_context():
        summaries = list(db.session.scalars(select(AuditEvent.summary).order_by(AuditEvent.id)))
    assert "from PCN team member to Clinical director" in summaries[2] and "Sam Jones" in summaries[3]


def test_a_clinical_director_cannot_deactivate_or_demote_themselves(app, cd_client):
    [cd] = ids(app, "cd@example.org")
    soup = page(cd_client.get(f"/pcn/members/{cd}/deactivate"))
    assert "You cannot deactivate your own account" in soup.text and soup.select_one("main form") is None
    response = cd_client.post(f"/pcn/members/{cd}/deactivate")
    assert response.status_code == 400
    assert error_messages(page(response)) == [
        "You cannot deactivate your own account. Another clinical director of your PCN can"
    ]
    soup = page(cd_client.get(f"/pcn/members/{cd}/role"))
    assert "You cannot change your own role" in soup.text and soup.select_one("main form") is None
    response = cd_client.post(f"/pcn/members/{cd}/role", data={"role": "pcn_member"})
    assert response.status_code == 400
    assert error_messages(page(response))[0].startswith("You cannot change your own role")
    with app.app_context():
        me = get_user_by_email("cd@example.org")
        assert me.active and me.role == Role.CLINICAL_DIRECTOR  # Riverside keeps its only clinical director
    assert audit_actions(app) == []
    assert cd_client.get("/").status_code == 200


def test_a_deactivated_director_is_not_changed_or_deactivated_again(app, cd_client):
    invite(cd_client, email="second.director@example.org", name="Sam Jones", role="clinical_director")
    accept(app.test_client(), link_in(outbox(app)[0]))
    [second] = ids(app, "second.director@example.org")
    assert cd_client.post(f"/pcn/members/{second}/deactivate").status_code == 302
    response = cd_client.post(f"/pcn/members/{second}/role", data={"role": "pcn_member"})
    assert response.status_code == 400
    assert error_messages(page(response)) == [
        "Sam Jones's account has been deactivated, so their role cannot be changed"
    ]
    response = cd_client.post(f"/pcn/members/{second}/deactivate")
    assert response.status_code == 400
    assert error_messages(page(response)) == ["Sam Jones's account is already deactivated"]
    assert audit_actions(app) == ["invitation_sent", "invitation_accepted", "user_deactivated"]


def test_nothing_changes_when_the_role_is_the_same(app, cd_client):
    [manager] = ids(app, "manager@example.org")
    response = cd_client.post(f"/pcn/members/{manager}/role", data={"role": "pcn_member"})
    assert response.status_code == 302
    assert "Jo Lewis is already a PCN team member" in cd_client.get("/pcn/members").get_data(as_text=True)
    assert audit_actions(app) == []


@pytest.mark.parametrize("role", ["", "admin", "icb_lead", "x" * 300, "\x00"])
def test_a_role_that_is_not_offered_changes_nothing(app, cd_client, role):
    [manager] = ids(app, "manager@example.org")
    response = cd_client.post(f"/pcn/members/{manager}/role", data={"role": role})
    assert response.status_code == 400
    assert error_messages(page(response)) in (["Select a role"], ["Select clinical director or PCN team member"])
    with app.app_context():
        assert get_user_by_email("manager@example.org").role == Role.PCN_MEMBER


def test_another_pcns_director_cannot_touch_riverside_people(app, cd_client, cd2_client, caplog):
    caplog.set_level(logging.INFO, logger="app.security")
    invite(cd_client)
    invitation_id = invitation_for(app, "new.person@example.org").id
    manager, cd = ids(app, "manager@example.org", "cd@example.org")
    for client in (cd2_client, _client_for(app, "cd4@example.org")):
        for user_id in (manager, cd):
            assert client.get(f"/pcn/members/{user_id}/role").status_code == 404
            assert client.post(f"/pcn/members/{user_id}/role", data={"role": "clinical_director"}).status_code == 404
            assert client.get(f"/pcn/members/{user_id}/deactivate").status_code == 404
            assert client.post(f"/pcn/members/{user_id}/deactivate").status_code == 404
        assert client.post(f"/invitations/{invitation_id}/withdraw").status_code == 404
        assert "manager@example.org" not in client.get("/pcn/members").get_data(as_text=True)
    assert cd2_client.get("/pcn/members/999999/role").status_code == 404  # no such account: the same answer
    with app.app_context():
        manager_now = get_user_by_email("manager@example.org")
        assert manager_now.active and manager_now.role == Role.PCN_MEMBER
        assert db.session.get(Invitation, invitation_id).withdrawn_at is None
    denied = [json.loads(r.getMessage()) for r in caplog.records if r.name == "app.security"]
    assert sum(1 for e in denied if e["event"] == "object_access_denied") >= 10


def test_a_pcn_member_sees_the_team_but_changes_nothing(app, manager_client, cd_client):
    invite(cd_client)
    soup = page(manager_client.get("/pcn/members"))
    text = soup.get_text(" ")
    assert "Dr Asha Patel" in text and "Jo Lewis (you)" in text and "new.person@example.org" in text
    assert soup.select("a[href*='/role']") == [] and soup.select("a[href*='/deactivate']") == []
    assert soup.select("form[action*='/withdraw']") == [] and soup.select("a[href='/pcn/members/invite']") == []
    invitation_id = invitation_for(app, "new.person@example.org").id
    assert manager_client.post(f"/invitations/{invitation_id}/withdraw").status_code == 403


# --- Who may open what -------------------------------------------------------------------------------------------

PEOPLE = {
    "PCN member": "manager@example.org",
    "clinical director": "cd@example.org",
    "another PCN": "cd2@example.org",
    "a PCN in another ICB": "cd4@example.org",
    "ICB lead": "icb@example.org",
    "another ICB's lead": "icb2@example.org",
    "LMC officer": "lmc@example.org",
    "administrator": "admin@example.org",
    "signed out": None,
}
WHO = list(PEOPLE)
# For each page, in the order of WHO. "ok" is the page itself (200) or, for a form post, going on from it (302).
ACCESS = {
    "GET /people": [403, 403, 403, 403, "ok", "ok", 403, "ok", "sign-in"],
    "GET /people/invite": [403, 403, 403, 403, "ok", "ok", 403, "ok", "sign-in"],
    "GET /pcn/members": ["ok", "ok", "ok", "ok", 403, 403, 403, 403, "sign-in"],
    "GET /pcn/members/invite": [403, "ok", "ok", "ok", 403, 403, 403, 403, "sign-in"],
    "GET /pcn/members/{manager}/role": [403, "ok", 404, 404, 403, 403, 403, 403, "sign-in"],
    "GET /pcn/members/{manager}/deactivate": [403, "ok", 404, 404, 403, 403, 403, 403, "sign-in"],
    "POST /invitations/{invitation}/withdraw": [403, "ok", 404, 404, "ok", 404, 403, "ok", "sign-in"],
    "GET /invitations/accept/{token}": [409, 409, 409, 409, 409, 409, 409, 409, "ok"],
}


def test_each_person_gets_what_they_should_from_each_page(app, cd_client):
    invite(cd_client)
    invite(cd_client, email="another.person@example.org")  # its link is opened; the first is withdrawn
    values = {
        "manager": ids(app, "manager@example.org")[0],
        "invitation": invitation_for(app, "new.person@example.org").id,
        "token": link_in(outbox(app)[1]).rsplit("/", 1)[1],
    }
    before = counts(app)
    wrong = []
    for route, expected in ACCESS.items():
        method, path = route.split(" ")
        path = path.format(**values)
        for who, want in zip(WHO, expected, strict=True):
            response = _client_for(app, PEOPLE[who]).open(path, method=method)
            got = response.status_code
            if got in (200, 302) and not response.headers.get("Location", "").startswith("/sign-in"):
                outcome = "ok"
            elif got == 302:
                outcome = "sign-in"
            else:
                outcome = got
            if outcome != want:
                wrong.append(f"{route} as {who}: expected {want}, got {got}")
    assert not wrong, "\n".join(wrong)
    assert counts(app)[:2] == before[:2]  # withdrawing aside, nobody made or removed anything


# --- Arbitrary input -----------------------------------------------------------------------------------------------

values = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "\x00", "pcn_member", "clinical_director", "admin", "1", "-1", str(2**31), "x" * 300]),
    st.emails().map(str),
)


def test_arbitrary_input_to_the_people_forms_is_never_a_server_error(app, cd_client, icb_client):
    [manager] = ids(app, "manager@example.org")
    forms = [
        (cd_client, "/pcn/members/invite", ["email", "name", "role"]),
        (icb_client, "/people/invite", ["email", "name", "organisation", "role"]),
        (cd_client, f"/pcn/members/{manager}/role", ["role"]),
    ]

    @settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
    @given(data=st.data())
    def post_anything(data):
        client, path, fields = data.draw(st.sampled_from(forms))
        form = {name: data.draw(values) for name in fields}
        before = counts(app), len(outbox(app))
        response = client.post(path, data=form)
        assert response.status_code < 500, (path, form)
        if response.status_code != 302:
            assert (counts(app), len(outbox(app))) == before, (path, form)

    try:
        post_anything()
    finally:
        with app.app_context():
            assert get_user_by_email("manager@example.org").active
