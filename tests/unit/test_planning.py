"""Which actions the gaps need, and how they fill six months of PCN work by effort."""

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from app.questionnaires.loader import QuestionnaireError, load_file, parse_questionnaire
from app.questionnaires.schema import EFFORT_DAYS
from app.services.planning import MONTHS, Placed, needed_actions, schedule
from app.services.scoring import AnswerValue

FIXTURES = Path(__file__).parent.parent / "fixtures" / "questionnaires"
STAGES = load_file(FIXTURES / "pcn-maturity-2019.yaml")  # four levels, 0 to 3
SHIPPED = Path(__file__).resolve().parents[2] / "questionnaires" / "neighbourhood-readiness.yaml"


def questionnaire(domains: list[dict], capacity: int = 12, levels: int = 5):
    """A questionnaire from a compact description: each question gives its actions as (effort, extra) by step."""
    names = [f"Stage {n}" for n in range(levels)]
    data = {
        "id": "plan-test",
        "version": "1.0",
        "title": "Plan test",
        "description": "For the planner's tests.",
        "scale": {"levels": names},
        "bands": [{"name": "Low", "min": 0}, {"name": "High", "min": 50}],
        "plan_capacity": capacity,
        "domains": [],
    }
    for domain in domains:
        questions = []
        for question in domain["questions"]:
            efforts = question.get("efforts", ["days"] * (levels - 1))
            actions = {}
            for step in range(1, levels):
                action = {
                    "title": f"{question['id']} step {step}",
                    "description": f"Do step {step} of {question['id']}.",
                    "owner": "PCN manager",
                    "effort": efforts[step - 1],
                }
                action.update(question.get("extra", {}).get(step, {}))
                actions[step] = action
            entry = {
                "id": question["id"],
                "text": f"Question {question['id']}?",
                "weight": question.get("weight", 1),
                "levels": {n: f"{question['id']} at stage {n}." for n in range(levels)},
                "actions": actions,
            }
            for key in ("depends_on", "not_applicable"):
                if key in question:
                    entry[key] = question[key]
            questions.append(entry)
        entry = {"id": domain["id"], "title": domain["id"].title(), "questions": questions}
        if "depends_on" in domain:
            entry["depends_on"] = domain["depends_on"]
        data["domains"].append(entry)
    return parse_questionnaire(yaml.safe_dump(data, sort_keys=False), "plan-test.yaml")


# Leadership, then governance (with the neighbourhood leaders' meeting, `gov-forum`), then teams whose actions
# assume the meeting exists at level 2.
FORUM = questionnaire(
    [
        {"id": "lead", "questions": [{"id": "lead-a", "efforts": ["days", "weeks", "months", "days"]}]},
        {
            "id": "gov",
            "depends_on": ["lead"],
            "questions": [
                {"id": "gov-forum", "not_applicable": "Choose this if your area has no such meeting yet."},
                {"id": "gov-other", "weight": 5},
            ],
        },
        {
            "id": "teams",
            "depends_on": ["gov"],
            "questions": [
                {
                    "id": "teams-a",
                    "weight": 5,
                    "extra": {1: {"requires": {"gov-forum": 2}, "with": "the community provider"}},
                },
                {"id": "teams-b", "extra": {2: {"requires": {"gov-forum": 2}}}},
                {"id": "teams-c", "extra": {1: {"requires": {"gov-forum": 3}}}},
            ],
        },
    ]
)


def months_for(q, answers, capacity=None, placed=()):
    actions = needed_actions(q, answers)
    return schedule(actions, q, capacity or q.plan_capacity, placed)


# What goes in


def test_each_step_from_current_to_target_gets_the_questionnaires_action_with_effort_and_partner():
    actions = needed_actions(STAGES, {"stages-plan": AnswerValue(current=0, target=3)})
    assert [(a.key, a.title, a.owner, a.effort, a.effort_days, a.partner) for a in actions] == [
        ("stages-plan:step-1", "Draft a development plan", "Clinical director", "days", 2, ""),
        ("stages-plan:step-2", "Agree the plan with every practice", "PCN manager", "weeks", 5, ""),
        ("stages-plan:step-3", "Hold the first review of the plan", "Clinical director", "days", 2, "the ICB"),
    ]
    assert actions[0].priority == 3  # gap 3 x question weight 1 x domain weight 1


def test_a_four_level_scale_plans_steps_one_to_three_only():
    answers = {q: AnswerValue(current=0, target=3) for q in STAGES.questions_by_id}
    actions = needed_actions(STAGES, answers)
    assert {a.step for a in actions} == {1, 2, 3}
    assert len(actions) == 3 * len(STAGES.questions_by_id)
    months = schedule(actions, STAGES, STAGES.plan_capacity)
    assert set(months) == {a.key for a in actions}


def test_no_gap_means_no_action():
    assert needed_actions(STAGES, {"stages-plan": AnswerValue(current=2, target=2)}) == []


def test_not_applicable_gives_no_actions_at_all():
    answers = {
        "stages-data": AnswerValue(not_applicable=True, current=0, target=3),
        "stages-team": AnswerValue(not_applicable=True, current_unsure=True),
    }
    assert needed_actions(STAGES, answers) == []


def test_not_sure_becomes_a_find_out_action_in_month_one_counted_as_days():
    answers = {
        "stages-plan": AnswerValue(current_unsure=True, target=3),
        "stages-data": AnswerValue(current=1, target_unsure=True),
        "stages-team": AnswerValue(current=0, target=1),
    }
    actions = needed_actions(STAGES, answers)
    find_outs = [a for a in actions if a.origin == "find_out"]
    assert {a.key for a in find_outs} == {"stages-plan:find-out", "stages-data:find-out"}
    assert all(a.effort_days == EFFORT_DAYS["days"] == 2 for a in find_outs)
    assert "where the PCN stands now" in find_outs[0].title or "where the PCN stands now" in find_outs[1].title
    months = schedule(actions, STAGES, capacity_days=4)
    assert months["stages-plan:find-out"] == months["stages-data:find-out"] == 1
    assert months["stages-team:step-1"] == 2  # the two find-outs fill month 1's four days
    months = schedule(actions, STAGES, capacity_days=2)
    assert months["stages-plan:find-out"] == months["stages-data:find-out"] == 1  # always month 1


# Capacity by effort


def test_each_month_holds_the_capacity_in_days_not_a_count():
    q = questionnaire([{"id": "d", "questions": [{"id": f"q{n}", "efforts": [e] * 4} for n, e in enumerate(
        ["weeks", "weeks", "days", "days", "weeks"])]}])  # fmt: skip
    answers = {q_id: AnswerValue(current=0, target=1) for q_id in q.questions_by_id}
    months = months_for(q, answers, capacity=12)
    assert [months[f"q{n}:step-1"] for n in range(5)] == [1, 1, 1, 2, 2]  # 5 + 5 + 2 = 12 days, then month 2
    months = months_for(q, answers, capacity=5)
    assert [months[f"q{n}:step-1"] for n in range(5)] == [1, 2, 3, 3, 4]  # 2 + 2 share month 3


def test_an_action_bigger_than_the_capacity_goes_alone_in_an_empty_month():
    q = questionnaire([{"id": "d", "questions": [
        {"id": "big", "efforts": ["months"] * 4, "weight": 5}, {"id": "small", "efforts": ["days"] * 4},
    ]}])  # fmt: skip
    answers = {"big": AnswerValue(current=0, target=2), "small": AnswerValue(current=0, target=1)}
    months = months_for(q, answers, capacity=6)
    assert months["big:step-1"] == 1 and months["big:step-2"] == 2
    assert months["small:step-1"] == 3  # months 1 and 2 are already over capacity with one action each
    full = [Placed(None, None, m, 2) for m in MONTHS]
    assert months_for(q, answers, capacity=6, placed=full)["big:step-1"] is None  # never beside other work


def test_pinned_actions_count_their_effort():
    q = questionnaire([{"id": "d", "questions": [{"id": "a", "efforts": ["weeks"] * 4}]}])
    answers = {"a": AnswerValue(current=0, target=1)}
    assert months_for(q, answers, capacity=12, placed=[Placed(None, None, 1, 5)])["a:step-1"] == 1
    assert months_for(q, answers, capacity=12, placed=[Placed(None, None, 1, 10)])["a:step-1"] == 2
    assert months_for(q, answers, capacity=12, placed=[Placed(None, None, 1, 2)] * 4)["a:step-1"] == 2


# The existing rules


def test_foundations_come_first_then_priority():
    answers = {
        "stages-team": AnswerValue(current=0, target=3),  # large gap, but care rests on leadership
        "stages-plan": AnswerValue(current=2, target=3),
    }
    order = [a.key for a in needed_actions(STAGES, answers)]
    assert order.index("stages-plan:step-3") < order.index("stages-team:step-1")
    months = schedule(needed_actions(STAGES, answers), STAGES, capacity_days=2)
    assert months["stages-plan:step-3"] == 1 and months["stages-team:step-1"] == 2


def test_steps_of_a_question_go_one_a_month_and_overflow_goes_later():
    q = questionnaire([{"id": "d", "questions": [{"id": "a"}]}])
    actions = needed_actions(q, {"a": AnswerValue(current=0, target=4)})
    months = schedule(actions, q, 40)
    assert [months[f"a:step-{n}"] for n in (1, 2, 3, 4)] == [1, 2, 3, 4]
    full = [Placed(None, None, m, 12) for m in (1, 2, 3, 4, 5)]
    months = schedule(actions, q, 12, placed=full)
    assert [months[f"a:step-{n}"] for n in (1, 2, 3, 4)] == [6, None, None, None]


def test_a_question_waits_for_the_question_it_depends_on():
    answers = {"stages-data": AnswerValue(current=0, target=1)}
    placed = [Placed("stages-plan", 1, 3, 2)]  # the PCN moved the foundation's first step to month 3
    assert months_for(STAGES, answers, placed=placed)["stages-data:step-1"] == 3


def test_putting_a_step_off_until_later_keeps_the_steps_before_it():
    actions = needed_actions(STAGES, {"stages-plan": AnswerValue(current=0, target=3)})
    placed = [Placed("stages-plan", 3, None, 2)]  # the PCN moved step 3 to "later"
    months = schedule([a for a in actions if a.step != 3], STAGES, 12, placed=placed)
    assert [months["stages-plan:step-1"], months["stages-plan:step-2"]] == [1, 2]


# Requires: the leaders' meeting and other steps that must exist first


def test_actions_that_need_the_leaders_meeting_come_after_it():
    answers = {
        "gov-forum": AnswerValue(current=0, target=2),
        "teams-a": AnswerValue(current=0, target=1),
        "teams-b": AnswerValue(current=1, target=2),
    }
    months = months_for(FORUM, answers, capacity=40)
    forum = months["gov-forum:step-2"]
    assert months["gov-forum:step-1"] == 1 and forum == 2
    assert months["teams-a:step-1"] == months["teams-b:step-2"] == 3  # strictly after the meeting's step 2
    teams_a = next(a for a in needed_actions(FORUM, answers) if a.key == "teams-a:step-1")
    assert teams_a.partner == "the community provider" and teams_a.requires == (("gov-forum", 2),)


def test_the_step_others_rely_on_is_scheduled_ahead_of_higher_priority_work():
    answers = {
        "gov-other": AnswerValue(current=0, target=1),  # weight 5: higher priority than the meeting on its own
        "gov-forum": AnswerValue(current=1, target=2),
        "teams-a": AnswerValue(current=0, target=1),
        "teams-b": AnswerValue(current=1, target=2),
    }
    order = [a.key for a in needed_actions(FORUM, answers)]
    assert order.index("gov-forum:step-2") < order.index("gov-other:step-1")
    months = months_for(FORUM, answers, capacity=2)
    assert months["gov-forum:step-2"] == 1 and months["gov-other:step-1"] == 2
    assert months["teams-a:step-1"] == 3 and months["teams-b:step-2"] == 4


def test_no_wait_when_the_pcn_already_has_the_meeting_or_it_does_not_apply():
    for forum in (AnswerValue(current=2, target=2), AnswerValue(current=3, target=4), AnswerValue(not_applicable=True)):
        answers = {"gov-forum": forum, "teams-a": AnswerValue(current=0, target=1)}
        action = next(a for a in needed_actions(FORUM, answers) if a.key == "teams-a:step-1")
        assert action.requires == ()
        assert months_for(FORUM, answers)["teams-a:step-1"] == 1


def test_an_action_whose_required_step_is_not_planned_goes_later():
    answers = {
        "gov-forum": AnswerValue(current=0, target=1),  # the target stops short of level 2
        "teams-a": AnswerValue(current=0, target=1),
        "teams-c": AnswerValue(current=0, target=2),  # requires level 3 of the meeting
    }
    months = months_for(FORUM, answers, capacity=40)
    assert months["gov-forum:step-1"] == 1
    assert months["teams-a:step-1"] is None
    assert months["teams-c:step-1"] is None and months["teams-c:step-2"] is None  # later steps follow it


def test_an_action_whose_required_step_goes_later_goes_later_too():
    answers = {"gov-forum": AnswerValue(current=1, target=2), "teams-a": AnswerValue(current=0, target=1)}
    # Months 1-5 are full: the meeting's step goes to month 6, leaving no month after it.
    full = [Placed(None, None, m, 12) for m in (1, 2, 3, 4, 5)]
    months = months_for(FORUM, answers, capacity=12, placed=full)
    assert months["gov-forum:step-2"] == 6 and months["teams-a:step-1"] is None
    # Every month is full: the meeting's step goes later, and so does what relies on it.
    full = [Placed(None, None, m, 12) for m in MONTHS]
    months = months_for(FORUM, answers, capacity=12, placed=full)
    assert months["gov-forum:step-2"] is None and months["teams-a:step-1"] is None


def test_a_pinned_meeting_step_sets_when_dependent_actions_can_start():
    answers = {"gov-forum": AnswerValue(current=1, target=2), "teams-a": AnswerValue(current=0, target=1)}
    to_schedule = [a for a in needed_actions(FORUM, answers) if a.question_id != "gov-forum"]
    months = schedule(to_schedule, FORUM, 12, placed=[Placed("gov-forum", 2, 4, 2)])
    assert months["teams-a:step-1"] == 5
    months = schedule(to_schedule, FORUM, 12, placed=[Placed("gov-forum", 2, None, 2)])
    assert months["teams-a:step-1"] is None  # the PCN put the meeting off: what needs it waits too


# Invariants over many answers


@st.composite
def answers_for(draw, q):
    top = q.scale.max_level
    answers = {}
    for question in q.questions_by_id.values():
        kind = draw(st.sampled_from(["level", "level", "level", "level", "unsure-now", "unsure-target", "n/a"]))
        if kind == "n/a" and not question.allows_not_applicable:
            kind = "level"
        current = draw(st.integers(min_value=0, max_value=top))
        target = draw(st.integers(min_value=current, max_value=top))
        answers[question.id] = {
            "level": AnswerValue(current=current, target=target),
            "unsure-now": AnswerValue(current_unsure=True, target=target),
            "unsure-target": AnswerValue(current=current, target_unsure=True),
            "n/a": AnswerValue(not_applicable=True),
        }[kind]
    return answers


def check_invariants(q, answers, capacity):
    actions = needed_actions(q, answers)
    months = schedule(actions, q, capacity)
    by_key = {a.key: a for a in actions}
    steps = [a for a in actions if a.origin == "suggested"]
    # No month goes over the capacity, except month 1 with find-outs, or one oversized action alone.
    for month in MONTHS:
        placed = [a for a in actions if months[a.key] == month]
        days = sum(a.effort_days for a in placed)
        find_out_days = sum(a.effort_days for a in placed if a.origin == "find_out")
        suggested = [a for a in placed if a.origin == "suggested"]
        assert days <= capacity or (month == 1 and days - find_out_days <= capacity) or len(suggested) == 1
    # Foundations first: no action on a domain before the first action on a domain it rests on.
    first_in_domain: dict[str, int] = {}
    for action in steps:
        if months[action.key] is not None:
            first_in_domain[action.domain_id] = min(first_in_domain.get(action.domain_id, 7), months[action.key])
    for action in steps:
        for foundation in q.domains_by_id[action.domain_id].depends_on:
            if months[action.key] is not None and foundation in first_in_domain:
                assert months[action.key] >= first_in_domain[foundation]
    for action in steps:
        # A later step of a question never comes before an earlier one.
        earlier = by_key.get(f"{action.question_id}:step-{action.step - 1}")
        if earlier and months[action.key] is not None:
            assert months[earlier.key] is not None and months[earlier.key] < months[action.key]
        # An action comes strictly after every step it requires, and is later when that step is.
        for question_id, level in action.requires:
            answer = answers[question_id]
            assert not answer.not_applicable and (answer.current_unsure or answer.current < level)
            required = months.get(f"{question_id}:step-{level}")
            if months[action.key] is not None:
                assert required is not None and required < months[action.key]
    # Every "Not sure" is resolved in month 1; no not-applicable question has an action; every step is there.
    assert all(months[a.key] == 1 for a in actions if a.origin == "find_out")
    assert not [a for a in actions if answers[a.question_id].not_applicable]
    expected = sum(
        a.target - a.current
        for a in answers.values()
        if a.current is not None and a.target is not None and not a.not_applicable
    )
    assert len(steps) == expected


@settings(max_examples=80, deadline=None)
@given(st.data(), st.integers(min_value=2, max_value=30))
def test_schedule_invariants_on_the_forum_questionnaire(data, capacity):
    check_invariants(FORUM, data.draw(answers_for(FORUM)), capacity)


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(min_value=2, max_value=30))
def test_schedule_invariants_on_a_four_level_scale(data, capacity):
    check_invariants(STAGES, data.draw(answers_for(STAGES)), capacity)


def _shipped():
    try:
        return load_file(SHIPPED)
    except QuestionnaireError:
        return None


@pytest.mark.skipif(_shipped() is None, reason="the shipped questionnaire is being rewritten")
@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(min_value=2, max_value=60))
def test_schedule_invariants_on_the_shipped_questionnaire(data, capacity):
    q = _shipped()
    check_invariants(q, data.draw(answers_for(q)), capacity)
