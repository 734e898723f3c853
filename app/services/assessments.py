"""Starting, saving and completing assessments."""

from dataclasses import dataclass, replace

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Answer, Assessment, AssessmentStatus, DomainProgress, DomainStatus, Organisation, User
from ..models.base import as_utc, utcnow
from ..queries.assessments import in_progress_assessment, list_assessments
from ..questionnaires import Domain, Questionnaire, registry
from . import plans
from .scoring import AnswerValue, AssessmentScore, score_assessment

TARGET_BELOW_CURRENT = "Your six-month target cannot be below where your PCN is now"
CARRIED_OVER = "Confirm or change the answers carried over from your last assessment first"


class CarriedOverAnswers(ValueError):
    """Some answers are still as carried over from the last assessment: the PCN has not confirmed them."""

    def __init__(self, sections: list[str]):
        self.sections = sections
        super().__init__(carried_over_message(sections))


def carried_over_message(sections: list[str]) -> str:
    return f"{CARRIED_OVER}: {', '.join(sections)}."


class StaleRevision(Exception):
    """Someone else saved this domain page since this copy was loaded."""

    def __init__(self, progress: DomainProgress, saved: dict[str, AnswerValue]):
        self.progress = progress
        self.saved = saved
        super().__init__(f"domain {progress.domain_id} is at revision {progress.revision}")


@dataclass(frozen=True)
class DomainState:
    domain: Domain
    status: str
    revision: int


def target_error(answer: AnswerValue) -> str | None:
    """The rule for a single answer: a target below the current level is refused."""
    if answer.current is not None and answer.target is not None and answer.target < answer.current:
        return TARGET_BELOW_CURRENT
    return None


@dataclass(frozen=True)
class Section:
    """One questionnaire's part of an assessment: the core, or a round's local supplement, scored on its own."""

    key: str  # "core" or "supplement"
    questionnaire: Questionnaire


def core_questionnaire(assessment: Assessment) -> Questionnaire:
    return registry().by_hash(assessment.questionnaire_hash)


def supplement_questionnaire(assessment: Assessment) -> Questionnaire | None:
    return registry().by_hash(assessment.supplement_hash) if assessment.supplement_hash else None


def sections(assessment: Assessment) -> list[Section]:
    found = [Section("core", core_questionnaire(assessment))]
    supplement = supplement_questionnaire(assessment)
    if supplement is not None:
        found.append(Section("supplement", supplement))
    return found


_combined: dict[tuple[str, str], Questionnaire] = {}


def with_local_guidance(core: Questionnaire, supplement: Questionnaire) -> tuple[Domain, ...]:
    """The core's domains with the supplement's local guidance attached to the questions it names."""
    if not supplement.local_guidance:
        return core.domains
    domains = []
    for domain in core.domains:
        questions = tuple(
            replace(q, local_guidance=((supplement.title, supplement.local_guidance[q.id]),))
            if q.id in supplement.local_guidance
            else q
            for q in domain.questions
        )
        domains.append(replace(domain, questions=questions))
    return tuple(domains)


def combine(core: Questionnaire, supplement: Questionnaire | None) -> Questionnaire:
    """Both questionnaires as one, for moving through the pages and planning: the core's questions with the
    supplement's local guidance, then the supplement's domains. Scores are never taken from this: each section is
    scored on its own."""
    if supplement is None:
        return core
    key = (core.content_hash, supplement.content_hash)
    if key in _combined:
        return _combined[key]
    clash = set(core.domains_by_id) & set(supplement.domains_by_id) or set(core.questions_by_id) & set(
        supplement.questions_by_id
    )
    if clash:
        raise ValueError(f"the supplement reuses ids of the core questionnaire: {sorted(clash)}")
    _combined[key] = replace(
        core,
        domains=with_local_guidance(core, supplement) + supplement.domains,
        content_hash=f"{core.content_hash}+{supplement.content_hash}",
        glossary={**core.glossary, **supplement.glossary},
    )
    return _combined[key]


def questionnaire_for(assessment: Assessment) -> Questionnaire:
    """Every domain of the assessment, core then any supplement, for the pages and the plan."""
    return combine(core_questionnaire(assessment), supplement_questionnaire(assessment))


def section_of(assessment: Assessment, domain_id: str) -> str:
    supplement = supplement_questionnaire(assessment)
    return "supplement" if supplement is not None and supplement.domain(domain_id) else "core"


def previous_for(pcn_id: int, questionnaire: Questionnaire) -> Assessment | None:
    """The assessment a new one starts from: the PCN's latest, when it is complete (or submitted) and on the same
    questionnaire (any version). Another maturity model starts empty."""
    latest = next(iter(list_assessments(pcn_id)), None)
    return latest if latest and latest.is_completed and latest.questionnaire_key == questionnaire.id else None


def start_assessment(
    pcn: Organisation,
    user: User,
    questionnaire: Questionnaire,
    supplement: Questionnaire | None = None,
    round_id: int | None = None,
    previous: Assessment | None = None,
) -> Assessment:
    """Start an assessment. With `previous` (a completed assessment of the same PCN), it is a reassessment:
    every answer to a question this questionnaire still has (by question id) is copied, marked as carried over
    until the PCN saves the page it is on."""
    registry().pin(questionnaire)
    if supplement is not None:
        registry().pin(supplement)
    assessment = Assessment(
        pcn_id=pcn.id,
        questionnaire_key=questionnaire.id,
        questionnaire_version=questionnaire.version,
        questionnaire_hash=questionnaire.content_hash,
        supplement_key=supplement.id if supplement else None,
        supplement_hash=supplement.content_hash if supplement else None,
        round_id=round_id,
        started_by_id=user.id,
        previous_id=previous.id if previous is not None else None,
    )
    combined = combine(questionnaire, supplement)
    carried_domains: set[str] = set()
    if previous is not None:
        domain_of = {q.id: d.id for d in combined.domains for q in d.questions}
        for old in previous.answers:
            if old.question_id not in domain_of:
                continue  # not in this version of the questionnaire
            assessment.answers.append(
                Answer(
                    domain_id=domain_of[old.question_id],
                    question_id=old.question_id,
                    current=old.current,
                    current_unsure=old.current_unsure,
                    target=old.target,
                    target_unsure=old.target_unsure,
                    not_applicable=old.not_applicable,
                    note=old.note,
                    carried_over=True,
                    updated_by_id=user.id,
                )
            )
            carried_domains.add(domain_of[old.question_id])
    assessment.domains = [
        DomainProgress(
            domain_id=d.id,
            status=DomainStatus.IN_PROGRESS if d.id in carried_domains else DomainStatus.NOT_STARTED,
        )
        for d in combined.domains
    ]
    db.session.add(assessment)
    try:
        db.session.commit()
    except IntegrityError:
        # A colleague started one a moment ago: there is one assessment in progress per PCN, so use theirs.
        db.session.rollback()
        existing = in_progress_assessment(pcn.id)
        if existing is None:
            raise
        return existing
    return assessment


def previous_assessment(assessment: Assessment) -> Assessment | None:
    return db.session.get(Assessment, assessment.previous_id) if assessment.previous_id else None


def carried_over_ids(assessment: Assessment) -> set[str]:
    """Questions whose answers are still as carried over from the last assessment."""
    return {a.question_id for a in assessment.answers if a.carried_over}


def carried_over_sections(assessment: Assessment) -> list[str]:
    """The titles of the sections that still hold carried-over answers, in questionnaire order."""
    carried = {a.domain_id for a in assessment.answers if a.carried_over}
    return [d.title for d in questionnaire_for(assessment).domains if d.id in carried]


def new_question_ids(assessment: Assessment) -> set[str]:
    """For a reassessment: the questions this version asks that the previous assessment's version did not."""
    previous = previous_assessment(assessment)
    if previous is None:
        return set()
    before = set(questionnaire_for(previous).questions_by_id)
    return set(questionnaire_for(assessment).questions_by_id) - before


def answer_values(assessment: Assessment) -> dict[str, AnswerValue]:
    return {a.question_id: to_value(a) for a in assessment.answers}


def to_value(answer: Answer) -> AnswerValue:
    return AnswerValue(
        current=answer.current,
        target=answer.target,
        current_unsure=answer.current_unsure,
        target_unsure=answer.target_unsure,
        note=answer.note,
        not_applicable=answer.not_applicable,
    )


def domain_states(assessment: Assessment) -> list[DomainState]:
    questionnaire = questionnaire_for(assessment)
    progress = {p.domain_id: p for p in assessment.domains}
    return [
        DomainState(
            domain=d,
            status=progress[d.id].status if d.id in progress else DomainStatus.NOT_STARTED,
            revision=progress[d.id].revision if d.id in progress else 0,
        )
        for d in questionnaire.domains
    ]


def all_domains_completed(assessment: Assessment) -> bool:
    return all(state.status == DomainStatus.COMPLETED for state in domain_states(assessment))


def save_domain(
    assessment: Assessment, domain: Domain, values: dict[str, AnswerValue], revision: int, user: User
) -> DomainProgress:
    """Save one domain page. Refuses (StaleRevision) if someone saved the page since `revision` was read."""
    progress = next((p for p in assessment.domains if p.domain_id == domain.id), None)
    if progress is None:
        progress = DomainProgress(domain_id=domain.id, assessment=assessment)
        db.session.flush()
    # A conditional update, so two simultaneous saves cannot both pass the check.
    bumped = db.session.execute(
        update(DomainProgress)
        .where(DomainProgress.id == progress.id, DomainProgress.revision == revision)
        .values(revision=DomainProgress.revision + 1, updated_at=utcnow(), updated_by_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if bumped != 1:
        db.session.rollback()
        db.session.refresh(progress)
        saved = {a.question_id: to_value(a) for a in assessment.answers if a.domain_id == domain.id}
        raise StaleRevision(progress, saved)

    existing = {a.question_id: a for a in assessment.answers if a.domain_id == domain.id}
    changed = False
    for question in domain.questions:
        value = values.get(question.id, AnswerValue())
        answer = existing.get(question.id)
        changed = changed or value != (to_value(answer) if answer else AnswerValue())
        if answer is None:
            answer = Answer(domain_id=domain.id, question_id=question.id)
            assessment.answers.append(answer)
        answer.current, answer.current_unsure = value.current, value.current_unsure
        answer.target, answer.target_unsure = value.target, value.target_unsure
        answer.not_applicable = value.not_applicable
        answer.note = value.note
        answer.carried_over = False  # saving the page confirms what was carried over, changed or not
        answer.updated_by_id = user.id
    if changed:  # saving a page unchanged leaves the plan up to date
        assessment.answers_updated_at = utcnow()

    answered = [values.get(q.id, AnswerValue()).complete for q in domain.questions]
    if all(answered):
        progress.status = DomainStatus.COMPLETED
    elif any(v.current is not None or v.current_unsure or v.not_applicable or v.note for v in values.values()):
        progress.status = DomainStatus.IN_PROGRESS
    else:
        progress.status = DomainStatus.NOT_STARTED
    db.session.commit()
    db.session.refresh(progress)
    return progress


def complete_assessment(assessment: Assessment) -> None:
    """Confirm the answers and build the first action plan from them."""
    if not all_domains_completed(assessment):
        raise ValueError("every domain must be completed first")
    if carried := carried_over_sections(assessment):
        raise CarriedOverAnswers(carried)
    if assessment.status != AssessmentStatus.COMPLETED:
        assessment.status = AssessmentStatus.COMPLETED
        assessment.completed_at = utcnow()
    if assessment.plan_generated_at is None:
        plans.regenerate(assessment, questionnaire_for(assessment), answer_values(assessment))
    db.session.commit()


def plan_out_of_date(assessment: Assessment) -> bool:
    """Answers have changed since the plan was last built from them."""
    generated, changed = as_utc(assessment.plan_generated_at), as_utc(assessment.answers_updated_at)
    return bool(generated and changed and changed > generated)


def regenerate_plan(assessment: Assessment) -> plans.RegenerationResult:
    return plans.regenerate(assessment, questionnaire_for(assessment), answer_values(assessment))


def score(assessment: Assessment) -> AssessmentScore:
    """The core questionnaire's scores (a supplement is scored separately: `supplement_score`)."""
    return score_assessment(core_questionnaire(assessment), answer_values(assessment))


def supplement_score(assessment: Assessment) -> AssessmentScore | None:
    supplement = supplement_questionnaire(assessment)
    return score_assessment(supplement, answer_values(assessment)) if supplement is not None else None
