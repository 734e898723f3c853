"""Roster files for the import tests, and putting the organisations back as the demo data had them afterwards."""

import csv
import io
from contextlib import contextmanager

from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import AuditEvent, Organisation, OrgKind, RosterUpload, lmc_coverage

# The header row of the PCN Core Partner Details sheet of NHS England's ePCN file.
HEADER = [
    "Partner Organisation Code",
    "Partner Name",
    "Practice Parent Sub ICB Location Code",
    "Practice Parent Sub ICB Location Name",
    "PCN Code",
    "PCN Name",
    "PCN Parent Sub ICB Location Code",
    "PCN Parent Sub ICB Location Name",
    "Practice to PCN Relationship Start Date",
    "Practice to PCN Relationship End Date",
    "Practice Sub ICB and PCN Sub ICB Match?",
]


def membership(practice: str, pcn_code: str, pcn_name: str, sub_icb: str = "90A", end: str = "", **changes) -> list:
    """One row of the published file: a practice's membership of a PCN."""
    row = {
        "Partner Organisation Code": practice,
        "Partner Name": f"PRACTICE {practice}",
        "Practice Parent Sub ICB Location Code": sub_icb,
        "Practice Parent Sub ICB Location Name": f"SUB ICB {sub_icb}",
        "PCN Code": pcn_code,
        "PCN Name": pcn_name,
        "PCN Parent Sub ICB Location Code": sub_icb,
        "PCN Parent Sub ICB Location Name": f"SUB ICB {sub_icb}",
        "Practice to PCN Relationship Start Date": "20200401",
        "Practice to PCN Relationship End Date": end,
        "Practice Sub ICB and PCN Sub ICB Match?": "Y",
    }
    row.update(changes)
    return [row[column] for column in HEADER]


def roster_csv(rows: list[list], header: list[str] | None = HEADER, line_end: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


# The demo ICB's PCNs as the published file gives them (in capitals), each in its demo sub-ICB location.
DEMO_ROWS = [
    membership("A10001", "U00001", "RIVERSIDE PCN", "90A"),
    membership("A10002", "U00002", "NORTHFIELDS PCN", "90A"),
    membership("A10003", "U00003", "HARBOUR AND COAST PCN", "90A"),
    membership("A10004", "U00004", "MARKET TOWNS PCN", "90B"),
    membership("A10005", "U00005", "EASTGATE PCN", "90B"),
    membership("A10006", "U00006", "VALLEY VILLAGES PCN", "90B"),
]


def organisations() -> dict[str, tuple]:
    return {
        org.ods_code or f"#{org.id}": (org.name, org.parent_id, org.area_id)
        for org in db.session.scalars(select(Organisation))
    }


def icb(code: str = "QDM") -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.ods_code == code))


@contextmanager
def organisations_restored(app):
    """Whatever a test adds, renames or moves, the organisations go back as they were; uploads and the audit
    events the test made are removed (the app and its data are shared by the whole test run)."""
    with app.app_context():
        before = {org.id: (org.name, org.parent_id) for org in db.session.scalars(select(Organisation))}
        last_event = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    try:
        yield
    finally:
        with app.app_context():
            db.session.rollback()
            db.session.execute(delete(RosterUpload))
            db.session.execute(delete(AuditEvent).where(AuditEvent.id > last_event))
            for org in db.session.scalars(select(Organisation).where(Organisation.id.in_(before))):
                org.name, org.parent_id = before[org.id]
            db.session.flush()
            added = [org for org in db.session.scalars(select(Organisation)) if org.id not in before]
            added_ids = [org.id for org in added]
            if added_ids:
                db.session.execute(
                    delete(lmc_coverage).where(
                        lmc_coverage.c.sub_icb_id.in_(added_ids) | lmc_coverage.c.lmc_id.in_(added_ids)
                    )
                )
            for kind in (OrgKind.PCN, OrgKind.SUB_ICB, OrgKind.LMC, OrgKind.ICB, OrgKind.ADMIN):
                for org in added:
                    if org.kind == kind:
                        db.session.delete(org)
                db.session.flush()
            db.session.commit()
