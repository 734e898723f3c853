"""Every shipped questionnaire loads, meets the content rules, and builds a form for every domain."""

from html import unescape
from pathlib import Path

import pytest

from app.forms.domain import build_domain_form
from app.questionnaires.loader import load_directory

SHIPPED = load_directory(Path(__file__).resolve().parents[2] / "questionnaires")
OWNERS = {"Clinical director", "PCN manager", "Practice leads", "Operational lead", "ICB", "LMC", "Partners"}


def test_core_and_local_supplement_are_shipped():
    assert "neighbourhood-readiness" in SHIPPED
    supplements = [q for q in SHIPPED.values() if q.kind == "supplement"]
    assert supplements and all(q.supplements == "neighbourhood-readiness" for q in supplements)


def test_core_has_the_eight_domains_with_at_least_four_questions_each():
    core = SHIPPED["neighbourhood-readiness"]
    titles = [d.title for d in core.domains]
    assert len(titles) == 8
    for word in ("Leadership", "relationships", "Governance", "neighbourhood teams", "Population health", "IT",
                 "health centre", "Voice"):  # fmt: skip
        assert any(word in t for t in titles), word
    assert all(len(d.questions) >= 4 for d in core.domains)


@pytest.mark.parametrize("questionnaire", SHIPPED.values(), ids=list(SHIPPED))
def test_each_question_has_its_own_descriptors_and_an_action_per_step(questionnaire):
    seen_descriptors = set()
    for question in questionnaire.questions_by_id.values():
        assert sorted(question.levels) == [0, 1, 2, 3, 4]
        assert sorted(question.actions) == [1, 2, 3, 4]
        assert all(a.owner in OWNERS for a in question.actions.values()), question.id
        # Descriptors are specific to the question, not a generic scale repeated everywhere.
        assert not seen_descriptors & set(question.levels.values()), question.id
        seen_descriptors |= set(question.levels.values())


@pytest.mark.parametrize(
    ("questionnaire", "domain"),
    [(q, d) for q in SHIPPED.values() for d in q.domains],
    ids=[f"{q.id}:{d.id}" for q in SHIPPED.values() for d in q.domains],
)
def test_every_domain_form_builds(app_ctx, questionnaire, domain):
    with app_ctx.test_request_context():
        form = build_domain_form(domain)
        for question in domain.questions:
            now, target, note = form.question_fields(question)
            assert [c.value for c in now.choices] == ["0", "1", "2", "3", "4", "not-sure"]
            assert now.hints["4"] == question.levels[4]
            html = unescape(str(now()))
            assert question.levels[0] in html and "Not sure" in html
