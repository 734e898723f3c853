"""The action plan pages through the test client."""

import csv
import io

import pytest

from app.extensions import db
from app.models import PlanAction
from tests.conftest import age_session, error_messages, page
from tests.helpers import complete_all, core, domain_data, start


@pytest.fixture
def plan_base(app, cd_client):
    base = start(cd_client)
    complete_all(cd_client, app, base, current="1", target="2")
    assert cd_client.post(f"{base}/check").status_code == 302
    return base


def _first_action(app) -> PlanAction:
    with app.app_context():
        return db.session.query(PlanAction).order_by(PlanAction.position).first()


def _action_form(action_id_soup) -> dict:
    form = action_id_soup.select_one("main form")
    data = {i["name"]: i.get("value", "") for i in form.select("input") if i.get("type") not in ("radio",)}
    for radio in form.select("input[type=radio][checked]"):
        data[radio["name"]] = radio["value"]
    for textarea in form.select("textarea"):
        data[textarea["name"]] = textarea.get_text()
    for select in form.select("select"):
        chosen = select.select_one("option[selected]") or select.select_one("option")
        data[select["name"]] = chosen["value"]
    return data


def test_plan_by_month_and_by_domain(app, cd_client, plan_base):
    soup = page(cd_client.get(f"{plan_base}/plan"))
    headings = [h.get_text(strip=True) for h in soup.select("main h2")]
    for month in range(1, 7):
        assert f"Month {month}" in headings
    text = soup.get_text(" ")
    assert "41 actions: 0 done, 0 in progress, 41 not started" in text
    first_month = soup.select_one("#month-1").find_next("table")
    assert len(first_month.select("tbody tr")) == 5  # the default ceiling
    soup = page(cd_client.get(f"{plan_base}/plan?view=domain"))
    headings = [h.get_text(strip=True) for h in soup.select("main h2")]
    assert [d.title for d in core(app).domains] == headings[: len(core(app).domains)]


def test_plan_waits_for_confirmed_answers(app, cd_client):
    base = start(cd_client)
    assert cd_client.get(f"{base}/plan").location == f"{base}/check"


def test_edit_an_action(app, cd_client, plan_base):
    action = _first_action(app)
    path = f"{plan_base}/plan/actions/{action.id}"
    data = _action_form(page(cd_client.get(path)))
    assert data["title"] == action.title and data["status"] == "not_started"
    data.update(title="Book a time-out with the partners", owner="Dr Patel", month="3", status="in_progress")
    data["note"] = "Date agreed"
    response = cd_client.post(path, data=data)
    assert response.status_code == 302
    soup = page(cd_client.get(f"{plan_base}/plan"))
    row = soup.select_one(f"#action-{action.id}")
    assert "Book a time-out with the partners" in row.get_text() and "Dr Patel" in row.get_text()
    assert row.find_parent("table").find_previous("h2").get_text(strip=True) == "Month 3"
    assert "In progress" in row.get_text() and "Date agreed" in row.get_text()


def test_bad_edit_gets_clear_messages_and_changes_nothing(app, cd_client, plan_base):
    action = _first_action(app)
    path = f"{plan_base}/plan/actions/{action.id}"
    data = _action_form(page(cd_client.get(path)))
    data.update(title="", owner="x" * 121, month="13", note="Typed note kept")
    soup = page(cd_client.post(path, data=data))
    messages = error_messages(soup)
    assert "Enter what the action is" in messages
    assert "Owner must be 120 characters or fewer" in messages
    assert any("month" in m.lower() for m in messages)
    assert soup.select_one("textarea[name=note]").get_text() == "Typed note kept"
    with app.app_context():
        assert db.session.get(PlanAction, action.id).title == action.title


def test_two_colleagues_editing_one_action(app, cd_client, manager_client, plan_base):
    action = _first_action(app)
    path = f"{plan_base}/plan/actions/{action.id}"
    mine = _action_form(page(cd_client.get(path)))
    theirs = _action_form(page(manager_client.get(path)))
    assert cd_client.post(path, data={**mine, "owner": "Director"}).status_code == 302
    response = manager_client.post(path, data={**theirs, "owner": "Manager"})
    assert response.status_code == 409
    soup = page(response)
    assert "A colleague changed this action" in soup.get_text() and "owner Director" in soup.get_text()
    assert soup.select_one("input[name=owner]")["value"] == "Manager"
    with app.app_context():
        assert db.session.get(PlanAction, action.id).owner == "Director"


def test_add_and_remove_actions(app, cd_client, plan_base):
    path = f"{plan_base}/plan/actions/new"
    soup = page(cd_client.get(path))
    assert soup.select_one("select[name=domain]")
    response = cd_client.post(
        path, data={"title": "Visit a neighbouring PCN", "owner": "PCN manager", "month": "2",
                    "status": "not_started", "domain": "governance"},
    )  # fmt: skip
    assert response.status_code == 302
    assert "Visit a neighbouring PCN" in cd_client.get(f"{plan_base}/plan").get_data(as_text=True)
    soup = page(cd_client.post(path, data={"title": "", "owner": "", "month": "2", "status": "nope", "domain": "x"}))
    assert "Enter what the action is" in error_messages(soup) and "Enter who owns this action" in error_messages(soup)

    action = _first_action(app)
    remove = f"{plan_base}/plan/actions/{action.id}/remove"
    assert "Remove this action?" in page(cd_client.get(remove)).h1.get_text()
    assert cd_client.post(remove).status_code == 302
    assert f'id="action-{action.id}"' not in cd_client.get(f"{plan_base}/plan").get_data(as_text=True)
    assert cd_client.get(f"{plan_base}/plan/actions/{action.id}").status_code == 404


def test_changed_answers_offer_an_update_that_keeps_edits(app, cd_client, plan_base):
    action = _first_action(app)
    path = f"{plan_base}/plan/actions/{action.id}"
    data = _action_form(page(cd_client.get(path)))
    cd_client.post(path, data={**data, "title": "Our own first step"})
    domain = core(app).domains[-1]
    progress = page(cd_client.get(f"{plan_base}/domains/{domain.id}")).select_one("input[name=revision]")["value"]
    cd_client.post(f"{plan_base}/domains/{domain.id}", data=domain_data(domain, "1", "4", revision=progress))
    soup = page(cd_client.get(f"{plan_base}/plan"))
    assert "Your answers have changed since this plan was made" in soup.get_text()
    response = cd_client.post(f"{plan_base}/plan/regenerate")
    assert response.status_code == 302
    soup = page(cd_client.get(f"{plan_base}/plan"))
    text = soup.get_text(" ")
    assert "Our own first step" in text and "Your own changes have been kept" in text
    assert "Your answers have changed" not in text
    assert f"{41 + 2 * len(domain.questions)} actions" in text


def test_monthly_ceiling_setting(app, cd_client, plan_base):
    soup = page(cd_client.post(f"{plan_base}/plan/settings", data={"max_per_month": "lots"}))
    assert error_messages(soup) == ["Most actions in any one month must be a whole number, like 5"]
    soup = page(cd_client.post(f"{plan_base}/plan/settings", data={"max_per_month": "0"}))
    assert error_messages(soup) == ["Most actions in any one month must be between 1 and 20"]
    cd_client.post(f"{plan_base}/plan/settings", data={"max_per_month": "3"})
    soup = page(cd_client.get(f"{plan_base}/plan"))
    assert len(soup.select_one("#month-1").find_next("table").select("tbody tr")) == 3


def test_plan_csv(app, cd_client, plan_base):
    response = cd_client.get(f"{plan_base}/plan.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    assert response.get_data().startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads it as UTF-8, accents intact
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == 41 and {r["Month"] for r in rows} <= {"1", "2", "3", "4", "5", "6", "Later"}
    assert rows[0]["Domain"] == "Leadership" and rows[0]["Status"] == "Not started"


def test_csv_cells_cannot_become_formulas(app, cd_client, plan_base):
    action = _first_action(app)
    path = f"{plan_base}/plan/actions/{action.id}"
    cd_client.post(path, data={**_action_form(page(cd_client.get(path))), "title": "=HYPERLINK(1)"})
    assert "'=HYPERLINK(1)" in cd_client.get(f"{plan_base}/plan.csv").get_data(as_text=True)


@pytest.mark.parametrize(("client_name", "expected"), [("cd2_client", 404), ("icb_client", 403), ("anon_client", 302)])
def test_plan_is_the_pcns_alone(app, plan_base, request, client_name, expected):
    client = request.getfixturevalue(client_name)
    action = _first_action(app)
    for path in ("plan", "plan.csv", f"plan/actions/{action.id}", "plan/actions/new"):
        assert client.get(f"{plan_base}/{path}").status_code == expected, path
    for path in ("plan/regenerate", f"plan/actions/{action.id}/remove", "plan/settings"):
        assert client.post(f"{plan_base}/{path}", data={"max_per_month": "1"}).status_code == expected, path
    with app.app_context():
        assert not db.session.get(PlanAction, action.id).removed


def test_plan_edit_typed_as_the_session_ended_comes_back(app, cd_client, plan_base):

    action = _first_action(app)
    path = f"{plan_base}/plan/actions/{action.id}"
    data = {**_action_form(page(cd_client.get(path))), "note": "Typed before the meeting"}
    age_session(app, cd_client, hours=3)
    response = cd_client.post(path, data=data)
    assert response.location == f"/sign-in?next={path}"
    cd_client.post(response.location, data={"email": "cd@example.org", "password": "demo-password"})
    soup = page(cd_client.get(path))
    assert "Your changes are not saved yet" in soup.get_text()
    assert soup.select_one("textarea[name=note]").get_text() == "Typed before the meeting"


def test_an_action_removed_by_a_colleague_while_editing_keeps_the_edit(app, cd_client, manager_client, plan_base):
    action = _first_action(app)
    path = f"{plan_base}/plan/actions/{action.id}"
    mine = {**_action_form(page(cd_client.get(path))), "note": "My careful note"}
    manager_client.post(f"{path}/remove")
    response = cd_client.post(path, data=mine)
    assert response.status_code == 409
    soup = page(response)
    assert "A colleague removed this action" in soup.get_text()
    assert soup.select_one("textarea[name=note]").get_text() == "My careful note"
    assert soup.select_one("main form")["action"] == f"{plan_base}/plan/actions/new"
