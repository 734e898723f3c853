"""Signing in and out, the session idle timeout, and keeping input typed as a session ends."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..access import public
from ..extensions import login_manager
from ..forms.auth import SignInForm
from ..queries.users import get_user, get_user_by_email
from ..services import pending_input

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = "Enter a correct email address and password. Both are case sensitive apart from the email address."
SIGNED_OUT_KEPT = "You were signed out, so your answers were not saved yet. Sign in again to see them and save them."


@login_manager.user_loader
def load_user(user_id: str):
    return get_user(int(user_id))


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site, so the sign-in page cannot be used to send people elsewhere."""
    if not target or any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    next_path = _safe_next(request.args.get("next"))
    wrong = False
    if form.validate_on_submit():
        user = get_user_by_email(form.email.data)
        if user and user.active and user.check_password(form.password.data):
            login_user(user)
            session.permanent = True
            session["last_seen"] = datetime.now(UTC).timestamp()
            session.pop("expired_user_id", None)
            return redirect(next_path or url_for("main.home"))
        wrong = True
    return render_template("auth/sign_in.html", form=form, wrong=wrong, message=WRONG_CREDENTIALS), (
        401 if wrong else 200
    )


@bp.route("/sign-out")
@public
def sign_out():
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


def _accepts_get(path: str) -> bool:
    try:
        current_app.url_map.bind_to_environ(request.environ).match(path, method="GET")
    except HTTPException:
        return False
    return True


def _keep_posted_input(user_id: int | None):
    """A request that arrived after the session ended: send the user to sign in, keeping what they had typed.

    Input is kept only for a known user (the one whose session just ended), so strangers cannot fill the store,
    and they come back to the page they were on (or home, if that address only takes a form).
    """
    if request.method != "POST":
        next_path = request.full_path if request.query_string else request.path
        flash("Sign in to continue.")
        return redirect(url_for("auth.sign_in", next=next_path))
    next_path = request.path if _accepts_get(request.path) else url_for("main.home")
    token = pending_input.stash(request.path, request.form, user_id) if user_id is not None else None
    if token:
        session["pending_input"] = token
        flash(SIGNED_OUT_KEPT)
    else:
        flash("Your session ended. Sign in again to continue.")
    return redirect(url_for("auth.sign_in", next=next_path))


@login_manager.unauthorized_handler
def unauthorized():
    return _keep_posted_input(session.pop("expired_user_id", None))


def init_app(app: Flask) -> None:
    idle_seconds = app.config["SESSION_IDLE_MINUTES"] * 60

    @app.before_request
    def end_idle_sessions():
        if not current_user.is_authenticated:
            return
        now = datetime.now(UTC).timestamp()
        last_seen = session.get("last_seen", now)
        if now - last_seen > idle_seconds:
            user_id = current_user.id
            logout_user()
            session["expired_user_id"] = user_id
            return
        session["last_seen"] = now

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        if request.endpoint == "auth.sign_in":
            # The sign-in page sat open past its session: ask again, keeping the email but never the password.
            form = SignInForm(formdata=None, data={"email": request.form.get("email", "")[:254]})
            flash("Your session timed out. Sign in again.")
            return render_template("auth/sign_in.html", form=form, wrong=False, message=""), 400
        # The session (and its token) is gone: treat it as an ended session and keep what was typed.
        if not current_user.is_authenticated:
            return _keep_posted_input(session.pop("expired_user_id", None))
        token = pending_input.stash(request.path, request.form, current_user.id) if _accepts_get(request.path) else None
        if token:
            session["pending_input"] = token
            flash("This page had been open too long to save safely. Check your answers and save again.")
            return redirect(request.path)
        return render_template(
            "errors/error.html", title="Sorry, there is a problem with your request", body="Go back and try again."
        ), 400


def restored_input(path: str):
    """Input kept for this page when a session ended, if any (taken once)."""
    token = session.pop("pending_input", None)
    return pending_input.take(token, path, current_user.id)
