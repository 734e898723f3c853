"""Regenerating the plan after answers change keeps every edit the PCN made. Runs against the database."""

import pytest

from app.extensions import db
from app.models import ActionStatus
from app.queries.users import get_user_by_email
from app.questionnaires import registry
from app.services import assessments, plans
from app.services.scoring import AnswerValue


@pytest.fixture
def completed(app_ctx):
    """A completed assessment: every question at level 1 now, level 2 in six months; plan generated."""
    user = get_user_by_email("cd@example.org")
    questionnaire = registry().get("neighbourhood-readiness")
    assessment = assessments.start_assessment(user.organisation, user, questionnaire)
    for domain in questionnaire.domains:
        values = {q.id: AnswerValue(current=1, target=2) for q in domain.questions}
        assessments.save_domain(assessment, domain, values, 0, user)
    assessments.complete_assessment(assessment)
    return assessment, questionnaire, user


def _set(assessment, questionnaire, user, question_id, **answer):
    question = questionnaire.questions_by_id[question_id]
    domain = questionnaire.domain(question.domain_id)
    values = assessments.answer_values(assessment)
    values[question_id] = AnswerValue(**answer)
    revision = next(p.revision for p in assessment.domains if p.domain_id == domain.id)
    assessments.save_domain(assessment, domain, {q.id: values[q.id] for q in domain.questions}, revision, user)


def _by_key(assessment):
    return {a.key: a for a in assessment.actions if a.key}


def test_confirming_builds_the_plan(completed):
    assessment, questionnaire, _ = completed
    actions = plans.visible_actions(assessment)
    assert len(actions) == len(questionnaire.questions_by_id)  # one step for every question
    assert {a.month for a in actions} <= {1, 2, 3, 4, 5, 6, None}
    assert sum(1 for a in actions if a.month == 1) <= 5


def test_regenerating_keeps_edits_and_user_actions_adds_new_gaps_and_marks_closed_ones(completed):
    assessment, questionnaire, user = completed
    first_q, second_q, third_q = list(questionnaire.questions_by_id)[:3]
    keys = _by_key(assessment)
    edited = keys[f"{first_q}:step-2"]
    plans.update_action(
        edited,
        plans.ActionChange("Our own wording", "Our plan", "Dr Patel", 4, ActionStatus.IN_PROGRESS, "Started"),
        edited.revision,
        user,
    )
    removed = keys[f"{second_q}:step-2"]
    plans.remove_action(assessment, removed)
    own = plans.add_action(
        assessment, plans.ActionChange("Visit a neighbour PCN", "", "PCN manager", 2, "not_started", ""), None, user
    )

    # Answers change: the first gap closes, the third grows by a step, a "Not sure" appears.
    _set(assessment, questionnaire, user, first_q, current=2, target=2)
    _set(assessment, questionnaire, user, third_q, current=1, target=3)
    fourth_q = list(questionnaire.questions_by_id)[3]
    _set(assessment, questionnaire, user, fourth_q, current_unsure=True, target=2)
    assert assessments.plan_out_of_date(assessment)
    result = assessments.regenerate_plan(assessment)
    db.session.expire_all()

    keys = _by_key(assessment)
    kept = keys[f"{first_q}:step-2"]
    assert (kept.title, kept.owner, kept.month, kept.status, kept.note) == (
        "Our own wording", "Dr Patel", 4, "in_progress", "Started"
    )  # fmt: skip
    assert kept.gap_closed
    assert keys[f"{second_q}:step-2"].removed  # still removed, not added back
    assert removed.id not in [a.id for a in plans.visible_actions(assessment)]
    assert any(a.id == own.id and a.title == "Visit a neighbour PCN" for a in plans.visible_actions(assessment))
    assert f"{third_q}:step-3" in keys
    assert keys[f"{fourth_q}:find-out"].month == 1
    assert keys[f"{fourth_q}:step-2"].gap_closed  # steps wait until the PCN knows where it stands
    assert result.added == 2 and result.closed == 2
    assert not assessments.plan_out_of_date(assessment)


def test_a_gap_that_reopens_is_unmarked(completed):
    assessment, questionnaire, user = completed
    question_id = next(iter(questionnaire.questions_by_id))
    _set(assessment, questionnaire, user, question_id, current=2, target=2)
    assessments.regenerate_plan(assessment)
    assert _by_key(assessment)[f"{question_id}:step-2"].gap_closed
    _set(assessment, questionnaire, user, question_id, current=1, target=2)
    assessments.regenerate_plan(assessment)
    assert not _by_key(assessment)[f"{question_id}:step-2"].gap_closed


def test_a_stale_edit_is_refused(completed):
    assessment, _, user = completed
    action = plans.visible_actions(assessment)[0]
    change = plans.ActionChange("First", "", "A", 1, "not_started", "")
    plans.update_action(action, change, 0, user)
    with pytest.raises(plans.StaleAction):
        plans.update_action(action, plans.ActionChange("Second", "", "B", 1, "done", ""), 0, user)
    db.session.expire_all()
    assert action.title == "First"


def test_a_lower_monthly_ceiling_reschedules_untouched_actions(completed):
    assessment, questionnaire, _ = completed
    plans.set_max_per_month(assessment, 2)
    assessments.regenerate_plan(assessment)
    months = [a.month for a in plans.visible_actions(assessment)]
    assert all(months.count(m) <= 2 for m in range(1, 7))
    assert months.count(None) == len(months) - 12


def test_an_edit_of_an_action_the_plan_has_since_rescheduled_is_refused(completed):
    assessment, _, user = completed
    untouched = plans.visible_actions(assessment)[-1]
    seen_revision = untouched.revision
    plans.set_max_per_month(assessment, 1)
    assessments.regenerate_plan(assessment)
    with pytest.raises(plans.StaleAction):
        plans.update_action(
            untouched, plans.ActionChange("Old copy", "", "A", 1, "not_started", ""), seen_revision, user
        )
