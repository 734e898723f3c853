"""Scoring: worked examples, and properties that must hold for any answers."""

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.questionnaires.loader import parse_questionnaire
from app.services.scoring import AnswerValue, score_assessment

MINI = parse_questionnaire((Path(__file__).parent.parent / "fixtures" / "questionnaires" / "mini.yaml").read_text())
QUESTION_IDS = list(MINI.questions_by_id)


def test_worked_example():
    # lead: q1 weight 2, q2 weight 3; teams: q1 weight 2, q2 weight 3. Domain weights lead 2, teams 1.
    answers = {
        "lead-q1": AnswerValue(current=2, target=4),
        "lead-q2": AnswerValue(current=1, target=3),
        "teams-q1": AnswerValue(current=4, target=4),
        "teams-q2": AnswerValue(current_unsure=True, target=2),
    }
    score = score_assessment(MINI, answers)
    lead, teams = score.domains
    assert lead.now == pytest.approx(100 * (2 * 2 + 3 * 1) / (4 * 5))  # 35
    assert lead.target == pytest.approx(100 * (2 * 4 + 3 * 3) / 20)  # 85
    assert teams.now == pytest.approx(100 * (2 * 4 + 3 * 0) / 20)  # 40: "Not sure" counts as 0
    assert teams.target == pytest.approx(100 * (2 * 4 + 3 * 2) / 20)  # 70
    assert score.now == pytest.approx((35 * 2 + 40 * 1) / 3)
    assert score.target == pytest.approx((85 * 2 + 70 * 1) / 3)
    assert (lead.band.name, lead.target_band.name, teams.band.name) == ("Emerging", "Established", "Emerging")
    assert teams.unsure_count == 1 and score.unsure_count == 1
    assert [q.question.id for _, q in score.top_gaps(3)] == ["lead-q2", "lead-q1", "teams-q2"]


def test_unsure_target_means_no_planned_change():
    score = score_assessment(MINI, {"lead-q1": AnswerValue(current=3, target_unsure=True)})
    first = score.domains[0].questions[0]
    assert (first.current, first.target, first.gap, first.unsure) == (3, 3, 0, True)


def test_bands_come_from_the_questionnaire():
    renamed = parse_questionnaire(
        (Path(__file__).parent.parent / "fixtures" / "questionnaires" / "mini.yaml")
        .read_text()
        .replace("Established", "Leading the way")
    )
    answers = {q: AnswerValue(current=4, target=4) for q in QUESTION_IDS}
    assert score_assessment(renamed, answers).band.name == "Leading the way"


levels = st.one_of(st.none(), st.integers(min_value=0, max_value=4))


@st.composite
def answer_values(draw):
    unsure_now = draw(st.booleans())
    current = None if unsure_now else draw(levels)
    target_unsure = draw(st.booleans())
    target = None if target_unsure else draw(levels)
    if current is not None and target is not None and target < current:
        target = current  # the form refuses a target below current, so scoring never receives one
    return AnswerValue(current=current, target=target, current_unsure=unsure_now, target_unsure=target_unsure)


all_answers = st.fixed_dictionaries({q: answer_values() for q in QUESTION_IDS})


@given(all_answers)
def test_scores_stay_within_0_and_100_and_target_never_below_now(answers):
    score = score_assessment(MINI, answers)
    for d in (*score.domains, score):
        assert 0 <= d.now <= 100 and 0 <= d.target <= 100
        assert d.target >= d.now - 1e-9


@given(all_answers, st.sampled_from(QUESTION_IDS))
def test_raising_an_answer_never_lowers_a_score(answers, question_id):
    before = score_assessment(MINI, answers)
    answer = answers[question_id]
    current = answer.current if answer.current is not None else 0
    if current == 4:
        return
    raised = dict(answers)
    raised[question_id] = replace(answer, current=current + 1, current_unsure=False, target=4)
    after = score_assessment(MINI, raised)
    assert after.now >= before.now - 1e-9
    assert after.target >= before.target - 1e-9


@given(all_answers, st.randoms())
def test_scores_do_not_depend_on_question_order(answers, rnd):
    shuffled_domains = []
    for domain in MINI.domains:
        questions = list(domain.questions)
        rnd.shuffle(questions)
        shuffled_domains.append(replace(domain, questions=tuple(questions)))
    shuffled = replace(MINI, domains=tuple(shuffled_domains))
    items = list(answers.items())
    rnd.shuffle(items)
    a, b = score_assessment(MINI, answers), score_assessment(shuffled, dict(items))
    assert a.now == pytest.approx(b.now) and a.target == pytest.approx(b.target)
    assert [d.now for d in a.domains] == pytest.approx([d.now for d in b.domains])


def test_the_band_matches_the_figure_as_shown():
    # 74.6% is shown as "75%", so it must be in the band that starts at 75.
    assert MINI.band_for(74.6).name == "Established" and MINI.band_for(74.4).name == "Developing"


STAGES = parse_questionnaire(
    (Path(__file__).parent.parent / "fixtures" / "questionnaires" / "pcn-maturity-2019.yaml").read_text()
)


def test_a_four_stage_scale_scores_its_top_stage_as_100():
    answers = {
        "stages-plan": AnswerValue(current=3, target=3),
        "stages-data": AnswerValue(current=1, target=2),
        "stages-team": AnswerValue(current=0, target=3),
    }
    score = score_assessment(STAGES, answers)
    leadership, care = score.domains
    assert leadership.now == pytest.approx(100 * (3 + 1) / (3 * 2))  # two questions of weight 1, top level 3
    assert care.now == 0 and care.target == 100


def test_not_applicable_is_left_out_of_the_score_not_counted_as_zero():
    with_it = score_assessment(STAGES, {"stages-plan": AnswerValue(current=3, target=3),
                                        "stages-data": AnswerValue(not_applicable=True)})  # fmt: skip
    leadership = with_it.domains[0]
    assert leadership.now == 100 and leadership.not_applicable_count == 1
    assert with_it.top_gaps() == [] or all(q.applicable for _, q in with_it.top_gaps())


def test_a_domain_with_every_question_not_applicable_is_left_out_of_the_overall_figure():
    answers = {
        "stages-plan": AnswerValue(not_applicable=True),
        "stages-data": AnswerValue(not_applicable=True),
        "stages-team": AnswerValue(current=3, target=3),
    }
    score = score_assessment(STAGES, answers)
    assert not score.domains[0].applicable and score.domains[1].applicable
    assert score.now == 100 and score.target == 100  # the other domain alone, not averaged with a zero
