"""The PCN's self-assessment: task list, one page per domain, check your answers, results."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import PCN_ROLES, roles
from ..auth import restored_input
from ..extensions import db
from ..forms.domain import DomainForm, build_domain_form
from ..forms.fields import revision_number
from ..forms.questionnaires import StartForm
from ..forms.simple import ConfirmForm
from ..models import ReturnRound
from ..queries.assessments import get_assessment_for, in_progress_assessment
from ..questionnaires import registry
from ..services import assessments as service
from ..services import charts, offers, peer_figures, progress, rounds
from ..services.permissions import can_start_assessment

bp = Blueprint("assessments", __name__, url_prefix="/assessments")

STATUS_TAGS = {
    "not_started": {"text": "Not started", "classes": "nhsuk-tag--grey"},
    "in_progress": {"text": "In progress", "classes": "nhsuk-tag--blue"},
    "completed": None,
}


@bp.route("/start", methods=["POST"])
@roles(*PCN_ROLES)
def start():
    if not can_start_assessment(current_user):
        abort(403)
    offered = offers.offered_cores()
    form = StartForm()
    form.set_choices(offered)
    if not form.questionnaire.data and len(offered) == 1:
        form.questionnaire.data = offered[0].id  # one on offer: nothing to choose
    existing = in_progress_assessment(current_user.organisation_id)
    if existing:
        return redirect(url_for(".task_list", assessment_id=existing.id))
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(form.questionnaire.errors[0])
        return redirect(url_for("main.home"))
    questionnaire = registry().get(form.questionnaire.data)
    previous = service.previous_for(current_user.organisation_id, questionnaire)
    assessment = service.start_assessment(current_user.organisation, current_user, questionnaire, previous=previous)
    if previous is not None:
        flash(
            "Your answers from your last assessment are filled in. Check each section: saving a section confirms "
            "its answers."
        )
    return redirect(url_for(".task_list", assessment_id=assessment.id))


@bp.route("/<int:assessment_id>")
@roles(*PCN_ROLES)
def task_list(assessment_id: int):
    assessment = get_assessment_for(current_user, assessment_id)
    states = service.domain_states(assessment)
    round_ = db.session.get(ReturnRound, assessment.round_id) if assessment.round_id else None
    return render_template(
        "assessments/task_list.html",
        assessment=assessment,
        questionnaire=service.questionnaire_for(assessment),
        sections=service.sections(assessment),
        round=round_,
        submission=rounds.latest_submission(round_.id, assessment.pcn_id) if round_ else None,
        states=states,
        tags=STATUS_TAGS,
        completed_count=sum(s.status == "completed" for s in states),
        ready_to_check=all(s.status == "completed" for s in states),
    )


@bp.route("/<int:assessment_id>/domains/<domain_id>", methods=["GET", "POST"])
@roles(*PCN_ROLES)
def domain_page(assessment_id: int, domain_id: str):
    assessment = get_assessment_for(current_user, assessment_id, edit=True)
    questionnaire = service.questionnaire_for(assessment)
    domain = questionnaire.domain(domain_id) or abort(404)
    state = next(s for s in service.domain_states(assessment) if s.domain.id == domain.id)
    conflict = None
    restored = False
    submitted = assessment.submitted_at is not None

    if request.method == "POST" and submitted:
        # Submitted while this page was open: show what was typed, save nothing, say why.
        form = build_domain_form(domain, questionnaire.scale, formdata=request.form)
    elif request.method == "POST":
        form = build_domain_form(domain, questionnaire.scale, formdata=request.form)
        later = "later" in request.form
        # Once confirmed, an assessment stays complete: every change must still answer every question.
        if form.validate_answers(require_all=not later or assessment.is_completed):
            try:
                service.save_domain(
                    assessment, domain, form.answer_values(), revision_number(form.revision.data), current_user
                )
            except service.StaleRevision as stale:
                conflict = stale
                form.revision.data = str(stale.progress.revision)
            else:
                if later:
                    flash(f"Your answers for {domain.title} have been saved.")
                    return redirect(url_for(".task_list", assessment_id=assessment.id))
                following = questionnaire.next_domain(domain.id)
                if following:
                    return redirect(url_for(".domain_page", assessment_id=assessment.id, domain_id=following.id))
                return redirect(url_for(".check_answers", assessment_id=assessment.id))
    elif submitted:
        flash("Your return has been submitted, so its answers cannot change unless your ICB reopens it.")
        return redirect(url_for(".task_list", assessment_id=assessment.id))
    else:
        kept = restored_input(request.path)
        if kept is not None:
            form = build_domain_form(domain, questionnaire.scale, formdata=kept)
            form.revision.data = kept.get("revision") or str(state.revision)
            restored = True
        else:
            values = service.answer_values(assessment)
            form = build_domain_form(
                domain, questionnaire.scale, data=DomainForm.data_for(domain, values, state.revision)
            )

    previous = service.previous_assessment(assessment)
    previous_values = service.answer_values(previous) if previous is not None else None
    return render_template(
        "assessments/domain.html",
        assessment=assessment,
        questionnaire=questionnaire,
        domain=domain,
        form=form,
        conflict=conflict,
        restored=restored,
        submitted=submitted,
        position=[d.id for d in questionnaire.domains].index(domain.id) + 1,
        carried=service.carried_over_ids(assessment),
        previous=previous_values,
        new_questions=service.new_question_ids(assessment) if previous_values is not None else set(),
    ), (409 if conflict or submitted else 200)


@bp.route("/<int:assessment_id>/check", methods=["GET", "POST"])
@roles(*PCN_ROLES)
def check_answers(assessment_id: int):
    assessment = get_assessment_for(current_user, assessment_id)
    form = ConfirmForm()
    incomplete = [s for s in service.domain_states(assessment) if s.status != "completed"]
    if form.validate_on_submit():
        if incomplete:
            flash("Complete every domain before you confirm your answers.")
            return redirect(url_for(".check_answers", assessment_id=assessment.id))
        try:
            service.complete_assessment(assessment)
        except service.CarriedOverAnswers as waiting:
            flash(str(waiting))
            return redirect(url_for(".check_answers", assessment_id=assessment.id))
        return redirect(url_for(".results", assessment_id=assessment.id))
    return render_template(
        "assessments/check.html",
        assessment=assessment,
        questionnaire=service.questionnaire_for(assessment),
        values=service.answer_values(assessment),
        incomplete=incomplete,
        form=form,
    )


@bp.route("/<int:assessment_id>/results")
@roles(*PCN_ROLES)
def results(assessment_id: int):
    assessment = get_assessment_for(current_user, assessment_id)
    if not assessment.is_completed:
        flash("Check and confirm your answers to see your results.")
        return redirect(url_for(".check_answers", assessment_id=assessment.id))
    score = service.score(assessment)
    round_ = db.session.get(ReturnRound, assessment.round_id) if assessment.round_id else None
    return render_template(
        "assessments/results.html",
        assessment=assessment,
        questionnaire=service.questionnaire_for(assessment),
        score=score,
        supplement=service.supplement_questionnaire(assessment),
        supplement_score=service.supplement_score(assessment),
        round=round_,
        radar_chart=charts.radar_chart(score),
        gap_chart=charts.gap_chart(score),
        peers=peer_figures.peer_comparison(service.core_questionnaire(assessment), assessment.pcn),
        own_scores=score,
        progress=progress.progress_of(assessment),
    )
