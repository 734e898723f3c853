"""The PDF pack: one ZIP of every PCN's latest submitted return for a round, made by the job queue.

A PCN's return is in the pack as its latest submission that has not been reopened, as the PDF made when it was
submitted, named "<ODS code> <PCN name>.pdf". If any of those PDFs has not been made yet the pack fails, naming the
PCNs, rather than leave them out: a pack that looks complete must be complete. "Try again" on the job's page makes it
once the PDFs are there. Building the pack twice makes the same pack, so a job run again after a lost worker is safe.
"""

import io
import re
import zipfile
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..jobs import JobError, JobResult, enqueue, handler
from ..models import BackgroundJob, JobStatus, ReturnRound, User
from ..models.base import as_utc
from ..queries.packs import PackEntry, latest_submissions, submission_pdfs
from . import audit

KIND = "pdf_pack"
UK = ZoneInfo("Europe/London")
# Characters no file system or ZIP tool takes well in a name: wildcards, quotes, control characters; and path
# separators, which become dashes ("2026/27" reads as "2026-27") so that no name can point into a folder.
UNSAFE_IN_FILE_NAMES = re.compile(r'[\x00-\x1f\x7f:*?"<>|]+')
PATH_SEPARATORS = re.compile(r"[/\\]+")
MAX_NAME = 120


def safe_file_name(text: str, fallback: str = "file") -> str:
    """A file name without path separators or characters that trouble Windows, macOS or ZIP tools (no extension)."""
    cleaned = " ".join(UNSAFE_IN_FILE_NAMES.sub(" ", PATH_SEPARATORS.sub("-", text)).split()).strip(" .-")
    return cleaned[:MAX_NAME].rstrip(" .-") or fallback


def entry_names(entries: list[PackEntry]) -> dict[int, str]:
    """Each submission's file name in the pack: "U00001 Riverside PCN.pdf", unique within the pack."""
    names: dict[int, str] = {}
    taken: set[str] = set()
    for entry in entries:
        stem = safe_file_name(" ".join(part for part in (entry.ods_code, entry.pcn_name) if part), "PCN")
        name, number = f"{stem}.pdf", 1
        while name.lower() in taken:
            number += 1
            name = f"{stem} ({number}).pdf"
        taken.add(name.lower())
        names[entry.submission_id] = name
    return names


def pack_name(round_: ReturnRound) -> str:
    return f"{safe_file_name(round_.title, 'Round')} returns.zip"


@handler(KIND, label="PDF pack", unit="returns")
def build_pdf_pack(job: BackgroundJob, progress) -> JobResult:
    round_ = db.session.get(ReturnRound, job.round_id) if job.round_id else None
    if round_ is None:
        raise JobError("The round this pack was for no longer exists.")
    entries = latest_submissions(round_.id)
    if not entries:
        raise JobError(f"No PCN has a submitted return for “{round_.title}” yet, so there is nothing to put in a pack.")
    missing = [entry.pcn_name for entry in entries if not entry.has_pdf]
    if missing:
        _render_missing([entry.submission_id for entry in entries if not entry.has_pdf], job)
        raise JobError(
            f"The PDF of {len(missing)} return{'s' if len(missing) != 1 else ''} has not been made yet: "
            f"{', '.join(missing)}. PDFs are made within a few minutes of a return being submitted. "
            "Try again shortly."
        )
    total = len(entries)
    progress(0, total)
    names = entry_names(entries)
    when = {entry.submission_id: as_utc(entry.submitted_at).astimezone(UK) for entry in entries}
    pdfs = sorted(submission_pdfs(names.keys()), key=lambda row: names[row[0]].lower())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, (submission_id, pdf) in enumerate(pdfs, start=1):
            # Dated as submitted (UK time, as ZIP dates have no zone), so the files sort and show when they were sent.
            info = zipfile.ZipInfo(names[submission_id], date_time=when[submission_id].timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, pdf)
            progress(done, total)
    return JobResult(pack_name(round_), buffer.getvalue())


def _render_missing(submission_ids: list[int], job: BackgroundJob) -> None:
    """Ask again for any missing PDF whose own job is not waiting or running (it may have failed), so that
    "Try again" on the pack can succeed."""
    waiting = set(
        db.session.scalars(
            select(BackgroundJob.submission_id).where(
                BackgroundJob.kind == "submission_pdf",
                BackgroundJob.submission_id.in_(submission_ids),
                BackgroundJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
            )
        )
    )
    for submission_id in submission_ids:
        if submission_id not in waiting and not current_app.config["JOBS_IMMEDIATE"]:
            enqueue("submission_pdf", round_id=job.round_id, submission_id=submission_id)


def start_pdf_pack(round_: ReturnRound, user: User) -> BackgroundJob:
    """Ask for the round's PDF pack: recorded in the audit log, and queued for a worker."""
    audit.record(
        "pdf_pack_requested",
        f"Asked for the PDF pack of the returns to “{round_.title}”.",
        area_id=round_.icb_id,
        round_id=round_.id,
        user=user,
    )
    return enqueue(KIND, round_id=round_.id, user=user)
