"""Reading NHS England's ePCN file (PCN Core Partner Details) and planning an ICB's roster import, without a browser."""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Organisation, OrgKind
from app.services import roster
from tests.roster_support import DEMO_ROWS, HEADER, icb, membership, organisations, organisations_restored, roster_csv

TODAY = date(2026, 3, 15)


@pytest.fixture
def ctx(app):
    with organisations_restored(app), app.app_context():
        yield app


def _problems(content, on=TODAY) -> list[tuple[int, str, str]]:
    with pytest.raises(roster.RosterProblems) as refused:
        roster.check(content, icb(), on=on)
    return [(p.line, p.column, p.message) for p in refused.value.problems]


def _where(content, on=TODAY) -> list[tuple[int, str]]:
    return [(line, column) for line, column, _ in _problems(content, on)]


# The published file -------------------------------------------------------------------------------------------------


def test_the_demo_pcns_as_published_change_nothing(ctx):
    plan = roster.check(roster_csv(DEMO_ROWS), icb(), on=TODAY)
    assert (plan.additions, plan.renames, plan.moves, plan.unchanged) == ([], [], [], 6)
    assert plan.changes == 0 and plan.memberships == 6 and plan.summary().startswith("No changes")


def test_new_pcns_are_added_once_however_many_practices_they_have(ctx):
    rows = [
        *DEMO_ROWS,
        membership("B20001", "U10001", "RIVERSIDE AND COAST PCN", "90A"),
        membership("B20002", "U10001", "RIVERSIDE AND COAST PCN", "90A"),
        membership("B20003", "U10002", "WEST END PCN", "90B"),
    ]
    plan = roster.check(roster_csv(rows), icb(), on=TODAY)
    assert plan.additions == [
        roster.NewPcn("U10001", "Riverside and Coast PCN", "90A"),
        roster.NewPcn("U10002", "West End PCN", "90B"),
    ]
    assert plan.unchanged == 6 and plan.pcn_count == 8 and plan.memberships == 9


def test_a_byte_order_mark_and_windows_line_ends_are_read_like_any_other_file(ctx):
    rows = [*DEMO_ROWS, membership("B20001", "U10001", "WEST END PCN", "90B")]
    plain = roster.check(roster_csv(rows), icb(), on=TODAY)
    excel = roster.check(("\ufeff" + roster_csv(rows, line_end="\r\n")).encode(), icb(), on=TODAY)
    assert excel.additions == plain.additions == [roster.NewPcn("U10001", "West End PCN", "90B")]
    assert excel.unchanged == plain.unchanged == 6


def test_headers_match_whatever_their_case_and_spacing_and_other_columns_are_ignored(ctx):
    header = ["  pcn   CODE ", "Notes", "PCN name", "pcn parent sub icb location code", "Anything else"]
    rows = [["U10001", "ignored", "WEST END PCN", "90b", "x"], ["u10002", "", "EAST END PCN", "90A", ""]]
    plan = roster.check(roster_csv(rows, header=header), icb(), on=TODAY)
    assert plan.additions == [
        roster.NewPcn("U10001", "West End PCN", "90B"),
        roster.NewPcn("U10002", "East End PCN", "90A"),
    ]


def test_the_ods_download_without_a_header_row_is_read_in_the_published_column_order(ctx):
    rows = [*DEMO_ROWS, membership("B20001", "U10001", "WEST END PCN", "90B")]
    plan = roster.check(roster_csv(rows, header=None), icb(), on=TODAY)
    assert plan.headerless and plan.unchanged == 6
    assert plan.additions == [roster.NewPcn("U10001", "West End PCN", "90B")]


def test_practices_that_have_left_are_skipped_and_a_pcn_with_none_left_is_not_added(ctx):
    rows = [
        *DEMO_ROWS,
        membership("B20001", "U10001", "GONE PCN", "90A", end="20260314"),  # ended yesterday
        membership("B20002", "U10001", "GONE PCN", "90A", end="15/03/2026"),  # ends today: no longer a member
        membership("B20003", "U10002", "STAYING PCN", "90B", end="20260316"),  # ends tomorrow: still a member
        membership("B20004", "U10003", "ALSO STAYING PCN", "90B", end=""),
        # Its old PCN's rows may hold anything: they are history, left out before they are checked.
        membership("B20005", "U99999", "OLD NAME", "99X", end="01/04/2021"),
    ]
    plan = roster.check(roster_csv(rows), icb(), on=TODAY)
    assert [p.code for p in plan.additions] == ["U10002", "U10003"]
    assert plan.ended == 3 and plan.memberships == 8


def test_published_dates_are_accepted_in_each_format():
    assert roster.parse_date("20250401") == roster.parse_date("01/04/2025") == date(2025, 4, 1)
    assert roster.parse_date("1/4/2025") == roster.parse_date("2025-04-01") == date(2025, 4, 1)
    assert roster.parse_date("  ") is None
    for bad in ("31/02/2025", "2025/04/01", "April 2025", "20251301"):
        with pytest.raises(ValueError):
            roster.parse_date(bad)


@pytest.mark.parametrize(
    ("published", "tidied"),
    [
        ("RIVERSIDE AND COAST PCN", "Riverside and Coast PCN"),
        ("THE VALLEY PCN", "The Valley PCN"),
        ("ISLE OF WIGHT PCN", "Isle of Wight PCN"),
        ("NHS GP ALLIANCE (NORTH) PCN", "NHS GP Alliance (North) PCN"),
        ("STOKE-ON-TRENT NORTH PCN", "Stoke-on-Trent North PCN"),
        ("CHESTER-LE-STREET PCN", "Chester-le-Street PCN"),
        ("NORTH-EAST HEALTH PCN", "North-East Health PCN"),
        ("ST JOHN'S AND KING'S PCN", "St John's and King's PCN"),
        ("O'BRIEN HEALTH PCN", "O'Brien Health PCN"),
        ("BISHOP’S WALTHAM PCN", "Bishop’s Waltham PCN"),
        ("1ST HEALTH  PCN ", "1st Health PCN"),
        ("Riverside and Coast PCN", "Riverside and Coast PCN"),
        ("eHealth McKenzie PCN", "eHealth McKenzie PCN"),
    ],
)
def test_names_published_in_capitals_are_tidied_and_mixed_case_names_are_left_alone(published, tidied):
    assert roster.tidy_name(published) == tidied


# Every bad row, with its line and column; nothing imported -----------------------------------------------------------


def test_every_bad_row_is_reported_with_its_line_and_column_and_nothing_is_imported(ctx):
    rows = [
        membership("B1", "U10001", "GOOD PCN", "90A"),  # line 2
        membership("B2", "", "NO CODE PCN", "90A"),  # 3
        membership("B3", "X1234", "BAD CODE PCN", "90A"),  # 4
        membership("B4", "U10002", "", "90A"),  # 5
        membership("B5", "U10003", "BAD SUB ICB PCN", "9"),  # 6
        membership("B6", "U10001", "ANOTHER NAME PCN", "90A"),  # 7: U10001 was GOOD PCN on line 2
        membership("B7", "U10001", "GOOD PCN", "90B"),  # 8: U10001 was under 90A on line 2
        membership("B8", "U10004", "ELSEWHERE PCN", "91Q"),  # 9: not one of Demo ICB's
        membership("B9", "U00007", "HILLSIDE PCN", "90A"),  # 10: Second Demo ICB's PCN
        membership("B10", "U10005", "DATED PCN", "90A", end="31/02/2026"),  # 11
        membership("B11", "U10006", "", ""),  # 12: two problems on one line
    ]
    before = organisations()
    problems = _problems(roster_csv(rows))
    assert [(line, column) for line, column, _ in problems] == [
        (3, "PCN Code"),
        (4, "PCN Code"),
        (5, "PCN Name"),
        (6, "PCN Parent Sub ICB Location Code"),
        (7, "PCN Name"),
        (8, "PCN Parent Sub ICB Location Code"),
        (9, "PCN Parent Sub ICB Location Code"),
        (10, "PCN Code"),
        (11, "Practice to PCN Relationship End Date"),
        (12, "PCN Name"),
        (12, "PCN Parent Sub ICB Location Code"),
    ]
    messages = dict(((line, column), message) for line, column, message in problems)
    assert messages[(3, "PCN Code")] == "The PCN code is missing"
    assert "“X1234” is not a PCN code" in messages[(4, "PCN Code")] and "U12345" in messages[(4, "PCN Code")]
    assert "“9” is not a sub-ICB location code" in messages[(6, "PCN Parent Sub ICB Location Code")]
    assert messages[(7, "PCN Name")] == "PCN U10001 is called “Another Name PCN” here but “Good PCN” on line 2"
    assert (
        "under sub-ICB location 90B here but under 90A on line 2" in messages[(8, "PCN Parent Sub ICB Location Code")]
    )
    assert "91Q is not one of Demo ICB's (90A, 90B)" in messages[(9, "PCN Parent Sub ICB Location Code")]
    assert "another ICB's area" in messages[(10, "PCN Code")]
    assert "“31/02/2026” is not a date" in messages[(11, "Practice to PCN Relationship End Date")]

    with pytest.raises(roster.RosterProblems):
        roster.import_roster(roster_csv(rows), icb(), source="bad.csv", on=TODAY)
    db.session.rollback()
    assert organisations() == before
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster_imported")) is None


def test_required_columns_that_are_missing_are_each_named(ctx):
    header = ["Partner Organisation Code", "PCN Code", "Practice to PCN Relationship End Date"]
    problems = _problems(roster_csv([["A1", "U10001", ""]], header=header))
    assert [(line, column) for line, column, _ in problems] == [
        (1, "PCN Name"),
        (1, "PCN Parent Sub ICB Location Code"),
    ]
    assert problems[0][2].startswith("The file has no “PCN Name” column")


def test_a_file_separated_by_semicolons_says_so(ctx):
    message = "The columns are separated by semicolons or tabs: save the sheet as CSV UTF-8 (comma delimited)"
    assert _problems(roster_csv(DEMO_ROWS).replace(",", ";")) == [(1, "(whole line)", message)]
    assert _problems(roster_csv(DEMO_ROWS).replace(",", "\t")) == [(1, "(whole line)", message)]


def test_a_file_with_only_a_header_has_nothing_to_import(ctx):
    assert _where(roster_csv([])) == [(1, "PCN Code")]


def test_the_practices_sub_icb_location_is_used_when_the_pcns_own_column_is_absent(ctx):
    header = ["PCN Code", "PCN Name", "Practice Parent Sub ICB Location Code"]
    rows = [["U10001", "SPLIT PCN", "90A"], ["U10001", "SPLIT PCN", "90B"]]
    assert _where(roster_csv(rows, header=header)) == [(3, "Practice Parent Sub ICB Location Code")]


def test_a_quoted_name_over_two_lines_keeps_later_line_numbers_right(ctx):
    text = (
        roster_csv(DEMO_ROWS[:1])
        + 'A2,P,90A,S,U10001,"WEST\nEND PCN",90A,S,20200401,,Y\n'
        + "A3,P,90A,S,Z1,N,90A,S,,,Y\n"
    )
    assert _where(text) == [(5, "PCN Code")]


def test_a_name_with_a_hidden_character_or_too_long_is_refused(ctx):
    rows = [membership("B1", "U10001", "BAD\x1bNAME PCN"), membership("B2", "U10002", "X" * 201)]
    assert _where(roster_csv(rows)) == [(2, "PCN Name"), (3, "PCN Name")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \r\n \n", "empty"),
        ("PCN Code,PCN Name\nU10001,CAFÉ PCN\n".encode("cp1252"), "not saved as UTF-8"),
        ("PCN Code\n".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file"),
        (b"PCN Code,PCN Name\nU1\x00", "not a CSV file"),
    ],
)
def test_files_that_are_not_utf8_csv_text_are_refused_with_the_reason(ctx, content, message):
    with pytest.raises(roster.UnreadableFile) as refused:
        roster.check(content, icb(), on=TODAY)
    assert message in str(refused.value)


# Importing ----------------------------------------------------------------------------------------------------------


def test_importing_adds_renames_and_moves_and_importing_again_changes_nothing(ctx):
    rows = [
        membership("A10001", "U00001", "RIVERSIDE PCN", "90A"),
        membership("A10002", "U00002", "NORTHFIELDS AND DISTRICT PCN", "90A"),  # renamed
        membership("A10003", "U00003", "HARBOUR AND COAST PCN", "90B"),  # moved to 90B
        membership("A10004", "U00004", "Market Towns and Villages PCN", "90B"),  # renamed, as written
        membership("B20001", "U10001", "WEST END PCN", "90B"),  # new
        membership("B20002", "U10001", "WEST END PCN", "90B"),
    ]  # Eastgate, Valley Villages and the demo's seven submitting PCNs (U00010..U00016) are not in the file: they stay.
    content = roster_csv(rows)
    pcns_before = {pcn.ods_code for pcn in roster.pcns_of(icb().id)}

    plan = roster.import_roster(content, icb(), source="epcn.csv", on=TODAY)
    assert plan.additions == [roster.NewPcn("U10001", "West End PCN", "90B")]
    assert plan.renames == [
        roster.Rename("U00002", "Northfields PCN", "Northfields and District PCN"),
        roster.Rename("U00004", "Market Towns PCN", "Market Towns and Villages PCN"),
    ]
    assert plan.moves == [roster.Move("U00003", "Harbour and Coast PCN", "90A", "90B")]
    assert plan.unchanged == 1 and {p.ods_code for p in plan.not_in_file} == {"U00005", "U00006"} | {
        f"U000{n}" for n in range(10, 17)
    }

    db.session.expire_all()
    pcns = {pcn.ods_code: pcn for pcn in roster.pcns_of(icb().id)}
    assert set(pcns) == pcns_before | {"U10001"}  # nothing deleted
    assert pcns["U10001"].name == "West End PCN" and pcns["U10001"].parent.ods_code == "90B"
    assert pcns["U10001"].kind == OrgKind.PCN and pcns["U10001"].area_id == icb().id
    assert pcns["U00002"].name == "Northfields and District PCN"
    assert pcns["U00003"].parent.ods_code == "90B"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster_imported"))
    assert event.area_id == icb().id and "epcn.csv" in event.summary and "U10001 West End PCN" in event.summary

    before = organisations()
    again = roster.import_roster(content, icb(), source="epcn.csv", on=TODAY)
    assert again.changes == 0 and again.unchanged == 5
    db.session.expire_all()
    assert organisations() == before


def test_a_name_differing_only_in_capitals_from_the_published_one_is_not_a_rename(ctx):
    db.session.scalar(select(Organisation).where(Organisation.ods_code == "U00005")).name = "EastGate PCN"
    db.session.commit()
    plan = roster.check(roster_csv(DEMO_ROWS), icb(), on=TODAY)
    assert plan.renames == [] and plan.unchanged == 6


def test_a_pcn_without_a_sub_icb_location_is_placed_in_the_one_the_file_gives(ctx):
    db.session.scalar(select(Organisation).where(Organisation.ods_code == "U00006")).parent_id = None
    db.session.commit()
    plan = roster.check(roster_csv(DEMO_ROWS), icb(), on=TODAY)
    assert plan.moves == [roster.Move("U00006", "Valley Villages PCN", None, "90B")]


# Sub-ICB locations --------------------------------------------------------------------------------------------------


def test_an_administrator_can_add_and_rename_an_icbs_sub_icb_location(ctx):
    location, outcome = roster.add_sub_icb("qdm", " 91x ", "Demo ICB -  91X (East)")
    assert outcome == "added" and location.ods_code == "91X" and location.name == "Demo ICB - 91X (East)"
    assert location.kind == OrgKind.SUB_ICB and location.area_id == icb().id
    assert roster.add_sub_icb("QDM", "91X", "Demo ICB - 91X (East)")[1] == "unchanged"
    assert roster.add_sub_icb("QDM", "91X", "Demo ICB - 91X (Coast)")[1] == "renamed"
    assert "91X" in [s.ods_code for s in roster.sub_icbs_of(icb().id)]


@pytest.mark.parametrize(
    ("icb_code", "code", "name", "message"),
    [
        ("QZZ", "91X", "Somewhere", "There is no ICB with the code QZZ."),
        ("U00001", "91X", "Somewhere", "There is no ICB with the code U00001."),
        ("QDM", "91", "Somewhere", "is not a sub-ICB location code"),
        ("QDM", "91X", "  ", "Give the sub-ICB location a name"),
        ("QDM", "90C", "Taken", "The code 90C is already used by Second Demo ICB - 90C."),
    ],
)
def test_a_sub_icb_location_that_cannot_be_added_says_why_and_changes_nothing(ctx, icb_code, code, name, message):
    before = organisations()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        roster.add_sub_icb(icb_code, code, name)
    db.session.rollback()
    assert organisations() == before


def test_the_published_header_is_what_the_service_reads():
    assert tuple(HEADER) == roster.PUBLISHED_COLUMNS
