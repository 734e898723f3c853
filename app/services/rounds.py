"""Readiness return rounds: set up by an ICB lead, answered by its PCNs, submitted, reopened, and watched.

The ICB sees nothing of a PCN's draft: before a PCN submits, the ICB sees only where it is (not started, in
progress, overdue). What the ICB reads is the frozen submission, never the live assessment.
"""

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import aliased, joinedload

from ..extensions import db
from ..models import (
    Assessment,
    AssessmentStatus,
    DomainProgress,
    Organisation,
    OrgKind,
    ReturnRound,
    ReturnStatus,
    RoundPcn,
    Submission,
    SubmissionAnswer,
    SubmissionDomainScore,
    User,
)
from ..models.base import utcnow
from ..questionnaires import Questionnaire, registry
from ..templating import UK
from . import assessments, audit, permissions
from .plans import visible_actions
from .scoring import AssessmentScore

DECLARATION = "These answers reflect the PCN's agreed view."


class RoundError(Exception):
    """A request the rules refuse, with a message for the person who made it."""


def today() -> date:
    return datetime.now(UK).date()


# Phases -------------------------------------------------------------------------------------------------------------


def phase(round_: ReturnRound, on: date | None = None) -> str:
    """ "upcoming" until it opens (and may still be edited), "open" until the ICB closes it, then "closed".

    Returns can still come in after the closing date (they are late, and the PCN shows as overdue until then),
    until the ICB lead closes the round.
    """
    on = on or today()
    if round_.closed_early_at is not None:
        return "closed"
    if on < round_.opens_on:
        return "upcoming"
    return "open"


def past_deadline(round_: ReturnRound, on: date | None = None) -> bool:
    return (on or today()) > round_.closes_on


def days_to_deadline(round_: ReturnRound, on: date | None = None) -> int:
    return (round_.closes_on - (on or today())).days


def accepting_returns(round_: ReturnRound) -> bool:
    return phase(round_) == "open"


# Setting up ---------------------------------------------------------------------------------------------------------


def supplements_for(core: Questionnaire) -> list[Questionnaire]:
    return [q for q in registry().current.values() if q.kind == "supplement" and q.supplements == core.id]


def pcns_of(icb_id: int) -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.area_id == icb_id, Organisation.kind == OrgKind.PCN)
            .options(joinedload(Organisation.parent))
            .order_by(Organisation.name)
        )
    )


def create_round(
    icb: Organisation,
    user: User,
    *,
    title: str,
    core: Questionnaire,
    supplement: Questionnaire | None,
    opens_on: date,
    closes_on: date,
    pcn_ids: Iterable[int],
) -> ReturnRound:
    registry().pin(core)
    if supplement is not None:
        registry().pin(supplement)
    round_ = ReturnRound(
        icb_id=icb.id,
        title=title,
        questionnaire_key=core.id,
        questionnaire_hash=core.content_hash,
        supplement_key=supplement.id if supplement else None,
        supplement_hash=supplement.content_hash if supplement else None,
        opens_on=opens_on,
        closes_on=closes_on,
        created_by_id=user.id,
    )
    _set_scope(round_, icb.id, pcn_ids)
    db.session.add(round_)
    db.session.flush()
    record(
        round_,
        "round_opened" if opens_on <= today() else "round_created",
        f"Set up the round “{title}” ({len(round_.scope)} PCNs, {_dates(round_)}"
        f"{', with the supplement ' + supplement.title if supplement else ''}).",
        user=user,
    )
    db.session.commit()
    return round_


def update_round(
    round_: ReturnRound,
    user: User,
    *,
    title: str,
    core: Questionnaire,
    supplement: Questionnaire | None,
    opens_on: date,
    closes_on: date,
    pcn_ids: Iterable[int],
) -> None:
    if phase(round_) != "upcoming":
        raise RoundError("This round has opened, so it can no longer be changed. You can close it early.")
    registry().pin(core)
    if supplement is not None:
        registry().pin(supplement)
    round_.title = title
    round_.questionnaire_key, round_.questionnaire_hash = core.id, core.content_hash
    round_.supplement_key = supplement.id if supplement else None
    round_.supplement_hash = supplement.content_hash if supplement else None
    round_.opens_on, round_.closes_on = opens_on, closes_on
    _set_scope(round_, round_.icb_id, pcn_ids)
    record(
        round_,
        "round_changed",
        f"Changed the round “{title}” ({len(round_.scope)} PCNs, {_dates(round_)}).",
        user=user,
    )
    db.session.commit()


def close_round(round_: ReturnRound, user: User) -> None:
    if round_.closed_early_at is not None:
        raise RoundError("This round is already closed.")
    round_.closed_early_at = utcnow()
    early = "before" if not past_deadline(round_) else "after"
    record(
        round_,
        "round_closed",
        f"Closed the round “{round_.title}” {early} its closing date of {round_.closes_on:%-d %B %Y}.",
        user=user,
    )
    db.session.commit()


def _set_scope(round_: ReturnRound, icb_id: int, pcn_ids: Iterable[int]) -> None:
    allowed = {p.id for p in pcns_of(icb_id)}
    wanted = set(pcn_ids)
    if not wanted <= allowed:
        raise RoundError("Choose PCNs in your ICB's area only.")
    if not wanted:
        raise RoundError("Choose at least one PCN.")
    kept = [s for s in round_.scope if s.pcn_id in wanted]
    have = {s.pcn_id for s in kept}
    round_.scope = kept + [RoundPcn(pcn_id=pcn_id) for pcn_id in sorted(wanted - have)]


def _dates(round_: ReturnRound) -> str:
    return f"open {round_.opens_on:%-d %B %Y} to {round_.closes_on:%-d %B %Y}"


def rounds_of(icb_id: int) -> list[ReturnRound]:
    return list(
        db.session.scalars(
            select(ReturnRound).where(ReturnRound.icb_id == icb_id).order_by(ReturnRound.opens_on.desc())
        )
    )


def scope_count(round_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(RoundPcn.round_id, func.count()).where(RoundPcn.round_id.in_(round_ids)).group_by(RoundPcn.round_id)
    )
    return dict(rows.all())


# The PCN's side -----------------------------------------------------------------------------------------------------


@dataclass
class PcnRound:
    """A round as the PCN in scope sees it on its home page."""

    round: ReturnRound
    assessment: Assessment | None
    submission: Submission | None
    status: ReturnStatus


def rounds_for_pcn(pcn_id: int, assessments: list[Assessment]) -> list[PcnRound]:
    """Rounds this PCN is in that have opened, newest first, with where the PCN is in each: two statements however
    many rounds there are. `assessments` are all of the PCN's (the home page has them already)."""
    rounds = list(
        db.session.scalars(
            select(ReturnRound)
            .join(RoundPcn, RoundPcn.round_id == ReturnRound.id)
            .where(RoundPcn.pcn_id == pcn_id, ReturnRound.opens_on <= today())
            .options(joinedload(ReturnRound.icb))
            .order_by(ReturnRound.closes_on.desc())
        )
    )
    if not rounds:
        return []
    # The newest assessment and the newest submission of each round, as round_assessment and latest_submission.
    newest_assessment: dict[int, Assessment] = {}
    for assessment in sorted(assessments, key=lambda a: a.id):
        if assessment.pcn_id == pcn_id and assessment.round_id is not None:
            newest_assessment[assessment.round_id] = assessment
    newest_submission: dict[int, Submission] = {}
    submissions = db.session.scalars(
        select(Submission)
        .where(Submission.pcn_id == pcn_id, Submission.round_id.in_([r.id for r in rounds]))
        .order_by(Submission.id)
    )
    for submission in submissions:
        newest_submission[submission.round_id] = submission
    found = []
    for round_ in rounds:
        assessment, submission = newest_assessment.get(round_.id), newest_submission.get(round_.id)
        found.append(PcnRound(round_, assessment, submission, status_of(round_, assessment is not None, submission)))
    return found


def round_assessment(round_id: int, pcn_id: int) -> Assessment | None:
    return db.session.scalar(
        select(Assessment)
        .where(Assessment.round_id == round_id, Assessment.pcn_id == pcn_id)
        .order_by(Assessment.id.desc())
        .limit(1)
    )


def latest_submission(round_id: int, pcn_id: int) -> Submission | None:
    return db.session.scalar(
        select(Submission)
        .where(Submission.round_id == round_id, Submission.pcn_id == pcn_id)
        .order_by(Submission.id.desc())
        .limit(1)
    )


def status_of(round_: ReturnRound, started: bool, submission: Submission | None) -> ReturnStatus:
    if submission is not None:
        return ReturnStatus.REOPENED if submission.is_reopened else ReturnStatus.SUBMITTED
    if past_deadline(round_):
        return ReturnStatus.OVERDUE
    return ReturnStatus.IN_PROGRESS if started else ReturnStatus.NOT_STARTED


def in_scope(round_: ReturnRound, pcn_id: int) -> bool:
    return bool(db.session.scalar(select(RoundPcn.id).where(RoundPcn.round_id == round_.id, RoundPcn.pcn_id == pcn_id)))


def start_return(round_: ReturnRound, pcn: Organisation, user: User) -> Assessment:
    """The PCN's assessment for this round: the one it has, its draft in progress taken into the round, or new."""
    if not in_scope(round_, pcn.id):
        raise RoundError("Your PCN is not asked for a return in this round.")
    existing = round_assessment(round_.id, pcn.id)
    if existing is not None:
        return existing
    if not accepting_returns(round_):
        raise RoundError("This round is not taking returns.")
    core = registry().by_hash(round_.questionnaire_hash)
    supplement = registry().by_hash(round_.supplement_hash) if round_.supplement_hash else None
    draft = db.session.scalar(
        select(Assessment).where(Assessment.pcn_id == pcn.id, Assessment.status == AssessmentStatus.IN_PROGRESS)
    )
    if draft is not None:
        earlier = db.session.get(ReturnRound, draft.round_id) if draft.round_id is not None else None
        if earlier is not None and accepting_returns(earlier):
            raise RoundError("Your PCN has another round's return in progress. Finish and submit that one first.")
        if draft.questionnaire_hash != round_.questionnaire_hash:
            raise RoundError(
                "Your assessment in progress uses an earlier version of the questionnaire. "
                "Finish it first, then start this round's return."
            )
        # The draft (with no round, or left in a round that has closed) becomes this round's return: its answers
        # stay, and this round's supplement's domains are added.
        draft.round_id = round_.id
        draft.supplement_key = draft.supplement_hash = None
        if supplement is not None:
            draft.supplement_key, draft.supplement_hash = supplement.id, supplement.content_hash
            have = {p.domain_id for p in draft.domains}
            draft.domains.extend(DomainProgress(domain_id=d.id) for d in supplement.domains if d.id not in have)
        db.session.commit()
        return draft
    previous = assessments.previous_for(pcn.id, core)  # a six-monthly return starts from the last answers
    return assessments.start_assessment(pcn, user, core, supplement, round_id=round_.id, previous=previous)


def can_submit(user: User, assessment: Assessment) -> bool:
    return permissions.can_view_assessment(user, assessment) and user.role == "clinical_director"


def submit(assessment: Assessment, user: User, *, declared: bool) -> Submission:
    """Freeze the return as it stands: answers, notes, scores and plan; its PDF is rendered by a background job."""
    if not can_submit(user, assessment):
        raise RoundError("Only the PCN's clinical director can submit its return.")
    round_ = db.session.get(ReturnRound, assessment.round_id) if assessment.round_id else None
    if round_ is None:
        raise RoundError("This assessment is not a return for an ICB round.")
    if not accepting_returns(round_):
        raise RoundError("This round is closed: your ICB is no longer taking returns for it.")
    if assessment.submitted_at is not None:
        raise RoundError("This return has already been submitted.")
    if not assessment.is_completed or not assessments.all_domains_completed(assessment):
        raise RoundError("Complete every domain and confirm your answers before you submit.")
    if carried := assessments.carried_over_sections(assessment):
        raise RoundError(assessments.carried_over_message(carried))
    if not declared:
        raise RoundError("Confirm that these answers reflect the PCN's agreed view")

    values = assessments.answer_values(assessment)
    core_score = assessments.score(assessment)
    supplement_score = assessments.supplement_score(assessment)
    submission = Submission(
        round_id=round_.id,
        pcn_id=assessment.pcn_id,
        assessment_id=assessment.id,
        submitted_by_id=user.id,
        declaration=DECLARATION,
        questionnaire_hash=assessment.questionnaire_hash,
        supplement_hash=assessment.supplement_hash,
        overall_now=core_score.now,
        overall_target=core_score.target,
        supplement_now=supplement_score.now if supplement_score else None,
        supplement_target=supplement_score.target if supplement_score else None,
        plan_json=json.dumps([_action_record(a) for a in visible_actions(assessment)]),
    )
    position = 0
    for section, result in (("core", core_score), ("supplement", supplement_score)):
        if result is None:
            continue
        for d in result.domains:
            submission.domain_scores.append(
                SubmissionDomainScore(
                    section=section,
                    domain_id=d.domain.id,
                    position=position,
                    now=d.now,
                    target=d.target,
                    applicable=d.applicable,
                )
            )
            for q in d.questions:
                value = values.get(q.question.id)
                submission.answers.append(
                    SubmissionAnswer(
                        section=section,
                        domain_id=d.domain.id,
                        question_id=q.question.id,
                        position=position,
                        current=value.current if value else None,
                        current_unsure=value.current_unsure if value else False,
                        target=value.target if value else None,
                        target_unsure=value.target_unsure if value else False,
                        note=value.note if value else "",
                        not_applicable=value.not_applicable if value else False,
                    )
                )
                position += 1
            position += 1
    # Claimed with a conditional update, so a double click or two tabs cannot submit the same return twice.
    claimed = db.session.execute(
        update(Assessment)
        .where(Assessment.id == assessment.id, Assessment.submitted_at.is_(None))
        .values(submitted_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise RoundError("This return has already been submitted.")
    db.session.add(submission)
    db.session.flush()
    db.session.refresh(assessment, ["submitted_at"])
    record(
        round_,
        "return_submitted",
        f"{assessment.pcn.name} ({assessment.pcn.ods_code}) submitted its return for “{round_.title}”.",
        user=user,
    )
    db.session.commit()
    from .. import jobs

    jobs.enqueue("submission_pdf", round_id=round_.id, submission_id=submission.id, user=user)
    return submission


def _action_record(action) -> dict:
    return {
        "domain_id": action.domain_id,
        "question_id": action.question_id,
        "origin": action.origin,
        "step": action.step,
        "title": action.title,
        "description": action.description,
        "owner": action.owner,
        "partner": action.partner,
        "effort": action.effort,
        "month": action.month,
        "status": action.status,
        "note": action.note,
        "gap_closed": action.gap_closed,
    }


def can_reopen(submission: Submission) -> bool:
    return not submission.is_reopened and accepting_returns(submission.round)


def reopen(submission: Submission, user: User, reason: str) -> None:
    if submission.is_reopened:
        raise RoundError("This return is already reopened.")
    if not accepting_returns(submission.round):
        raise RoundError("This round is closed, so the PCN could not submit again: the return stays as submitted.")
    if latest_submission(submission.round_id, submission.pcn_id).id != submission.id:
        raise RoundError("A later submission has replaced this one.")
    if not reason.strip():
        raise RoundError("Enter why you are reopening this return")
    submission.reopened_at = utcnow()
    submission.reopened_by_id = user.id
    submission.reopen_reason = reason
    assessment = db.session.get(Assessment, submission.assessment_id)
    assessment.submitted_at = None
    record(
        submission.round,
        "return_reopened",
        f"Reopened {submission.pcn.name}'s return for “{submission.round.title}”: {reason}",
        user=user,
    )
    db.session.commit()


# The ICB's dashboard ------------------------------------------------------------------------------------------------


@dataclass
class ReturnRow:
    pcn_id: int
    pcn_name: str
    ods_code: str
    sub_icb_code: str
    sub_icb_name: str
    status: ReturnStatus
    last_reminded_at: datetime | None
    submission_id: int | None = None
    submitted_at: datetime | None = None
    overall_now: float | None = None
    overall_target: float | None = None
    supplement_now: float | None = None
    supplement_target: float | None = None
    pdf_ready: bool = False
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)


class FrozenCache:
    """A bounded store, least recently used out first, of figures derived from submitted returns.

    A submission is frozen when it is made (its answers, scores and plan never change), so what is worked out from
    it (its domain figures, its cells in a table, a benchmark over a set of them) can be kept and reused. Keys carry
    the submission's id *and* its submission time, so a database whose ids are reused (tests, a demo reset) can
    never be served another return's figures. Each app has its own store.
    """

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value):
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value

    def get_or_make(self, key, make: Callable):
        found = self.get(key)
        return found if found is not None else self.put(key, make())


def frozen_cache(name: str, size: int = 20_000) -> FrozenCache:
    caches = current_app.extensions.setdefault("frozen_figures", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, FrozenCache(size))
    return cache


@dataclass(frozen=True)
class FrozenScores:
    """A submission's applicable domain figures, {domain id: (now, target)}: every section's, and the core's."""

    every: dict[str, tuple[float, float]]
    core: dict[str, tuple[float, float]]


def frozen_scores(keys: Iterable[tuple[int, datetime]]) -> dict[int, FrozenScores]:
    """Each submission's domain figures (a domain whose every question was not applicable has none), by id, read
    from the database only for submissions not already held. `keys` are (submission id, submitted at)."""
    cache = frozen_cache("scores")
    found: dict[int, FrozenScores] = {}
    missing: dict[int, tuple[int, datetime]] = {}
    for key in keys:
        held = cache.get(key)
        if held is None:
            missing[key[0]] = key
        else:
            found[key[0]] = held
    if missing:
        read = {submission_id: FrozenScores({}, {}) for submission_id in missing}
        for submission_id, domain_id, now, target, section in db.session.execute(
            select(
                SubmissionDomainScore.submission_id,
                SubmissionDomainScore.domain_id,
                SubmissionDomainScore.now,
                SubmissionDomainScore.target,
                SubmissionDomainScore.section,
            ).where(SubmissionDomainScore.submission_id.in_(list(missing)), SubmissionDomainScore.applicable)
        ):
            figures = read[submission_id]
            figures.every[domain_id] = (now, target)
            if section == "core":
                figures.core[domain_id] = (now, target)
        for submission_id, figures in read.items():
            found[submission_id] = cache.put(missing[submission_id], figures)
    return found


def latest_submission_ids(round_id: int):
    """Each PCN's latest submission for the round, as a subquery of ids: what the ICB sees."""
    return (
        select(func.max(Submission.id)).where(Submission.round_id == round_id).group_by(Submission.pcn_id)
    ).scalar_subquery()


def record(round_: ReturnRound, action: str, summary: str, user: User | None = None) -> None:
    """An audit entry about this round, in its ICB's area, saved with the change it describes."""
    audit.record(action, summary, area_id=round_.icb_id, round_id=round_.id, user=user)


_parent = aliased(Organisation)
# The dashboard's statements, built once (a statement costs more to build than to run): the round is a parameter.
_SCOPE = (
    select(
        RoundPcn.pcn_id,
        RoundPcn.last_reminded_at,
        Organisation.name,
        Organisation.ods_code,
        _parent.ods_code,
        _parent.name,
    )
    .join(Organisation, Organisation.id == RoundPcn.pcn_id)
    .outerjoin(_parent, _parent.id == Organisation.parent_id)
    .where(RoundPcn.round_id == bindparam("round_id"))
)
_LATEST = select(
    Submission.id,
    Submission.pcn_id,
    Submission.submitted_at,
    Submission.overall_now,
    Submission.overall_target,
    Submission.supplement_now,
    Submission.supplement_target,
    Submission.reopened_at,
    Submission.pdf_rendered_at,
).where(
    Submission.id.in_(
        select(func.max(Submission.id))
        .where(Submission.round_id == bindparam("round_id"))
        .group_by(Submission.pcn_id)
        .scalar_subquery()
    )
)
_STARTED = select(Assessment.pcn_id).where(Assessment.round_id == bindparam("round_id")).distinct()


def return_rows(round_: ReturnRound) -> list[ReturnRow]:
    """Every PCN in the round's scope with its status and, once submitted, its latest submission's scores.

    A fixed number of queries, each bounded by the round: nothing here grows with PCNs outside the ICB.
    """
    given = {"round_id": round_.id}
    scope = db.session.execute(_SCOPE, given).all()
    submissions = {row[1]: row for row in db.session.execute(_LATEST, given)}
    scores = frozen_scores((sub[0], sub[2]) for sub in submissions.values())
    late = past_deadline(round_)
    started = set()  # once past the deadline, a PCN without a return is overdue whether or not it has started
    if not late and len(submissions) < len(scope):
        started = set(db.session.scalars(_STARTED, given))
    rows = []
    for pcn_id, reminded, name, code, sub_code, sub_name in scope:
        sub = submissions.get(pcn_id)
        if sub is not None:
            status = ReturnStatus.REOPENED if sub[7] else ReturnStatus.SUBMITTED
        elif late:
            status = ReturnStatus.OVERDUE
        else:
            status = ReturnStatus.IN_PROGRESS if pcn_id in started else ReturnStatus.NOT_STARTED
        row = ReturnRow(pcn_id, name, code or "", sub_code or "", sub_name or "", status, reminded)
        if sub is not None:
            sub_id, _, row.submitted_at, row.overall_now, row.overall_target, row.supplement_now = sub[:6]
            row.submission_id = sub_id
            row.supplement_target = sub[6]
            row.pdf_ready = sub[8] is not None
            row.scores = scores[sub_id].every
        rows.append(row)
    rows.sort(key=lambda r: r.pcn_name.lower())
    return rows


def status_counts(rows: list[ReturnRow]) -> dict[ReturnStatus, int]:
    counts = dict.fromkeys(ReturnStatus, 0)
    for row in rows:
        counts[row.status] += 1
    return counts


def questionnaires_of(round_: ReturnRound) -> tuple[Questionnaire, Questionnaire | None]:
    core = registry().by_hash(round_.questionnaire_hash)
    supplement = registry().by_hash(round_.supplement_hash) if round_.supplement_hash else None
    return core, supplement


def submitted_values(submission: Submission) -> dict:
    """The frozen answers of a submission, as scoring and the report read answers."""
    from .scoring import AnswerValue

    return {
        a.question_id: AnswerValue(
            a.current, a.target, a.current_unsure, a.target_unsure, a.note, not_applicable=a.not_applicable
        )
        for a in submission.answers
    }


def submission_scores(submission: Submission) -> tuple[AssessmentScore, AssessmentScore | None]:
    """The scores as submitted, worked out again from the frozen answers (the method is fixed per version)."""
    from .scoring import score_assessment

    values = submitted_values(submission)
    core = registry().by_hash(submission.questionnaire_hash)
    supplement = registry().by_hash(submission.supplement_hash) if submission.supplement_hash else None
    return score_assessment(core, values), (score_assessment(supplement, values) if supplement else None)
