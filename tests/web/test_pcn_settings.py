"""A PCN's choice to be named to its LMC in benchmarks: only its clinical director changes it, every change is
audited, its members see it read-only, and the demo has a round worth benchmarking with one PCN opted in."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ReturnRound, Submission
from app.queries.organisations import get_organisation_by_code
from app.queries.users import get_user_by_email
from app.services import demo, demo_rounds
from tests.conftest import error_messages, page

URL = "/pcn/settings"


@pytest.fixture(autouse=True)
def _riverside_not_named(app):
    """Organisations persist for the run: Riverside and Northfields go back to not being named."""
    yield
    with app.app_context():
        db.session.rollback()
        for code in ("U00001", "U00002"):
            get_organisation_by_code(code).named_to_lmc = False
        db.session.commit()


def named(app, code="U00001") -> bool:
    with app.app_context():
        return get_organisation_by_code(code).named_to_lmc


def naming_events(app) -> list[tuple[str, str, int, int]]:
    with app.app_context():
        return [
            (e.summary, e.user_id, e.area_id, e.action)
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "benchmark_naming").order_by(AuditEvent.id)
            )
        ]


def test_the_page_explains_the_choice_and_it_is_off_to_begin_with(app, cd_client):
    soup = page(cd_client.get(URL))
    text = soup.get_text(" ", strip=True)
    assert "only as a letter" in text and "ICB always sees its own area's submitted returns by name" in text
    assert "withdraw its choice at any time" in text and "changes nothing about what your PCN answers" in text
    box = soup.select_one("input#named_to_lmc")
    assert box is not None and not box.has_attr("checked")
    assert "Name our PCN to our LMC in benchmarks" in soup.select_one("label[for=named_to_lmc]").get_text()


def test_a_clinical_director_opts_in_and_out_and_each_change_is_audited(app, cd_client):
    response = cd_client.post(URL, data={"named_to_lmc": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)
    assert named(app)
    soup = page(cd_client.get(URL))
    assert "Riverside PCN is now named to your LMC" in soup.get_text(" ", strip=True)
    assert soup.select_one("input#named_to_lmc").has_attr("checked")

    response = cd_client.post(URL, data={})  # the box unticked: nothing sent for it
    assert response.status_code == 302 and not named(app)
    assert "only as a letter" in page(cd_client.get(URL)).get_text(" ", strip=True)

    with app.app_context():
        director = get_user_by_email("cd@example.org").id
        icb = get_organisation_by_code("QDM").id
    events = naming_events(app)
    assert [(user, area, action) for _, user, area, action in events] == [
        (director, icb, "benchmark_naming"),
        (director, icb, "benchmark_naming"),
    ]
    assert events[0][0] == "Named Riverside PCN to its LMC in benchmarks"
    assert events[1][0].startswith("Withdrew Riverside PCN's naming to its LMC")

    # Saving the same choice again changes nothing and records nothing.
    cd_client.post(URL, data={})
    assert len(naming_events(app)) == 2 and not named(app)


def test_a_pcn_member_sees_the_choice_read_only_and_cannot_change_it(app, manager_client):
    soup = page(manager_client.get(URL))
    text = soup.get_text(" ", strip=True)
    assert soup.select_one("input#named_to_lmc") is None and soup.select_one("main form") is None
    assert "Only your PCN's clinical director can change this" in text and "Dr Asha Patel" in text
    assert "only as a letter" in text
    assert manager_client.post(URL, data={"named_to_lmc": "y"}).status_code == 403
    assert not named(app) and naming_events(app) == []


def test_a_clinical_director_of_another_pcn_only_ever_sees_and_changes_their_own(app, cd2_client):
    soup = page(cd2_client.get(URL))
    assert "Northfields PCN" in soup.get_text() and "Riverside" not in soup.get_text()
    # There is no way to name another PCN: whatever is sent, the change is to the user's own PCN.
    assert cd2_client.post(URL, data={"named_to_lmc": "y", "pcn": "U00001", "pcn_id": "1"}).status_code == 302
    assert named(app, "U00002") and not named(app, "U00001")
    assert cd2_client.post("/pcn/settings?pcn=U00001", data={}).status_code == 302
    assert not named(app, "U00002") and not named(app, "U00001")


@pytest.mark.parametrize("sent", [{"named_to_lmc": "true"}, {"named_to_lmc": "on"}, {"named_to_lmc": ["y", "y"]}])
def test_bad_input_is_refused_with_a_plain_message_and_nothing_changes(app, cd_client, sent):
    response = cd_client.post(URL, data=sent)
    assert response.status_code == 400
    assert error_messages(page(response)) == [
        "Tick the box to name your PCN to your LMC, or leave it unticked to be shown as a letter"
    ]
    assert not named(app) and naming_events(app) == []


def test_bad_input_does_not_withdraw_a_choice_already_made(app, cd_client):
    cd_client.post(URL, data={"named_to_lmc": "y"})
    response = cd_client.post(URL, data={"named_to_lmc": "false"})
    assert response.status_code == 400 and named(app) and len(naming_events(app)) == 1
    assert page(response).select_one("input#named_to_lmc").has_attr("checked")


def test_the_pcn_home_page_links_to_the_setting(cd_client):
    soup = page(cd_client.get("/"))
    link = soup.find("a", href=URL)
    assert link is not None and "whether your LMC sees your PCN's name in benchmarks" in link.get_text()


def test_the_demo_winter_round_has_eight_submitted_returns_and_one_pcn_named_to_its_lmc(app, monkeypatch):
    from app.jobs import JobQueue

    monkeypatch.setattr(JobQueue, "send", lambda self, job_id: None)  # the demo's facts, not its PDFs
    with app.app_context():
        demo_rounds.load()
        assert demo_rounds.load() == 0  # idempotent
        icb = get_organisation_by_code("QDM")
        winter = db.session.scalar(
            select(ReturnRound).where(ReturnRound.icb_id == icb.id, ReturnRound.title == demo_rounds.WINTER)
        )
        submitted = db.session.scalars(select(Submission).where(Submission.round_id == winter.id)).all()
        pcns = [s.pcn for s in submitted]
        assert len(submitted) >= 8 and all(p.area_id == icb.id for p in pcns)
        assert [p.ods_code for p in pcns if p.named_to_lmc] == ["U00013"]
        assert len({round(s.overall_now) for s in submitted}) >= 6  # a real spread, not one score eight times
        # The PCNs that the tests rely on keep their states: only Northfields of the first six has submitted.
        first_six = {code for _, code in demo.PCNS[:6]}
        assert {p.ods_code for p in pcns} & first_six == {"U00002"}
