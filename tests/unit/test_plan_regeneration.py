"""Regenerating the plan after answers change keeps every edit the PCN made. Runs against the database."""

from pathlib import Path

import pytest

from app.extensions import db
from app.models import ActionStatus
from app.queries.users import get_user_by_email
from app.questionnaires.loader import load_file
from app.services import assessments, plans
from app.services.scoring import AnswerValue

# Four levels (0 to 3), capacity 10 days a month; stages-data may be answered "not applicable".
STAGES = load_file(Path(__file__).parent.parent / "fixtures" / "questionnaires" / "pcn-maturity-2019.yaml")


@pytest.fixture
def completed(app_ctx):
    """A completed assessment: every question at level 1 now, level 2 in six months; plan generated."""
    user = get_user_by_email("cd@example.org")
    assessment = assessments.start_assessment(user.organisation, user, STAGES)
    for domain in STAGES.domains:
        values = {q.id: AnswerValue(current=1, target=2) for q in domain.questions}
        assessments.save_domain(assessment, domain, values, 0, user)
    assessments.complete_assessment(assessment)
    return assessment, STAGES, user


def _set(assessment, questionnaire, user, question_id, **answer):
    question = questionnaire.questions_by_id[question_id]
    domain = questionnaire.domain(question.domain_id)
    values = assessments.answer_values(assessment)
    values[question_id] = AnswerValue(**answer)
    revision = next(p.revision for p in assessment.domains if p.domain_id == domain.id)
    assessments.save_domain(assessment, domain, {q.id: values[q.id] for q in domain.questions}, revision, user)


def _by_key(assessment):
    return {a.key: a for a in assessment.actions if a.key}


def _change(title="Our own wording", owner="PCN manager", month=1, status="not_started", **more):
    return plans.ActionChange(title, "", owner, month, status, "", **more)


def test_confirming_builds_the_plan_with_efforts_and_partners(completed):
    assessment, questionnaire, _ = completed
    keys = _by_key(assessment)
    assert set(keys) == {"stages-plan:step-2", "stages-data:step-2", "stages-team:step-2"}
    plan_step = keys["stages-plan:step-2"]
    assert (plan_step.effort, plan_step.partner, plan_step.owner) == ("weeks", "", "PCN manager")
    team = _by_key(assessment)["stages-team:step-2"]
    assert team.effort == "days"
    assert plans.plan_capacity(assessment, questionnaire) == 10  # the questionnaire's default
    loads = plans.month_loads(plans.visible_actions(assessment))
    assert all(load <= 10 for load in loads.values())
    assert sum(loads.values()) == 5 + 2 + 2


def test_the_pcns_capacity_replaces_the_questionnaires(completed):
    assessment, questionnaire, _ = completed
    plans.set_plan_capacity(assessment, 5)
    assessments.regenerate_plan(assessment)
    assert plans.plan_capacity(assessment, questionnaire) == 5
    loads = plans.month_loads(plans.visible_actions(assessment))
    assert all(load <= 5 for load in loads.values())
    keys = _by_key(assessment)
    # weeks (5 days) fills month 1 alone; the data step rests on the plan question and follows.
    assert keys["stages-plan:step-2"].month == 1 and keys["stages-data:step-2"].month == 2
    for bad in (1, 61):
        with pytest.raises(ValueError):
            plans.set_plan_capacity(assessment, bad)


def test_regenerating_keeps_edits_and_user_actions_adds_new_gaps_and_marks_closed_ones(completed):
    assessment, questionnaire, user = completed
    keys = _by_key(assessment)
    edited = keys["stages-plan:step-2"]
    plans.update_action(
        edited,
        plans.ActionChange(
            "Our own wording", "Our plan", "Dr Patel", 4, ActionStatus.IN_PROGRESS, "Started",
            effort="months", partner="the LMC",
        ),
        edited.revision,
        user,
    )  # fmt: skip
    removed = keys["stages-data:step-2"]
    plans.remove_action(assessment, removed)
    own = plans.add_action(assessment, _change("Visit a neighbour PCN", month=2, effort="weeks"), None, user)
    assert (own.effort, own.partner) == ("weeks", "")

    # Answers change: the first gap closes, the team gap grows by a step, a "Not sure" appears, data is n/a.
    _set(assessment, questionnaire, user, "stages-plan", current=2, target=2)
    _set(assessment, questionnaire, user, "stages-team", current=1, target=3)
    assert assessments.plan_out_of_date(assessment)
    result = assessments.regenerate_plan(assessment)
    db.session.expire_all()

    keys = _by_key(assessment)
    kept = keys["stages-plan:step-2"]
    assert (kept.title, kept.owner, kept.month, kept.status, kept.note, kept.effort, kept.partner) == (
        "Our own wording", "Dr Patel", 4, "in_progress", "Started", "months", "the LMC"
    )  # fmt: skip
    assert kept.gap_closed
    assert keys["stages-data:step-2"].removed  # still removed, not added back
    assert removed.id not in [a.id for a in plans.visible_actions(assessment)]
    assert any(a.id == own.id and a.title == "Visit a neighbour PCN" for a in plans.visible_actions(assessment))
    added = keys["stages-team:step-3"]
    assert (added.effort, added.partner) == ("months", "the community provider")
    assert keys["stages-team:step-3"].month > keys["stages-team:step-2"].month
    assert result.added == 1 and result.closed == 1
    assert not assessments.plan_out_of_date(assessment)

    _set(assessment, questionnaire, user, "stages-team", not_applicable=True)
    assessments.regenerate_plan(assessment)
    keys = _by_key(assessment)
    assert keys["stages-team:step-2"].gap_closed and keys["stages-team:step-3"].gap_closed


def test_a_not_sure_answer_becomes_a_find_out_in_month_one(completed):
    assessment, questionnaire, user = completed
    _set(assessment, questionnaire, user, "stages-team", current_unsure=True, target=2)
    assessments.regenerate_plan(assessment)
    keys = _by_key(assessment)
    assert keys["stages-team:find-out"].month == 1 and keys["stages-team:find-out"].effort == "days"
    assert keys["stages-team:step-2"].gap_closed  # steps wait until the PCN knows where it stands


def test_pinned_actions_count_their_effort_when_regenerating(completed):
    assessment, questionnaire, user = completed
    for month in (1, 2):  # the PCN's own work fills months 1 and 2
        plans.add_action(assessment, _change(f"Own work {month}", month=month, effort="months"), None, user)
    assessments.regenerate_plan(assessment)
    keys = _by_key(assessment)
    assert {keys[k].month for k in keys} <= {3, 4, 5, 6}
    assert plans.month_loads(plans.visible_actions(assessment))[1] == 10


def test_a_step_the_pcn_put_off_takes_its_dependent_actions_with_it(completed):
    assessment, questionnaire, user = completed
    # stages-data step 2 requires stages-plan level 1 (met: the PCN is at 1), so it waits for nothing.
    assert _by_key(assessment)["stages-data:step-2"].month is not None
    _set(assessment, questionnaire, user, "stages-plan", current=0, target=1)
    _set(assessment, questionnaire, user, "stages-data", current=1, target=2)
    assessments.regenerate_plan(assessment)
    keys = _by_key(assessment)
    assert keys["stages-data:step-2"].month > keys["stages-plan:step-1"].month
    step = keys["stages-plan:step-1"]
    plans.update_action(step, _change(step.title, month=None), step.revision, user)  # put off until later
    assessments.regenerate_plan(assessment)
    assert _by_key(assessment)["stages-data:step-2"].month is None


def test_a_gap_that_reopens_is_unmarked(completed):
    assessment, questionnaire, user = completed
    _set(assessment, questionnaire, user, "stages-plan", current=2, target=2)
    assessments.regenerate_plan(assessment)
    assert _by_key(assessment)["stages-plan:step-2"].gap_closed
    _set(assessment, questionnaire, user, "stages-plan", current=1, target=2)
    assessments.regenerate_plan(assessment)
    assert not _by_key(assessment)["stages-plan:step-2"].gap_closed


def test_a_stale_edit_is_refused(completed):
    assessment, _, user = completed
    action = plans.visible_actions(assessment)[0]
    plans.update_action(action, _change("First"), 0, user)
    with pytest.raises(plans.StaleAction):
        plans.update_action(action, _change("Second", status="done"), 0, user)
    db.session.expire_all()
    assert action.title == "First"


def test_an_edit_of_an_action_the_plan_has_since_rescheduled_is_refused(completed):
    assessment, _, user = completed
    untouched = plans.visible_actions(assessment)[-1]
    seen_revision = untouched.revision
    plans.set_plan_capacity(assessment, 2)
    assessments.regenerate_plan(assessment)
    with pytest.raises(plans.StaleAction):
        plans.update_action(untouched, _change("Old copy"), seen_revision, user)
