"""The read-only JSON API at /api/v1 for ICB analysts and LMC officers (Power BI, Excel, their own dashboards).

It serves exactly what the pages show to the same person, through the same services: to an ICB lead, the round
list, the dashboard's rows (status, dates, scores; never anything of a draft), a submitted return and benchmarks;
to an LMC officer, benchmarks only, with PCNs lettered as on the benchmark pages. Requests carry a
personal token (`Authorization: Bearer ...`) made on the account page; no session cookie is read or set, and every
route is GET-only, so there is nothing for CSRF to protect. Errors are application/problem+json.
"""

import hashlib
import json
import time
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Response, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException

from ..access import public
from ..extensions import db, limiter
from ..models import ReturnRound, Role
from ..services import api_tokens, permissions, security_log
from . import spec

bp = Blueprint("api", __name__)
PREFIX = "/api/v1"
ICB_ONLY = (Role.ICB_LEAD,)
BENCHMARK_READERS = (Role.ICB_LEAD, Role.LMC_OFFICER)
PROBLEM = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    429: "Too many requests",
    500: "Server error",
}
DETAILS = {
    400: "The request could not be understood. Check the address and its query parameters.",
    401: "Send a valid API token in the Authorization header, as: Authorization: Bearer <your token>.",
    403: "Your account cannot use the API. Only ICB primary care leads and LMC officers can.",
    404: "There is nothing at this address that your token can see.",
    405: "The API only reads: use GET.",
    429: "Too many requests with this token. Wait a minute, then try again.",
    500: "Something went wrong on our side. Try again later.",
}
WHY_401 = {
    "missing": "Send your API token in the Authorization header, as: Authorization: Bearer <your token>.",
    "unknown": "This API token is not recognised. Check you copied all of it, or make a new one on your account page.",
    "revoked": "This API token has been revoked. Make a new one on your account page.",
    "expired": "This API token has expired. Make a new one on your account page.",
    "deactivated": "The account this API token belongs to has been deactivated.",
}


class ApiProblem(Exception):
    def __init__(self, status: int, detail: str | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail or DETAILS.get(status, "")


def problem(status: int, detail: str | None = None) -> Response:
    body = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail or DETAILS.get(status, ""),
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def wants_problem() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


@bp.errorhandler(ApiProblem)
def _api_problem(error: ApiProblem):
    return problem(error.status, error.detail)


def _http_problem(error: HTTPException):
    db.session.rollback()
    response = problem(error.code or 500)
    if error.code == 429:
        limit = limiter.current_limit
        response.headers["Retry-After"] = str(max(1, int(limit.reset_at - time.time())) if limit else 60)
        security_log.event("api", "throttled")
    return response


for _code in TITLES:
    bp.register_error_handler(_code, _http_problem)


def _token_key() -> str:
    return "api-token:" + hashlib.sha256((request.headers.get("Authorization") or "").encode()).hexdigest()


NOT_FOR_ROLE = (
    "Your account cannot read this. ICB primary care leads can read rounds and returns; LMC officers can read "
    "benchmarks only, at /api/v1/benchmarks."
)


def token_view(view: Callable | None = None, *, roles: tuple[Role, ...] = ICB_ONLY) -> Callable:
    """A GET route for an API token of one of these roles: authenticated, rate limited per token, its answers
    problem+json. A token of another role that may hold tokens gets 403."""
    if view is None:
        return lambda v: token_view(v, roles=roles)
    limited = limiter.limit(
        lambda: current_app.config["API_RATE_LIMIT"], key_func=_token_key, scope="api-token", methods=["GET"]
    )(view)

    @wraps(view)
    def wrapped(**kwargs):
        check = api_tokens.authenticate(request.headers.get("Authorization"))
        if check.user is None:
            security_log.event("api", "refused", reason=check.problem)
            return problem(401, WHY_401.get(check.problem or "missing"))
        if check.problem:
            security_log.event("api", "refused", user=check.user, reason=check.problem)
            return problem(403)
        if check.user.role not in roles:
            security_log.event("api", "refused", user=check.user, reason="not for this role")
            return problem(403, NOT_FOR_ROLE)
        g.api_user = check.user
        return limited(**kwargs)

    wrapped.access_rule = ("api token", *roles)
    return wrapped


def api_user():
    return g.api_user


def with_etag(payload) -> Response:
    """A JSON response with a strong ETag; a matching If-None-Match gets 304 and no body."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    return response.make_conditional(request)


def _own_round(round_id: int) -> ReturnRound:
    round_ = db.session.get(ReturnRound, round_id)
    if round_ is None or not permissions.can_manage_round(api_user(), round_):
        raise ApiProblem(404, "There is no round with this id that your token can see.")
    return round_


# --- The document and its guide ----------------------------------------------------------------------------------


@bp.route("/api")
@public
def guide():
    return render_template("api/guide.html", document=spec.document(current_app))


@bp.route(f"{PREFIX}/openapi.json")
@public
@spec.operation(summary="This OpenAPI 3.1 document", response="OpenApiDocument", authenticated=False)
def openapi():
    return Response(json.dumps(spec.document(current_app)), mimetype="application/json")


# --- Data ----------------------------------------------------------------------------------------------------------

from . import benchmarks, views  # noqa: E402,F401  (the data routes, registered on bp)
