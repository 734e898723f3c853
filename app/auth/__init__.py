"""Signing in and out, the account page, server-side sessions, and keeping input typed as a session ends."""

import hashlib
import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import ValidationError

from ..access import ALL_ROLES, public, roles
from ..extensions import limiter, login_manager
from ..forms.api import ApiTokenForm
from ..forms.auth import ChangePasswordForm, SignInForm
from ..forms.simple import ConfirmForm
from ..models import Role
from ..models.user import PASSWORD_METHOD
from ..queries.sessions import live_sessions
from ..queries.users import get_user_by_email
from ..services import api_tokens, pending_input, security_log, sessions

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = "Enter a correct email address and password. Both are case sensitive apart from the email address."
SIGNED_OUT_KEPT = "You were signed out, so your answers were not saved yet. Sign in again to see them and save them."
NOT_KEPT = (
    "You were signed out before your answers could be saved, and they could not be kept. "
    "Sign in again and enter them again."
)
# Compared against when an email has no account, so that a wrong email takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16), method=PASSWORD_METHOD)
# Session keys that survive signing in (everything else, the CSRF token included, is replaced).
KEPT_ACROSS_SIGN_IN = ("pending_input",)


# --- Sessions ----------------------------------------------------------------------------------------------------


@login_manager.user_loader
def load_user(user_id: str):
    """The signed-in user, if the session the cookie names is still live on the server."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    result = sessions.check(session.get("sid"), uid, idle=idle_limit(), lifetime=lifetime_limit())
    if result.user is not None:
        return result.user
    for key in ("_user_id", "_fresh", "_id", "sid"):
        session.pop(key, None)
    if result.ended in (sessions.EndReason.IDLE, sessions.EndReason.EXPIRED):
        # Still known, so that what they type next can be kept for them alone.
        session["expired_user_id"] = uid
        security_log.event("session_ended", result.ended, user_id=uid)
    else:
        security_log.event("session_refused", result.ended or "unknown", user_id=uid)
    return None


def idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def lifetime_limit() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def _client() -> tuple[str, str]:
    return security_log.client_address(), (request.user_agent.string or "")[:200]


def _begin_session(user) -> None:
    """A fresh session and CSRF token at sign-in; the old CSRF token is kept aside only to recognise open tabs."""
    previous_token = session.get("csrf_token")
    kept = {key: session[key] for key in KEPT_ACROSS_SIGN_IN if key in session}
    session.clear()
    g.pop("csrf_token", None)
    login_user(user)
    session.permanent = True
    session.update(kept)
    session["sid"] = sessions.start(user, *_client())
    if previous_token:
        session["previous_csrf_token"] = previous_token


def _end_session(reason: str = sessions.EndReason.SIGNED_OUT) -> None:
    sessions.end(session.get("sid"), reason)
    logout_user()
    session.clear()
    g.pop("csrf_token", None)


# --- Signing in and out ------------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site, so the sign-in page cannot be used to send people elsewhere."""
    if not target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _account_key() -> str:
    """Failed sign-ins are counted per account typed (hashed: the key never holds the email itself)."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return "account:" + hashlib.sha256(email.encode()).hexdigest()


def _failed(response) -> bool:
    return response.status_code == 401


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"],
    key_func=lambda: f"{_account_key()}:{security_log.address_group()}",
    methods=["POST"],
    deduct_when=_failed,
    scope="sign-in-account-address",
)
@limiter.limit(
    # Every attempt counts here, before the password is checked, so that a burst of parallel guesses cannot
    # all slip past a limit that is only counted after each one fails.
    lambda: current_app.config["SIGN_IN_LIMIT_ACCOUNT_TOTAL"],
    key_func=_account_key,
    methods=["POST"],
    scope="sign-in-account",
)
@limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"],
    key_func=security_log.address_group,
    methods=["POST"],
    deduct_when=_failed,
    scope="sign-in-address",
)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    next_path = _safe_next(request.args.get("next"))
    wrong = False
    if form.validate_on_submit():
        user = get_user_by_email(form.email.data)
        if user is None:
            check_password_hash(_DUMMY_HASH, form.password.data)  # the same work as for a real account
            security_log.event("sign_in", "failed", reason="unknown_account")
        elif not user.check_password(form.password.data):
            security_log.event("sign_in", "failed", user=user, reason="wrong_password")
        elif not user.active:
            security_log.event("sign_in", "failed", user=user, reason="deactivated")
        else:
            if user.password_needs_rehash:  # stored with older, weaker settings: upgrade it now we have it
                user.set_password(form.password.data)
            _begin_session(user)
            security_log.event("sign_in", "succeeded", user=user)
            return redirect(next_path or url_for("main.home"))
        wrong = True
    return render_template("auth/sign_in.html", form=form, wrong=wrong, message=WRONG_CREDENTIALS), (
        401 if wrong else 200
    )


@bp.route("/sign-out", methods=["POST"])
@public
def sign_out():
    if ConfirmForm().validate_on_submit() and current_user.is_authenticated:
        security_log.event("sign_out", "succeeded")
        _end_session()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


# --- The account page --------------------------------------------------------------------------------------------


@bp.route("/account", methods=["GET"])
@roles(*ALL_ROLES)
def account():
    return _account_page(ChangePasswordForm(formdata=None))


def _account_page(
    form: ChangePasswordForm, status: int = 200, token_form: ApiTokenForm | None = None, new_token: str | None = None
):
    may_hold = api_tokens.may_hold_tokens(current_user)
    return render_template(
        "auth/account.html",
        form=form,
        confirm=ConfirmForm(),
        session_count=len(live_sessions(current_user.id, idle_limit(), lifetime_limit())),
        may_hold_tokens=may_hold,
        token_form=token_form or ApiTokenForm(formdata=None),
        tokens=api_tokens.tokens_of(current_user) if may_hold else [],
        is_live=api_tokens.is_live,
        new_token=new_token,
    ), status


@bp.route("/account/api-tokens", methods=["POST"])
@roles(Role.ICB_LEAD, Role.LMC_OFFICER)
def create_api_token():
    form = ApiTokenForm()
    if not api_tokens.may_hold_tokens(current_user):
        abort(403)
    if not form.validate_on_submit():
        return _account_page(ChangePasswordForm(formdata=None), 400, token_form=form)
    _token, secret = api_tokens.create(current_user, form.name.data, int(form.days.data))
    # Shown on this response only (never stored, never in a redirect or flash message kept in the cookie).
    return _account_page(ChangePasswordForm(formdata=None), 200, new_token=secret)


@bp.route("/account/api-tokens/revoke", methods=["POST"])
@roles(Role.ICB_LEAD, Role.LMC_OFFICER)
def revoke_api_token():
    if not ConfirmForm().validate_on_submit():
        return _account_page(ChangePasswordForm(formdata=None), 400)
    try:
        token_id = int(request.form.get("token_id", ""))
    except ValueError:
        token_id = 0
    if not 0 < token_id < 2**31 or api_tokens.revoke(current_user, token_id) is None:
        flash("That token was not found. It may have been revoked already.")
    else:
        flash("The token has been revoked. Anything using it can no longer read the API.")
    return redirect(url_for("auth.account"))


@bp.route("/account/password", methods=["POST"])
@roles(*ALL_ROLES)
@limiter.limit(
    lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"],
    key_func=lambda: f"password-change:{current_user.id}",
    deduct_when=_failed,
    scope="password-change",
)
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _account_page(form, 400)
    if not current_user.check_password(form.current_password.data):
        form.current_password.errors.append("Your current password is not correct")
        security_log.event("password_change", "failed", reason="wrong_current_password")
        return _account_page(form, 401)  # counted, like a failed sign-in
    current_user.set_password(form.new_password.data)
    ended = sessions.end_all(current_user.id, sessions.EndReason.PASSWORD_CHANGED, except_token=session.get("sid"))
    security_log.event("password_change", "succeeded", other_sessions_ended=ended)
    flash("Your password has been changed. You have been signed out on every other device.")
    return redirect(url_for("auth.account"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@roles(*ALL_ROLES)
def sign_out_everywhere():
    if not ConfirmForm().validate_on_submit():
        return _account_page(ChangePasswordForm(formdata=None), 400)
    user_id = current_user.id
    ended = sessions.end_all(user_id, sessions.EndReason.SIGNED_OUT_EVERYWHERE)
    security_log.event("sign_out_everywhere", "succeeded", sessions_ended=ended)
    logout_user()
    session.clear()
    flash("You have signed out on every device.")
    return redirect(url_for("auth.sign_in"))


# --- Keeping input when a session has ended ----------------------------------------------------------------------


def _accepts_get(path: str) -> bool:
    try:
        current_app.url_map.bind_to_environ(request.environ).match(path, method="GET")
    except HTTPException:
        return False
    return True


def _from_this_site() -> bool:
    """The browser says the form was posted from a page of this site (modern browsers send one of these)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is not None and origin == request.host_url.rstrip("/")


def _stash(user_id: int | None) -> str | None:
    """Keep this POST's input for the browser that sent it (and for its user, when known)."""
    if not _from_this_site() or not _accepts_get(request.path):
        return None
    token = pending_input.stash(
        request.path, request.form, user_id, security_log.address_group(), replaces=session.get("pending_input")
    )
    if token:
        session["pending_input"] = token
    return token


def _keep_posted_input(user_id: int | None):
    """A request that arrived after the session ended: send the user to sign in, keeping what they had typed.

    They come back to the page they were on (or home, if that address only takes a form).
    """
    if request.method != "POST":
        next_path = request.full_path if request.query_string else request.path
        flash("Sign in to continue.")
        return redirect(url_for("auth.sign_in", next=_safe_next(next_path)))
    next_path = request.path if _accepts_get(request.path) else url_for("main.home")
    if _stash(user_id):
        flash(SIGNED_OUT_KEPT)
        security_log.event("input_kept", "kept", user_id=user_id)
    elif any(value.strip() for key, value in request.form.items() if key not in pending_input.NOT_KEPT):
        flash(NOT_KEPT)
    else:
        flash("Your session ended. Sign in again to continue.")
    return redirect(url_for("auth.sign_in", next=_safe_next(next_path)))


@login_manager.unauthorized_handler
def unauthorized():
    return _keep_posted_input(session.pop("expired_user_id", None))


def _token_from_an_earlier_session() -> bool:
    """The posted CSRF token is this browser's token from before its latest sign-in (a tab left open)."""
    posted = request.form.get("csrf_token")
    if not posted or "previous_csrf_token" not in session:
        return False
    try:
        validate_csrf(posted, token_key="previous_csrf_token")
    except ValidationError:
        return False
    return True


def init_app(app: Flask) -> None:
    app.jinja_env.filters["with_sign_out_token"] = with_sign_out_token

    @app.errorhandler(429)
    def too_many(error):
        retry_after = _retry_after_seconds()
        minutes = max(1, -(-retry_after // 60))
        wait = f"Wait {minutes} minute{'s' if minutes != 1 else ''}, then try again."
        if request.endpoint == "auth.change_password":
            security_log.event("password_change", "throttled")
            form = ChangePasswordForm(formdata=None)
            form.current_password.errors = [f"There have been too many wrong current passwords. {wait}"]
            response = current_app.make_response(_account_page(form, 429))
        else:
            security_log.event("sign_in", "throttled", limit=str(getattr(error, "limit", "")))
            form = SignInForm(formdata=None, data={"email": (request.form.get("email") or "")[:254]})
            message = f"There have been too many attempts to sign in. {wait}"
            response = current_app.make_response(
                (render_template("auth/sign_in.html", form=form, wrong=True, message=message), 429)
            )
        response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        if request.endpoint == "auth.sign_in":
            # The sign-in page sat open past its session: ask again, keeping the email but never the password.
            security_log.event("csrf_failure", "asked_again", reason=error.description)
            form = SignInForm(formdata=None, data={"email": request.form.get("email", "")[:254]})
            flash("Your session timed out. Sign in again.")
            return render_template("auth/sign_in.html", form=form, wrong=False, message=""), 400
        if request.endpoint == "auth.sign_out":
            return redirect(url_for("main.home"))
        if not current_user.is_authenticated:
            # The session (and its token) is gone: an ended session or cleared cookies. Keep what was typed.
            security_log.event("csrf_failure", "signed_out", reason=error.description)
            return _keep_posted_input(session.pop("expired_user_id", None))
        if _token_from_an_earlier_session() and _stash(current_user.id):
            # A page opened before the user signed in again in another tab: their own input, so give it back.
            flash("You signed in again after opening this page. Check your answers and save again.")
            return redirect(request.path)  # a path that can be kept has no control characters
        # A live session and a missing or wrong token: possibly forged. Refuse, and show nothing of it back.
        security_log.event("csrf_failure", "refused", reason=error.description)
        return render_template(
            "errors/error.html",
            title="Sorry, there is a problem with your request",
            body="Nothing was saved. Go back, reload the page and try again.",
        ), 400


def _retry_after_seconds() -> int:
    limit = limiter.current_limit
    if limit is not None:
        return max(1, int(limit.reset_at - time.time()))
    return 60


def restored_input(path: str):
    """Input kept for this page when a session ended, if any (taken once). Call after the edit permission check."""
    token = session.pop("pending_input", None)
    return pending_input.take(token, path, current_user.id)


def with_sign_out_token(header_html: str) -> Markup:
    """The NHS.UK header's sign-out form, with the CSRF token its macro has no place for."""
    hidden = f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">'
    button = '<button class="nhsuk-header__account-button">'
    return Markup(str(header_html).replace(button, hidden + button, 1))
