"""Reassessment and progress: plan against delivery, and the trend across a PCN's assessments.

A reassessment is prefilled from the PCN's previous assessment (`Assessment.previous_id`). Six months on, each
question is compared with what the PCN said it would reach then (its previous six-month target): reached or missed,
with the previous plan's actions for it counted as done, dropped or still open. This is for the PCN's own
reflection, never a ranking.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import select

from ..extensions import db
from ..models import ActionStatus, Assessment, AssessmentStatus, PlanAction
from ..questionnaires import Domain, Question, Questionnaire
from ..templating import uk_date
from . import trend_charts
from .assessments import answer_values, core_questionnaire
from .scoring import AnswerValue, score_assessment

TREND_LENGTH = 6  # assessments the trend shows, the latest ones

REACHED = "reached"
MISSED = "missed"
NOT_KNOWN = "not_known"  # "Not sure" or not applicable now: cannot say
NO_TARGET = "no_target"  # last time the target was "Not sure" or the question not applicable
NEW = "new"  # not asked last time


@dataclass(frozen=True)
class ActionCounts:
    done: int = 0
    dropped: int = 0
    open: int = 0

    @property
    def total(self) -> int:
        return self.done + self.dropped + self.open

    def __add__(self, other: "ActionCounts") -> "ActionCounts":
        return ActionCounts(self.done + other.done, self.dropped + other.dropped, self.open + other.open)


def count_actions(actions: Iterable[PlanAction]) -> ActionCounts:
    done = dropped = open_ = 0
    for action in actions:
        if action.removed:
            continue
        if action.status == ActionStatus.DONE:
            done += 1
        elif action.status == ActionStatus.DROPPED:
            dropped += 1
        else:
            open_ += 1
    return ActionCounts(done, dropped, open_)


def outcome(before: AnswerValue | None, now: AnswerValue | None) -> str:
    """Whether the PCN reached what it said it would: the previous six-month target against where it is now."""
    if before is None:
        return NEW
    if before.not_applicable or before.target is None:
        return NO_TARGET
    if now is None or now.not_applicable or now.current is None:
        return NOT_KNOWN
    return REACHED if now.current >= before.target else MISSED


@dataclass(frozen=True)
class QuestionProgress:
    question: Question
    target: int | None  # what the PCN said it would reach, six months ago
    target_label: str
    now: int | None
    now_label: str
    outcome: str
    actions: ActionCounts
    not_done: tuple[str, ...] = ()  # titles of the actions not done (open or dropped), where the target was missed

    @property
    def reached(self) -> bool:
        return self.outcome == REACHED

    @property
    def missed(self) -> bool:
        return self.outcome == MISSED


@dataclass(frozen=True)
class DomainProgress:
    domain: Domain
    previous_target: float | None  # the domain's readiness at its previous six-month target, percent
    now: float | None  # readiness now, percent
    questions: tuple[QuestionProgress, ...]
    actions: ActionCounts

    @property
    def reached_count(self) -> int:
        return sum(q.reached for q in self.questions)

    @property
    def missed_count(self) -> int:
        return sum(q.missed for q in self.questions)

    @property
    def reached(self) -> bool | None:
        """The domain as a whole reached its previous target (figures compared as the page prints them)."""
        if self.previous_target is None or self.now is None:
            return None
        return round(self.now) >= round(self.previous_target)


@dataclass(frozen=True)
class TrendPoint:
    assessment_id: int
    label: str  # the date it was completed
    scores: dict[str, float | None]  # domain id -> readiness now, percent (None: not applicable or not asked)


@dataclass(frozen=True)
class Progress:
    previous: Assessment
    previous_on: str
    version_changed: bool
    domains: tuple[DomainProgress, ...]
    new_questions: tuple[Question, ...]
    trend: tuple[TrendPoint, ...]
    trend_domains: tuple[tuple[str, str], ...]  # (domain id, title) in questionnaire order
    trend_chart: Markup = field(default=Markup(""))
    all_actions: ActionCounts | None = None  # the whole previous plan, the PCN's own actions included

    @property
    def reached_count(self) -> int:
        return sum(d.reached_count for d in self.domains)

    @property
    def missed_count(self) -> int:
        return sum(d.missed_count for d in self.domains)

    @property
    def actions(self) -> ActionCounts:
        if self.all_actions is not None:
            return self.all_actions
        total = ActionCounts()
        for d in self.domains:
            total += d.actions
        return total


def _level_label(questionnaire: Questionnaire, value: AnswerValue | None, which: str) -> str:
    if value is None:
        return "Not asked"
    if value.not_applicable:
        return "Not applicable"
    level = value.target if which == "target" else value.current
    unsure = value.target_unsure if which == "target" else value.current_unsure
    if level is not None:
        return questionnaire.scale.name(level)
    return "Not sure" if unsure else "No answer"


def question_progress(
    questionnaire: Questionnaire,
    question: Question,
    before: AnswerValue | None,
    now: AnswerValue | None,
    actions: list[PlanAction],
) -> QuestionProgress:
    result = outcome(before, now)
    kept = [a for a in actions if not a.removed]
    not_done = tuple(a.title for a in kept if a.status != ActionStatus.DONE) if result == MISSED else ()
    return QuestionProgress(
        question=question,
        target=before.target if before is not None and not before.not_applicable else None,
        target_label=_level_label(questionnaire, before, "target"),
        now=now.current if now is not None and not now.not_applicable else None,
        now_label=_level_label(questionnaire, now, "current"),
        outcome=result,
        actions=count_actions(kept),
        not_done=not_done,
    )


def plan_against_delivery(
    questionnaire: Questionnaire,
    before: Mapping[str, AnswerValue],
    now: Mapping[str, AnswerValue],
    previous_actions: Iterable[PlanAction],
    previous_questionnaire: Questionnaire,
) -> tuple[DomainProgress, ...]:
    """Per domain of the current questionnaire: the previous target and readiness now, and per question the
    previous target against where the PCN is now, with the previous plan's actions for it."""
    actions = [a for a in previous_actions if not a.removed]
    previous_score = {d.domain.id: d for d in score_assessment(previous_questionnaire, before).domains}
    current_score = {d.domain.id: d for d in score_assessment(questionnaire, now).domains}
    domains = []
    for domain in questionnaire.domains:
        questions = tuple(
            question_progress(
                questionnaire,
                q,
                before.get(q.id),
                now.get(q.id),
                [a for a in actions if a.question_id == q.id],
            )
            for q in domain.questions
        )
        was, is_ = previous_score.get(domain.id), current_score.get(domain.id)
        domains.append(
            DomainProgress(
                domain=domain,
                previous_target=was.target if was is not None and was.applicable else None,
                now=is_.now if is_ is not None and is_.applicable else None,
                questions=questions,
                actions=count_actions(a for a in actions if a.domain_id == domain.id),
            )
        )
    return tuple(domains)


def completed_assessments(pcn_id: int, questionnaire_key: str) -> list[Assessment]:
    """The PCN's completed assessments on this questionnaire, oldest first."""
    found = db.session.scalars(
        select(Assessment).where(
            Assessment.pcn_id == pcn_id,
            Assessment.status == AssessmentStatus.COMPLETED,
            Assessment.questionnaire_key == questionnaire_key,
        )
    )
    return sorted(found, key=lambda a: (a.completed_at or a.created_at, a.id))


def trend(
    assessment: Assessment, questionnaire: Questionnaire, now: Mapping[str, AnswerValue] | None = None
) -> tuple[TrendPoint, ...]:
    """Domain readiness now at each of the PCN's completed assessments, at most the last six, in date order; with
    `now`, this assessment's point is scored from those answers (a submission's, as frozen)."""
    points = []
    # Up to this assessment, never after it: an older assessment's page shows the trend as it stood then.
    until = (assessment.completed_at or assessment.created_at, assessment.id)
    earlier = [
        a
        for a in completed_assessments(assessment.pcn_id, assessment.questionnaire_key)
        if (a.completed_at or a.created_at, a.id) <= until or a.id == assessment.id
    ]
    for each in earlier[-TREND_LENGTH:]:
        values = now if now is not None and each.id == assessment.id else answer_values(each)
        result = {d.domain.id: d for d in score_assessment(core_questionnaire(each), values).domains}
        points.append(
            TrendPoint(
                assessment_id=each.id,
                label=uk_date(each.completed_at or each.created_at),
                scores={
                    d.id: result[d.id].now if d.id in result and result[d.id].applicable else None
                    for d in questionnaire.domains
                },
            )
        )
    return tuple(points)


def progress_of(assessment: Assessment, now: Mapping[str, AnswerValue] | None = None) -> Progress | None:
    """Plan against delivery for an assessment that follows an earlier one; None for a first assessment. `now` gives
    the assessment's answers when they are not its current ones: a submitted return's, as frozen."""
    previous = db.session.get(Assessment, assessment.previous_id) if assessment.previous_id else None
    if previous is None:
        return None
    questionnaire = core_questionnaire(assessment)
    previous_questionnaire = core_questionnaire(previous)
    current = answer_values(assessment) if now is None else now
    domains = plan_against_delivery(
        questionnaire, answer_values(previous), current, previous.actions, previous_questionnaire
    )
    points = trend(assessment, questionnaire, now)
    trend_domains = tuple((d.id, d.title) for d in questionnaire.domains)
    return Progress(
        previous=previous,
        previous_on=uk_date(previous.completed_at or previous.created_at),
        version_changed=previous.questionnaire_hash != assessment.questionnaire_hash,
        domains=domains,
        new_questions=tuple(
            q for q in questionnaire.questions_by_id.values() if q.id not in previous_questionnaire.questions_by_id
        ),
        trend=points,
        trend_domains=trend_domains,
        trend_chart=trend_charts.trend_chart(points, trend_domains),
        all_actions=count_actions(a for a in previous.actions if not a.removed),
    )
