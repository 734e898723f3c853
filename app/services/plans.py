"""The stored action plan: generate and regenerate it from the answers, and the PCN's own edits."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import update

from ..extensions import db
from ..models import ActionOrigin, ActionStatus, Assessment, PlanAction, User
from ..models.base import utcnow
from ..questionnaires import Questionnaire
from ..questionnaires.schema import DEFAULT_EFFORT, EFFORT_LABELS
from .planning import MONTHS, Placed, effort_days, needed_actions, schedule
from .scoring import AnswerValue

CAPACITY_RANGE = (2, 60)  # days of PCN work a month a PCN may choose


class StaleAction(Exception):
    """Someone else changed this action since it was loaded."""

    def __init__(self, action: PlanAction):
        self.action = action
        super().__init__(f"action {action.id} is at revision {action.revision}")


@dataclass(frozen=True)
class RegenerationResult:
    added: int
    rescheduled: int
    closed: int
    reopened: int


def plan_capacity(assessment: Assessment, questionnaire: Questionnaire) -> int:
    """Days of PCN work a month the plan may fill: the PCN's own choice, else the questionnaire's default."""
    return assessment.plan_capacity or questionnaire.plan_capacity


def effort_label(effort: str | None) -> str:
    return EFFORT_LABELS.get(effort or DEFAULT_EFFORT, EFFORT_LABELS[DEFAULT_EFFORT])


def month_loads(actions: Iterable[PlanAction]) -> dict[int, int]:
    """Days of effort in each month, as the planner counts them: dropped actions and closed gaps take no time."""
    load = dict.fromkeys(MONTHS, 0)
    for action in actions:
        if action.month in load and action.status != ActionStatus.DROPPED and not action.gap_closed:
            load[action.month] += effort_days(action.effort)
    return load


def is_pinned(action: PlanAction) -> bool:
    """An action the PCN has made its own: regeneration never moves or rewrites it."""
    return action.origin == ActionOrigin.USER or action.edited or action.removed or action.status != "not_started"


def regenerate(
    assessment: Assessment, questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]
) -> RegenerationResult:
    """Bring the stored plan in line with the answers, keeping everything the PCN has changed."""
    needed = needed_actions(questionnaire, answers)
    needed_keys = {a.key for a in needed}
    existing = {a.key: a for a in assessment.actions if a.key}
    pinned = [a for a in assessment.actions if is_pinned(a)]
    placed = [
        Placed(a.question_id, a.step, a.month, effort_days(a.effort))
        for a in pinned
        if not a.removed and a.status != ActionStatus.DROPPED and not (a.gap_closed and a.key not in needed_keys)
    ]
    to_schedule = [a for a in needed if a.key not in existing or not is_pinned(existing[a.key])]
    months = schedule(to_schedule, questionnaire, plan_capacity(assessment, questionnaire), placed)

    added = rescheduled = closed = reopened = 0
    for action in assessment.actions:
        if not action.key:
            continue
        still_needed = action.key in needed_keys
        if action.gap_closed and still_needed:
            action.gap_closed = False
            reopened += 1
        elif not action.gap_closed and not still_needed:
            action.gap_closed = True
            closed += 1
    for position, action in enumerate(needed):
        stored = existing.get(action.key)
        if stored is None:
            stored = PlanAction(key=action.key, origin=action.origin, domain_id=action.domain_id)
            assessment.actions.append(stored)
            added += 1
        elif not is_pinned(stored):
            rescheduled += stored.month != months[action.key]
            stored.revision += 1  # anyone editing the old version is told, not allowed to overwrite this
        else:
            stored.priority, stored.position = action.priority, position
            continue
        stored.question_id, stored.step = action.question_id, action.step
        stored.title, stored.description, stored.owner = action.title, action.description, action.owner
        stored.partner, stored.effort = action.partner, action.effort
        stored.month, stored.priority, stored.position = months[action.key], action.priority, position
    assessment.plan_generated_at = utcnow()
    db.session.commit()
    return RegenerationResult(added=added, rescheduled=rescheduled, closed=closed, reopened=reopened)


def visible_actions(assessment: Assessment) -> list[PlanAction]:
    """The plan as the PCN sees it: all but removed actions, foundations and priority first."""
    return sorted((a for a in assessment.actions if not a.removed), key=lambda a: (a.position, a.id or 0))


def by_month(actions: Iterable[PlanAction]) -> dict[int | None, list[PlanAction]]:
    grouped: dict[int | None, list[PlanAction]] = {month: [] for month in (*MONTHS, None)}
    for action in actions:
        grouped[action.month].append(action)
    return grouped


def by_domain(actions: Iterable[PlanAction], questionnaire: Questionnaire) -> dict[str | None, list[PlanAction]]:
    grouped: dict[str | None, list[PlanAction]] = {d.id: [] for d in questionnaire.domains}
    grouped[None] = []
    for action in sorted(actions, key=lambda a: (a.month or 7, a.position)):
        grouped.setdefault(action.domain_id if action.domain_id in grouped else None, []).append(action)
    return grouped


def progress_counts(actions: Iterable[PlanAction]) -> dict[str, int]:
    counts = Counter(a.status for a in actions)
    return {status.value: counts.get(status.value, 0) for status in ActionStatus}


@dataclass(frozen=True)
class ActionChange:
    title: str
    description: str
    owner: str
    month: int | None
    status: str
    note: str
    effort: str = DEFAULT_EFFORT
    partner: str = ""


def update_action(action: PlanAction, change: ActionChange, revision: int, user: User) -> None:
    """Save the PCN's edit of one action; refuses (StaleAction) if a colleague saved it first."""
    bumped = db.session.execute(
        update(PlanAction)
        .where(PlanAction.id == action.id, PlanAction.revision == revision)
        .values(revision=PlanAction.revision + 1, updated_by_id=user.id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if bumped != 1:
        db.session.rollback()
        db.session.refresh(action)
        raise StaleAction(action)
    action.title, action.description, action.owner = change.title, change.description, change.owner
    action.month, action.status, action.note = change.month, change.status, change.note
    action.effort, action.partner = change.effort, change.partner
    action.edited = True
    db.session.commit()
    db.session.refresh(action)


def add_action(assessment: Assessment, change: ActionChange, domain_id: str | None, user: User) -> PlanAction:
    action = PlanAction(
        origin=ActionOrigin.USER,
        domain_id=domain_id,
        title=change.title,
        description=change.description,
        owner=change.owner,
        partner=change.partner,
        effort=change.effort,
        month=change.month,
        status=change.status,
        note=change.note,
        position=len(assessment.actions),
        edited=True,
        updated_by_id=user.id,
    )
    assessment.actions.append(action)
    db.session.commit()
    return action


def remove_action(assessment: Assessment, action: PlanAction) -> None:
    """Take an action out of the plan. A generated one is kept hidden so regenerating does not add it back."""
    if action.origin == ActionOrigin.USER:
        assessment.actions.remove(action)
    else:
        action.removed = True
    db.session.commit()


def set_plan_capacity(assessment: Assessment, days: int) -> None:
    """The PCN's own capacity in days of work a month; applies to what is scheduled from now on."""
    low, high = CAPACITY_RANGE
    if not low <= days <= high:
        raise ValueError(f"capacity must be {low} to {high} days a month")
    assessment.plan_capacity = days
    db.session.commit()


def carryable_actions(assessment: Assessment, previous: Assessment | None) -> list[PlanAction]:
    """The previous plan's open actions (not started or in progress, not removed) not yet carried into this plan."""
    if previous is None:
        return []
    carried = {a.carried_from_id for a in assessment.actions if a.carried_from_id}
    return [
        a
        for a in previous.actions
        if not a.removed and a.status in (ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS) and a.id not in carried
    ]


def carry_open_actions(assessment: Assessment, previous: Assessment, questionnaire: Questionnaire, user: User) -> int:
    """Bring the previous plan's open actions into this plan, keeping owners, notes, status and month. An action the
    new plan already suggests (the same step of the same question) takes on the old one's owner, notes and status
    rather than appearing twice; any other becomes the PCN's own. Each is carried once: pressing again adds nothing.
    Returns how many were brought in."""
    position = len(assessment.actions)
    added = 0
    by_key = {a.key: a for a in assessment.actions if a.key and not a.removed}
    for old in carryable_actions(assessment, previous):
        twin = by_key.get(old.key) if old.key else None
        if twin is not None and twin.carried_from_id is None:
            twin.owner, twin.partner, twin.note = old.owner, old.partner, old.note
            twin.status, twin.month = old.status, old.month
            twin.carried_from_id, twin.edited, twin.updated_by_id = old.id, True, user.id
            twin.revision += 1
            added += 1
            continue
        assessment.actions.append(
            PlanAction(
                origin=ActionOrigin.USER,
                domain_id=old.domain_id if old.domain_id and questionnaire.domain(old.domain_id) else None,
                question_id=old.question_id if old.question_id in questionnaire.questions_by_id else None,
                title=old.title,
                description=old.description,
                owner=old.owner,
                partner=old.partner,
                effort=old.effort,
                note=old.note,
                status=old.status,
                month=old.month,
                carried_from_id=old.id,
                position=position + added,
                edited=True,
                updated_by_id=user.id,
            )
        )
        added += 1
    db.session.commit()
    return added
