"""Readiness return rounds: the ICB lead's pages (set up, dashboard, heatmap, returns, chase list, exports) and the
PCN's (start its return, submit it)."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..access import PCN_ROLES, roles
from ..extensions import db
from ..forms.rounds import NO_SUPPLEMENT, ReminderForm, ReopenForm, RoundForm, SubmitForm
from ..forms.simple import ConfirmForm
from ..models import RETURN_STATUS_LABELS, ReturnRound, ReturnStatus, Role, Submission
from ..queries.assessments import get_assessment_for
from ..questionnaires import registry
from ..services import dashboard as views
from ..services import offers, permissions, security_log
from ..services import rounds as service
from ..services.rounds import RoundError
from . import cells

bp = Blueprint("rounds", __name__, url_prefix="/rounds")

STATUS_TAGS = {
    ReturnStatus.NOT_STARTED: "nhsuk-tag--grey",
    ReturnStatus.IN_PROGRESS: "nhsuk-tag--blue",
    ReturnStatus.SUBMITTED: "nhsuk-tag--green",
    ReturnStatus.REOPENED: "nhsuk-tag--yellow",
    ReturnStatus.OVERDUE: "nhsuk-tag--red",
}


def _icb_id() -> int:
    icb_id = permissions.icb_of(current_user)
    if icb_id is None:
        abort(403)
    return icb_id


def _round(round_id: int) -> ReturnRound:
    """The round if it is this ICB lead's ICB's; 404 otherwise, so other ICBs' rounds cannot be probed."""
    round_ = db.session.get(ReturnRound, round_id)
    if round_ is None:
        abort(404)
    if not permissions.can_manage_round(current_user, round_):
        security_log.event("object_access_denied", "refused", round_id=round_id)
        abort(404)
    return round_


def _submission(round_: ReturnRound, submission_id: int) -> Submission:
    submission = db.session.get(
        Submission, submission_id, options=[joinedload(Submission.pcn), joinedload(Submission.submitted_by)]
    )
    if submission is None or not permissions.can_see_submission(current_user, round_, submission):
        abort(404)
    return submission


def _render(template: str, round_: ReturnRound | None = None, **context):
    return render_template(
        template,
        round=round_,
        status_labels=RETURN_STATUS_LABELS,
        status_tags=STATUS_TAGS,
        rows_html=cells.return_rows_html,
        heat_rows_html=cells.heat_rows_html,
        **context,
    )


# Setting up a round -------------------------------------------------------------------------------------------------


@bp.route("/")
@roles(Role.ICB_LEAD)
def index():
    icb_id = _icb_id()
    found = service.rounds_of(icb_id)
    return _render(
        "rounds/index.html", rounds=found, counts=service.scope_count([r.id for r in found]), phase=service.phase
    )


def _round_form(pcns, round_: ReturnRound | None = None) -> RoundForm:
    cores = offers.offered_cores()
    if round_ is not None and round_.questionnaire_key not in {q.id for q in cores}:
        kept = registry().get(round_.questionnaire_key)
        cores = cores + ([kept] if kept else [])
    if request.method == "POST":
        form = RoundForm()
    elif round_ is not None:
        form = RoundForm(
            data={
                "title": round_.title,
                "questionnaire": round_.questionnaire_key,
                "supplement": round_.supplement_key or NO_SUPPLEMENT,
                "opens_on": round_.opens_on,
                "closes_on": round_.closes_on,
                "pcns": [str(s.pcn_id) for s in round_.scope],
            }
        )
    else:
        form = RoundForm(
            data={"questionnaire": cores[0].id, "supplement": NO_SUPPLEMENT, "pcns": [str(p.id) for p in pcns]}
        )
    form.set_choices(cores, [s for core in cores for s in service.supplements_for(core)], pcns)
    return form


def _round_values(form: RoundForm) -> dict:
    supplement = None if form.supplement.data == NO_SUPPLEMENT else registry().get(form.supplement.data)
    return {
        "title": form.title.data,
        "core": registry().get(form.questionnaire.data),
        "supplement": supplement,
        "opens_on": form.opens_on.data,
        "closes_on": form.closes_on.data,
        "pcn_ids": form.pcn_ids,
    }


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.ICB_LEAD)
def new():
    icb_id = _icb_id()
    pcns = service.pcns_of(icb_id)
    form = _round_form(pcns)
    if form.validate_on_submit():
        if form.opens_on.data < service.today():
            form.opens_on.errors.append("The opening date must be today or later")
        else:
            try:
                round_ = service.create_round(current_user.organisation, current_user, **_round_values(form))
            except RoundError as error:
                form.pcns.errors.append(str(error))
            else:
                flash(f"“{round_.title}” is set up.")
                return redirect(url_for(".dashboard", round_id=round_.id))
    return _render("rounds/edit.html", form=form, pcns=pcns, editing=False)


@bp.route("/<int:round_id>/edit", methods=["GET", "POST"])
@roles(Role.ICB_LEAD)
def edit(round_id: int):
    round_ = _round(round_id)
    if service.phase(round_) != "upcoming":
        flash("This round has opened, so it can no longer be changed. You can close it early.")
        return redirect(url_for(".dashboard", round_id=round_.id))
    pcns = service.pcns_of(round_.icb_id)
    form = _round_form(pcns, round_)
    if form.validate_on_submit():
        if form.opens_on.data < service.today():
            form.opens_on.errors.append("The opening date must be today or later")
        else:
            try:
                service.update_round(round_, current_user, **_round_values(form))
            except RoundError as error:
                form.pcns.errors.append(str(error))
            else:
                flash("Your changes to the round are saved.")
                return redirect(url_for(".dashboard", round_id=round_.id))
    return _render("rounds/edit.html", round_, form=form, pcns=pcns, editing=True)


@bp.route("/<int:round_id>/close", methods=["GET", "POST"])
@roles(Role.ICB_LEAD)
def close(round_id: int):
    round_ = _round(round_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            service.close_round(round_, current_user)
        except RoundError as error:
            flash(str(error))
        else:
            flash(f"“{round_.title}” is closed: PCNs can no longer submit returns for it.")
        return redirect(url_for(".dashboard", round_id=round_.id))
    return _render("rounds/close.html", round_, form=form, past_deadline=service.past_deadline(round_))


# The dashboard ------------------------------------------------------------------------------------------------------


@bp.route("/<int:round_id>")
@roles(Role.ICB_LEAD)
def dashboard(round_id: int):
    round_ = _round(round_id)
    view = views.build(round_, request.args)
    return _render(
        "rounds/dashboard.html",
        round_,
        view=view,
        phase=service.phase(round_),
        days=service.days_to_deadline(round_),
        returns_href=_returns_href(round_),
    )


def _returns_href(round_: ReturnRound) -> str:
    """The start of the link to each of the round's returns ("/rounds/3/returns/"): worked out once for a table of
    them rather than once per row."""
    return url_for(".submission", round_id=round_.id, submission_id=0).removesuffix("0")


@bp.route("/<int:round_id>/heatmap")
@roles(Role.ICB_LEAD)
def heatmap(round_id: int):
    round_ = _round(round_id)
    return _render(
        "rounds/heatmap.html", round_, heat=views.heatmap(round_, request.args), returns_href=_returns_href(round_)
    )


@bp.route("/<int:round_id>/returns/<int:submission_id>")
@roles(Role.ICB_LEAD)
def submission(round_id: int, submission_id: int):
    round_ = _round(round_id)
    found = _submission(round_, submission_id)
    return _render(
        "rounds/submission.html", round_, view=views.submission_view(found), can_reopen=service.can_reopen(found)
    )


@bp.route("/<int:round_id>/returns/<int:submission_id>/report.pdf")
@roles(Role.ICB_LEAD)
def submission_pdf(round_id: int, submission_id: int):
    round_ = _round(round_id)
    found = _submission(round_, submission_id)
    pdf = views.stored_pdf(found)
    if pdf is None:
        flash("The PDF of this return is still being produced. Try again in a minute.")
        return redirect(url_for(".submission", round_id=round_.id, submission_id=found.id))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{views.pdf_name(found)}"'},
    )


@bp.route("/<int:round_id>/returns/<int:submission_id>/reopen", methods=["GET", "POST"])
@roles(Role.ICB_LEAD)
def reopen(round_id: int, submission_id: int):
    round_ = _round(round_id)
    found = _submission(round_, submission_id)
    form = ReopenForm()
    if form.validate_on_submit():
        try:
            service.reopen(found, current_user, form.reason.data)
        except RoundError as error:
            flash(str(error))
        else:
            flash(f"{found.pcn.name}'s return is reopened. The PCN sees your reason and can submit again.")
        return redirect(url_for(".dashboard", round_id=round_.id))
    return _render("rounds/reopen.html", round_, submission=found, form=form)


# Chasing ------------------------------------------------------------------------------------------------------------


@bp.route("/<int:round_id>/chase", methods=["GET", "POST"])
@roles(Role.ICB_LEAD)
def chase(round_id: int):
    round_ = _round(round_id)
    outstanding = views.chase_list(round_)
    form = ReminderForm(
        data={
            "text": round_.reminder_text or views.default_reminder(round_),
            "pcns": [str(p.pcn_id) for p in outstanding],
        }
        if request.method == "GET"
        else None
    )
    form.pcns.choices = [(str(p.pcn_id), f"{p.pcn_name} ({p.ods_code})") for p in outstanding]
    if form.validate_on_submit():
        if service.phase(round_) != "open":
            flash(
                "Reminders can be sent while the round is open: PCNs cannot see it before it opens or after it closes."
            )
            return redirect(url_for(".dashboard", round_id=round_.id))
        job = views.send_reminders(round_, current_user, [int(v) for v in form.pcns.data], form.text.data)
        return redirect(url_for("jobs.show", job_id=job.id))
    return _render("rounds/chase.html", round_, outstanding=outstanding, form=form, phase=service.phase(round_))


@bp.route("/<int:round_id>/chase.csv")
@roles(Role.ICB_LEAD)
def chase_csv(round_id: int):
    round_ = _round(round_id)
    body = views.chase_csv(views.chase_list(round_))
    service.record(round_, "export", f"Downloaded the chase list of “{round_.title}” (CSV).")
    db.session.commit()
    return _download(body, "text/csv; charset=utf-8", views.filename(round_, "chase list", "csv"))


# Exports ------------------------------------------------------------------------------------------------------------


@bp.route("/<int:round_id>/export.csv")
@roles(Role.ICB_LEAD)
def export_csv(round_id: int):
    round_ = _round(round_id)
    sheet = request.args.get("sheet", "wide")
    if sheet not in ("wide", "long"):
        abort(404)
    body = views.export_csv(round_, sheet)
    service.record(round_, "export", f"Downloaded the returns of “{round_.title}” (CSV, {sheet}).")
    db.session.commit()
    return _download(body, "text/csv; charset=utf-8", views.filename(round_, f"returns {sheet}", "csv"))


@bp.route("/<int:round_id>/export.xlsx")
@roles(Role.ICB_LEAD)
def export_xlsx(round_id: int):
    round_ = _round(round_id)
    body = views.export_xlsx(round_)
    service.record(round_, "export", f"Downloaded the returns of “{round_.title}” (XLSX).")
    db.session.commit()
    return _download(
        body,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        views.filename(round_, "returns", "xlsx"),
    )


@bp.route("/<int:round_id>/pdf-pack", methods=["POST"])
@roles(Role.ICB_LEAD)
def pdf_pack(round_id: int):
    round_ = _round(round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    from ..jobs import start_pdf_pack

    job = start_pdf_pack(round_, current_user)
    return redirect(url_for("jobs.show", job_id=job.id))


def _download(body, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# The audit log ------------------------------------------------------------------------------------------------------


@bp.route("/audit")
@roles(Role.ICB_LEAD, Role.ADMIN)
def audit_log():
    area_id = None if permissions.is_admin(current_user) else _icb_id()
    page = request.args.get("page", "1")
    page = int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 100_000 else 1
    events, more = views.audit_events(area_id, page)
    return _render("rounds/audit.html", events=events, page=page, more=more)


# The PCN's side -----------------------------------------------------------------------------------------------------


@bp.route("/<int:round_id>/start", methods=["POST"])
@roles(*PCN_ROLES)
def start_return(round_id: int):
    if not ConfirmForm().validate_on_submit() or not permissions.is_pcn_member(current_user):
        abort(400)
    round_ = db.session.get(ReturnRound, round_id)
    if round_ is None or not service.in_scope(round_, current_user.organisation_id):
        if round_ is not None:
            security_log.event("object_access_denied", "refused", round_id=round_id)
        abort(404)
    try:
        assessment = service.start_return(round_, current_user.organisation, current_user)
    except RoundError as error:
        flash(str(error))
        return redirect(url_for("main.home"))
    return redirect(url_for("assessments.task_list", assessment_id=assessment.id))


@bp.route("/submit/<int:assessment_id>", methods=["GET", "POST"])
@roles(*PCN_ROLES)
def submit(assessment_id: int):
    assessment = get_assessment_for(current_user, assessment_id)
    round_ = db.session.get(ReturnRound, assessment.round_id) if assessment.round_id else None
    if round_ is None:
        abort(404)
    form = SubmitForm()
    may_submit = service.can_submit(current_user, assessment)
    if request.method == "POST" and may_submit and form.validate_on_submit():
        try:
            service.submit(assessment, current_user, declared=form.declaration.data)
        except RoundError as error:
            flash(str(error))
            return redirect(url_for(".submit", assessment_id=assessment.id))
        flash(f"Your return for “{round_.title}” is submitted. {round_.icb.name} can now see it.")
        return redirect(url_for("assessments.results", assessment_id=assessment.id))
    if request.method == "POST" and not may_submit:
        flash("Only the PCN's clinical director can submit its return.")
    from ..services import assessments

    return _render(
        "rounds/submit.html",
        round_,
        assessment=assessment,
        form=form,
        may_submit=may_submit,
        complete=assessment.is_completed and assessments.all_domains_completed(assessment),
        submission=service.latest_submission(round_.id, assessment.pcn_id),
        accepting=service.accepting_returns(round_),
    )
