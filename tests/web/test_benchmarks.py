"""Benchmark pages and exports for ICB leads and LMC officers: the five-PCN rule, anonymisation, stable letters,
drafts never counted, and who may see a round's benchmark."""

import csv
import io
import re
import secrets
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from app.extensions import db
from app.models import AuditEvent, Organisation, OrgKind, Role, RoundPcn, User
from app.queries.organisations import get_organisation_by_code
from app.queries.users import get_user_by_email
from app.questionnaires import registry
from app.services import assessments, rounds
from app.services.scoring import AnswerValue
from tests import helpers
from tests.conftest import PER_TEST_TABLES, _client_for, page

NAMES = ["Alder", "Birch", "Cedar", "Damson", "Elm", "Fir", "Hazel", "Juniper"]
LETTER = r"\bPCN [A-Z]{1,2}\b"  # a lettered PCN's label
SMALL = "Fewer than 5 PCNs have submitted returns here"


@pytest.fixture
def pcns(app):
    """Eight PCNs of the Demo ICB's 90A sub-ICB location (which the demo LMC covers), each with a clinical director;
    Cedar has chosen to be named to its LMC. Removed at the end: organisations persist across tests."""
    tag = secrets.token_hex(3).upper()
    made = []
    with app.app_context():
        icb, sub = get_organisation_by_code("QDM"), get_organisation_by_code("90A")
        for i, word in enumerate(NAMES):
            pcn = Organisation(
                name=f"{word} Benchmark PCN",
                kind=OrgKind.PCN,
                ods_code=f"Q{tag}{i}",
                area_id=icb.id,
                parent_id=sub.id,
                named_to_lmc=word == "Cedar",
            )
            db.session.add(pcn)
            db.session.flush()
            cd = User(
                email=f"cd-{tag.lower()}-{i}@bench.example.org",
                name=f"Dr {word}",
                password_hash="not a password",
                role=Role.CLINICAL_DIRECTOR,
                organisation=pcn,
            )
            db.session.add(cd)
            db.session.flush()
            made.append({"id": pcn.id, "name": pcn.name, "code": pcn.ods_code, "cd": cd.email})
        db.session.commit()
    yield made
    with app.app_context():
        db.session.rollback()
        for model in PER_TEST_TABLES:  # what refers to these PCNs goes first (the usual clean-up runs after this)
            db.session.execute(delete(model))
        ids = [p["id"] for p in made]
        db.session.execute(delete(User).where(User.organisation_id.in_(ids)))
        db.session.execute(delete(Organisation).where(Organisation.id.in_(ids)))
        db.session.commit()


def make_round(app, pcn_ids, icb_code="QDM", lead="icb@example.org", title="Benchmark test round") -> int:
    with app.app_context():
        round_ = rounds.create_round(
            get_organisation_by_code(icb_code),
            get_user_by_email(lead),
            title=title,
            core=registry().get("neighbourhood-readiness"),
            supplement=None,
            opens_on=rounds.today(),
            closes_on=rounds.today() + timedelta(days=10),
            pcn_ids=pcn_ids,
        )
        return round_.id


def answer(app, round_id: int, pcn: dict, seed: int, submit: bool = True, unsure: tuple = ()) -> None:
    """Answer every domain (levels varying with the seed; "Not sure" now for the questions in `unsure`), and submit
    unless told not to."""
    from app.models import ReturnRound

    with app.app_context():
        round_ = db.session.get(ReturnRound, round_id)
        organisation = db.session.get(Organisation, pcn["id"])
        user = get_user_by_email(pcn["cd"])
        assessment = rounds.start_return(round_, organisation, user)
        questionnaire = assessments.questionnaire_for(assessment)
        for d, domain in enumerate(questionnaire.domains):
            values = {}
            for q, question in enumerate(domain.questions):
                level = (seed + d + q) % 4
                if question.id in unsure:
                    values[question.id] = AnswerValue(current_unsure=True, target=min(4, level + 1))
                else:
                    values[question.id] = AnswerValue(level, min(4, level + 1))
            progress = next((p for p in assessment.domains if p.domain_id == domain.id), None)
            assessments.save_domain(assessment, domain, values, progress.revision if progress else 0, user)
        assessments.complete_assessment(assessment)
        if submit:
            rounds.submit(assessment, user, declared=True)
        db.session.commit()


def html(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def csv_text(client, round_id):
    response = client.get(f"/benchmarks/rounds/{round_id}/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Content-Disposition"].endswith('.csv"')
    return response.get_data(as_text=True)


def xlsx_cells(client, round_id) -> list:
    response = client.get(f"/benchmarks/rounds/{round_id}/export.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row]


def member_rows(soup) -> dict[str, list[str]]:
    """The PCN table: label -> its domain figures."""
    table = soup.find("table", class_="app-benchmark-members")
    if table is None:
        return {}
    rows = {}
    for tr in table.find("tbody").find_all("tr"):
        rows[tr.find("th").get_text(strip=True)] = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
    return rows


# The five-PCN rule --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["icb@example.org", "lmc@example.org"])
def test_four_returns_show_no_figure_anywhere_and_five_do(app, pcns, who):
    round_id = make_round(app, [p["id"] for p in pcns[:5]])
    for i, pcn in enumerate(pcns[:4]):
        answer(app, round_id, pcn, i)
    client = _client_for(app, who)
    path = f"/benchmarks/rounds/{round_id}"

    soup = page(client.get(path))
    main = soup.find("main")
    assert SMALL in main.get_text(" ", strip=True)  # says why
    assert main.find("svg") is None
    assert not member_rows(soup)
    assert "%" not in main.get_text()  # no figure of any kind
    assert not re.search(LETTER, main.get_text())
    body = str(main)
    assert not any(p["name"] in body for p in pcns)
    text = csv_text(client, round_id)
    assert SMALL in text
    assert len([line for line in text.splitlines() if line.strip()]) == 2  # a title and the explanation only
    assert not any(p["name"] in text for p in pcns)
    cells = [c for c in xlsx_cells(client, round_id) if c is not None]
    assert any(SMALL in str(c) for c in cells)
    assert len(cells) == 2
    assert not any(isinstance(c, int | float) for c in cells)

    answer(app, round_id, pcns[4], 4)
    soup = page(client.get(path))
    main = soup.find("main")
    assert SMALL not in main.get_text(" ", strip=True)
    chart = main.find("svg")
    assert chart is not None and chart["role"] == "img"
    assert chart.find("title") is not None and "5 PCNs" in chart.find("desc").get_text()
    assert len(member_rows(soup)) == 5
    assert "5 PCNs' submitted returns in “Benchmark test round”" in main.get_text(" ", strip=True)
    text = csv_text(client, round_id)
    assert "PCNs counted" in text and SMALL not in text
    assert len(list(csv.reader(io.StringIO(text)))) > 10
    cells = xlsx_cells(client, round_id)
    assert any(isinstance(c, float) for c in cells)


def test_drafts_are_never_counted(app, pcns, icb_client):
    round_id = make_round(app, [p["id"] for p in pcns[:6]])
    for i, pcn in enumerate(pcns[:4]):
        answer(app, round_id, pcn, i)
    answer(app, round_id, pcns[4], 4, submit=False)  # completed but not submitted: a draft
    answer(app, round_id, pcns[5], 5, submit=False)
    soup = page(icb_client.get(f"/benchmarks/rounds/{round_id}"))
    assert SMALL in soup.find("main").get_text(" ", strip=True)
    assert "4 PCNs' submitted returns" in soup.find("main").get_text(" ", strip=True)
    index = page(icb_client.get("/benchmarks/"))
    row = next(tr for tr in index.find_all("tr") if "Benchmark test round" in tr.get_text())
    assert row.find_all("td")[-1].get_text(strip=True) == "4"

    answer_submit_existing(app, round_id, pcns[4])
    soup = page(icb_client.get(f"/benchmarks/rounds/{round_id}"))
    assert "5 PCNs' submitted returns" in soup.find("main").get_text(" ", strip=True)
    rows = member_rows(soup)
    assert set(rows) == {p["name"] for p in pcns[:5]}  # the other draft is not among them
    assert pcns[5]["name"] not in soup.find("main").get_text()


def answer_submit_existing(app, round_id, pcn):
    from app.models import ReturnRound

    with app.app_context():
        round_ = db.session.get(ReturnRound, round_id)
        user = get_user_by_email(pcn["cd"])
        assessment = rounds.start_return(round_, db.session.get(Organisation, pcn["id"]), user)
        rounds.submit(assessment, user, declared=True)
        db.session.commit()


# Anonymisation ------------------------------------------------------------------------------------------------------


def test_an_lmc_never_sees_a_lettered_pcn_named_in_the_page_or_the_exports(app, pcns, lmc_client, icb_client):
    round_id = make_round(app, [p["id"] for p in pcns[:6]])
    for i, pcn in enumerate(pcns[:6]):
        answer(app, round_id, pcn, i)
    hidden = [p for p in pcns if p["name"] != "Cedar Benchmark PCN"]
    named = next(p for p in pcns if p["name"] == "Cedar Benchmark PCN")

    body = html(lmc_client, f"/benchmarks/rounds/{round_id}")
    text = csv_text(lmc_client, round_id)
    cells = " | ".join(str(c) for c in xlsx_cells(lmc_client, round_id) if c is not None)
    for where in (body, text, cells):
        for p in hidden:
            assert p["name"] not in where
            assert p["code"] not in where
            assert p["name"].split()[0] not in where  # not even the distinctive word of its name
        assert named["name"] in where
        assert len(set(re.findall(LETTER, where))) == 5  # the other five, by letter
    soup = page(lmc_client.get(f"/benchmarks/rounds/{round_id}"))
    assert "clinical director has chosen" in soup.find("main").get_text(" ", strip=True)
    labels = list(member_rows(soup))
    assert labels[0] == named["name"]  # named first, then letters

    body = html(icb_client, f"/benchmarks/rounds/{round_id}")
    text = csv_text(icb_client, round_id)
    cells = " | ".join(str(c) for c in xlsx_cells(icb_client, round_id) if c is not None)
    for where in (body, text, cells):
        for p in pcns[:6]:
            assert p["name"] in where
        assert not re.search(LETTER, where)
    soup = page(icb_client.get(f"/benchmarks/rounds/{round_id}"))
    assert "clinical director has chosen" not in soup.find("main").get_text(" ", strip=True)


def test_letters_are_drawn_once_kept_and_follow_no_order_of_names(app, pcns, lmc_client, icb_client):
    round_id = make_round(app, [p["id"] for p in pcns])
    for i, pcn in enumerate(pcns[:7]):
        answer(app, round_id, pcn, i)
    path = f"/benchmarks/rounds/{round_id}"
    first = member_rows(page(lmc_client.get(path)))
    with app.app_context():
        stored = dict(
            db.session.execute(select(RoundPcn.pcn_id, RoundPcn.letter).where(RoundPcn.round_id == round_id)).all()
        )
    assert all(stored.values()) and len(set(stored.values())) == 8  # every PCN in scope, submitted or not
    assert first == member_rows(page(lmc_client.get(path)))

    # The PCN lettered X on the LMC's page is the PCN the ICB sees by name: same figures.
    by_name = member_rows(page(icb_client.get(path)))
    for p in pcns[:7]:
        label = p["name"] if p["name"] == "Cedar Benchmark PCN" else f"PCN {stored[p['id']]}"
        assert first[label] == by_name[p["name"]]

    # Another PCN submits: nobody's letter changes.
    answer(app, round_id, pcns[7], 7)
    again = member_rows(page(lmc_client.get(path)))
    assert len(again) == 8
    for label, figures in first.items():
        assert again[label] == figures
    with app.app_context():
        after = dict(
            db.session.execute(select(RoundPcn.pcn_id, RoundPcn.letter).where(RoundPcn.round_id == round_id)).all()
        )
    assert after == stored

    # Not in the order of names (or of anything else): 8 letters in alphabetical order by chance is 1 in 40,320.
    in_name_order = [stored[p["id"]] for p in sorted(pcns, key=lambda p: p["name"])]
    assert in_name_order != sorted(in_name_order, key=lambda s: (len(s), s))
    # Nor by score: the rows are listed by label, not by readiness.
    lettered = [label for label in again if label.startswith("PCN ")]
    assert lettered == sorted(lettered, key=lambda s: (len(s), s))


# Who may see it ----------------------------------------------------------------------------------------------------


def test_another_icbs_lead_and_an_lmc_covering_none_of_the_round_cannot_find_it(app, pcns, lmc_client):
    round_id = make_round(app, [p["id"] for p in pcns[:5]])
    other = _client_for(app, "icb2@example.org")
    for suffix in ("", "/export.csv", "/export.xlsx"):
        assert other.get(f"/benchmarks/rounds/{round_id}{suffix}").status_code == 404
    with app.app_context():
        hillside = get_organisation_by_code("U00007")  # the Second Demo ICB's PCN, in 90C: not the LMC's
        second_icb = hillside.area.ods_code
        lead = db.session.scalar(
            select(User.email).where(User.organisation_id == hillside.area_id, User.role == Role.ICB_LEAD)
        )
    elsewhere = make_round(app, [hillside.id], icb_code=second_icb, lead=lead, title="Elsewhere")
    for suffix in ("", "/export.csv", "/export.xlsx"):
        assert lmc_client.get(f"/benchmarks/rounds/{elsewhere}{suffix}").status_code == 404
    index = page(lmc_client.get("/benchmarks/")).get_text()
    assert "Benchmark test round" in index and "Elsewhere" not in index
    assert lmc_client.get("/benchmarks/rounds/999999").status_code == 404


def page_table(soup, heading: str) -> list[list[str]]:
    table = soup.find("h2", string=heading).find_next("table")
    return [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]


def csv_sections(text: str) -> dict[str, list[list[str]]]:
    """The CSV's views: title -> its header row and rows (each view follows a blank row and its title)."""
    sections, rows = {}, list(csv.reader(io.StringIO(text)))
    for i, row in enumerate(rows[:-1]):
        if not row and len(rows[i + 1]) == 1:
            end = next((j for j in range(i + 2, len(rows)) if not rows[j]), len(rows))
            sections[rows[i + 1][0]] = rows[i + 2 : end]
    return sections


def test_the_exports_carry_every_view_on_the_page(app, pcns, lmc_client):
    """Where PCNs are weakest, "Not sure" answers and planned actions, as well as the domains and PCNs: the same
    rows, with a count of one to four PCNs never given."""
    with app.app_context():
        questions = registry().get("neighbourhood-readiness").domains[0].questions
        five_unsure, two_unsure = questions[0].id, questions[1].id
    round_id = make_round(app, [p["id"] for p in pcns[:6]])
    for i, pcn in enumerate(pcns[:6]):
        unsure = ((five_unsure,) if i < 5 else ()) + ((two_unsure,) if i < 2 else ())
        answer(app, round_id, pcn, i, unsure=unsure)

    soup = page(lmc_client.get(f"/benchmarks/rounds/{round_id}"))
    weakest = page_table(soup, "Where PCNs are weakest")
    not_sure = page_table(soup, "Most common “Not sure” answers")
    actions = page_table(soup, "Most common planned actions")
    assert weakest and actions
    assert [row[2] for row in not_sure] == ["5 of 6", "fewer than 5 of 6"]

    sections = csv_sections(csv_text(lmc_client, round_id))
    assert list(sections) == ["Domains", "PCNs", "Weakest questions", "Not sure answers", "Planned actions"]
    assert [row[:2] for row in sections["Weakest questions"][1:]] == [row[:2] for row in weakest]
    for exported, shown in zip(sections["Weakest questions"][1:], weakest, strict=True):  # 1 decimal, and whole
        assert abs(float(exported[2]) - float(shown[2].rstrip("%"))) <= 0.55
    assert sections["Not sure answers"][1:] == [
        [*not_sure[0][:2], "5", "6"],
        [*not_sure[1][:2], "Fewer than 5", "6"],
    ]
    assert [row[:2] for row in sections["Planned actions"][1:]] == [row[:2] for row in actions]
    assert [row[2] for row in actions] == [
        f"{count} of {total}" if count.isdigit() else f"{count.lower()} of {total}"
        for _, _, count, total in sections["Planned actions"][1:]
    ]

    book = load_workbook(io.BytesIO(lmc_client.get(f"/benchmarks/rounds/{round_id}/export.xlsx").data))
    assert book.sheetnames == ["About", "Domains", "PCNs", "Weakest questions", "Not sure answers", "Planned actions"]
    unsure_sheet = list(book["Not sure answers"].iter_rows(values_only=True))
    assert unsure_sheet == [
        ("Question", "Domain", "PCNs not sure", "PCNs counted"),
        (*not_sure[0][:2], 5, 6),
        (*not_sure[1][:2], "Fewer than 5", 6),
    ]
    weakest_sheet = list(book["Weakest questions"].iter_rows(values_only=True))[1:]
    assert [row[:2] for row in weakest_sheet] == [tuple(row[:2]) for row in weakest]
    assert all(isinstance(row[2], float) for row in weakest_sheet)
    assert len(list(book["Planned actions"].iter_rows())) == len(actions) + 1


def test_exports_are_audited_and_neutralise_formulas(app, pcns, icb_client):
    with app.app_context():
        pcn = db.session.get(Organisation, pcns[0]["id"])
        pcn.name = "=HYPERLINK(1) Benchmark PCN"
        db.session.commit()
    pcns[0]["name"] = "=HYPERLINK(1) Benchmark PCN"
    round_id = make_round(app, [p["id"] for p in pcns[:5]])
    for i, pcn in enumerate(pcns[:5]):
        answer(app, round_id, pcn, i)
    text = csv_text(icb_client, round_id)
    assert "'=HYPERLINK(1) Benchmark PCN" in text
    assert not any(line.startswith("=") for line in text.splitlines())
    xlsx = icb_client.get(f"/benchmarks/rounds/{round_id}/export.xlsx").data
    assert "=HYPERLINK(1) Benchmark PCN" in [cell.value for cell in helpers.xlsx_cells(xlsx)]
    helpers.assert_typed_text_never_a_formula(xlsx, "=HYPERLINK(1) Benchmark PCN")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "benchmark_export")).all()
        icb = get_organisation_by_code("QDM")
        assert len(events) == 2
        assert {e.round_id for e in events} == {round_id}
        assert {e.area_id for e in events} == {icb.id}
        assert all(e.user_email == "icb@example.org" for e in events)


def test_the_benchmarks_list_explains_what_they_are_for(app, pcns, icb_client, lmc_client):
    make_round(app, [p["id"] for p in pcns[:5]])
    for client in (icb_client, lmc_client):
        text = page(client.get("/benchmarks/")).find("main").get_text(" ", strip=True)
        assert "target" in text and "not a measure of any PCN's performance" in text
        assert "Benchmark test round" in text
    home = page(lmc_client.get("/")).find("main")
    assert home.find("a", href="/benchmarks/") is not None
    home = page(icb_client.get("/")).find("main")
    assert home.find("a", href="/benchmarks/") is not None


def test_with_fewer_than_five_lettered_pcns_every_pcn_is_lettered(app, pcns, lmc_client):
    """One named PCN beside four letters would let the four be told apart by elimination: none is named."""
    named = next(p for p in pcns if p["name"] == "Cedar Benchmark PCN")
    hidden = [p for p in pcns if p is not named][:4]
    round_id = make_round(app, [p["id"] for p in [named, *hidden]])
    for i, pcn in enumerate([named, *hidden]):
        answer(app, round_id, pcn, i)
    body = html(lmc_client, f"/benchmarks/rounds/{round_id}")
    text = csv_text(lmc_client, round_id)
    for where in (body, text):
        for p in [named, *hidden]:
            assert p["name"] not in where
        assert len(set(re.findall(LETTER, where))) == 5


def test_what_the_icb_lead_saw_first_is_never_what_the_lmc_is_shown(app, pcns, lmc_client, icb_client):
    # Figures and rows are kept between page views: the ICB's named view, seen first, must not reach the LMC, and
    # a PCN withdrawing its name must show as a letter at once.
    round_id = make_round(app, [p["id"] for p in pcns[:6]])
    for i, pcn in enumerate(pcns[:6]):
        answer(app, round_id, pcn, i)
    path = f"/benchmarks/rounds/{round_id}"
    lead_view = html(icb_client, path)
    assert all(p["name"] in lead_view for p in pcns[:6])
    body = html(lmc_client, path)
    named = next(p for p in pcns if p["name"] == "Cedar Benchmark PCN")
    for p in pcns[:6]:
        assert (p["name"] in body) == (p is named)
    with app.app_context():
        db.session.get(Organisation, named["id"]).named_to_lmc = False
        db.session.commit()
    body = html(lmc_client, path)
    assert not any(p["name"] in body for p in pcns[:6])
    assert len(set(re.findall(LETTER, body))) == 6
