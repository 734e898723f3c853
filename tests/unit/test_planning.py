"""Which actions the gaps need, and how they are spread over six months."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from app.questionnaires.loader import load_file, parse_questionnaire
from app.services.planning import Placed, needed_actions, schedule
from app.services.scoring import AnswerValue

FIXTURES = Path(__file__).parent.parent / "fixtures" / "questionnaires"
MINI = parse_questionnaire((FIXTURES / "mini.yaml").read_text())
CORE = load_file(Path(__file__).resolve().parents[2] / "questionnaires" / "neighbourhood-readiness.yaml")


def test_each_step_from_current_to_target_gets_the_questionnaires_action():
    actions = needed_actions(MINI, {"lead-q1": AnswerValue(current=1, target=3)})
    assert [(a.key, a.title, a.owner) for a in actions] == [
        ("lead-q1:step-2", "Leading q1 step 2", "Clinical director"),
        ("lead-q1:step-3", "Leading q1 step 3", "Clinical director"),
    ]
    assert actions[0].priority == 2 * 2 * 2  # gap 2 x question weight 2 x domain weight 2


def test_no_gap_means_no_action():
    assert needed_actions(MINI, {"lead-q1": AnswerValue(current=3, target=3)}) == []


def test_not_sure_becomes_a_find_out_action_in_month_one():
    answers = {
        "teams-q2": AnswerValue(current_unsure=True, target=3),
        "teams-q1": AnswerValue(current=1, target_unsure=True),
    }
    actions = needed_actions(MINI, answers)
    assert {a.key for a in actions} == {"teams-q1:find-out", "teams-q2:find-out"}
    assert "where the PCN stands now" in next(a for a in actions if a.key == "teams-q2:find-out").title
    assert "six-month target" in next(a for a in actions if a.key == "teams-q1:find-out").title
    months = schedule(actions, MINI, max_per_month=1)
    assert set(months.values()) == {1}  # month 1 always, even above the monthly ceiling


def test_foundations_come_first_then_priority():
    answers = {
        "teams-q1": AnswerValue(current=0, target=4),  # large gap, but teams rests on leading
        "lead-q1": AnswerValue(current=2, target=3),
        "lead-q2": AnswerValue(current=2, target=3),
    }
    order = [a.key for a in needed_actions(MINI, answers)]
    assert order.index("lead-q1:step-3") < order.index("teams-q1:step-1")
    assert order.index("lead-q2:step-3") < order.index("teams-q1:step-1")
    months = schedule(needed_actions(MINI, answers), MINI, max_per_month=1)
    assert months["lead-q1:step-3"] == 1 and months["lead-q2:step-3"] == 2
    assert months["teams-q1:step-1"] == 3


def test_steps_of_a_question_go_one_a_month_and_overflow_goes_later():
    actions = needed_actions(MINI, {"lead-q1": AnswerValue(current=0, target=4)})
    months = schedule(actions, MINI, max_per_month=5)
    assert [months[f"lead-q1:step-{n}"] for n in (1, 2, 3, 4)] == [1, 2, 3, 4]
    full = [Placed(None, None, m) for m in (1, 2, 3, 4, 5) for _ in range(2)]
    months = schedule(actions, MINI, max_per_month=2, placed=full)
    assert [months[f"lead-q1:step-{n}"] for n in (1, 2, 3, 4)] == [6, None, None, None]


def test_a_question_waits_for_the_question_it_depends_on():
    answers = {"lead-q1": AnswerValue(current=0, target=1), "lead-q2": AnswerValue(current=0, target=1)}
    placed = [Placed("lead-q1", 1, 3)]  # the PCN moved the foundation's first step to month 3
    actions = [a for a in needed_actions(MINI, answers) if a.question_id == "lead-q2"]
    assert schedule(actions, MINI, max_per_month=5, placed=placed)["lead-q2:step-1"] == 3


levels = st.integers(min_value=0, max_value=4)


@st.composite
def core_answers(draw):
    answers = {}
    for question_id in CORE.questions_by_id:
        kind = draw(st.sampled_from(["level", "level", "level", "unsure-now", "unsure-target"]))
        current = draw(levels)
        target = draw(st.integers(min_value=current, max_value=4))
        if kind == "unsure-now":
            answers[question_id] = AnswerValue(current_unsure=True, target=target)
        elif kind == "unsure-target":
            answers[question_id] = AnswerValue(current=current, target_unsure=True)
        else:
            answers[question_id] = AnswerValue(current=current, target=target)
    return answers


@settings(max_examples=60, deadline=None)
@given(core_answers(), st.integers(min_value=1, max_value=12))
def test_schedule_invariants(answers, ceiling):
    actions = needed_actions(CORE, answers)
    months = schedule(actions, CORE, max_per_month=ceiling)
    by_key = {a.key: a for a in actions}
    step_actions = [a for a in actions if a.origin == "suggested"]
    # No month goes over the ceiling, unless month 1 is filled by find-out actions alone.
    for month in range(1, 7):
        in_month = [a for a in actions if months[a.key] == month]
        assert len(in_month) <= ceiling or not [a for a in in_month if a.origin == "suggested"]
    # Foundations first: no action on a domain comes before the first action on a domain it rests on.
    first_in_domain: dict[str, int] = {}
    for action in step_actions:
        if months[action.key] is not None:
            first_in_domain[action.domain_id] = min(first_in_domain.get(action.domain_id, 7), months[action.key])
    for action in step_actions:
        for foundation in CORE.domains_by_id[action.domain_id].depends_on:
            if months[action.key] is not None and foundation in first_in_domain:
                assert months[action.key] >= first_in_domain[foundation]
    # A later step of a question never comes before an earlier one.
    for action in step_actions:
        earlier = by_key.get(f"{action.question_id}:step-{action.step - 1}")
        if earlier and months[action.key] is not None:
            assert months[earlier.key] is not None and months[earlier.key] < months[action.key]
    # Every "Not sure" is resolved in month 1, and the plan covers every step of every gap.
    assert all(months[a.key] == 1 for a in actions if a.origin == "find_out")
    expected = sum(a.target - a.current for a in answers.values() if a.current is not None and a.target is not None)
    assert len(step_actions) == expected


def test_putting_a_step_off_until_later_keeps_the_steps_before_it():
    actions = needed_actions(MINI, {"lead-q1": AnswerValue(current=0, target=3)})
    placed = [Placed("lead-q1", 3, None)]  # the PCN moved step 3 to "later"
    to_schedule = [a for a in actions if a.step != 3]
    months = schedule(to_schedule, MINI, max_per_month=5, placed=placed)
    assert [months["lead-q1:step-1"], months["lead-q1:step-2"]] == [1, 2]
