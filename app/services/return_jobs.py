"""Background jobs of readiness returns: a submission's PDF report, and a batch of reminders.

Both are safe to run twice: a PDF already stored is kept, and a PCN reminded by this batch is not reminded again.
"""

import json
from dataclasses import replace as dataclass_replace

from sqlalchemy import select

from ..extensions import db
from ..jobs import JobError, handler, params_of
from ..models import Assessment, BackgroundJob, PlanAction, ReturnRound, RoundPcn, Submission, User
from ..models.base import as_utc, utcnow
from . import data_versions, mail
from .progress import progress_of
from .reports import build_report, render_report_pdf
from .rounds import submitted_values


def submission_report(submission: Submission):
    """The report of a submission exactly as frozen: its answers and its plan, never the assessment's later state.
    A reassessment's report also has plan against delivery, as the PCN's own report has: the previous assessment's
    targets and plan, as they stand when the PDF is made (straight after submitting), against the answers submitted,
    which are also this return's point on the trend."""
    assessment = db.session.get(Assessment, submission.assessment_id)
    values = submitted_values(submission)
    actions = [PlanAction(**record) for record in json.loads(submission.plan_json or "[]")]
    report = build_report(
        assessment,
        values,
        actions,
        submitted_to=submission.round.icb.name,
        submitted_at=submission.submitted_at,
        submitted_by=submission.submitted_by,
    )
    return dataclass_replace(report, delivery=progress_of(assessment, now=values))


@handler("submission_pdf", label="PDF report of a submitted return", unit="reports")
def render_submission_pdf(job: BackgroundJob, progress):
    submission = db.session.get(Submission, job.submission_id)
    if submission is None:
        raise JobError("The submission this report was for no longer exists.")
    with data_versions.acting_for(submission.pcn):  # the PCN's own return: its kept pages, not everyone's
        progress(0, 1)
        if submission.pdf_rendered_at is None:
            submission.pdf = render_report_pdf(submission_report(submission))
            submission.pdf_rendered_at = utcnow()
        progress(1, 1)
    return None


@handler("reminders", label="Reminders", unit="PCNs")
def send_reminders(job: BackgroundJob, progress):
    round_ = db.session.get(ReturnRound, job.round_id)
    if round_ is None:
        raise JobError("The round these reminders were for no longer exists.")
    params = params_of(job)
    pcn_ids = [int(i) for i in params.get("pcn_ids", [])]
    text = params.get("text", "")
    scope = {
        s.pcn_id: s
        for s in db.session.scalars(
            select(RoundPcn).where(RoundPcn.round_id == round_.id, RoundPcn.pcn_id.in_(pcn_ids))
        )
    }
    recipients: dict[int, list[User]] = {}
    for user in db.session.scalars(select(User).where(User.organisation_id.in_(pcn_ids), User.active.is_(True))):
        recipients.setdefault(user.organisation_id, []).append(user)
    link = params.get("link", "")
    subject = f"Reminder: your neighbourhood readiness return for {round_.title}"
    asked_at = as_utc(job.created_at)
    failed: list[str] = []
    progress(0, len(pcn_ids))
    for done, pcn_id in enumerate(pcn_ids, start=1):
        entry = scope.get(pcn_id)
        already = entry is not None and entry.last_reminded_at and as_utc(entry.last_reminded_at) >= asked_at
        if entry is not None and not already:
            sent_all = True
            for user in recipients.get(pcn_id, []):
                try:
                    mail.send(user.email, subject, f"Dear {user.name},\n\n{text}\n\n{link}\n")
                except mail.MailError:
                    sent_all = False
                    failed.append(user.email)
            if sent_all:  # a PCN with a failed address is tried again, whole, by "Try again"
                entry.last_reminded_at = utcnow()
        progress(done, len(pcn_ids))
    if failed:
        raise JobError(
            f"The reminder could not be sent to {', '.join(failed[:10])}{' and others' if len(failed) > 10 else ''}. "
            "Everyone else has it. Try again to send it to the PCNs of those addresses."
        )
    return None
