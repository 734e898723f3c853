"""A job's page: how far it has got, its file when it is done, its reason and "Try again" when it failed."""

import io
import mimetypes
from pathlib import PurePath

from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_login import current_user

from ..access import roles
from ..extensions import db
from ..forms.simple import ConfirmForm
from ..models import JobStatus, Role
from ..queries.jobs import result_size
from ..services import audit, permissions
from . import kind_of, retry
from .permissions import get_job_for

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

# Who may open a job's pages at all; which job each may see is decided per job (app/jobs/permissions.py).
JOB_ROLES = (Role.ICB_LEAD, Role.ADMIN, Role.CLINICAL_DIRECTOR, Role.PCN_MEMBER)
# How often (seconds) the page reloads itself while the job is waiting or running.
REFRESH_SECONDS = 2

STATUS_TAGS = {
    JobStatus.QUEUED: ("Waiting to start", "nhsuk-tag--grey"),
    JobStatus.RUNNING: ("In progress", "nhsuk-tag--blue"),
    JobStatus.DONE: ("Ready", "nhsuk-tag--green"),
    JobStatus.FAILED: ("Did not finish", "nhsuk-tag--red"),
}


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def how_many(count: int, unit: str) -> str:
    """ "6 returns", "1 return": a handler names its unit in the plural."""
    return f"{count} {unit[:-1] if count == 1 and unit.endswith('s') else unit}"


def file_type(name: str) -> str:
    return PurePath(name).suffix.lstrip(".").upper() or "file"


@bp.route("/<int:job_id>")
@roles(*JOB_ROLES)
def show(job_id: int):
    job, round_ = get_job_for(current_user, job_id)
    kind = kind_of(job)
    finished = job.status in (JobStatus.DONE, JobStatus.FAILED)
    # An ICB lead came from the round's dashboard (when that part of the service is there): offer the way back.
    back = None
    dashboard = "rounds.dashboard" in current_app.view_functions
    if round_ and dashboard and permissions.icb_of(current_user) == round_.icb_id:
        back = url_for("rounds.dashboard", round_id=round_.id)
    return render_template(
        "jobs/job.html",
        job=job,
        round=round_,
        label=kind.label if kind else "Background job",
        unit=kind.unit if kind else "steps",
        how_many=how_many,
        status_tag=STATUS_TAGS.get(job.status, (job.status, "nhsuk-tag--grey")),
        refresh_seconds=None if finished else REFRESH_SECONDS,
        size=file_size(result_size(job.id)) if job.status == JobStatus.DONE and job.result_name else None,
        file_type=file_type(job.result_name or ""),
        form=ConfirmForm(),
        back=back,
    )


@bp.route("/<int:job_id>/download")
@roles(*JOB_ROLES)
def download(job_id: int):
    job, round_ = get_job_for(current_user, job_id)
    if job.status != JobStatus.DONE or not job.result_name:
        flash("There is no file to download yet.")
        return redirect(url_for(".show", job_id=job.id))
    content = job.result or b""
    kind = kind_of(job)
    audit.record(
        "export",
        f"Downloaded “{job.result_name}” ({kind.label if kind else job.kind}).",
        area_id=round_.icb_id if round_ else None,
        round_id=round_.id if round_ else None,
    )
    db.session.commit()
    return send_file(
        io.BytesIO(content),
        mimetype=mimetypes.guess_type(job.result_name)[0] or "application/octet-stream",
        as_attachment=True,
        download_name=job.result_name,
        etag=False,
        last_modified=None,
        max_age=0,
    )


@bp.route("/<int:job_id>/retry", methods=["POST"])
@roles(*JOB_ROLES)
def try_again(job_id: int):
    job, _round = get_job_for(current_user, job_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if job.status != JobStatus.FAILED:
        flash("This has not failed, so there is nothing to try again.")
    else:
        retry(job)
    return redirect(url_for(".show", job_id=job.id))
