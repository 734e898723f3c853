"""Nothing typed is lost: not when two colleagues save the same page, not when a session ends."""

from app.extensions import db
from app.models import Answer, PendingInput
from tests.conftest import age_session, page
from tests.helpers import core, domain_data, start


def test_second_save_from_a_stale_copy_is_shown_the_conflict_and_keeps_its_input(app, cd_client, manager_client):
    base = start(cd_client)
    domain = core(app).domains[0]
    q = domain.questions[0]
    # Both open the page at revision 0; the clinical director saves first.
    first = domain_data(domain, current="1", target="2", note="Director's view")
    assert cd_client.post(f"{base}/domains/{domain.id}", data=first).status_code == 302
    second = domain_data(domain, current="2", target="4", note="Manager's view")
    response = manager_client.post(f"{base}/domains/{domain.id}", data=second)
    assert response.status_code == 409
    soup = page(response)
    conflict = soup.select_one("#conflict").get_text(" ")
    assert "Dr Asha Patel saved answers" in conflict and "Director's view" in conflict
    # The manager's own input is still in the form, unsaved.
    assert soup.select_one(f'textarea[name="{q.id}-note"]').get_text().strip() == "Manager's view"
    assert soup.select_one(f'input[name="{q.id}-now"][value="2"]').has_attr("checked")
    with app.app_context():
        saved = db.session.query(Answer).filter_by(question_id=q.id).one()
        assert (saved.current, saved.note) == (1, "Director's view")
    # Saving again, having seen the conflict, keeps the manager's answers deliberately.
    revision = soup.select_one('input[name="revision"]')["value"]
    assert manager_client.post(f"{base}/domains/{domain.id}", data={**second, "revision": revision}).status_code == 302
    with app.app_context():
        saved = db.session.query(Answer).filter_by(question_id=q.id).one()
        assert (saved.current, saved.note) == (2, "Manager's view")


def test_input_posted_after_the_session_ended_comes_back_after_signing_in(app, cd_client):
    base = start(cd_client)
    domain = core(app).domains[0]
    q = domain.questions[0]
    age_session(app, cd_client, hours=3)
    typed = domain_data(domain, current="2", target="3", note="Typed before lunch")
    response = cd_client.post(f"{base}/domains/{domain.id}", data=typed)
    path = f"{base}/domains/{domain.id}"
    assert response.status_code == 302 and response.location == f"/sign-in?next={path}"
    with app.app_context():
        assert db.session.query(Answer).count() == 0  # not saved without a signed-in user
    soup = page(cd_client.get(response.location))
    assert "Sign in again to see them and save them" in soup.get_text()
    response = cd_client.post(response.location, data={"email": "cd@example.org", "password": "demo-password"})
    assert response.location == path
    soup = page(cd_client.get(path))
    assert "Your answers are not saved yet" in soup.get_text()
    assert soup.select_one(f'textarea[name="{q.id}-note"]').get_text().strip() == "Typed before lunch"
    assert soup.select_one(f'input[name="{q.id}-now"][value="2"]').has_attr("checked")
    # Saving now works, and the kept input is not shown twice.
    revision = soup.select_one('input[name="revision"]')["value"]
    assert cd_client.post(path, data={**typed, "revision": revision}).status_code == 302
    assert "Typed before lunch" in cd_client.get(path).get_data(as_text=True)
    assert "not saved yet" not in cd_client.get(path).get_data(as_text=True)


def test_kept_input_is_only_given_back_to_the_person_who_typed_it(app, cd_client, manager_client):
    base = start(cd_client)
    domain = core(app).domains[0]
    age_session(app, cd_client, hours=3)
    cd_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, note="Private draft"))
    with cd_client.session_transaction() as session:
        token = session["pending_input"]
    with manager_client.session_transaction() as session:
        session["pending_input"] = token
    assert "Private draft" not in manager_client.get(f"{base}/domains/{domain.id}").get_data(as_text=True)


def test_with_csrf_on_an_ended_session_keeps_the_input_for_its_user(app, cd_client):
    base = start(cd_client)
    domain = core(app).domains[0]
    path = f"{base}/domains/{domain.id}"
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        token = page(cd_client.get(path)).select_one("input[name=csrf_token]")["value"]
        age_session(app, cd_client, hours=3)
        typed = {**domain_data(domain, note="Kept with protection on"), "csrf_token": token}
        response = cd_client.post(path, data=typed)
        assert response.status_code == 302 and response.location == f"/sign-in?next={path}"
        with cd_client.session_transaction() as session:
            assert session.get("pending_input")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_stranger_cannot_fill_the_store_of_kept_input(app, anon_client):
    from app.services.pending_input import UNCLAIMED_PER_ADDRESS

    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for n in range(UNCLAIMED_PER_ADDRESS + 5):
            anon_client.delete_cookie("session")  # a new browser each time
            response = anon_client.post("/assessments/1/domains/leadership", data={"leadership-note": f"x{n}" * 500})
            assert response.status_code == 302 and response.location.startswith("/sign-in")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        assert db.session.query(PendingInput).count() == UNCLAIMED_PER_ADDRESS


def test_with_csrf_on_a_form_without_its_token_is_refused(app, cd_client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        before = cd_client.get("/").get_data(as_text=True)
        assert "Start a new assessment" in before
        response = cd_client.post("/assessments/start", data={})
        assert response.status_code == 400
        assert "there is a problem with your request" in response.get_data(as_text=True)
        assert "Start a new assessment" in cd_client.get("/").get_data(as_text=True)  # nothing started
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
