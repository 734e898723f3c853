"""Rendered pages kept per signed-in session and served again while the data behind them is unchanged.

A page is kept under: the user, their session, the full address, the counters of every scope their pages depend on
(app/services/data_versions.py), the minute (anything that depends on the time, such as a deadline passing or an
invitation expiring, is at most a minute old), and the questionnaires as loaded. Any change to what the page shows
moves one of those counters, in the same transaction as the change, so the next request renders afresh.

What is fresh on every request all the same: the session check (a kept page is served only to a session that is
live and needs nothing written, read in one statement with the counters by app/services/sessions.py `glance`; any
other request goes the usual way, where an ended, idle or deactivated session is refused), the security headers,
and the CSP nonce, which is replaced in the kept bytes. The CSRF tokens in a kept page belong to the same session,
which is part of the key. Only GET requests for the pages in KEPT_ENDPOINTS are kept, and
only when the session holds nothing but sign-in state (no messages to show, no input kept for the user); a response
that is not a 200 HTML page, that changed the session, or that was rendered with changes not yet committed, is not
kept.

Each worker keeps its own pages, least recently used first out, up to PAGE_CACHE_BYTES (0 turns keeping off).
With PAGE_CACHE_VERIFY (on in the tests), a page found kept is rendered afresh all the same and the two compared, so
that every test that looks at a page twice also checks that nothing it changed in between was missed.
"""

import re
import threading
import time
from collections import OrderedDict

from flask import Flask, Response, current_app, g, request, session

from .auth import idle_limit, lifetime_limit
from .extensions import db
from .security import csp_nonce
from .services import data_versions, sessions

KEPT_ENDPOINTS = frozenset(
    {
        "main.home",
        "main.questionnaires",
        "assessments.task_list",
        "assessments.domain_page",
        "assessments.check_answers",
        "assessments.results",
        "plans.plan",
        "reports.report",
        "people.members",
        "people.settings",
        "people.index",
        "rounds.index",
        "rounds.dashboard",
        "rounds.heatmap",
        "rounds.submission",
        "rounds.audit_log",
        "benchmarks.index",
        "benchmarks.round_page",
        "orgs.index",
    }
)
# The session keys of a signed-in user with nothing else pending. Anything more (flashed messages, input kept across
# a sign-in, an expired user's id) means the page may show it, so it is rendered afresh.
SIGN_IN_KEYS = frozenset({"_user_id", "_fresh", "_id", "sid", "csrf_token", "_permanent", "previous_csrf_token"})


class StalePage(AssertionError):
    """A kept page that would have been served differs from the page as rendered now (PAGE_CACHE_VERIFY)."""


class PageStore:
    """Pages by key, least recently used dropped first once their bytes pass the limit. Safe across threads (the
    development server runs one per request)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0
        self.pages: OrderedDict[tuple, tuple[bytes, bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> tuple[bytes, bytes] | None:
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key: tuple, body: bytes, nonce: bytes) -> None:
        if len(body) > self.limit:
            return
        with self.lock:
            old = self.pages.pop(key, None)
            if old is not None:
                self.used -= len(old[0])
            self.pages[key] = (body, nonce)
            self.used += len(body)
            while self.used > self.limit:
                _, (dropped, _) = self.pages.popitem(last=False)
                self.used -= len(dropped)


# A signed CSRF token: the session's token, then when it was signed and the signature, which change each second.
_SIGNED_TOKEN = re.compile(rb'value="([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"')


def _comparable(body: bytes) -> bytes:
    """A page with its signed tokens cut to the token they sign, for PAGE_CACHE_VERIFY."""
    return _SIGNED_TOKEN.sub(rb'value="\1"', body)


def minute() -> int:
    """The minute, part of every key: what a page shows of the time (a deadline passed, an invitation expired) is
    never more than a minute old."""
    return int(time.time() // 60)


def _key() -> tuple | None:
    """The key of this request's page if it may be kept, read without loading the user or starting a transaction,
    so that serving a kept page costs one statement and one round trip to the database."""
    if request.method != "GET" or request.endpoint not in KEPT_ENDPOINTS or not session.keys() <= SIGN_IN_KEYS:
        return None
    sid = session.get("sid")
    seen = sessions.glance(sid, session.get("_user_id"), idle=idle_limit(), lifetime=lifetime_limit())
    if seen is None:  # no live session that needs nothing written: the usual way (app/auth, load_user)
        return None
    versions = data_versions.pick(seen.role, seen.kind, seen, request.endpoint)
    if versions is None:
        return None
    questionnaires = current_app.extensions.get("questionnaires")
    # The address as scheme, host, script root, path and query: what request.url holds, without building it.
    address = (request.scheme, request.host, request.root_path, request.full_path)
    return (seen.user_id, sid, address, versions, minute(), id(questionnaires))


def init_app(app: Flask) -> None:
    if not app.config["PAGE_CACHE_BYTES"]:
        return
    store = PageStore(app.config["PAGE_CACHE_BYTES"])
    app.extensions["page_cache"] = store

    def serve_kept_page():
        key = _key()
        if key is None:
            return None
        kept = store.get(key)
        if kept is None:
            g.page_cache_key = key
            return None
        body, nonce = kept
        if current_app.config["PAGE_CACHE_VERIFY"]:  # the tests: render afresh all the same, and compare
            g.page_cache_expected = _comparable(body.replace(nonce, b""))
            return None
        return Response(body.replace(nonce, csp_nonce().encode()), mimetype="text/html")

    # The first of the request hooks, as a kept page needs none of the others: CSRF protection checks only unsafe
    # methods, and a kept page answers a GET; no kept endpoint carries a rate limit (tests/web/test_page_cache.py),
    # so the limiter would only spend a tenth of the request finding that out; and a production server refusing to
    # serve while the demo accounts exist (app/security.py) has served no page that it could have kept.
    app.before_request_funcs.setdefault(None, []).insert(0, serve_kept_page)

    @app.after_request
    def keep_page(response):
        expected = g.pop("page_cache_expected", None)
        if expected is not None:
            fresh = _comparable(response.get_data().replace(g.csp_nonce.encode(), b""))
            if fresh != expected:
                at = next(i for i, (a, b) in enumerate(zip(fresh + b"\0", expected + b"\0", strict=False)) if a != b)
                raise StalePage(
                    f"{request.full_path}: the kept page differs from the page rendered afresh at byte {at}: "
                    f"kept {expected[at - 80 : at + 80]!r}, afresh {fresh[at - 80 : at + 80]!r}"
                )
        key = g.pop("page_cache_key", None)
        if (
            key is not None
            and response.status_code == 200
            and response.mimetype == "text/html"
            and not response.direct_passthrough
            and not session.modified
            and "csp_nonce" in g
            and not data_versions.uncommitted_writes(db.session)  # what it shows may never be committed
        ):
            store.put(key, response.get_data(), g.csp_nonce.encode())
        return response
