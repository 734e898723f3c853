"""The six-month action plan: view by month or by domain, edit, add, remove, regenerate, CSV."""

import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import PCN_ROLES, roles
from ..auth import restored_input
from ..forms.fields import revision_number
from ..forms.plan import ActionForm, NewActionForm, PlanSettingsForm
from ..forms.simple import ConfirmForm
from ..queries.assessments import get_assessment_for
from ..questionnaires.schema import DEFAULT_EFFORT, EFFORT_DAYS, EFFORT_LABELS
from ..services import assessments as assessment_service
from ..services import plans
from ..services.exports import safe_cell
from ..templating import plural

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
    return next((a for a in assessment.actions if a.id == action_id and not a.removed), None)


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
    capacity = plans.plan_capacity(assessment, questionnaire)
    settings = PlanSettingsForm(formdata=None, data={"capacity": capacity})
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
        capacity=capacity,
        loads=plans.month_loads(actions),
        effort_labels=EFFORT_LABELS,
        effort_days=EFFORT_DAYS,
        confirm=ConfirmForm(),
        tag_classes=STATUS_TAG_CLASSES,
        carryable=len(plans.carryable_actions(assessment, assessment_service.previous_assessment(assessment))),
        reassessment=assessment.previous_id is not None,
    )


@bp.route("/<int:assessment_id>/plan/carry", methods=["POST"])
@roles(*PCN_ROLES)
def carry_actions(assessment_id: int):
    """Bring the open actions of the previous assessment's plan into this one, once."""
    assessment, early = _plan_assessment(assessment_id)
    if early:
        return early
    previous = assessment_service.previous_assessment(assessment)
    if previous is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    added = plans.carry_open_actions(
        assessment, previous, assessment_service.questionnaire_for(assessment), current_user
    )
    if added:
        flash(f"{plural(added, 'open action')} from your last plan {'is' if added == 1 else 'are'} now in this plan.")
    else:
        flash("There are no open actions left to bring in: they are already in this plan.")
    return redirect(url_for(".plan", assessment_id=assessment.id))


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
        f"Your plan has been updated from your answers: {plural(result.added, 'action')} added, "
        f"{plural(result.closed, 'action')} marked as gap closed. Your own changes have been kept."
    )
    return redirect(url_for(".plan", assessment_id=assessment.id))


@bp.route("/<int:assessment_id>/plan/settings", methods=["GET", "POST"])
@roles(*PCN_ROLES)
def settings(assessment_id: int):
    assessment, early = _plan_assessment(assessment_id)
    if early:
        return early
    questionnaire = assessment_service.questionnaire_for(assessment)
    kept = restored_input(request.path) if request.method == "GET" else None
    if request.method == "POST":
        form = PlanSettingsForm()
    elif kept is not None:
        form = PlanSettingsForm(formdata=kept)
    else:
        form = PlanSettingsForm(data={"capacity": plans.plan_capacity(assessment, questionnaire)})
    if form.validate_on_submit():
        plans.set_plan_capacity(assessment, form.capacity.data)
        assessment_service.regenerate_plan(assessment)
        flash(f"Actions are now scheduled with up to {plural(form.capacity.data, 'day')} of work a month.")
        return redirect(url_for(".plan", assessment_id=assessment.id))
    return render_template(
        "plans/settings.html", assessment=assessment, form=form, restored=kept is not None,
        default_capacity=questionnaire.plan_capacity, effort_days=EFFORT_DAYS,
    )  # fmt: skip


@bp.route("/<int:assessment_id>/plan/actions/<int:action_id>", methods=["GET", "POST"])
@roles(*PCN_ROLES)
def edit_action(assessment_id: int, action_id: int):
    assessment, early = _plan_assessment(assessment_id)
    if early:
        return early
    action = _action(assessment, action_id)
    if action is None:
        if request.method != "POST":
            abort(404)
        # A colleague removed it while this person was editing: keep what they typed, offer to add it back.
        form = _new_action_form(assessment, request.form)
        form.domain.data = request.form.get("domain") or "none"
        return render_template(
            "plans/action.html", assessment=assessment, action=None, form=form, removed=True,
            form_action=url_for(".add_action", assessment_id=assessment.id),
        ), 409  # fmt: skip
    conflict = None
    kept = restored_input(request.path) if request.method == "GET" else None
    if request.method == "POST":
        form = ActionForm()
        if form.validate_on_submit():
            try:
                plans.update_action(
                    action, form.change(), revision_number(form.revision.data, missing=-1), current_user
                )
            except plans.StaleAction as stale:
                conflict = stale.action
                form.revision.data = str(stale.action.revision)
            else:
                flash(f"Action saved: {action.title}")
                return redirect(url_for(".plan", assessment_id=assessment.id, _anchor=f"action-{action.id}"))
    elif kept is not None:
        form = ActionForm(formdata=kept)
    else:
        form = ActionForm(data=ActionForm.data_for(action))
    return render_template(
        "plans/action.html", assessment=assessment, action=action, form=form, conflict=conflict,
        restored=kept is not None,
    ), (409 if conflict else 200)  # fmt: skip


def _new_action_form(assessment, formdata=None) -> NewActionForm:
    defaults = {"status": "not_started", "month": "1", "effort": DEFAULT_EFFORT}
    form = NewActionForm(formdata=formdata, data=defaults if formdata is None else None)
    form.set_domains(assessment_service.questionnaire_for(assessment))
    return form


@bp.route("/<int:assessment_id>/plan/actions/new", methods=["GET", "POST"])
@roles(*PCN_ROLES)
def add_action(assessment_id: int):
    assessment, early = _plan_assessment(assessment_id)
    if early:
        return early
    kept = restored_input(request.path) if request.method == "GET" else None
    form = _new_action_form(assessment, request.form if request.method == "POST" else kept)
    if form.validate_on_submit():
        action = plans.add_action(assessment, form.change(), form.domain_id, current_user)
        flash(f"Action added: {action.title}")
        return redirect(url_for(".plan", assessment_id=assessment.id, _anchor=f"action-{action.id}"))
    return render_template(
        "plans/action.html", assessment=assessment, action=None, form=form, restored=kept is not None
    )


@bp.route("/<int:assessment_id>/plan/actions/<int:action_id>/remove", methods=["GET", "POST"])
@roles(*PCN_ROLES)
def remove_action(assessment_id: int, action_id: int):
    assessment, early = _plan_assessment(assessment_id)
    if early:
        return early
    action = _action(assessment, action_id) or abort(404)
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
    buffer.write("\ufeff")  # a byte order mark, so that Excel reads the file as UTF-8 and accents survive
    writer = csv.writer(buffer)
    writer.writerow(
        ["Month", "Domain", "Action", "What to do", "Owner", "Working with", "Effort", "Status", "Note", "Source",
         "Gap closed"]
    )  # fmt: skip
    for month, actions in plans.by_month(plans.visible_actions(assessment)).items():
        for action in actions:
            domain = questionnaire.domain(action.domain_id) if action.domain_id else None
            writer.writerow(
                [
                    month or "Later",
                    domain.title if domain else "",
                    safe_cell(action.title),
                    safe_cell(action.description),
                    safe_cell(action.owner),
                    safe_cell(action.partner or ""),
                    plans.effort_label(action.effort),
                    action.status_label,
                    safe_cell(action.note),
                    {"user": "Added by the PCN", "find_out": "Not sure"}.get(action.origin, "Suggested"),
                    "Yes" if action.gap_closed else "",
                ]
            )
    filename = f"action-plan-{assessment.pcn.ods_code or assessment.pcn.id}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
