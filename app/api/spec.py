"""The OpenAPI 3.1 document, generated from the API's routes: each data route declares its operation here, and
the paths, parameters and responses are built from the app's URL map with apispec. Nothing is written by hand."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from apispec import APISpec
from flask import Flask

TITLE = "PCN Neighbourhood Readiness API"
VERSION = "1.0.0"
DESCRIPTION = """Read-only access to readiness return rounds and benchmarks, for Power BI, Excel and analysts' tools.

**Who may use it.** ICB primary care leads and LMC officers make personal API tokens on their account page and
see through the API exactly what the pages show them. An ICB lead reads its own ICB's rounds, each PCN's status,
submitted returns and the rounds' benchmarks, with PCNs named. An LMC officer reads benchmarks only
(`/api/v1/benchmarks`): the rounds that include PCNs it represents, each PCN shown by its letter in the round
unless its clinical director chose to name it to the LMC; every other endpoint refuses an LMC token with 403.
Drafts are never served, and no figure is given for fewer than five PCNs. PCN roles are refused (their drafts are
theirs alone and the pages already show them everything of their own), and so are administrators.

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
    "Questionnaire": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "version": {"type": "string"}},
        "required": ["id", "title", "version"],
    },
    "BenchmarkRound": {
        "type": "object",
        "description": "A round this token's user may benchmark.",
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "icb": {"type": "string", "description": "The name of the ICB that runs the round."},
            "opens_on": {"type": "string", "format": "date"},
            "closes_on": {"type": "string", "format": "date"},
            "questionnaire": {"$ref": "#/components/schemas/Questionnaire"},
            "returns_counted": {
                "type": "integer",
                "description": "PCNs with a submitted return in the round, counting only the PCNs in your view "
                "(for an LMC, those it represents).",
            },
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["id", "title", "icb", "opens_on", "closes_on", "questionnaire", "returns_counted", "links"],
    },
    "BenchmarkList": {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/BenchmarkRound"}}},
        "required": ["items"],
    },
    "Spread": {
        "type": ["object", "null"],
        "description": "Lowest, lower quartile, median, upper quartile and highest, in per cent; null when fewer "
        "than five PCNs have a figure for the domain.",
        "properties": {
            "low": {"type": "number"},
            "q1": {"type": "number"},
            "median": {"type": "number"},
            "q3": {"type": "number"},
            "high": {"type": "number"},
        },
        "required": ["low", "q1", "median", "q3", "high"],
    },
    "BenchmarkDomain": {
        "type": "object",
        "properties": {
            "domain_id": {"type": "string"},
            "title": {"type": "string"},
            "count": {
                "type": ["integer", "null"],
                "description": "PCNs with a figure for this domain; null when one to four (too few to show).",
            },
            "now": {"$ref": "#/components/schemas/Spread"},
            "target": {"$ref": "#/components/schemas/Spread"},
            "note": {"type": ["string", "null"], "description": "Why there are no figures, when there are none."},
        },
        "required": ["domain_id", "title", "count", "now", "target", "note"],
    },
    "BenchmarkPcn": {
        "type": "object",
        "description": 'A PCN by name, or by its letter in the round ("PCN X") when it may not be named to you.',
        "properties": {
            "label": {"type": "string"},
            "named": {"type": "boolean"},
            "domains": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"domain_id": {"type": "string"}, "now": NUMBER_OR_NULL, "target": NUMBER_OR_NULL},
                    "required": ["domain_id", "now", "target"],
                },
            },
        },
        "required": ["label", "named", "domains"],
    },
    "SmallCount": {
        "type": "object",
        "description": "How many PCNs: `count` is null for one to four (a count that small could point to a "
        'PCN); `text` always says it, as "7 of 12" or "fewer than 5 of 12".',
        "properties": {"count": {"type": ["integer", "null"]}, "of": {"type": "integer"}, "text": {"type": "string"}},
        "required": ["count", "of", "text"],
    },
    "WeakQuestion": {
        "type": "object",
        "properties": {
            "question_id": {"type": "string"},
            "question": {"type": "string"},
            "domain": {"type": "string"},
            "pcns_counted": {"type": "integer"},
            "average_now": {"type": "number", "description": "The average level now, in per cent of the top level."},
            "lowest_two_levels": {
                "type": "object",
                "description": "PCNs at the lowest two levels now: `share` (per cent) is null for one to four.",
                "properties": {"share": NUMBER_OR_NULL, "text": {"type": "string"}},
                "required": ["share", "text"],
            },
        },
        "required": ["question_id", "question", "domain", "pcns_counted", "average_now", "lowest_two_levels"],
    },
    "NotSureQuestion": {
        "type": "object",
        "properties": {
            "question_id": {"type": "string"},
            "question": {"type": "string"},
            "domain": {"type": "string"},
            "not_sure": {"$ref": "#/components/schemas/SmallCount"},
        },
        "required": ["question_id", "question", "domain", "not_sure"],
    },
    "CommonAction": {
        "type": "object",
        "properties": {
            "action": {"type": "string"},
            "domain": {"type": "string"},
            "planned_by": {"$ref": "#/components/schemas/SmallCount"},
        },
        "required": ["action", "domain", "planned_by"],
    },
    "RoundBenchmark": {
        "type": "object",
        "description": "A round's benchmark exactly as the benchmark page shows it to the same person. When fewer "
        "than five PCNs have submitted returns in your view, `enough` is false, `small_numbers` says why, and "
        "there are no figures at all (no `domains`, `pcns`, `weakest`, `not_sure` or `common_actions`).",
        "properties": {
            "round": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "icb": {"type": "string"}},
                "required": ["id", "title", "icb"],
            },
            "returns": {
                "type": "object",
                "description": "Which returns the figures come from: each PCN's latest submission in the round.",
                "properties": {
                    "count": {"type": "integer"},
                    "round": {"type": "string"},
                    "questionnaire": {"$ref": "#/components/schemas/Questionnaire"},
                    "text": {"type": "string"},
                },
                "required": ["count", "round", "questionnaire", "text"],
            },
            "enough": {"type": "boolean"},
            "minimum_pcns": {"type": "integer"},
            "named": {"type": "boolean", "description": "True when every PCN is named (an ICB lead's view)."},
            "purpose": {"type": "string"},
            "letters": {"type": ["string", "null"], "description": "How lettered PCNs are shown, when they are."},
            "small_numbers": {"type": ["string", "null"], "description": "Why there are no figures, when not enough."},
            "domains": {"type": "array", "items": {"$ref": "#/components/schemas/BenchmarkDomain"}},
            "pcns": {"type": "array", "items": {"$ref": "#/components/schemas/BenchmarkPcn"}},
            "weakest": {"type": "array", "items": {"$ref": "#/components/schemas/WeakQuestion"}},
            "not_sure": {"type": "array", "items": {"$ref": "#/components/schemas/NotSureQuestion"}},
            "common_actions": {"type": "array", "items": {"$ref": "#/components/schemas/CommonAction"}},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": [
            "round",
            "returns",
            "enough",
            "minimum_pcns",
            "named",
            "purpose",
            "letters",
            "small_numbers",
            "links",
        ],
    },
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


WHO = {"icb_lead": "ICB primary care leads", "lmc_officer": "LMC officers"}


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
        view = app.view_functions[rule.endpoint]
        doc: Operation = view.api_doc
        readers = [WHO[role] for role in getattr(view, "access_rule", ())[1:] if role in WHO]
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
            responses["403"] = _problem("The token's account cannot read this: for " + " and ".join(readers) + ".")
            responses["429"] = _problem("Too many requests with this token.")
        if rule.arguments:
            responses["404"] = _problem("Nothing with this id that the token can see.")
        op = {
            "operationId": rule.endpoint.removeprefix("api."),
            "summary": doc.summary,
            "description": ("For " + " and ".join(readers) + ".") if doc.authenticated else "Open to anyone.",
            "parameters": parameters,
            "responses": responses,
            "security": [{"bearer": []}] if doc.authenticated else [],
        }
        spec.path(path=openapi_path(rule.rule), operations={"get": op})
    result = spec.to_dict()
    app.extensions["api_document"] = result
    return result
