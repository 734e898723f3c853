"""Who may see a background job, follow its progress, download its file and try it again.

The person who asked for it, while they still work where the job's round is (a PCN's own submission: in that PCN);
and the ICB leads of the round's ICB, whoever of them asked. Anyone else gets a 404, so job numbers cannot be probed.
"""

from flask import abort

from ..models import BackgroundJob, ReturnRound, User
from ..queries.jobs import get_job, job_subject
from ..services import permissions, security_log


def can_see_job(user: User, job: BackgroundJob, round_: ReturnRound | None, pcn_id: int | None) -> bool:
    icb_id = round_.icb_id if round_ is not None else None
    if icb_id is not None and permissions.icb_of(user) == icb_id:
        return True
    if job.requested_by_id is None or job.requested_by_id != user.id:
        return False
    if icb_id is None or permissions.is_admin(user):
        return True
    if pcn_id is not None and permissions.is_pcn_member(user):
        return user.organisation_id == pcn_id
    return user.organisation_id == icb_id or user.organisation.area_id == icb_id


def get_job_for(user: User, job_id: int) -> tuple[BackgroundJob, ReturnRound | None]:
    """The job and its round if this user may see them; 404 otherwise."""
    job = get_job(job_id)
    if job is None:
        abort(404)
    round_, pcn_id = job_subject(job)
    if not can_see_job(user, job, round_, pcn_id):
        security_log.event("object_access_denied", "refused", user=user, job_id=job_id)
        abort(404)
    return job, round_
