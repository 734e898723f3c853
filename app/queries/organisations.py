from sqlalchemy import select

from ..extensions import db
from ..models import Organisation, OrgKind


def get_organisation_by_code(ods_code: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.ods_code == ods_code))


def get_organisation_by_name(name: str, kind: OrgKind) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(Organisation.name == name, Organisation.kind == kind))


def list_pcns_in_area(icb_id: int):
    """The PCNs in an ICB's area by name, as light rows (id, name, ods_code): a list to show, not to change."""
    return db.session.execute(
        select(Organisation.id, Organisation.name, Organisation.ods_code)
        .where(Organisation.area_id == icb_id, Organisation.kind == OrgKind.PCN)
        .order_by(Organisation.name)
    ).all()
