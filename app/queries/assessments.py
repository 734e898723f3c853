from flask import abort
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Answer, Assessment, AssessmentStatus, DomainProgress, PendingInput, User
from ..services import permissions, security_log

# Every assessment page runs this; built once, so SQLAlchemy reuses its compiled form and loader options.
_ASSESSMENT_WITH_ANSWERS = (
    select(Assessment)
    .where(Assessment.id == bindparam("assessment_id"))
    .options(selectinload(Assessment.answers), selectinload(Assessment.domains))
)


def get_assessment_for(user: User, assessment_id: int, *, edit: bool = False) -> Assessment:
    """The assessment if this user may see it (or edit it); 404 otherwise, so others cannot probe ids."""
    assessment = db.session.scalar(_ASSESSMENT_WITH_ANSWERS, {"assessment_id": assessment_id})
    allowed = permissions.can_edit_assessment if edit else permissions.can_view_assessment
    if assessment is None:
        abort(404)
    if not allowed(user, assessment):
        security_log.event("object_access_denied", "refused", user=user, assessment_id=assessment_id)
        abort(404)
    return assessment


def in_progress_assessment(pcn_id: int) -> Assessment | None:
    return db.session.scalar(
        select(Assessment)
        .where(Assessment.pcn_id == pcn_id, Assessment.status == AssessmentStatus.IN_PROGRESS)
        .order_by(Assessment.created_at.desc())
        .limit(1)
    )


def list_assessments(pcn_id: int) -> list[Assessment]:
    return list(
        db.session.scalars(select(Assessment).where(Assessment.pcn_id == pcn_id).order_by(Assessment.created_at.desc()))
    )


def get_domain_progress(assessment_id: int, domain_id: str) -> DomainProgress | None:
    return db.session.scalar(
        select(DomainProgress).where(
            DomainProgress.assessment_id == assessment_id, DomainProgress.domain_id == domain_id
        )
    )


def answers_for_domain(assessment_id: int, domain_id: str) -> dict[str, Answer]:
    rows = db.session.scalars(
        select(Answer).where(Answer.assessment_id == assessment_id, Answer.domain_id == domain_id)
    )
    return {a.question_id: a for a in rows}


def get_pending_input(token: str) -> PendingInput | None:
    return db.session.get(PendingInput, token)


def count_unclaimed_pending_input(address: str | None = None) -> int:
    """Kept input that no known user owns (posted from a browser whose cookies had gone), from one address or all."""
    statement = select(func.count(PendingInput.token)).where(PendingInput.user_id.is_(None))
    if address is not None:
        statement = statement.where(PendingInput.address == address)
    return db.session.scalar(statement) or 0


def pending_input_tokens(user_id: int) -> list[str]:
    """A user's kept input, newest first."""
    return list(
        db.session.scalars(
            select(PendingInput.token).where(PendingInput.user_id == user_id).order_by(PendingInput.created_at.desc())
        )
    )


def oldest_unclaimed_pending_input(count: int) -> list[str]:
    return list(
        db.session.scalars(
            select(PendingInput.token)
            .where(PendingInput.user_id.is_(None))
            .order_by(PendingInput.created_at)
            .limit(count)
        )
    )
