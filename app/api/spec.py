"""The OpenAPI 3.1 document, generated from the API's routes: each data route declares its operation here, and
the paths, parameters and responses are built from the app's URL map with apispec. Nothing is written by hand."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from apispec import APISpec
from flask import Flask

TITLE = "PCN Neighbourhood Readiness API"
VERSION = "1.0.0"
DESCRIPTION = """Read-only access to an ICB's readiness return rounds, for Power BI, Excel and analysts' own tools.

**Who may use it.** ICB primary care leads only, for now: they make personal API tokens on their account page
and see through the API exactly what the round pages show them: their own ICB's rounds, each PCN's status, and
submitted returns. Drafts are never served. PCN roles are refused (their drafts are theirs alone and the pages
already show them everything of their own); LMC officers and administrators are refused until benchmarking gives
them something to read.

**Tokens.** Send `Authorization: Bearer <token>`. Tokens expire after 30, 90 or 365 days and can be revoked at
any time; a revoked or expired token, or one whose account is deactivated, gets 401. Use is audited (at most one
audit event per token per hour) and rate limited per token.

**Errors** are `application/problem+json` with a plain-English `detail`. List endpoints send an `ETag`; send it
back in `If-None-Match` to get `304 Not Modified` when nothing changed."""

NUMBER_OR_NULL = {"type": ["number", "null"]}
DATE_OR_NULL = {"type": ["string", "null"], "format": "date"}
TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
SCORE = {
    "type": "object",
    "description": "Readiness as a percentage: now, and at the six-month target.",
    "properties": {"now": NUMBER_OR_NULL, "target": NUMBER_OR_NULL},
    "required": ["now", "target"],
}
STATUSES = ["not_started", "in_progress", "submitted", "reopened", "overdue"]

SCHEMAS: dict[str, dict] = {
    "Problem": {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
        "required": ["type", "title", "status", "detail"],
    },
    "Organisation": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "ods_code": {"type": "string"},
            "name": {"type": "string"},
            "sub_icb_code": {"type": "string"},
            "sub_icb_name": {"type": "string"},
        },
        "required": ["id", "ods_code", "name", "sub_icb_code", "sub_icb_name"],
    },
    "OrganisationList": {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Organisation"}}},
        "required": ["items"],
    },
    "Round": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "phase": {"type": "string", "enum": ["upcoming", "open", "closed"]},
            "opens_on": {"type": "string", "format": "date"},
            "closes_on": {"type": "string", "format": "date"},
            "closed_early_at": TIME_OR_NULL,
            "questionnaire": {"type": "string"},
            "supplement": {"type": ["string", "null"]},
            "pcn_count": {"type": "integer"},
            "status_counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["id", "title", "phase", "opens_on", "closes_on", "pcn_count", "links"],
    },
    "RoundList": {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Round"}}},
        "required": ["items"],
    },
    "DomainScore": {
        "type": "object",
        "properties": {
            "section": {"type": "string", "enum": ["core", "supplement"]},
            "domain_id": {"type": "string"},
            "title": {"type": "string"},
            "now": NUMBER_OR_NULL,
            "target": NUMBER_OR_NULL,
        },
        "required": ["section", "domain_id", "title", "now", "target"],
    },
    "ReturnRow": {
        "type": "object",
        "description": "A PCN in the round's scope: where it is and, once submitted, its latest submission's scores.",
        "properties": {
            "pcn": {"$ref": "#/components/schemas/Organisation"},
            "status": {"type": "string", "enum": STATUSES},
            "status_label": {"type": "string"},
            "submission_id": {"type": ["integer", "null"]},
            "submitted_on": DATE_OR_NULL,
            "last_reminded_on": DATE_OR_NULL,
            "overall": SCORE,
            "supplement": SCORE,
            "domains": {"type": "array", "items": {"$ref": "#/components/schemas/DomainScore"}},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["pcn", "status", "status_label", "submission_id", "overall", "domains"],
    },
    "ReturnPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/ReturnRow"}},
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
            "total": {"type": "integer"},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["items", "page", "pages", "total", "links"],
    },
    "Answer": {
        "type": "object",
        "properties": {
            "question_id": {"type": "string"},
            "question": {"type": "string"},
            "now": {"type": ["integer", "null"], "description": "The level now; null when not sure or not applicable."},  # noqa: E501
            "now_not_sure": {"type": "boolean"},
            "target": {"type": ["integer", "null"], "description": "The level in six months; null when not sure."},
            "target_not_sure": {"type": "boolean"},
            "not_applicable": {
                "type": "boolean",
                "description": "Answered 'Not applicable or not in place locally yet': no levels, not scored.",
            },
            "note": {"type": "string"},
        },
        "required": [
            "question_id",
            "question",
            "now",
            "now_not_sure",
            "target",
            "target_not_sure",
            "not_applicable",
            "note",
        ],
    },
    "SubmittedDomain": {
        "allOf": [
            {"$ref": "#/components/schemas/DomainScore"},
            {
                "type": "object",
                "properties": {"answers": {"type": "array", "items": {"$ref": "#/components/schemas/Answer"}}},
                "required": ["answers"],
            },
        ]
    },
    "Submission": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "round_id": {"type": "integer"},
            "pcn": {"$ref": "#/components/schemas/Organisation"},
            "submitted_at": {"type": "string", "format": "date-time"},
            "reopened_at": TIME_OR_NULL,
            "reopen_reason": {"type": ["string", "null"]},
            "is_latest": {"type": "boolean"},
            "declaration": {"type": "string"},
            "overall": SCORE,
            "supplement": SCORE,
            "domains": {"type": "array", "items": {"$ref": "#/components/schemas/SubmittedDomain"}},
            "plan": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["id", "round_id", "pcn", "submitted_at", "overall", "domains", "plan"],
    },
    "OpenApiDocument": {"type": "object"},
}


@dataclass
class Operation:
    summary: str
    response: str
    authenticated: bool = True
    etag: bool = False
    query: list[dict] = field(default_factory=list)


def operation(summary: str, response: str, *, authenticated: bool = True, etag: bool = False, query=()):
    def decorator(view: Callable) -> Callable:
        view.api_doc = Operation(summary, response, authenticated, etag, list(query))
        return view

    return decorator


PAGE_PARAMETER = {
    "name": "page",
    "in": "query",
    "required": False,
    "description": "Which page of results, from 1. Follow the `links.next` of each page rather than counting.",
    "schema": {"type": "integer", "minimum": 1, "maximum": 100000},
}


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def api_rules(app: Flask):
    from . import PREFIX

    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith("api.") and rule.rule.startswith(PREFIX + "/"):
            yield rule


def openapi_path(rule_text: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule_text)


def document(app: Flask) -> dict:
    cached = app.extensions.get("api_document")
    if cached is not None:
        return cached
    spec = APISpec(
        title=TITLE,
        version=VERSION,
        openapi_version="3.1.0",
        info={"description": DESCRIPTION},
    )
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "A personal API token from your account page."}
    )
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    for rule in api_rules(app):
        doc: Operation = app.view_functions[rule.endpoint].api_doc
        parameters = [
            {
                "name": arg,
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
            }
            for arg in sorted(rule.arguments)
        ]
        parameters += doc.query
        ok = {
            "description": "OK",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{doc.response}"}}},
        }
        if doc.etag:
            ok["headers"] = {"ETag": {"schema": {"type": "string"}, "description": "Send back in If-None-Match."}}
        responses: dict = {"200": ok}
        if doc.etag:
            parameters.append(
                {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}
            )
            responses["304"] = {"description": "Not modified: the ETag you sent still matches."}
        if doc.query:
            responses["400"] = _problem("A query parameter is not valid.")
        if doc.authenticated:
            responses["401"] = _problem("No token, or a token that is unknown, revoked or expired.")
            responses["403"] = _problem("The token's account cannot use the API.")
            responses["429"] = _problem("Too many requests with this token.")
        if rule.arguments:
            responses["404"] = _problem("Nothing with this id that the token can see.")
        op = {
            "operationId": rule.endpoint.removeprefix("api."),
            "summary": doc.summary,
            "parameters": parameters,
            "responses": responses,
            "security": [{"bearer": []}] if doc.authenticated else [],
        }
        spec.path(path=openapi_path(rule.rule), operations={"get": op})
    result = spec.to_dict()
    app.extensions["api_document"] = result
    return result
