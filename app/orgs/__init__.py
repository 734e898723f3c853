"""The ICB lead's organisations: its sub-ICB locations and PCNs, and the import of its PCN roster from the ePCN file.

An import is checked when the file is uploaded, kept until the lead has seen what it will change, and checked again
against the database as it is then when they confirm it.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import roles
from ..extensions import db
from ..forms.simple import ConfirmForm
from ..models import Organisation, Role
from ..services import permissions, security_log
from ..services import roster as service
from .forms import RosterUploadForm

bp = Blueprint("orgs", __name__, url_prefix="/organisations")

# What a browser adds around the file in a multipart post (boundaries, the CSRF token, the file's headers).
FORM_OVERHEAD = 64 * 1024
# A file with thousands of bad rows lists this many on the page (the command-line import prints them all).
PROBLEMS_SHOWN = 500


@bp.url_value_preprocessor
def _room_for_the_file(endpoint: str | None, _values) -> None:
    """The upload may be bigger than the service's usual limit on a post. URL value preprocessors run before any
    before-request function (CSRF protection reads the posted form there), so the limit must be raised here."""
    if endpoint == "orgs.upload":
        request.max_content_length = service.MAX_FILE_BYTES + FORM_OVERHEAD


@bp.errorhandler(413)
def _too_large(_error):
    """A file far over the limit: the page again, saying so, for the ICB lead; the usual page for anyone else."""
    db.session.rollback()
    if request.endpoint != "orgs.upload" or not current_user.is_authenticated or not permissions.icb_of(current_user):
        return render_template(
            "errors/error.html", title="What you sent is too large", body="Go back and try again."
        ), 413
    form = RosterUploadForm(formdata=None)
    form.file.errors = ["The selected file must be 5 MB or smaller"]
    return _upload_page(form, []), 413


def _icb() -> Organisation:
    icb_id = permissions.icb_of(current_user)
    if icb_id is None:
        abort(403)
    return db.session.get(Organisation, icb_id)


def _upload_page(form: RosterUploadForm, problems: list[service.Problem]):
    icb = _icb()
    return render_template(
        "orgs/import.html",
        form=form,
        icb=icb,
        sub_icbs=service.sub_icbs_of(icb.id),
        problems=problems[:PROBLEMS_SHOWN],
        problem_count=len(problems),
    )


@bp.route("")
@roles(Role.ICB_LEAD)
def index():
    icb = _icb()
    pcns, sub_icbs = service.pcns_of(icb.id), service.sub_icbs_of(icb.id)
    placed = {location.id for location in sub_icbs}
    by_location: dict[int, list[Organisation]] = {}  # grouped once here, not filtered again for each location
    for pcn in pcns:
        by_location.setdefault(pcn.parent_id, []).append(pcn)
    return render_template(
        "orgs/index.html",
        icb=icb,
        sub_icbs=sub_icbs,
        pcns=pcns,
        by_location=by_location,
        unplaced=[pcn for pcn in pcns if pcn.parent_id not in placed],
    )


@bp.route("/import", methods=["GET", "POST"])
@roles(Role.ICB_LEAD)
def upload():
    icb = _icb()
    form = RosterUploadForm()
    problems: list[service.Problem] = []
    if form.validate_on_submit():
        try:
            stored = service.store_upload(form.file.data, icb, current_user)
        except service.UnreadableFile as refused:
            form.file.errors.append(str(refused))
        except service.RosterProblems as bad:
            problems = bad.problems
            form.file.errors.append(_problems_message(len(problems)))
        else:
            return redirect(url_for(".preview", upload_id=stored.id))
    return _upload_page(form, problems)


def _problems_message(count: int) -> str:
    what = "1 problem" if count == 1 else f"{count} problems"
    return f"The file has {what}, listed below. Nothing has been imported: correct the file and upload it again"


@bp.route("/import/<int:upload_id>", methods=["GET", "POST"])
@roles(Role.ICB_LEAD)
def preview(upload_id: int):
    icb = _icb()
    upload = service.get_upload(upload_id)
    if upload is None:
        abort(404)
    if not service.upload_belongs_to(upload, current_user, icb.id):
        security_log.event("object_access_denied", "refused", upload_id=upload_id)
        abort(404)
    form = ConfirmForm()
    if request.method == "POST" and not form.validate_on_submit():
        abort(400)
    try:
        if request.method == "POST":
            plan = service.confirm_upload(upload, icb, current_user)
            flash(f"PCNs imported from {upload.filename}: {plan.summary()}")
            return redirect(url_for(".index"))
        plan = service.check(upload.content, icb)
    except service.ImportClash as clash:
        flash(f"{clash}. Check the list below, then upload the file again if it is still needed.")
        return redirect(url_for(".index"))
    except (service.UnreadableFile, service.RosterProblems) as refused:
        db.session.rollback()
        problems = getattr(refused, "problems", None) or [service.Problem(1, "(whole file)", str(refused))]
        return render_template(
            "orgs/preview.html",
            icb=icb,
            upload=upload,
            plan=None,
            problems=problems[:PROBLEMS_SHOWN],
            problem_count=len(problems),
            form=form,
        ), (409 if request.method == "POST" else 200)
    return render_template("orgs/preview.html", icb=icb, upload=upload, plan=plan, problems=[], form=form)
