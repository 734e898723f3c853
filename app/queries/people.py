"""Reading people, their organisations and invitations."""

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Invitation, Organisation, OrgKind, Role, User

# Organisations in the order people look for them: the ICB, its LMC, then its PCNs; the service's own last.
_KIND_ORDER = case(
    {OrgKind.ICB: 0, OrgKind.LMC: 1, OrgKind.PCN: 2, OrgKind.SUB_ICB: 3, OrgKind.ADMIN: 4},
    value=Organisation.kind,
    else_=5,
)


def _in_area(icb_id: int):
    return (Organisation.id == icb_id) | (
        (Organisation.area_id == icb_id) & Organisation.kind.in_([OrgKind.PCN, OrgKind.LMC])
    )


def area_organisations(icb_id: int) -> list[Organisation]:
    """An ICB, and the PCNs and LMCs in its area."""
    return list(
        db.session.scalars(select(Organisation).where(_in_area(icb_id)).order_by(_KIND_ORDER, Organisation.name))
    )


def all_organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(_KIND_ORDER, Organisation.name)))


def _listed(icb_id: int | None, kinds: tuple[str, ...], search: str):
    has_people = select(User.id).where(User.organisation_id == Organisation.id).exists()
    statement = select(
        Organisation.id, Organisation.name, Organisation.kind, Organisation.area_id, Organisation.ods_code
    ).where(Organisation.kind.in_(kinds) | has_people)
    if icb_id is not None:
        statement = statement.where(_in_area(icb_id))
    if search:
        wanted = search.lower()
        statement = statement.where(
            func.lower(Organisation.name).contains(wanted, autoescape=True)
            | (func.lower(Organisation.ods_code) == wanted)
        )
    return statement


def listed_count(icb_id: int | None, kinds: tuple[str, ...], search: str) -> int:
    """How many organisations the people page lists (see listed_organisations)."""
    return db.session.scalar(select(func.count()).select_from(_listed(icb_id, kinds, search).subquery()))


def listed_organisations(icb_id: int | None, kinds: tuple[str, ...], search: str, offset: int, limit: int) -> list:
    """A page of the organisations an ICB lead (its area, as area_organisations) or an administrator (None: every
    one) looks after that the people page lists: those of `kinds` (the kinds they may invite to) and any with an
    account, as light rows (id, name, kind, area_id, ods_code) in area_organisations' order. `search` keeps those
    whose name holds it or whose ODS code it is, ignoring case."""
    statement = _listed(icb_id, kinds, search).order_by(_KIND_ORDER, Organisation.name, Organisation.id)
    return db.session.execute(statement.offset(offset).limit(limit)).all()


def people_rows(organisation_ids: list[int]):
    """The accounts in these organisations, as light rows, in the order users_in gives."""
    return db.session.execute(
        select(User.id, User.organisation_id, User.name, User.email, User.role, User.active)
        .where(User.organisation_id.in_(organisation_ids))
        .order_by(func.lower(User.name), User.id)
    ).all()


def get_organisation(organisation_id: int) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def users_in(organisation_ids: list[int]) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.organisation_id.in_(organisation_ids)).order_by(func.lower(User.name), User.id)
        )
    )


def pending_invitations(organisation_ids, now: datetime) -> list[Invitation]:
    """Invitations to these organisations (a list, or a subquery of ids) that can still be accepted, soonest to
    expire first, with each one's organisation."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.organisation_id.in_(organisation_ids),
                Invitation.accepted_at.is_(None),
                Invitation.withdrawn_at.is_(None),
                Invitation.expires_at > now,
            )
            .options(joinedload(Invitation.organisation))
            .order_by(Invitation.expires_at, Invitation.id)
        )
    )


def area_organisation_ids(icb_id: int | None):
    """The ids of the organisations an ICB lead (or, for None, an administrator) looks after, as a subquery."""
    statement = select(Organisation.id)
    if icb_id is not None:
        statement = statement.where(_in_area(icb_id))
    return statement.scalar_subquery()


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
