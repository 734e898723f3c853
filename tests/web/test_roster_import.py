"""The ICB lead imports the PCN roster from the ePCN file: upload, check what will change, confirm; and the command
line import an administrator runs."""

import io
import logging

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Organisation, RosterUpload
from app.services import roster
from tests.conftest import _client_for, error_messages, page
from tests.roster_support import DEMO_ROWS, icb, membership, organisations, organisations_restored, roster_csv

# Riverside stays, Northfields is renamed, Harbour and Coast moves to 90B, West End is new; the other three are left
# out of the file and stay as they are.
GOOD = roster_csv(
    [
        DEMO_ROWS[0],
        membership("A10002", "U00002", "NORTHFIELDS AND DISTRICT PCN", "90A"),
        membership("A10003", "U00003", "HARBOUR AND COAST PCN", "90B"),
        membership("B20001", "U10001", "WEST END PCN", "90B"),
        membership("B20002", "U10001", "WEST END PCN", "90B"),
    ]
)
BAD = roster_csv(
    [
        DEMO_ROWS[0],  # line 2 is fine
        membership("B20001", "U1", "WEST END PCN", "90B"),  # 3
        membership("B20002", "U10002", "", "90B"),  # 4
        membership("B20003", "U10003", "FAR AWAY PCN", "91Q"),  # 5
        membership("B20004", "U00007", "HILLSIDE PCN", "90A"),  # 6: Second Demo ICB's
    ]
)


@pytest.fixture(autouse=True)
def _restored(app):
    with organisations_restored(app):
        yield


def _upload(client, content: bytes | str, filename: str = "epcn.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        "/organisations/import", data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _state(app):
    with app.app_context():
        return organisations(), db.session.scalar(select(func.count()).select_from(RosterUpload))


def _pcn(app, code: str) -> tuple[str, str | None] | None:
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.ods_code == code))
        return (org.name, org.parent.ods_code if org.parent else None) if org else None


def test_the_icb_lead_sees_their_sub_icb_locations_and_pcns(icb_client):
    soup = page(icb_client.get("/organisations"))
    headings = [h.get_text(" ", strip=True) for h in soup.select("main h2")]
    assert headings == ["Demo ICB - 90A (North) (90A)", "Demo ICB - 90B (South) (90B)"]
    first, second = (t.get_text(" ", strip=True) for t in soup.select("main table"))
    assert "Riverside PCN U00001" in first and "Harbour and Coast PCN U00003" in first and "Eastgate" not in first
    assert "Valley Villages PCN U00006" in second and "Hillside" not in soup.get_text()
    assert soup.select_one("main a[href='/organisations/import']").get_text(strip=True).startswith("Import PCNs")


def test_a_pcn_not_yet_in_a_sub_icb_location_is_listed_apart(app, icb_client):
    with app.app_context():
        db.session.scalar(select(Organisation).where(Organisation.ods_code == "U00006")).parent_id = None
        db.session.commit()
    soup = page(icb_client.get("/organisations"))
    assert soup.select("main h2")[-1].get_text(strip=True) == "PCNs not yet placed in a sub-ICB location"
    assert soup.select("main table")[-1].get_text(" ", strip=True).endswith("Valley Villages PCN U00006")
    assert "Valley Villages" not in soup.select("main table")[1].get_text()


def test_upload_check_and_confirm_adds_renames_and_moves_and_records_it(app, icb_client):
    form_page = page(icb_client.get("/organisations/import"))
    assert form_page.select_one("form[enctype='multipart/form-data'] input[type=file][name=file]") is not None

    response = _upload(icb_client, GOOD, "ePCN - PCN Core Partner Details.csv")
    assert response.status_code == 302 and response.location.startswith("/organisations/import/")
    preview_path = response.location
    assert _pcn(app, "U10001") is None  # nothing changes before the lead confirms

    soup = page(icb_client.get(preview_path))
    tables = [t.get_text(" ", strip=True) for t in soup.select("main table")]
    assert "West End PCN U10001 Demo ICB - 90B (South) (90B)" in tables[0]
    assert "U00002 Northfields PCN Northfields and District PCN" in tables[1]
    assert "Harbour and Coast PCN U00003 Demo ICB - 90A (North) (90A) Demo ICB - 90B (South) (90B)" in tables[2]
    text = soup.select_one("main").get_text(" ", strip=True)
    assert "1 PCN is already recorded as the file gives it" in text
    assert "Market Towns PCN (U00004)" in text and "never removes a PCN" in text
    assert soup.select_one("main form button").get_text(strip=True) == "Confirm import"

    response = icb_client.post(preview_path)
    assert response.status_code == 302 and response.location == "/organisations"
    soup = page(icb_client.get("/organisations"))
    flash = soup.select_one(".app-flash").get_text(" ", strip=True)
    assert "1 PCN added, 1 renamed, 1 moved to another sub-ICB location; 1 unchanged" in flash
    assert "West End PCN U10001" in soup.select("main table")[1].get_text(" ", strip=True)

    assert _pcn(app, "U10001") == ("West End PCN", "90B")
    assert _pcn(app, "U00002") == ("Northfields and District PCN", "90A")
    assert _pcn(app, "U00003") == ("Harbour and Coast PCN", "90B")
    assert _pcn(app, "U00005") == ("Eastgate PCN", "90B")  # not in the file: kept as it was
    assert _count(app, RosterUpload) == 0
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster_imported"))
        assert event.user_email == "icb@example.org" and event.area_id == icb().id
        assert "ePCN - PCN Core Partner Details.csv" in event.summary
    assert icb_client.post(preview_path).status_code == 404  # confirmed once, gone

    # The same file again: the preview says nothing will change and offers no button.
    soup = page(icb_client.get(_upload(icb_client, GOOD).location))
    assert "Nothing will change" in soup.get_text() and soup.select_one("main form") is None


def test_a_bad_file_lists_every_bad_row_and_imports_and_stores_nothing(app, icb_client):
    before = _state(app)
    response = _upload(icb_client, BAD)
    assert response.status_code == 200
    soup = page(response)
    assert soup.title.get_text().startswith("Error:")
    assert error_messages(soup) == [
        "The file has 4 problems, listed below. Nothing has been imported: correct the file and upload it again"
    ]
    rows = [
        [td.get_text(" ", strip=True) for td in tr.select("td")] for tr in soup.select("#problems ~ table tbody tr")
    ]
    assert [row[:2] for row in rows] == [
        ["3", "PCN Code"],
        ["4", "PCN Name"],
        ["5", "PCN Parent Sub ICB Location Code"],
        ["6", "PCN Code"],
    ]
    assert "“U1” is not a PCN code" in rows[0][2] and "another ICB's area" in rows[3][2]
    assert _state(app) == before


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (None, None, "Select the CSV file of your ICB's PCNs"),
        (b"", "empty.csv", "Select the CSV file of your ICB's PCNs"),  # the browser sends no file at all
        (b"", "epcn.csv", "The selected file is empty"),
        (b"\n\r\n  \n", "epcn.csv", "The selected file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "epcn.csv", "not a CSV file"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "ePCN.xlsx", "is an Excel workbook"),
        ("PCN Code,PCN Name\nU10001,CAFÉ PCN\n".encode("cp1252"), "epcn.csv", "not saved as UTF-8"),
        (b"<html><body>Not a roster</body></html>", "epcn.csv", "The file has 3 problems"),
        (b"x" * (roster.MAX_FILE_BYTES + 1), "epcn.csv", "The selected file must be 5 MB or smaller"),
    ],
)
def test_bad_input_gets_a_plain_message_and_stores_nothing(app, icb_client, content, filename, message):
    before = _state(app)
    if content is None:
        response = icb_client.post("/organisations/import", data={})
    elif filename == "empty.csv":
        response = icb_client.post(
            "/organisations/import", data={"file": (io.BytesIO(b""), "")}, content_type="multipart/form-data"
        )
    else:
        response = _upload(icb_client, content, filename)
    assert response.status_code == 200
    soup = page(response)
    errors = error_messages(soup)
    assert len(errors) == 1 and message in errors[0], errors
    assert soup.select_one(".nhsuk-error-summary a")["href"] == "#file"
    assert _state(app) == before


def test_a_file_far_over_the_limit_is_refused_on_the_page(app, icb_client):
    before = _state(app)
    response = _upload(icb_client, b"x" * (6 * 1024 * 1024))
    assert response.status_code == 413
    assert error_messages(page(response)) == ["The selected file must be 5 MB or smaller"]
    assert _state(app) == before


def test_an_upload_is_its_uploaders_alone(app, icb_client, caplog):
    preview_path = _upload(icb_client, GOOD).location
    other_icb_lead = _client_for(app, "icb2@example.org")
    before = _state(app)
    with caplog.at_level(logging.INFO, logger="app.security"):
        assert other_icb_lead.get(preview_path).status_code == 404
        assert other_icb_lead.post(preview_path).status_code == 404
    assert sum('"object_access_denied"' in r.getMessage() for r in caplog.records) == 2
    assert _state(app) == before and _pcn(app, "U10001") is None
    assert icb_client.get(preview_path).status_code == 200  # still there for its uploader
    assert icb_client.get("/organisations/import/999999").status_code == 404


@pytest.mark.parametrize("email", ["cd@example.org", "manager@example.org", "lmc@example.org", "admin@example.org"])
def test_only_icb_leads_may_use_these_pages(app, icb_client, email):
    preview_path = _upload(icb_client, GOOD).location
    client = _client_for(app, email)
    before = _state(app)
    assert client.get("/organisations").status_code == 403
    assert client.get("/organisations/import").status_code == 403
    assert _upload(client, GOOD).status_code == 403
    assert client.get(preview_path).status_code == 403
    assert client.post(preview_path).status_code == 403
    assert _state(app) == before


def test_signed_out_people_are_sent_to_sign_in(anon_client):
    for path in ("/organisations", "/organisations/import", "/organisations/import/1"):
        response = anon_client.get(path)
        assert response.status_code == 302 and response.location.startswith("/sign-in")


def test_an_import_confirmed_after_the_organisations_changed_is_checked_again(app, icb_client):
    preview_path = _upload(icb_client, GOOD).location
    with app.app_context():  # meanwhile, West End PCN is recorded under another ICB
        other = db.session.scalar(select(Organisation).where(Organisation.ods_code == "QSD"))
        db.session.add(Organisation(name="West End PCN", kind="pcn", ods_code="U10001", area_id=other.id))
        db.session.commit()
    before = _state(app)
    response = icb_client.post(preview_path)
    assert response.status_code == 409
    soup = page(response)
    assert soup.title.get_text().startswith("Error:")
    assert "another ICB's area" in soup.select_one("#problems ~ table").get_text()
    assert soup.select_one("main form") is None
    assert _state(app) == before


# The command line ---------------------------------------------------------------------------------------------------


def test_the_command_line_import_reports_what_it_did_and_a_second_run_changes_nothing(app, tmp_path):
    path = tmp_path / "epcn.csv"
    path.write_text(GOOD)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["orgs", "import", str(path), "--icb", "QDM"])
    assert result.exit_code == 0, result.output
    assert "Added U10001 West End PCN in sub-ICB location 90B" in result.output
    assert "Renamed U00002 from Northfields PCN to Northfields and District PCN" in result.output
    assert "Moved U00003 Harbour and Coast PCN from sub-ICB location 90A to 90B" in result.output
    assert "Not in the file, so left as they are: U00004, U00005, U00006" in result.output
    assert _pcn(app, "U10001") == ("West End PCN", "90B")

    before = _state(app)
    result = runner.invoke(args=["orgs", "import", str(path), "--icb", "qdm"])
    assert result.exit_code == 0 and "No changes" in result.output
    assert _state(app) == before


def test_the_command_line_import_prints_every_problem_and_imports_nothing(app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD)
    before = _state(app)
    result = app.test_cli_runner().invoke(args=["orgs", "import", str(path), "--icb", "QDM"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("line 3, column PCN Code: “U1” is not a PCN code")
    assert lines[1] == "line 4, column PCN Name: The PCN name is missing"
    assert lines[2].startswith("line 5, column PCN Parent Sub ICB Location Code: Sub-ICB location 91Q")
    assert lines[3].startswith("line 6, column PCN Code: PCN U00007 is recorded in another ICB's area")
    assert lines[4] == "4 problem(s) found: nothing was imported."
    assert _state(app) == before


def test_the_command_line_import_refuses_an_unknown_icb_or_an_unreadable_file(app, tmp_path):
    path = tmp_path / "epcn.csv"
    path.write_text(GOOD)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["orgs", "import", str(path), "--icb", "QZZ"])
    assert result.exit_code == 1 and "There is no ICB with the code QZZ." in result.output
    binary = tmp_path / "epcn.xlsx"
    binary.write_bytes(b"PK\x03\x04\x14\x00")
    result = runner.invoke(args=["orgs", "import", str(binary), "--icb", "QDM"])
    assert result.exit_code == 1 and "is an Excel workbook" in result.output


def test_an_administrator_registers_sub_icb_locations_from_the_command_line(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["orgs", "add-sub-icb", "QSD", "91x", "Second Demo ICB - 91X"])
    assert result.exit_code == 0 and result.output.strip() == (
        "Sub-ICB location 91X Second Demo ICB - 91X added to Second Demo ICB."
    )
    result = runner.invoke(args=["orgs", "add-sub-icb", "QSD", "91X", "Second Demo ICB - 91X (West)"])
    assert "is now called Second Demo ICB - 91X (West)" in result.output
    result = runner.invoke(args=["orgs", "add-sub-icb", "QDM", "91X", "Taken"])
    assert result.exit_code == 1 and "already used by Second Demo ICB - 91X (West)" in result.output
    with app.app_context():
        assert [s.ods_code for s in roster.sub_icbs_of(icb("QSD").id)] == ["90C", "91X"]
