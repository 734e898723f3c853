"""The rules of rounds, tested without a browser: who manages a round, its phases and its statuses."""

from datetime import date, datetime
from types import SimpleNamespace

from app.models import OrgKind, ReturnStatus, Role
from app.services import permissions, rounds


def person(role: Role, kind: OrgKind, organisation_id: int):
    return SimpleNamespace(role=role, organisation=SimpleNamespace(kind=kind), organisation_id=organisation_id)


def a_round(**fields):
    values = {"icb_id": 10, "opens_on": date(2026, 11, 1), "closes_on": date(2026, 11, 30), "closed_early_at": None}
    return SimpleNamespace(**(values | fields))


def test_only_the_rounds_own_icb_lead_manages_it():
    round_ = a_round()
    assert permissions.can_manage_round(person(Role.ICB_LEAD, OrgKind.ICB, 10), round_)
    assert not permissions.can_manage_round(person(Role.ICB_LEAD, OrgKind.ICB, 11), round_)  # another ICB
    for role, kind in (
        (Role.CLINICAL_DIRECTOR, OrgKind.PCN),
        (Role.LMC_OFFICER, OrgKind.LMC),
        (Role.ADMIN, OrgKind.ADMIN),
    ):
        assert not permissions.can_manage_round(person(role, kind, 10), round_)
    # An ICB lead role on an organisation that is not an ICB manages nothing.
    assert not permissions.can_manage_round(person(Role.ICB_LEAD, OrgKind.PCN, 10), round_)


def test_a_submission_is_seen_only_through_its_own_round():
    lead = person(Role.ICB_LEAD, OrgKind.ICB, 10)
    assert permissions.can_see_submission(lead, a_round(id=1), SimpleNamespace(round_id=1))
    assert not permissions.can_see_submission(lead, a_round(id=1), SimpleNamespace(round_id=2))


def test_phases_follow_the_dates_and_an_early_close():
    round_ = a_round()
    assert rounds.phase(round_, date(2026, 10, 31)) == "upcoming"
    assert rounds.phase(round_, date(2026, 11, 1)) == "open"
    assert rounds.phase(round_, date(2026, 12, 5)) == "open"  # late returns still come in until it is closed
    assert rounds.past_deadline(round_, date(2026, 12, 1)) and not rounds.past_deadline(round_, date(2026, 11, 30))
    assert rounds.phase(a_round(closed_early_at=datetime(2026, 11, 10)), date(2026, 11, 11)) == "closed"
    assert rounds.days_to_deadline(round_, date(2026, 11, 23)) == 7


def test_status_from_what_the_icb_may_know(monkeypatch):
    monkeypatch.setattr(rounds, "today", lambda: date(2026, 11, 20))
    round_ = a_round()
    submitted = SimpleNamespace(is_reopened=False)
    reopened = SimpleNamespace(is_reopened=True)
    assert rounds.status_of(round_, False, None) == ReturnStatus.NOT_STARTED
    assert rounds.status_of(round_, True, None) == ReturnStatus.IN_PROGRESS
    assert rounds.status_of(round_, True, submitted) == ReturnStatus.SUBMITTED
    assert rounds.status_of(round_, True, reopened) == ReturnStatus.REOPENED
    monkeypatch.setattr(rounds, "today", lambda: date(2026, 12, 1))
    assert rounds.status_of(round_, True, None) == ReturnStatus.OVERDUE
    assert rounds.status_of(round_, True, submitted) == ReturnStatus.SUBMITTED
