"""The action plan pages through the test client."""

import csv
import io
import shutil

import pytest

from app.extensions import db
from app.models import Assessment, PlanAction
from app.questionnaires import registry
from tests.conftest import FIXTURES, age_session, error_messages, page
from tests.helpers import domain_data, start

STAGES_FILE = FIXTURES / "questionnaires" / "pcn-maturity-2019.yaml"  # 3 questions, levels 0-3, 10 days a month


@pytest.fixture
def stages(app, tmp_path):
    """The app offers the four-stage fixture questionnaire alone, whatever state the shipped files are in."""
    shutil.copy(STAGES_FILE, tmp_path / STAGES_FILE.name)
    before = app.config["QUESTIONNAIRE_DIR"]
    app.config["QUESTIONNAIRE_DIR"] = str(tmp_path)
    app.extensions["questionnaires"] = None
    with app.app_context():
        questionnaire = registry().get("pcn-maturity-stages")
    yield questionnaire
    app.config["QUESTIONNAIRE_DIR"] = before
    app.extensions["questionnaires"] = None


def core(app):
    with app.app_context():
        return registry().get("pcn-maturity-stages")


@pytest.fixture
def plan_base(app, cd_client, stages):
    base = start(cd_client)
    for domain in stages.domains:
        response = cd_client.post(f"{base}/domains/{domain.id}", data=domain_data(domain, "0", "2"))
        assert response.status_code == 302, (domain.id, response.status_code)
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
        assert any(h.startswith(f"Month {month}:") and h.endswith("of 10 days") for h in headings), headings
    text = soup.get_text(" ")
    assert "6 actions: 0 done, 0 in progress, 6 not started" in text
    assert "counted as 2 days" in text and "(5 days)" in text and "(10 days)" in text
    with app.app_context():
        actions = db.session.query(PlanAction).all()
        days = {m: sum({"days": 2, "weeks": 5, "months": 10}[a.effort] for a in actions if a.month == m)
                for m in range(1, 7)}  # fmt: skip
        team = next(a for a in actions if a.key == "stages-team:step-1")
    for month in range(1, 7):
        heading = soup.select_one(f"#month-{month}").get_text(" ", strip=True)
        assert f"{days[month]} of 10 days" in heading
        assert days[month] <= 10
    row = soup.select_one(f"#action-{team.id}")
    # On a phone each value has its column's label beside it; screen readers have the table's own headers.
    labels = row.select(".nhsuk-table__heading")
    assert [label.get_text(strip=True) for label in labels] == ["Action", "Owner", "Effort", "Status"]
    assert all(label["aria-hidden"] == "true" for label in labels)
    for label in labels:
        label.decompose()
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert cells[1] == "PCN manager with the community provider" and cells[2] == "Days"
    soup = page(cd_client.get(f"{plan_base}/plan?view=domain"))
    headings = [h.get_text(strip=True) for h in soup.select("main h2")]
    assert [d.title for d in core(app).domains] == headings[: len(core(app).domains)]


def test_an_overfull_month_says_so(app, cd_client, plan_base):
    action = _first_action(app)
    path = f"{plan_base}/plan/actions/{action.id}"
    cd_client.post(path, data={**_action_form(page(cd_client.get(path))), "effort": "months", "month": "6"})
    soup = page(cd_client.get(f"{plan_base}/plan"))
    heading = soup.select_one("#month-6").get_text(" ", strip=True)
    assert "of 10 days" in heading
    with app.app_context():
        month_six = sum(
            {"days": 2, "weeks": 5, "months": 10}[a.effort] for a in db.session.query(PlanAction).filter_by(month=6)
        )
    assert f"{month_six} of 10 days" in heading
    if month_six > 10:
        assert "more than your 10 days of work a month" in soup.get_text(" ")


def test_plan_waits_for_confirmed_answers(app, cd_client, stages):
    base = start(cd_client)
    assert cd_client.get(f"{base}/plan").location == f"{base}/check"


def test_edit_an_action(app, cd_client, plan_base):
    action = _first_action(app)
    path = f"{plan_base}/plan/actions/{action.id}"
    data = _action_form(page(cd_client.get(path)))
    assert data["title"] == action.title and data["status"] == "not_started"
    assert data["effort"] == action.effort and data["partner"] == action.partner
    data.update(title="Book a time-out with the partners", owner="Dr Patel", month="3", status="in_progress")
    data.update(note="Date agreed", effort="months", partner="the LMC")
    response = cd_client.post(path, data=data)
    assert response.status_code == 302
    soup = page(cd_client.get(f"{plan_base}/plan"))
    row = soup.select_one(f"#action-{action.id}")
    assert "Book a time-out with the partners" in row.get_text() and "Dr Patel" in row.get_text()
    assert "with the LMC" in row.get_text() and "Months" in row.get_text()
    assert row.find_parent("table").find_previous("h2").get_text(strip=True).startswith("Month 3:")
    with app.app_context():
        saved = db.session.get(PlanAction, action.id)
        assert (saved.effort, saved.partner) == ("months", "the LMC")
    assert "In progress" in row.get_text() and "Date agreed" in row.get_text()


def test_bad_edit_gets_clear_messages_and_changes_nothing(app, cd_client, plan_base):
    action = _first_action(app)
    path = f"{plan_base}/plan/actions/{action.id}"
    data = _action_form(page(cd_client.get(path)))
    data.update(title="", owner="x" * 121, month="13", note="Typed note kept", effort="years", partner="y" * 121)
    soup = page(cd_client.post(path, data=data))
    messages = error_messages(soup)
    assert "Enter what the action is" in messages
    assert "Owner must be 120 characters or fewer" in messages
    assert "Select days, weeks or months for the effort" in messages
    assert "Working with must be 120 characters or fewer" in messages
    assert any("month" in m.lower() for m in messages)
    assert soup.select_one("textarea[name=note]").get_text() == "Typed note kept"
    soup = page(cd_client.post(path, data={**data, "title": "Fine", "owner": "PCN manager", "month": "2",
                                           "effort": "", "partner": "the ICB\x00"}))  # fmt: skip
    messages = error_messages(soup)
    assert "Select how much effort this action takes" in messages
    assert any(m.startswith("Working with had a hidden character") for m in messages)
    with app.app_context():
        saved = db.session.get(PlanAction, action.id)
        assert (saved.title, saved.effort, saved.partner) == (action.title, action.effort, action.partner)


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
    assert soup.select_one("input[name=effort][value=days]").has_attr("checked")  # days unless the PCN says
    response = cd_client.post(
        path, data={"title": "Visit a neighbouring PCN", "owner": "PCN manager", "month": "2",
                    "status": "not_started", "domain": "stages-care", "effort": "weeks", "partner": ""},
    )  # fmt: skip
    assert response.status_code == 302
    assert "Visit a neighbouring PCN" in cd_client.get(f"{plan_base}/plan").get_data(as_text=True)
    with app.app_context():
        own = db.session.query(PlanAction).filter_by(title="Visit a neighbouring PCN").one()
        assert (own.effort, own.partner, own.origin) == ("weeks", "", "user")
    soup = page(cd_client.post(path, data={"title": "", "owner": "", "month": "2", "status": "nope", "domain": "x",
                                           "effort": "lots", "partner": "z" * 121}))  # fmt: skip
    messages = error_messages(soup)
    assert "Enter what the action is" in messages and "Enter who owns this action" in messages
    assert "Select days, weeks or months for the effort" in messages
    assert "Working with must be 120 characters or fewer" in messages

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
    cd_client.post(f"{plan_base}/domains/{domain.id}", data=domain_data(domain, "1", "3", revision=progress))
    soup = page(cd_client.get(f"{plan_base}/plan"))
    assert "Your answers have changed since this plan was made" in soup.get_text()
    response = cd_client.post(f"{plan_base}/plan/regenerate")
    assert response.status_code == 302
    soup = page(cd_client.get(f"{plan_base}/plan"))
    text = soup.get_text(" ")
    assert "Our own first step" in text and "Your own changes have been kept" in text
    assert "Your answers have changed" not in text
    assert "7 actions" in text  # step 1 of the team question marked gap closed, step 3 added


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter how many days of work a month, from 2 to 60"),
        ("   ", "Enter how many days of work a month, from 2 to 60"),
        ("lots", "Enter days of work a month as a whole number, like 12"),
        ("2.5", "Enter days of work a month as a whole number, like 12"),
        ("0", "Enter how many days of work a month, from 2 to 60"),
        ("1", "Enter how many days of work a month, from 2 to 60"),
        ("61", "Enter how many days of work a month, from 2 to 60"),
        ("99999999999999999999", "Enter how many days of work a month, from 2 to 60"),
    ],
)
def test_capacity_setting_refuses_bad_input_and_changes_nothing(app, cd_client, plan_base, typed, message):
    with app.app_context():
        months_before = {a.id: a.month for a in db.session.query(PlanAction)}
    response = cd_client.post(f"{plan_base}/plan/settings", data={"capacity": typed})
    assert response.status_code == 200
    soup = page(response)
    assert error_messages(soup) == [message]
    assert soup.select_one("input[name=capacity]")["value"] == typed
    with app.app_context():
        assert db.session.query(Assessment).one().plan_capacity is None
        assert {a.id: a.month for a in db.session.query(PlanAction)} == months_before


def test_capacity_setting(app, cd_client, plan_base):
    soup = page(cd_client.get(f"{plan_base}/plan/settings"))
    assert soup.select_one("input[name=capacity]")["value"] == "10"  # the questionnaire's default
    text = soup.get_text(" ")
    assert "counted as 2 days" in text and "counted as 5 days" in text and "counted as 10 days" in text
    response = cd_client.post(f"{plan_base}/plan/settings", data={"capacity": "5"})
    assert response.status_code == 302
    soup = page(cd_client.get(f"{plan_base}/plan"))
    assert "up to 5 days of work a month" in soup.get_text(" ")
    with app.app_context():
        assert db.session.query(Assessment).one().plan_capacity == 5
        actions = db.session.query(PlanAction).all()
    for month in range(1, 7):
        days = sum({"days": 2, "weeks": 5, "months": 10}[a.effort] for a in actions if a.month == month)
        assert days <= 5
        assert f"{days} of 5 days" in soup.select_one(f"#month-{month}").get_text(" ", strip=True)


def test_plan_csv(app, cd_client, plan_base):
    response = cd_client.get(f"{plan_base}/plan.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    assert response.get_data().startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads it as UTF-8, accents intact
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == 6 and {r["Month"] for r in rows} <= {"1", "2", "3", "4", "5", "6", "Later"}
    assert rows[0]["Domain"] == "Leadership and planning" and rows[0]["Status"] == "Not started"
    assert {r["Effort"] for r in rows} <= {"Days", "Weeks", "Months"}
    assert "the community provider" in {r["Working with"] for r in rows}


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
        assert client.post(f"{plan_base}/{path}", data={"capacity": "2"}).status_code == expected, path
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
