"""No page's work grows with PCNs outside the user's area, nor a PCN's home page with its rounds.

An ICB lead's and an LMC officer's pages are read, counting the SQL statements each issues; then many PCNs, their
people and a round of submitted returns are added in another ICB, and every page must issue the same number of
statements and show the same content as before. Also: the administrator's People page is paginated, with clear
navigation and a plain "not found" for a page that does not exist.
"""

import re
import secrets

import pytest
from sqlalchemy import delete, event, insert

from app.extensions import db
from app.models import Organisation, OrgKind, ReturnRound, Role, Submission, User
from app.queries.organisations import get_organisation_by_code
from tests.conftest import PER_TEST_TABLES, _client_for, page
from tests.web.test_benchmarks import answer, make_round

OUTSIDE_PCNS = 150  # in the second demo ICB, with two accounts each
NAMES = ["Alder", "O'Hara & <Sons>", "Cedar", "Damson", "Elm", "Fir"]  # (a name that must be escaped)


def _organisation(name: str, code: str, area_id: int, parent_id: int) -> Organisation:
    return Organisation(name=name, kind=OrgKind.PCN, ods_code=code, area_id=area_id, parent_id=parent_id)


@pytest.fixture
def made(app):
    """Ids of what a test adds on top of the demo data; all of it is removed at the end (organisations and accounts
    persist across tests)."""
    ids = {"organisations": []}
    yield ids
    with app.app_context():
        db.session.rollback()
        for model in PER_TEST_TABLES:  # what refers to these PCNs goes first
            db.session.execute(delete(model))
        db.session.execute(delete(User).where(User.organisation_id.in_(ids["organisations"])))
        db.session.execute(delete(Organisation).where(Organisation.id.in_(ids["organisations"])))
        db.session.commit()
        app.extensions.pop("frozen_figures", None)


def _add_pcns(app, made: dict, icb_code: str, sub_code: str, words: list[str], accounts: int = 1) -> list[dict]:
    """PCNs in this ICB's sub-ICB location, each with a clinical director (and `accounts - 1` team members)."""
    tag = secrets.token_hex(3).upper()
    found = []
    with app.app_context():
        icb, sub = get_organisation_by_code(icb_code), get_organisation_by_code(sub_code)
        for i, word in enumerate(words):
            pcn = _organisation(f"{word} Scale PCN", f"S{tag}{i}", icb.id, sub.id)
            db.session.add(pcn)
            db.session.flush()
            made["organisations"].append(pcn.id)
            people = [
                {
                    "email": f"{n}-{tag.lower()}-{i}@scale.example.org",
                    "name": f"Person {n} of {word}",
                    "password_hash": "not a password",
                    "role": Role.CLINICAL_DIRECTOR if n == 0 else Role.PCN_MEMBER,
                    "organisation_id": pcn.id,
                    "active": True,
                }
                for n in range(accounts)
            ]
            db.session.execute(insert(User), people)
            found.append({"id": pcn.id, "name": pcn.name, "code": pcn.ods_code, "cd": people[0]["email"]})
        db.session.commit()
    return found


class QueryCounter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def _count(self, *_args, **_kwargs):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


def _normalised(html: str) -> str:
    """The page without what changes from one request to the next (CSRF tokens, script nonces)."""
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', 'name="csrf_token"', html)
    html = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token"', html)
    return re.sub(r'nonce="[^"]+"', 'nonce=""', html)


def _read(app, client, path: str) -> tuple[int, str]:
    """A page's statement count and content, worked out from nothing: figures kept from earlier requests are
    dropped first, so the count is the page's whole work."""
    app.extensions.pop("frozen_figures", None)
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as counter:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return counter.count, _normalised(response.get_data(as_text=True))


def test_no_page_grows_with_pcns_outside_the_users_area(app, made):
    ours = _add_pcns(app, made, "QDM", "90A", NAMES)  # the demo LMC covers 90A
    round_id = make_round(app, [p["id"] for p in ours], title="Scale test round")
    for i, pcn in enumerate(ours[:5]):
        answer(app, round_id, pcn, i)
    with app.app_context():
        submission_id = db.session.query(Submission.id).filter(Submission.round_id == round_id).first()[0]
    lead, lmc = _client_for(app, "icb@example.org"), _client_for(app, "lmc@example.org")
    pages = [
        (lead, "/"),
        (lead, "/rounds/"),
        (lead, f"/rounds/{round_id}"),
        (lead, f"/rounds/{round_id}?sort=now&order=desc"),
        (lead, f"/rounds/{round_id}/heatmap"),
        (lead, f"/rounds/{round_id}/returns/{submission_id}"),
        (lead, f"/rounds/{round_id}/chase"),
        (lead, "/benchmarks/"),
        (lead, f"/benchmarks/rounds/{round_id}"),
        (lead, "/organisations"),
        (lead, "/people"),
        (lmc, "/"),
        (lmc, "/benchmarks/"),
        (lmc, f"/benchmarks/rounds/{round_id}"),
    ]
    for client, path in pages:  # a first visit may do once-only work (an LMC's first look draws the PCNs' letters)
        _read(app, client, path)
    before = [_read(app, client, path) for client, path in pages]
    # The tables' rows are made in Python (app/rounds/cells.py): real rows, each PCN's name escaped.
    for path, table, rows in (
        (f"/rounds/{round_id}", "app-returns", 6),
        (f"/rounds/{round_id}/heatmap", "app-heatmap", 5),
        (f"/benchmarks/rounds/{round_id}", "app-benchmark-members", 5),
    ):
        soup = page(lead.get(path))
        body = soup.find("table", class_=table).find("tbody")
        assert len(body.find_all("tr", recursive=False)) == rows, path
        assert soup.find("sons") is None, path
        names = [th.get_text(" ", strip=True) for th in body.find_all("th")]
        assert any(name.startswith("O'Hara & <Sons> Scale PCN") for name in names), path
        if path.startswith("/rounds/"):  # (each submitted return's name links to it)
            link = body.find("a", string="O'Hara & <Sons> Scale PCN")
            assert link["href"].startswith(f"/rounds/{round_id}/returns/"), path

    # Many PCNs and people in the second ICB, and a round there with submitted returns.
    theirs = _add_pcns(app, made, "QSD", "90C", [f"Outside {n}" for n in range(OUTSIDE_PCNS)], accounts=2)
    other_round = make_round(app, [p["id"] for p in theirs], icb_code="QSD", lead="icb2@example.org")
    for i, pcn in enumerate(theirs[:5]):
        answer(app, other_round, pcn, i)

    for (client, path), (count_before, html_before) in zip(pages, before, strict=True):
        count, html = _read(app, client, path)
        assert count == count_before, f"{path}: {count_before} statements before, {count} after"
        assert html == html_before, f"{path} shows something different"
    # (and the other ICB's round is there: its lead sees it)
    with app.app_context():
        assert db.session.get(ReturnRound, other_round).icb_id != db.session.get(ReturnRound, round_id).icb_id


def test_the_administrators_people_page_is_paginated_with_clear_navigation(app, made, admin_client):
    _add_pcns(app, made, "QSD", "90C", [f"Paged {n:03}" for n in range(120)])
    first = page(admin_client.get("/people"))
    text = first.get_text(" ")
    assert re.search(r"Page 1 of \d+: organisations 1 to 50 of [\d,]+\.", " ".join(text.split()))
    nav = first.find("nav", class_="nhsuk-pagination")
    assert nav is not None and nav["aria-label"] == "Pages of people"
    assert nav.find("a", attrs={"aria-current": "page"}).get_text(strip=True) == "1"
    last = int(nav.find_all("a", class_="nhsuk-pagination__link")[-1].get_text(strip=True))
    assert last >= 3 and nav.find("a", rel="next")["href"] == "/people?page=2"

    # Every organisation appears once across the pages, in the same order as on one long page.
    seen = []
    for number in range(1, last + 1):
        soup = page(admin_client.get(f"/people?page={number}"))
        seen += [h["id"] for h in soup.select("h2[id^=organisation-]")]
        if number == last:
            assert soup.find("nav", class_="nhsuk-pagination").find("a", rel="next") is None
    assert len(seen) == len(set(seen))
    assert {f"organisation-{i}" for i in made["organisations"]} <= set(seen)
    everyone = " ".join(page(admin_client.get(f"/people?page={n}")).get_text(" ") for n in range(1, last + 1))
    assert "admin@example.org" in everyone and "cd4@example.org" in everyone

    for bad in ("0", "-1", "two", "1.5", str(last + 1), "99999999999", "%00"):
        response = admin_client.get(f"/people?page={bad}")
        assert response.status_code == 404, bad
    assert admin_client.get("/people?page=").status_code == 200
    # Or find an organisation by name or ODS code.
    found = page(admin_client.get("/people?q=paged+007"))
    assert [h.get_text(" ", strip=True) for h in found.select("h2[id^=organisation-]")] == ["PCN Paged 007 Scale PCN"]
    assert "1 organisation matches “paged 007”" in " ".join(found.get_text(" ").split())
    assert found.find("nav", class_="nhsuk-pagination") is None
    many = page(admin_client.get("/people?q=Paged"))
    assert "120 organisations match" in " ".join(many.get_text(" ").split())
    assert many.find("nav", class_="nhsuk-pagination").find("a", rel="next")["href"] == "/people?q=Paged&page=2"
    assert len(page(admin_client.get("/people?q=Paged&page=3")).select("h2[id^=organisation-]")) == 20
    assert admin_client.get("/people?q=Paged&page=4").status_code == 404
    none = page(admin_client.get("/people?q=" + "x" * 500))
    assert "0 organisations match" in none.get_text(" ") and not none.select("h2[id^=organisation-]")

    # An ICB lead's area fits on one page: no pagination.
    lead = page(_client_for(app, "icb@example.org").get("/people"))
    assert lead.find("nav", class_="nhsuk-pagination") is None


def test_a_pcns_home_page_does_not_grow_with_the_rounds_it_is_in(app, made):
    pcn = _add_pcns(app, made, "QDM", "90A", ["Roundabout"])[0]
    client = _client_for(app, pcn["cd"])
    make_round(app, [pcn["id"]], title="First round")
    _read(app, client, "/")  # (the first page after signing in also sets the session's CSRF token)
    one_round, _ = _read(app, client, "/")
    answer(app, make_round(app, [pcn["id"]], title="Second round"), pcn, 1)  # submitted
    answer(app, make_round(app, [pcn["id"]], title="Third round"), pcn, 2, submit=False)  # begun
    three_rounds, html = _read(app, client, "/")
    assert three_rounds == one_round, f"{one_round} statements with one round, {three_rounds} with three"
    assert html.count("asks for your readiness return") == 3
    assert "Submitted on" in html and "Continue your return" in html and "Start your return" in html
