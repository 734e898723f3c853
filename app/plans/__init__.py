"""The six-month action plan: view by month or by domain, edit, add, remove, regenerate, CSV."""

import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import PCN_ROLES, roles
from ..forms.plan import ActionForm, NewActionForm, PlanSettingsForm
from ..forms.simple import ConfirmForm
from ..queries.assessments import get_assessment_for
from ..services import assessments as assessment_service
from ..services import plans

bp = Blueprint("plans", __name__, url_prefix="/assessments")

STATUS_TAG_CLASSES = {
    "not_started": "nhsuk-tag--grey",
    "in_progress": "nhsuk-tag--blue",
    "done": "nhsuk-tag--green",
    "dropped": "nhsuk-tag--white",
}


def _plan_assessment(assessment_id: int):
    """The assessment, if this user's PCN owns it and it has a plan; otherwise 404 or a redirect to confirm."""
    assessment = get_assessment_for(current_user, assessment_id, edit=True)
    if assessment.plan_generated_at is None:
        return assessment, redirect(url_for("assessments.check_answers", assessment_id=assessment.id))
    return assessment, None


def _action(assessment, action_id: int):
    action = next((a for a in assessment.actions if a.id == action_id and not a.removed), None)
    return action or abort(404)


@bp.route("/<int:assessment_id>/plan")
@roles(*PCN_ROLES)
def plan(assessment_id: int):
    assessment, early = _plan_assessment(assessment_id)
    if early:
        flash("Check and confirm your answers to get your action plan.")
        return early
    questionnaire = assessment_service.questionnaire_for(assessment)
    actions = plans.visible_actions(assessment)
    view = "domain" if request.args.get("view") == "domain" else "month"
    settings = PlanSettingsForm(formdata=None, data={"max_per_month": plans.max_per_month(assessment, questionnaire)})
    return render_template(
        "plans/plan.html",
        assessment=assessment,
        questionnaire=questionnaire,
        view=view,
        months=plans.by_month(actions),
        domains=plans.by_domain(actions, questionnaire),
        counts=plans.progress_counts(actions),
        total=len(actions),
        out_of_date=assessment_service.plan_out_of_date(assessment),
        settings=settings,
        confirm=ConfirmForm(),
        tag_classes=STATUS_TAG_CLASSES,
    )


@bp.route("/<int:assessment_id>/plan/regenerate", methods=["POST"])
@roles(*PCN_ROLES)
def regenerate(assessment_id: int):
    assessment, early = _plan_assessment(assessment_id)
    if early:
        return early
    if not ConfirmForm().validate_on_submit():
        abort(400)
    result = assessment_service.regenerate_plan(assessment)
    flash(
        f"Your plan has been updated from your answers: {result.added} action(s) added, "
        f"{result.closed} marked as gap closed. Your own changes have been kept."
    )
    return redirect(url_for(".plan", assessment_id=assessment.id))


@bp.route("/<int:assessment_id>/plan/settings", methods=["POST"])
@roles(*PCN_ROLES)
def settings(assessment_id: int):
    assessment, early = _plan_assessment(assessment_id)
    if early:
        return early
    form = PlanSettingsForm()
    if form.validate_on_submit():
        plans.set_max_per_month(assessment, form.max_per_month.data)
        assessment_service.regenerate_plan(assessment)
        flash(f"Actions are now scheduled with at most {form.max_per_month.data} a month.")
        return redirect(url_for(".plan", assessment_id=assessment.id))
    return render_template("plans/settings.html", assessment=assessment, form=form), 200


@bp.route("/<int:assessment_id>/plan/actions/<int:action_id>", methods=["GET", "POST"])
@roles(*PCN_ROLES)
def edit_action(assessment_id: int, action_id: int):
    assessment, early = _plan_assessment(assessment_id)
    if early:
        return early
    action = _action(assessment, action_id)
    conflict = None
    if request.method == "POST":
        form = ActionForm()
        if form.validate_on_submit():
            try:
                revision = int(form.revision.data or -1)
            except ValueError:
                revision = -1
            try:
                plans.update_action(action, form.change(), revision, current_user)
            except plans.StaleAction as stale:
                conflict = stale.action
                form.revision.data = str(stale.action.revision)
            else:
                flash(f"Action saved: {action.title}")
                return redirect(url_for(".plan", assessment_id=assessment.id, _anchor=f"action-{action.id}"))
    else:
        form = ActionForm(data=ActionForm.data_for(action))
    return render_template("plans/action.html", assessment=assessment, action=action, form=form, conflict=conflict), (
        409 if conflict else 200
    )


@bp.route("/<int:assessment_id>/plan/actions/new", methods=["GET", "POST"])
@roles(*PCN_ROLES)
def add_action(assessment_id: int):
    assessment, early = _plan_assessment(assessment_id)
    if early:
        return early
    questionnaire = assessment_service.questionnaire_for(assessment)
    form = NewActionForm(data={"status": "not_started", "month": "1"} if request.method == "GET" else None)
    form.set_domains(questionnaire)
    if form.validate_on_submit():
        action = plans.add_action(assessment, form.change(), form.domain_id, current_user)
        flash(f"Action added: {action.title}")
        return redirect(url_for(".plan", assessment_id=assessment.id, _anchor=f"action-{action.id}"))
    return render_template("plans/action.html", assessment=assessment, action=None, form=form, conflict=None)


@bp.route("/<int:assessment_id>/plan/actions/<int:action_id>/remove", methods=["GET", "POST"])
@roles(*PCN_ROLES)
def remove_action(assessment_id: int, action_id: int):
    assessment, early = _plan_assessment(assessment_id)
    if early:
        return early
    action = _action(assessment, action_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        title = action.title
        plans.remove_action(assessment, action)
        flash(f"Action removed: {title}")
        return redirect(url_for(".plan", assessment_id=assessment.id))
    return render_template("plans/remove.html", assessment=assessment, action=action, form=form)


@bp.route("/<int:assessment_id>/plan.csv")
@roles(*PCN_ROLES)
def plan_csv(assessment_id: int):
    assessment, early = _plan_assessment(assessment_id)
    if early:
        return early
    questionnaire = assessment_service.questionnaire_for(assessment)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Month", "Domain", "Action", "What to do", "Owner", "Status", "Note", "Source", "Gap closed"])
    for month, actions in plans.by_month(plans.visible_actions(assessment)).items():
        for action in actions:
            domain = questionnaire.domain(action.domain_id) if action.domain_id else None
            writer.writerow(
                [
                    month or "Later",
                    domain.title if domain else "",
                    _csv_safe(action.title),
                    _csv_safe(action.description),
                    _csv_safe(action.owner),
                    action.status_label,
                    _csv_safe(action.note),
                    {"user": "Added by the PCN", "find_out": "Not sure"}.get(action.origin, "Suggested"),
                    "Yes" if action.gap_closed else "",
                ]
            )
    filename = f"action-plan-{assessment.pcn.ods_code or assessment.pcn.id}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv_safe(value: str) -> str:
    """Stop a spreadsheet from reading typed text as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
