"""Home page for each role, static front-end assets and a health check."""

from flask import Blueprint, current_app, render_template, send_from_directory
from flask_login import current_user

from ..access import ALL_ROLES, public, roles
from ..models import RETURN_STATUS_LABELS, OrgKind
from ..queries.assessments import in_progress_assessment, list_assessments
from ..queries.organisations import list_pcns_in_area
from ..rounds import STATUS_TAGS
from ..services import permissions
from ..services import rounds as round_service

bp = Blueprint("main", __name__)


@bp.route("/")
@roles(*ALL_ROLES)
def home():
    organisation = current_user.organisation
    if permissions.is_pcn_member(current_user):
        return render_template(
            "main/home_pcn.html",
            in_progress=in_progress_assessment(organisation.id),
            assessments=list_assessments(organisation.id),
            rounds=round_service.rounds_for_pcn(organisation.id),
            status_labels=RETURN_STATUS_LABELS,
            status_tags=STATUS_TAGS,
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
