"""People: who has an account, invitations, and a clinical director looking after their PCN's team.

- /people and /people/invite: an ICB lead for its area, an administrator for every organisation.
- /pcn/members: a PCN's team (clinical directors manage it; other members see it); invite, change role, deactivate.
- /pcn/settings: whether the PCN is named to its LMC in benchmarks (its clinical directors choose; members see it).
- /invitations/<id>/withdraw: whoever could have sent the invitation.
- /invitations/accept/<token>: the emailed link (public), in a blueprint of its own so that its throttling and
  timed-out pages are its own. The token is never logged: security events there carry a path without it.

Another PCN's or another ICB's people and invitations are 404, never 403, so their ids cannot be probed.
"""

import time
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..access import PCN_ROLES, public, roles
from ..auth import _begin_session as begin_session  # the same fresh session and CSRF token as signing in
from ..auth import restored_input
from ..extensions import db, limiter
from ..forms.pcn_settings import BenchmarkNamingForm
from ..forms.people import InviteForm, MemberInviteForm, RoleForm, SetPasswordForm
from ..forms.simple import ConfirmForm
from ..models import ROLE_LABELS, Organisation, OrgKind, Role, User
from ..models.base import utcnow
from ..queries import people as people_queries
from ..queries.users import get_user
from ..services import audit, invitations, mail, people, permissions, security_log, users

bp = Blueprint("people", __name__)
links = Blueprint("invitation", __name__)

INVITERS = (Role.ICB_LEAD, Role.ADMIN)
# What security events on the invitation link record as their path: the link itself would carry the token.
LINK_PATH = "/invitations/accept/[token]"
KIND_LABELS = {
    OrgKind.ICB: "ICB",
    OrgKind.SUB_ICB: "Sub-ICB location",
    OrgKind.PCN: "PCN",
    OrgKind.LMC: "LMC",
    OrgKind.ADMIN: "Service administration",
}
MAIL_FAILED = (
    "The invitation email could not be sent, so no invitation is waiting. Try again in a few minutes. If it keeps "
    "happening, tell the service's administrators"
)


@bp.app_template_filter("org_kind")
def org_kind(organisation: Organisation) -> str:
    return KIND_LABELS.get(organisation.kind, "")


@bp.app_template_filter("role_label")
def role_label(role: str) -> str:
    """ "Clinical director", for a role as stored."""
    return ROLE_LABELS[Role(role)] if role in ROLE_LABELS else role


@bp.app_template_filter("role_phrase")
def role_phrase(role: str) -> str:
    """ "a clinical director", for a role as stored, in a sentence."""
    return people.ROLE_PHRASES[Role(role)] if role in people.ROLE_PHRASES else role


# --- ICB leads and administrators --------------------------------------------------------------------------------


def _looked_after() -> tuple[str, list[Organisation]]:
    """The area an ICB lead or administrator looks after, and its organisations (403: the role without an ICB)."""
    if permissions.is_admin(current_user):
        return "every organisation", people_queries.all_organisations()
    icb_id = permissions.icb_of(current_user)
    if icb_id is None:
        abort(403)
    return current_user.organisation.name, people_queries.area_organisations(icb_id)


# Organisations on a page of /people: an ICB's area fits on a page or a few; every organisation in England (what an
# administrator looks after) runs to many pages rather than one page of every account in the country.
PEOPLE_PAGE = 50


@dataclass(frozen=True)
class Person:
    """An account as the people page lists it."""

    id: int
    name: str
    email: str
    role_label: str
    active: bool


def _page_number(value: str | None, pages: int) -> int:
    """The page asked for: 1 when none is given; 404 for anything that is not one of the pages."""
    if not value:
        return 1
    if not (value.isascii() and value.isdigit() and len(value) < 7 and 1 <= int(value) <= pages):
        abort(404)
    return int(value)


def _page_links(number: int, pages: int, search: str) -> dict | None:
    """The NHS.UK numbered pagination for /people: the first and last page, the pages either side of this one, and
    an ellipsis for any gap."""
    if pages <= 1:
        return None

    def href(n: int) -> str:
        return url_for(".index", q=search or None, page=n if n > 1 else None)

    items, last = [], 0
    for n in range(1, pages + 1):
        if n in (1, pages) or abs(n - number) <= 1:
            if n - last > 1:
                items.append({"ellipsis": True})
            items.append({"number": n, "href": href(n), "current": n == number})
            last = n
    return {
        "previous": {"href": href(number - 1)} if number > 1 else {},
        "next": {"href": href(number + 1)} if number < pages else {},
        "items": items,
        "ariaLabel": "Pages of people",
    }


@bp.route("/people")
@roles(*INVITERS)
def index():
    if permissions.is_admin(current_user):
        area, icb_id = "every organisation", None
    else:
        icb_id = permissions.icb_of(current_user)
        if icb_id is None:
            abort(403)
        area = current_user.organisation.name
    search = " ".join(request.args.get("q", "").split())[:100]  # an organisation by its name or ODS code
    kinds = people.kinds_invitable_in_area(current_user)
    count = people_queries.listed_count(icb_id, kinds, search)
    pages = max(1, -(-count // PEOPLE_PAGE))
    number = _page_number(request.args.get("page"), pages)
    shown = people_queries.listed_organisations(icb_id, kinds, search, (number - 1) * PEOPLE_PAGE, PEOPLE_PAGE)
    by_organisation: dict[int, list[Person]] = {}
    for row in people_queries.people_rows([org.id for org in shown]):
        label = ROLE_LABELS[Role(row.role)] if row.role in ROLE_LABELS else row.role
        by_organisation.setdefault(row.organisation_id, []).append(
            Person(row.id, row.name, row.email, label, row.active)
        )
    return render_template(
        "people/index.html",
        area=area,
        groups=[(org, by_organisation.get(org.id, [])) for org in shown],
        kinds=KIND_LABELS,
        invite_href=url_for(".invite"),
        page=number,
        pages=pages,
        page_links=_page_links(number, pages, search),
        search=search,
        organisation_count=count,
        first=(number - 1) * PEOPLE_PAGE + 1,
        invitations=people_queries.pending_invitations(people_queries.area_organisation_ids(icb_id), utcnow()),
        confirm=ConfirmForm(),
        days=invitations.expiry_days(),
    )


@bp.route("/people/invite", methods=["GET", "POST"])
@roles(*INVITERS)
def invite():
    area, organisations = _looked_after()
    offered = [org for org in organisations if people.invitable_roles(current_user, org)]
    roles_offered = [role for role in Role if any(role in people.invitable_roles(current_user, o) for o in offered)]
    kept = restored_input(request.path) if request.method == "GET" else None
    form = InviteForm(formdata=kept) if kept is not None else InviteForm()
    form.offer(offered, roles_offered)
    if request.method == "GET" and kept is None and request.args.get("organisation"):
        form.organisation.data = request.args.get("organisation", "")[:20]  # "invite someone to" this one
    status = 200
    if form.validate_on_submit():
        organisation = next(org for org in offered if str(org.id) == form.organisation.data)
        allowed = people.invitable_roles(current_user, organisation)
        if form.role.data in allowed:
            response, status = _send(form, organisation, form.role.data, url_for(".index"))
            if response:
                return response
        else:
            form.role.errors.append(people.wrong_role_message(organisation, allowed))
    if form.errors and status == 200:
        status = 400
    return render_template(
        "people/invite.html", form=form, area=area, back=url_for(".index"), restored=kept is not None
    ), status


def _send(form, organisation: Organisation, role: str, done: str):
    """Send the invitation; a redirect when it went, or None and the page's status with the reason on the form."""
    try:
        invitation = invitations.create(current_user, organisation, role, form.email.data, form.name.data)
    except invitations.InvitationRefused as refused:
        form.email.errors.append(str(refused))
        return None, 400
    except mail.MailError:
        form.email.errors.append(MAIL_FAILED)
        return None, 503
    flash(
        f"Invitation sent to {invitation.name} at {invitation.email}. The link in it works once, for "
        f"{invitations.expiry_days()} days."
    )
    return redirect(done), 302


# --- A PCN's team ------------------------------------------------------------------------------------------------


def _director_only() -> Organisation:
    if not people.is_clinical_director(current_user):
        abort(403)
    return current_user.organisation


def _member(user_id: int) -> User:
    """A member of this clinical director's PCN; 404 for anyone else's, so ids cannot be probed."""
    member = get_user(user_id)
    if member is None:
        abort(404)
    if not people.manages(current_user, member):
        security_log.event("object_access_denied", "refused", member_id=user_id)
        abort(404)
    return member


@bp.route("/pcn/members")
@roles(*PCN_ROLES)
def members():
    if not people.can_see_members(current_user):
        abort(403)
    pcn = current_user.organisation
    return render_template(
        "people/members.html",
        pcn=pcn,
        members=people_queries.users_in([pcn.id]),
        invitations=people_queries.pending_invitations([pcn.id], utcnow()),
        manager=people.is_clinical_director(current_user),
        confirm=ConfirmForm(),
        days=invitations.expiry_days(),
    )


@bp.route("/pcn/settings", methods=["GET", "POST"])
@roles(*PCN_ROLES)
def settings():
    """The PCN's own settings, only ever the signed-in user's PCN: whether its LMC sees its name in benchmarks."""
    pcn = current_user.organisation
    may_change = people.can_change_benchmark_naming(current_user, pcn)
    if request.method == "POST" and not may_change:
        abort(403)
    form = (
        BenchmarkNamingForm()
        if request.method == "POST"
        else BenchmarkNamingForm(data={"named_to_lmc": pcn.named_to_lmc})
    )
    if form.validate_on_submit():
        named = bool(form.named_to_lmc.data)
        if people.set_benchmark_naming(current_user, pcn, named):
            db.session.commit()
            flash(
                f"{pcn.name} is now named to your LMC in benchmarks."
                if named
                else f"Your LMC now sees {pcn.name} only as a letter in benchmarks."
            )
        else:
            flash("Nothing was changed: that was already your PCN's choice.")
        return redirect(url_for(".settings"))
    if form.errors:
        form.named_to_lmc.data = pcn.named_to_lmc  # show the choice as it stands, with the message
    return render_template(
        "people/settings.html",
        pcn=pcn,
        form=form,
        may_change=may_change,
        directors=[u for u in people_queries.users_in([pcn.id]) if u.active and u.role == Role.CLINICAL_DIRECTOR],
    ), 400 if form.errors else 200


@bp.route("/pcn/members/invite", methods=["GET", "POST"])
@roles(Role.CLINICAL_DIRECTOR)
def invite_member():
    pcn = _director_only()
    kept = restored_input(request.path) if request.method == "GET" else None
    form = MemberInviteForm(formdata=kept) if kept is not None else MemberInviteForm()
    status = 200
    if form.validate_on_submit():
        response, status = _send(form, pcn, form.role.data, url_for(".members"))
        if response:
            return response
    if form.errors and status == 200:
        status = 400
    return render_template(
        "people/invite.html", form=form, area=pcn.name, back=url_for(".members"), restored=kept is not None
    ), status


@bp.route("/pcn/members/<int:user_id>/role", methods=["GET", "POST"])
@roles(Role.CLINICAL_DIRECTOR)
def change_role(user_id: int):
    pcn = _director_only()
    member = _member(user_id)
    kept = restored_input(request.path) if request.method == "GET" else None
    if request.method == "POST":
        form = RoleForm()
    elif kept is not None:
        form = RoleForm(formdata=kept)
    else:
        form = RoleForm(data={"role": member.role})
    if form.validate_on_submit():
        new_role = form.role.data
        if new_role == member.role:
            flash(f"{member.name} is already {role_phrase(new_role)}. Nothing was changed.")
            return redirect(url_for(".members"))
        refusal = people.role_change_refusal(
            current_user, member, new_role, people_queries.other_active_directors(pcn.id, member.id)
        )
        if refusal is None:
            before = member.role_label
            member.role = new_role
            audit.record(
                "role_changed",
                f"Changed the role of {member.name} ({member.email}) in {pcn.name} from {before} to "
                f"{member.role_label}",
                area_id=audit.area_of(pcn),
            )
            db.session.commit()
            security_log.event("role_changed", "succeeded", member_id=member.id, role=new_role)
            flash(f"{member.name} is now {role_phrase(new_role)}.")
            return redirect(url_for(".members"))
        db.session.rollback()
        form.role.errors.append(refusal)
    blocked = None
    if not form.errors:
        blocked = _blocked(member)
    return render_template(
        "people/role.html", form=form, member=member, blocked=blocked, restored=kept is not None
    ), 400 if form.errors else 200


def _blocked(member: User) -> str | None:
    """Why nothing can be changed about this member at all, said before anyone tries."""
    if member.id == current_user.id:
        return "You cannot change your own role. Another clinical director of your PCN can change it for you."
    if not member.active:
        return f"{member.name}'s account has been deactivated, so their role cannot be changed."
    return None


@bp.route("/pcn/members/<int:user_id>/deactivate", methods=["GET", "POST"])
@roles(Role.CLINICAL_DIRECTOR)
def deactivate(user_id: int):
    pcn = _director_only()
    member = _member(user_id)
    form = ConfirmForm()
    refusal = people.deactivation_refusal(
        current_user, member, people_queries.other_active_directors(pcn.id, member.id)
    )
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if refusal is None:
            audit.record(
                "user_deactivated",
                f"Deactivated the account of {member.name} ({member.email}), {member.role_label.lower()} in {pcn.name}",
                area_id=audit.area_of(pcn),
            )
            users.deactivate(member, by=f"user:{current_user.id}")  # saves the audit record with the change
            flash(f"{member.name}'s account has been deactivated. They have been signed out and cannot sign in.")
            return redirect(url_for(".members"))
        db.session.rollback()
    return render_template(
        "people/deactivate.html", form=form, member=member, refusal=refusal, posted=request.method == "POST"
    ), 400 if refusal and request.method == "POST" else 200


# --- Withdrawing an invitation -----------------------------------------------------------------------------------


@bp.route("/invitations/<int:invitation_id>/withdraw", methods=["POST"])
@roles(Role.CLINICAL_DIRECTOR, Role.ICB_LEAD, Role.ADMIN)
def withdraw(invitation_id: int):
    invitation = people_queries.get_invitation(invitation_id)
    if invitation is None:
        abort(404)
    if not people.can_withdraw(current_user, invitation):
        security_log.event("object_access_denied", "refused", invitation_id=invitation_id)
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if invitations.withdraw(invitation, current_user):
        flash(
            f"The invitation to {invitation.name} ({invitation.email}) has been withdrawn. "
            "The link in their email no longer works."
        )
    else:
        flash(f"The invitation to {invitation.name} had already been accepted, withdrawn or had expired.")
    back = ".members" if people.is_clinical_director(current_user) else ".index"
    return redirect(url_for(back))


# --- Accepting an invitation (the emailed link) ------------------------------------------------------------------

TITLES = {
    "unknown": "This invitation link is not valid",
    "used": "This invitation has already been used",
    "withdrawn": "This invitation has been withdrawn",
    "expired": "This invitation has expired",
    "has_account": "You already have an account",
    "inviter_no_longer_allowed": "This invitation is no longer valid",
}


def _bad_link(response) -> bool:
    """Counted towards the limit: links that were never ours (404) or are no longer usable (410)."""
    return response.status_code in (404, 410)


def _link_page(title: str, message: str, status: int):
    return render_template("people/link_problem.html", title=title, message=message), status


@links.route("/invitations/accept/<token>", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["INVITATION_LINK_LIMIT"],
    key_func=security_log.address_group,
    deduct_when=_bad_link,
    scope="invitation-link",
)
def accept(token: str):
    invitation = invitations.find(token)
    problem = invitations.problem_with(invitation)
    if problem:
        security_log.event("invitation_link", "refused", reason=problem.reason, path=LINK_PATH)
        return _link_page(TITLES[problem.reason], problem.message, problem.status)
    if current_user.is_authenticated:
        return _link_page(
            "You are already signed in",
            f"You are signed in as {current_user.name}. This invitation is for {invitation.email}: to accept it, "
            "sign out, then open the link in the email again.",
            409,
        )
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = invitations.accept(invitation, form.new_password.data)
        except invitations.LinkProblem as refused:
            security_log.event("invitation_link", "refused", reason=refused.reason, path=LINK_PATH)
            return _link_page(TITLES[refused.reason], refused.message, refused.status)
        begin_session(user)
        security_log.event("invitation_accepted", "succeeded", user=user, invitation_id=invitation.id, path=LINK_PATH)
        security_log.event("sign_in", "succeeded", user=user, via="invitation", path=LINK_PATH)
        flash(f"Welcome, {user.name}. Your account is ready: you are signed in as {role_phrase(user.role)} for "
              f"{user.organisation.name}.")  # fmt: skip
        return redirect(url_for("main.home"))
    return render_template("people/accept.html", form=form, invitation=invitation), 400 if form.errors else 200


@links.errorhandler(429)
def too_many_bad_links(error):
    security_log.event("invitation_link", "throttled", path=LINK_PATH)
    limit = limiter.current_limit
    retry_after = max(1, int(limit.reset_at - time.time())) if limit is not None else 60
    minutes = max(1, -(-retry_after // 60))
    response = make_response(
        _link_page(
            "Too many attempts",
            "There have been too many attempts to open invitation links from your network. "
            f"Wait {minutes} minute{'s' if minutes != 1 else ''}, then open the link in your email again.",
            429,
        )
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


@links.errorhandler(CSRFError)
def timed_out(error):
    """The page sat open until its session ended: ask again for the password (never kept), on the same link."""
    security_log.event("csrf_failure", "asked_again", reason=error.description, path=LINK_PATH)
    flash("This page timed out, so your account was not made yet. Enter your password again.")
    return redirect(request.url)


bp.register_blueprint(links)
