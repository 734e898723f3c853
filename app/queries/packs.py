"""The submissions a round's PDF pack is made of: each PCN's latest standing submission, and their PDFs."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..models import Organisation, Submission


@dataclass(frozen=True)
class PackEntry:
    submission_id: int
    pcn_name: str
    ods_code: str | None
    submitted_at: datetime
    has_pdf: bool


def latest_submissions(round_id: int) -> list[PackEntry]:
    """Each PCN's latest submission for the round that has not been reopened, in one query, without the PDFs."""
    ranked = (
        select(
            Submission.id,
            Submission.pcn_id,
            func.row_number()
            .over(partition_by=Submission.pcn_id, order_by=(Submission.submitted_at.desc(), Submission.id.desc()))
            .label("newest_first"),
        )
        .where(Submission.round_id == round_id, Submission.reopened_at.is_(None))
        .subquery()
    )
    rows = db.session.execute(
        select(
            Submission.id,
            Organisation.name,
            Organisation.ods_code,
            Submission.submitted_at,
            Submission.pdf.is_not(None).label("has_pdf"),
        )
        .join(ranked, ranked.c.id == Submission.id)
        .join(Organisation, Organisation.id == Submission.pcn_id)
        .where(ranked.c.newest_first == 1)
        .order_by(Organisation.ods_code, Organisation.name)
    )
    return [PackEntry(row[0], row[1], row[2], row[3], bool(row[4])) for row in rows]


def submission_pdfs(submission_ids: Iterable[int]) -> list[tuple[int, bytes]]:
    """(submission id, PDF) for these submissions, in one query."""
    ids = list(submission_ids)
    if not ids:
        return []
    rows = db.session.execute(select(Submission.id, Submission.pdf).where(Submission.id.in_(ids)))
    return [(row[0], row[1]) for row in rows]
