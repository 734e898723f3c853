"""The readiness report: an HTML print view and an A4 PDF."""

from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_login import current_user

from ..access import PCN_ROLES, roles
from ..models import Assessment
from ..queries.assessments import get_assessment_for
from ..services import reports

bp = Blueprint("reports", __name__, url_prefix="/assessments")


def _completed_assessment(assessment_id: int) -> Assessment:
    """The user's assessment (404 for anyone else's); a draft sends them to check and confirm it first."""
    assessment = get_assessment_for(current_user, assessment_id)
    if not assessment.is_completed:
        flash("Check and confirm your answers to see your report.")
        abort(redirect(url_for("assessments.check_answers", assessment_id=assessment.id)))
    return assessment


@bp.route("/<int:assessment_id>/report")
@roles(*PCN_ROLES)
def report(assessment_id: int):
    return reports.render_report_html(_completed_assessment(assessment_id))


@bp.route("/<int:assessment_id>/report.pdf")
@roles(*PCN_ROLES)
def report_pdf(assessment_id: int):
    assessment = _completed_assessment(assessment_id)
    return Response(
        reports.stored_pdf(assessment),  # rendered only when what the report shows has changed
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{reports.pdf_filename(assessment)}"',
            "Cache-Control": "private, no-store",
        },
    )
