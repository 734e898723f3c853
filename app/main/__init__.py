"""Home page for each role, static front-end assets and a health check."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user

from ..access import ALL_ROLES, public, roles
from ..forms.questionnaires import OfferForm, StartForm
from ..models import RETURN_STATUS_LABELS, AssessmentStatus, OrgKind, Role
from ..queries.assessments import list_assessments
from ..queries.organisations import list_pcns_in_area
from ..rounds import STATUS_TAGS
from ..services import offers, permissions
from ..services import rounds as round_service

bp = Blueprint("main", __name__)


@bp.route("/")
@roles(*ALL_ROLES)
def home():
    organisation = current_user.organisation
    if permissions.is_pcn_member(current_user):
        offered = offers.offered_cores()
        start_form = StartForm(data={"questionnaire": offered[0].id} if len(offered) == 1 else None)
        start_form.set_choices(offered)
        assessments = list_assessments(organisation.id)  # newest first; the in-progress one is among them
        return render_template(
            "main/home_pcn.html",
            in_progress=next((a for a in assessments if a.status == AssessmentStatus.IN_PROGRESS), None),
            assessments=assessments,
            rounds=round_service.rounds_for_pcn(organisation.id, assessments),
            status_labels=RETURN_STATUS_LABELS,
            status_tags=STATUS_TAGS,
            start_form=start_form,
            offered=offered,
        )
    area_id = organisation.id if organisation.kind == OrgKind.ICB else organisation.area_id
    pcns = list_pcns_in_area(area_id) if area_id else []
    icb_id = permissions.icb_of(current_user)
    rounds = round_service.rounds_of(icb_id) if icb_id else []
    return render_template(
        "main/home_other.html",
        pcns=pcns,
        area=organisation.area or organisation,
        rounds=rounds,
        phase=round_service.phase,
    )


@bp.route("/questionnaires", methods=["GET", "POST"])
@roles(Role.ADMIN)
def questionnaires():
    """Every questionnaire that passed the check, and which core ones PCNs are offered."""
    catalogue = offers.catalogue()
    cores = [q for q, _ in catalogue if q.kind == "core"]
    form = OfferForm() if request.method == "POST" else OfferForm(data={"offered": [q.id for q, on in catalogue if on]})
    form.set_choices(cores)
    if form.validate_on_submit():
        changed = offers.set_offered(set(form.offered.data), current_user)
        flash(f"Now offered: {', '.join(q.title for q in offers.offered_cores())}." if changed else "Nothing changed.")
        return redirect(url_for(".questionnaires"))
    return render_template("main/questionnaires.html", catalogue=catalogue, form=form), (400 if form.errors else 200)


@bp.route("/assets/<path:filename>")
@public
def assets(filename: str):
    return send_from_directory(current_app.config["ASSETS_DIR"], filename, max_age=3600)


@bp.route("/frontend/<any('nhsuk-frontend.min.css', 'nhsuk-frontend.min.js'):filename>")
@public
def frontend(filename: str):
    return send_from_directory(current_app.config["FRONTEND_DIR"], filename, max_age=3600)


@bp.route("/healthz")
@public
def health():
    return {"status": "ok"}
