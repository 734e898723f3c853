"""Protections that apply to every response and every URL, set up in one place.

- Security headers on every response: a Content-Security-Policy with a fresh nonce per response for our one
  inline script (no 'unsafe-inline'), no framing, nosniff, no referrer to other sites, HSTS outside development, and
  `Cache-Control: no-store` on everything but the design system's files and our CSS.
- Ids in URLs are bounded to the database's integer range, so a huge number is a 404, never a 500.
- Clients' addresses are taken from X-Forwarded-For only when TRUSTED_PROXIES says how many proxies to trust.
- A production server refuses to serve while the public demo accounts exist in its database.
"""

import secrets

from flask import Flask, g, render_template, request
from sqlalchemy import func, select
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .extensions import db

# PostgreSQL's integer; SQLite's is wider. Every id column is an integer.
MAX_ID = 2**31 - 1
# Files that are the same for everyone and hold no assessment data: these may be cached.
CACHEABLE_ENDPOINTS = {"static", "main.assets", "main.frontend"}


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in a route: a whole number from 0 to the database's largest id; anything else does not match."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (Werkzeug's names)
        super().__init__(url_map, fixed_digits, min=0 if min is None else min, max=MAX_ID if max is None else max,
                         signed=signed)  # fmt: skip


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(nonce: str, font_origins: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"font-src 'self' {font_origins}".strip(),
            "connect-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIdConverter
    if app.config["TRUSTED_PROXIES"] > 0:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    @app.context_processor
    def nonce_for_templates():
        # `cspNonce` is the name the NHS.UK page template uses for its own inline script.
        return {"cspNonce": csp_nonce()}

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(csp_nonce(), app.config["FONT_ORIGINS"])
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        # Our own pages send the referrer to us (Flask-WTF checks it on HTTPS posts); other sites get nothing.
        headers["Referrer-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        if app.config["HSTS_SECONDS"]:
            headers["Strict-Transport-Security"] = f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
        if request.endpoint not in CACHEABLE_ENDPOINTS or response.status_code >= 400:
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
            if not (request.endpoint or "").startswith("api."):  # the API's lists send an ETag for If-None-Match
                headers.pop("ETag", None)
            headers.pop("Last-Modified", None)
        return response

    if app.config["APP_ENV"] == "production":
        _refuse_demo_accounts(app)


def _refuse_demo_accounts(app: Flask) -> None:
    from .models import User
    from .services import demo

    demo_emails = [email for email, *_ in demo.ACCOUNTS]
    state = {"clean": False}

    @app.before_request
    def no_demo_accounts_in_production():
        if state["clean"] or request.endpoint in CACHEABLE_ENDPOINTS:
            return None
        found = db.session.scalar(select(func.count(User.id)).where(func.lower(User.email).in_(demo_emails)))
        if not found:
            state["clean"] = True
            return None
        app.logger.error("Refusing to serve: %d demo account(s) exist in a production database", found)
        return render_template(
            "errors/error.html",
            title="This service is not available",
            body="The demo accounts exist in this production database. An operator must remove them "
            "(flask --app app demo remove) before the service can be used.",
        ), 503
