"""Every shipped questionnaire loads, meets the second edition's content rules, and builds a form for every domain."""

import re
from html import unescape
from pathlib import Path

import pytest

from app.forms.domain import NOT_APPLICABLE, build_domain_form
from app.questionnaires import OWNERS
from app.questionnaires.loader import MAX_DESCRIPTOR_WORDS, load_directory
from app.questionnaires.schema import EFFORT_DAYS

SHIPPED = load_directory(Path(__file__).resolve().parents[2] / "questionnaires")
CORE = SHIPPED["neighbourhood-readiness"]
SUPPLEMENT = SHIPPED["kent-medway-snh-supplement"]


def test_core_and_local_supplement_are_shipped():
    assert CORE.version.startswith("2.")
    assert SUPPLEMENT.kind == "supplement" and SUPPLEMENT.supplements == CORE.id


def test_core_is_short_enough_for_a_busy_morning():
    titles = [d.title for d in CORE.domains]
    assert len(titles) == 8
    for word in ("Leadership", "relationships", "Governance", "neighbourhood teams", "Population health", "IT",
                 "health centre", "Voice"):  # fmt: skip
        assert any(word in t for t in titles), word
    assert all(1 <= len(d.questions) <= 4 for d in CORE.domains)
    assert 28 <= CORE.question_count <= 32
    assert all(CORE.minutes(d) < 10 for d in CORE.domains)


def test_the_topics_the_first_edition_missed_are_asked():
    for question_id in ("pop-access", "lead-practice-capacity", "voice-mnh-scale", "rel-other-primary-care"):
        assert question_id in CORE.questions_by_id
    housebound = (
        " ".join(CORE.questions_by_id["pop-cohorts"].levels.values()) + CORE.questions_by_id["pop-cohorts"].guidance
    )
    assert "housebound" in housebound.lower()


@pytest.mark.parametrize("questionnaire", SHIPPED.values(), ids=list(SHIPPED))
def test_each_question_has_its_own_descriptors_evidence_and_an_action_per_step(questionnaire):
    seen_descriptors = set()
    for question in questionnaire.questions_by_id.values():
        assert sorted(question.levels) == list(questionnaire.scale.levels)
        assert sorted(question.actions) == list(questionnaire.scale.steps)
        for action in question.actions.values():
            assert action.owner in OWNERS, question.id
            assert action.effort in EFFORT_DAYS
            assert "partner" not in action.owner.lower() and "ICB" not in action.owner and "LMC" not in action.owner
        assert all(len(text.split()) <= MAX_DESCRIPTOR_WORDS for text in question.levels.values())
        # Descriptors are specific to the question, not a generic scale repeated everywhere.
        assert not seen_descriptors & set(question.levels.values()), question.id
        seen_descriptors |= set(question.levels.values())
        # What a PCN could point to, for most levels above the lowest, so answers mean the same across PCNs.
        assert len(question.evidence) >= 3, question.id


def test_level_one_says_meets_the_contract_where_the_contract_sets_a_baseline():
    for question_id in ("gov-practice-decisions", "int-mdt-cohorts", "pop-cohorts", "it-sharing"):
        question = CORE.questions_by_id[question_id]
        assert question.levels[1].startswith("Meets the contract"), question_id


def test_the_core_is_national_and_accurate():
    text = CORE.source.lower()
    assert "kent" not in text and "medway" not in text
    assert "not usually a legal entity" not in text
    assert "every neighbourhood is expected to have" not in text
    assert "policy context (november 2026)" in text


def test_actions_that_need_the_leaders_meeting_say_so():
    needing = [
        (q.id, step)
        for q in CORE.questions_by_id.values()
        for step, action in q.actions.items()
        if q.id != "gov-forum" and re.search(r"leaders'? meeting", action.description + action.title, re.I)
    ]
    assert needing
    for question_id, step in needing:
        assert ("gov-forum", 2) in CORE.questions_by_id[question_id].actions[step].requires, (question_id, step)


def test_the_supplement_adds_local_guidance_rather_than_repeating_core_questions():
    assert len(SUPPLEMENT.local_guidance) >= 6
    assert set(SUPPLEMENT.local_guidance) <= set(CORE.questions_by_id)
    assert "opt in" not in SUPPLEMENT.source.lower() and "opted in" not in SUPPLEMENT.source.lower()
    core_titles = {a.title.casefold() for q in CORE.questions_by_id.values() for a in q.actions.values()}
    assert not core_titles & {
        a.title.casefold() for q in SUPPLEMENT.questions_by_id.values() for a in q.actions.values()
    }


@pytest.mark.parametrize(
    ("questionnaire", "domain"),
    [(q, d) for q in SHIPPED.values() for d in q.domains],
    ids=[f"{q.id}:{d.id}" for q in SHIPPED.values() for d in q.domains],
)
def test_every_domain_form_builds(app_ctx, questionnaire, domain):
    scale = questionnaire.scale
    with app_ctx.test_request_context():
        form = build_domain_form(domain, scale)
        for question in domain.questions:
            now, target, note = form.question_fields(question)
            expected = [str(level) for level in scale.levels] + ["not-sure"]
            if question.allows_not_applicable:
                expected.append(NOT_APPLICABLE)
            assert [c.value for c in now.choices] == expected
            assert [c.value for c in target.choices] == [str(level) for level in scale.levels] + ["not-sure"]
            now_html, target_html = unescape(str(now())), unescape(str(target()))
            # Each level's descriptor is shown once, with "now"; the target offers the scale's names.
            assert all(text in now_html for text in question.levels.values())
            assert not any(text in target_html for text in question.levels.values())
            assert all(name in target_html for name in scale.names)
