"""Reading people, their organisations and invitations."""

from datetime import datetime

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import Invitation, Organisation, OrgKind, Role, User

# Organisations in the order people look for them: the ICB, its LMC, then its PCNs; the service's own last.
_KIND_ORDER = case(
    {OrgKind.ICB: 0, OrgKind.LMC: 1, OrgKind.PCN: 2, OrgKind.SUB_ICB: 3, OrgKind.ADMIN: 4},
    value=Organisation.kind,
    else_=5,
)


def area_organisations(icb_id: int) -> list[Organisation]:
    """An ICB, and the PCNs and LMCs in its area."""
    return list(
        db.session.scalars(
            select(Organisation)
            .where(
                (Organisation.id == icb_id)
                | ((Organisation.area_id == icb_id) & Organisation.kind.in_([OrgKind.PCN, OrgKind.LMC]))
            )
            .order_by(_KIND_ORDER, Organisation.name)
        )
    )


def all_organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(_KIND_ORDER, Organisation.name)))


def get_organisation(organisation_id: int) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def users_in(organisation_ids: list[int]) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.organisation_id.in_(organisation_ids)).order_by(func.lower(User.name), User.id)
        )
    )


def pending_invitations(organisation_ids: list[int], now: datetime) -> list[Invitation]:
    """Invitations to these organisations that can still be accepted, soonest to expire first."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.organisation_id.in_(organisation_ids),
                Invitation.accepted_at.is_(None),
                Invitation.withdrawn_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.expires_at, Invitation.id)
        )
    )


def pending_invitation_for(email: str, now: datetime) -> Invitation | None:
    """An invitation to this email address, anywhere, that can still be accepted."""
    return db.session.scalar(
        select(Invitation)
        .where(
            func.lower(Invitation.email) == email.strip().lower(),
            Invitation.accepted_at.is_(None),
            Invitation.withdrawn_at.is_(None),
            Invitation.expires_at > now,
        )
        .limit(1)
    )


def get_invitation(invitation_id: int) -> Invitation | None:
    return db.session.get(Invitation, invitation_id)


def get_invitation_by_token_hash(token_hash: str) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash))


def other_active_directors(pcn_id: int, user_id: int) -> int:
    """Active clinical directors of a PCN other than this user. The rows are locked until the transaction ends
    (on PostgreSQL), so two directors cannot each remove the other at the same moment."""
    rows = db.session.scalars(
        select(User.id)
        .where(User.organisation_id == pcn_id, User.role == Role.CLINICAL_DIRECTOR, User.active.is_(True))
        .with_for_update()
    )
    return sum(1 for found in rows if found != user_id)
