"""PCN Neighbourhood Readiness: the application factory."""

import logging
import os
from pathlib import Path

from flask import Flask, render_template

from . import api, auth, page_cache, questionnaires, security, templating
from .config import PROJECT_ROOT, build_config, check_config
from .cookie_session import CheckedOnceSessionInterface
from .extensions import csrf, db, limiter, login_manager
from .services import security_log


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"))
    app.config.update(build_config(Path(app.instance_path), test_config))
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.update(test_config)
    check_config(app.config)
    if app.config["APP_ENV"] == "production":
        # Never the interactive debugger in production, whatever FLASK_DEBUG says (`flask run` reads it after
        # loading the app, so setting it here also keeps its debugger off).
        app.debug = False
        os.environ["FLASK_DEBUG"] = "0"

    _security_logging(app)
    app.session_interface = CheckedOnceSessionInterface()  # each signed cookie checked once per worker
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = None  # sessions are checked on the server instead (app/services/sessions.py)
    security.init_app(app)
    templating.init_app(app)
    questionnaires.init_app(app)
    auth.init_app(app)
    page_cache.init_app(app)  # after the security hooks: rendered pages kept while their data is unchanged

    from .api import bp as api_bp
    from .assessments import bp as assessments_bp
    from .benchmarks import bp as benchmarks_bp
    from .jobs import init_app as init_jobs
    from .main import bp as main_bp
    from .orgs import bp as orgs_bp
    from .people import bp as people_bp
    from .plans import bp as plans_bp
    from .reports import bp as reports_bp
    from .rounds import bp as rounds_bp

    app.register_blueprint(auth.bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(assessments_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(people_bp)  # people, invitations and the emailed invitation link
    init_jobs(app)  # the job queue (Huey) and its pages at /jobs/
    app.register_blueprint(rounds_bp)
    app.register_blueprint(orgs_bp)  # sub-ICB locations, PCNs and the roster import at /organisations
    app.register_blueprint(benchmarks_bp)  # benchmarks of rounds for ICB leads and LMC officers
    app.register_blueprint(api_bp)  # the read-only JSON API at /api/v1 (personal tokens) and its guide at /api

    from .cli import register

    register(app)
    _error_pages(app)
    return app


def _security_logging(app: Flask) -> None:
    """Security events go to standard error (gunicorn's error log, or the terminal) unless logging is set up
    elsewhere; the tests read them through pytest's own capture instead."""
    logger = logging.getLogger(security_log.logger.name)
    logger.setLevel(logging.INFO)
    if app.config["APP_ENV"] != "testing" and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)


def _error_pages(app: Flask) -> None:
    messages = {
        400: ("Sorry, there is a problem with your request", "Go back and try again."),
        403: ("You do not have permission to see this page", "If you think you should, ask your administrator."),
        404: ("Page not found", "If you typed the web address, check it is correct."),
        405: ("Sorry, there is a problem with your request", "Go back and try again."),
        413: (
            "What you sent is too large",
            "Notes and descriptions have a limit of 2,000 characters. Go back, shorten them and try again.",
        ),
        500: ("Sorry, there is a problem with the service", "Try again later. Your saved answers are safe."),
    }
    for code, (title, body) in messages.items():

        def handler(error, title=title, body=body, code=code):
            db.session.rollback()  # a failed statement must not stop the error page itself from loading the user
            if api.wants_problem():  # an address under /api/v1 that matched no route: answer as the API does
                return api.problem(code)
            if code == 403:
                security_log.event("access_denied", "refused", status=403)
            return render_template("errors/error.html", title=title, body=body), code

        app.register_error_handler(code, handler)
