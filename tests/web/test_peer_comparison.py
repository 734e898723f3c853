"""A PCN's own comparison with its peers, on its results page and in its PDF report: submitted returns only, on
the same questionnaire content, no figure from fewer than five PCNs, and no other PCN named."""

import shutil
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import delete

from app import jobs
from app.extensions import db
from app.queries.organisations import get_organisation_by_code as organisation_by_code
from app.queries.users import get_user_by_email as account
from app.questionnaires import registry
from app.questionnaires.loader import parse_questionnaire
from app.services import assessments, benchmarks, peer_figures, rounds
from app.services.demo import OTHER_PCNS, PCNS
from app.services.scoring import AnswerValue
from tests.conftest import PER_TEST_TABLES, page

PDF_TOOLS = shutil.which("pdftotext")
SMALL = benchmarks.SMALL_NUMBERS.format(n=benchmarks.MIN_PCNS)
# The Demo ICB's PCNs with a clinical director to submit, and the level each answers every question with, now and
# in six months. Levels run 0-4, so a level is 25 points: readiness now 25, 0, 25, 50, 100 and targets 50, 50, 75,
# 75, 100.
DEMO_ICB = [
    ("U00001", "cd@example.org", 1, 2),  # Riverside: the viewer
    ("U00002", "cd2@example.org", 0, 2),
    ("U00003", "cd3@example.org", 1, 3),
    ("U00004", "cd6@example.org", 2, 3),
    ("U00005", "cd5@example.org", 4, 4),
]
HILLSIDE = ("U00007", "cd4@example.org", 1, 1)  # Second Demo ICB: in England's figures only


@pytest.fixture
def fresh(app, monkeypatch):
    """No rounds or returns left by the demo data or other tests; submissions without their PDF job (the
    comparison is what is tested here, and the report's PDF is tested through its own route)."""
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: None)
    with app.app_context():
        for model in PER_TEST_TABLES:
            db.session.execute(delete(model))
        db.session.commit()
        yield app


def open_round(icb_code: str, lead: str, core=None, pcn_codes=None):
    icb = organisation_by_code(icb_code)
    pcns = rounds.pcns_of(icb.id)
    today = rounds.today()
    return rounds.create_round(
        icb,
        account(lead),
        title=f"Peer test round {icb_code} {core.version if core else ''}",
        core=core or registry().get("neighbourhood-readiness"),
        supplement=None,
        opens_on=today - timedelta(days=1),
        closes_on=today + timedelta(days=10),
        pcn_ids=[p.id for p in pcns if pcn_codes is None or p.ods_code in pcn_codes],
    )


def answer(round_, code: str, email: str, now: int, target: int, *, submit: bool = True) -> int:
    """The PCN's return in this round, every question at these levels: confirmed, and submitted unless told."""
    pcn, user = organisation_by_code(code), account(email)
    assessment = rounds.start_return(round_, pcn, user)
    questionnaire = assessments.questionnaire_for(assessment)
    for domain in questionnaire.domains:
        progress = next(p for p in assessment.domains if p.domain_id == domain.id)
        values = {q.id: AnswerValue(current=now, target=target) for q in domain.questions}
        assessments.save_domain(assessment, domain, values, progress.revision, user)
    assessments.complete_assessment(assessment)
    if submit:
        rounds.submit(assessment, user, declared=True)
    return assessment.id


def section(client, assessment_id: int):
    soup = page(client.get(f"/assessments/{assessment_id}/results"))
    found = soup.select_one("section.app-peers")
    assert found is not None, "the results page has no comparison section"
    return found


def other_names(own: str) -> list[str]:
    return [name for name, _ in PCNS + OTHER_PCNS if name != own]


def test_fewer_than_five_returns_show_the_small_numbers_sentence_and_no_figures(fresh, cd_client):
    round_ = open_round("QDM", "icb@example.org")
    viewer = answer(round_, *DEMO_ICB[0])
    for pcn in DEMO_ICB[1:4]:
        answer(round_, *pcn)  # four returns in all
    found = section(cd_client, viewer)
    text = " ".join(found.get_text(" ").split())
    assert "How your PCN compares" in text
    assert f"PCNs in Demo ICB: {SMALL}" in text and f"PCNs in England: {SMALL}" in text
    assert found.find("svg") is None and found.find("table") is None
    assert "%" not in text


def test_five_returns_show_medians_worked_by_hand(fresh, cd_client):
    round_ = open_round("QDM", "icb@example.org")
    viewer = answer(round_, *DEMO_ICB[0])
    for pcn in DEMO_ICB[1:]:
        answer(round_, *pcn)
    found = section(cd_client, viewer)
    text = " ".join(found.get_text(" ").split())
    core = registry().get("neighbourhood-readiness")
    assert f"the latest submitted return of each of 5 PCNs in Demo ICB on {core.title} version {core.version}" in text
    # England holds the same five returns: the same figures, nothing more told.
    assert f"the latest submitted return of each of 5 PCNs in England on {core.title} version {core.version}" in text
    # Demo ICB now: 0, 25, 25, 50, 100 -> lower quartile 25, median 25, upper quartile 50.
    rows = found.select("table tbody tr")
    assert len(rows) == len(core.domains)
    for row in rows:
        cells = [c.get_text(" ", strip=True) for c in row.find_all(["th", "td"])]
        assert cells[1:] == ["25%", "50%", "25% (25% to 50%)", "5", "25% (25% to 50%)", "5"], cells

    # One return outside the ICB: England beside the ICB would tell that one PCN apart, so it is withheld.
    other = open_round("QSD", "icb2@example.org")
    answer(other, *HILLSIDE)
    found = section(cd_client, viewer)
    text = " ".join(found.get_text(" ").split())
    assert "PCNs in England: no England figure is shown yet: fewer than 5 PCNs outside your ICB" in text
    assert SMALL not in text
    for row in found.select("table tbody tr"):
        cells = [c.get_text(" ", strip=True) for c in row.find_all(["th", "td"])]
        assert cells[1:] == ["25%", "50%", "25% (25% to 50%)", "5"], cells
    chart = found.select_one("svg[role=img]")
    assert chart.find("title").get_text() and "middle half" in chart.find("desc").get_text()
    assert "PCNs in Demo ICB: median 25% (middle half 25% to 50%), 5 PCNs" in chart.find("desc").get_text()
    assert len(chart.select(".app-chart__now")) == len(core.domains)
    # A profile: it says so, and the words of a league table are not used otherwise.
    assert "It is a profile, not a rank." in text
    words = text.replace("It is a profile, not a rank.", "").lower()
    for word in ("rank", "position", "above average", "below average", "best", "worst", "league", "top", "bottom"):
        assert word not in words


def test_a_draft_is_never_counted(fresh, cd_client):
    round_ = open_round("QDM", "icb@example.org")
    viewer = answer(round_, *DEMO_ICB[0])
    for pcn in DEMO_ICB[1:4]:
        answer(round_, *pcn)
    answer(round_, *DEMO_ICB[4], submit=False)  # Eastgate's return is confirmed but not submitted: a draft
    groups = benchmarks.peer_comparison(registry().get("neighbourhood-readiness"), organisation_by_code("U00001"))
    assert [g.count for g in groups] == [4, 4]
    text = " ".join(section(cd_client, viewer).get_text(" ").split())
    assert f"PCNs in Demo ICB: {SMALL}" in text


def test_a_return_on_different_questionnaire_content_is_not_counted(fresh, cd_client, tmp_path):
    shipped = registry().get("neighbourhood-readiness")
    # The same file with one more line: the same questions, but other content, so another hash.
    edited = parse_questionnaire(shipped.source + "\n# edited locally\n", "edited copy", strict=False)
    assert edited.content_hash != shipped.content_hash
    round_ = open_round("QDM", "icb@example.org", pcn_codes=[c for c, *_ in DEMO_ICB[:4]])
    viewer = answer(round_, *DEMO_ICB[0])
    for pcn in DEMO_ICB[1:4]:
        answer(round_, *pcn)
    elsewhere = open_round("QDM", "icb@example.org", core=edited, pcn_codes=[DEMO_ICB[4][0]])
    answer(elsewhere, *DEMO_ICB[4])
    assert [g.count for g in benchmarks.peer_comparison(shipped, organisation_by_code("U00001"))] == [4, 4]
    assert [g.count for g in benchmarks.peer_comparison(edited, organisation_by_code("U00005"))] == [1, 1]
    text = " ".join(section(cd_client, viewer).get_text(" ").split())
    assert f"PCNs in Demo ICB: {SMALL}" in text and "%" not in text


def test_no_other_pcn_is_named_in_the_comparison(fresh, cd_client):
    round_ = open_round("QDM", "icb@example.org")
    viewer = answer(round_, *DEMO_ICB[0])
    for pcn in DEMO_ICB[1:]:
        answer(round_, *pcn)
    found = section(cd_client, viewer)
    assert found.find("svg") is not None
    markup = str(found)
    for name in other_names("Riverside PCN"):
        assert name not in markup
    for code, *_ in DEMO_ICB[1:] + [HILLSIDE]:
        assert code not in markup


@pytest.mark.skipif(not PDF_TOOLS, reason="needs pdftotext (poppler-utils)")
def test_the_pdf_report_has_the_comparison(fresh, cd_client):
    round_ = open_round("QDM", "icb@example.org")
    viewer = answer(round_, *DEMO_ICB[0])
    for pcn in DEMO_ICB[1:]:
        answer(round_, *pcn)
    response = cd_client.get(f"/assessments/{viewer}/report.pdf")
    assert response.status_code == 200
    text = subprocess.run(["pdftotext", "-", "-"], input=response.data, capture_output=True, check=True).stdout
    text = " ".join(text.decode().split())
    assert "How the PCN compares" in text
    assert "latest submitted return of each of 5 PCNs in Demo ICB" in text
    assert "25% (25% to 50%)" in text
    assert f"PCNs in England: {SMALL}" not in text  # five in England too: the same five
    for name in other_names("Riverside PCN"):
        assert name not in text


def test_the_html_report_with_peer_figures_has_no_style_attribute_for_the_csp_to_refuse(fresh, cd_client):
    round_ = open_round("QDM", "icb@example.org")
    viewer = answer(round_, *DEMO_ICB[0])
    for pcn in DEMO_ICB[1:]:
        answer(round_, *pcn)
    soup = page(cd_client.get(f"/assessments/{viewer}/report"))
    assert soup.select("section.peers table col")  # the peers table is there, with its column widths
    assert not soup.select("[style]")  # set by classes in report.css: the pages' CSP allows no inline style


def test_the_html_report_says_why_there_are_no_figures(fresh, cd_client):
    round_ = open_round("QDM", "icb@example.org")
    viewer = answer(round_, *DEMO_ICB[0])
    text = " ".join(page(cd_client.get(f"/assessments/{viewer}/report")).get_text(" ").split())
    assert "How the PCN compares" in text
    assert f"PCNs in Demo ICB: {SMALL}" in text and f"PCNs in England: {SMALL}" in text


def test_the_figures_kept_between_pages_change_as_soon_as_another_return_is_submitted(fresh, cd_client):
    # The comparison is worked out once and kept (app/services/peer_figures.py); a new return must show at once.
    round_ = open_round("QDM", "icb@example.org")
    viewer = answer(round_, *DEMO_ICB[0])
    for pcn in DEMO_ICB[1:4]:
        answer(round_, *pcn)
    assert f"PCNs in Demo ICB: {SMALL}" in " ".join(section(cd_client, viewer).get_text(" ").split())
    assert f"PCNs in Demo ICB: {SMALL}" in " ".join(section(cd_client, viewer).get_text(" ").split())  # kept
    answer(round_, *DEMO_ICB[4])  # the fifth return
    found = section(cd_client, viewer)
    assert SMALL not in " ".join(found.get_text(" ").split())
    assert len(found.select("table tbody tr")) == len(registry().get("neighbourhood-readiness").domains)
    kept = peer_figures.peer_comparison(registry().get("neighbourhood-readiness"), organisation_by_code("U00001"))
    worked = benchmarks.peer_comparison(registry().get("neighbourhood-readiness"), organisation_by_code("U00001"))
    assert kept == worked and [g.count for g in kept] == [5, 5]
