"""The API's data routes: each reads through the same services as the ICB's round pages."""

import math

from flask import current_app, request, url_for

from ..extensions import db
from ..models import RETURN_STATUS_LABELS, Organisation, Submission
from ..models.base import as_utc
from ..services import permissions, rounds
from ..services.dashboard import submission_view
from ..templating import in_uk
from . import PREFIX, ApiProblem, _own_round, api_user, bp, token_view, with_etag
from .spec import PAGE_PARAMETER, operation


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _time(moment) -> str | None:
    """An ISO 8601 time with its offset (SQLite hands back times without one; every time is stored in UTC)."""
    return as_utc(moment).isoformat() if moment else None


def _organisation(org: Organisation) -> dict:
    parent = org.parent
    return {
        "id": org.id,
        "ods_code": org.ods_code or "",
        "name": org.name,
        "sub_icb_code": (parent.ods_code or "") if parent else "",
        "sub_icb_name": parent.name if parent else "",
    }


def _round(round_, pcn_count: int) -> dict:
    return {
        "id": round_.id,
        "title": round_.title,
        "phase": rounds.phase(round_),
        "opens_on": round_.opens_on.isoformat(),
        "closes_on": round_.closes_on.isoformat(),
        "closed_early_at": _time(round_.closed_early_at),
        "questionnaire": round_.questionnaire_key,
        "supplement": round_.supplement_key,
        "pcn_count": pcn_count,
        "links": {
            "self": url_for("api.round_detail", round_id=round_.id),
            "returns": url_for("api.round_returns", round_id=round_.id),
        },
    }


@bp.route(f"{PREFIX}/rounds")
@token_view
@operation(summary="Your ICB's rounds, newest first", response="RoundList", etag=True)
def rounds_list():
    found = rounds.rounds_of(permissions.icb_of(api_user()))
    counts = rounds.scope_count([r.id for r in found])
    return with_etag({"items": [_round(r, counts.get(r.id, 0)) for r in found]})


@bp.route(f"{PREFIX}/rounds/<int:round_id>")
@token_view
@operation(summary="One round, with how many PCNs are at each status", response="Round")
def round_detail(round_id: int):
    round_ = _own_round(round_id)
    rows = rounds.return_rows(round_)
    body = _round(round_, len(rows))
    body["status_counts"] = {str(status): n for status, n in rounds.status_counts(rows).items()}
    return body


@bp.route(f"{PREFIX}/rounds/<int:round_id>/returns")
@token_view
@operation(
    summary="Each PCN in the round: status, dates and, once submitted, overall and domain scores (by PCN code)",
    response="ReturnPage",
    etag=True,
    query=[PAGE_PARAMETER],
)
def round_returns(round_id: int):
    round_ = _own_round(round_id)
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100000:
        raise ApiProblem(400, "The page must be a whole number from 1, as in ?page=2.")
    page = int(raw)
    core, supplement = rounds.questionnaires_of(round_)
    domains = [("core", d) for d in core.domains] + [
        ("supplement", d) for d in (supplement.domains if supplement else [])
    ]
    rows = sorted(rounds.return_rows(round_), key=lambda r: (r.ods_code, r.pcn_id))
    size = current_app.config["API_PAGE_SIZE"]
    pages = max(1, math.ceil(len(rows) / size))
    if page > pages:
        raise ApiProblem(400, f"There is no page {page}: this round's returns have {pages} page(s).")
    items = []
    for r in rows[(page - 1) * size : page * size]:
        item = {
            "pcn": {
                "id": r.pcn_id,
                "ods_code": r.ods_code,
                "name": r.pcn_name,
                "sub_icb_code": r.sub_icb_code,
                "sub_icb_name": r.sub_icb_name,
            },
            "status": str(r.status),
            "status_label": RETURN_STATUS_LABELS[r.status],
            "submission_id": r.submission_id,
            "submitted_on": in_uk(r.submitted_at).date().isoformat() if r.submitted_at else None,
            "last_reminded_on": in_uk(r.last_reminded_at).date().isoformat() if r.last_reminded_at else None,
            "overall": {"now": _pct(r.overall_now), "target": _pct(r.overall_target)},
            "supplement": {"now": _pct(r.supplement_now), "target": _pct(r.supplement_target)},
            "domains": [
                {
                    "section": section,
                    "domain_id": d.id,
                    "title": d.title,
                    "now": _pct(r.scores[d.id][0]) if d.id in r.scores else None,
                    "target": _pct(r.scores[d.id][1]) if d.id in r.scores else None,
                }
                for section, d in domains
            ],
            "links": {},
        }
        if r.submission_id:
            item["links"]["submission"] = url_for(
                "api.submission_detail", round_id=round_.id, submission_id=r.submission_id
            )
        items.append(item)
    links = {"self": url_for("api.round_returns", round_id=round_.id, page=page)}
    if page > 1:
        links["prev"] = url_for("api.round_returns", round_id=round_.id, page=page - 1)
    if page < pages:
        links["next"] = url_for("api.round_returns", round_id=round_.id, page=page + 1)
    return with_etag({"items": items, "page": page, "pages": pages, "total": len(rows), "links": links})


@bp.route(f"{PREFIX}/rounds/<int:round_id>/returns/<int:submission_id>")
@token_view
@operation(summary="One submitted return: answers, notes, scores and plan, as submitted", response="Submission")
def submission_detail(round_id: int, submission_id: int):
    round_ = _own_round(round_id)
    submission = db.session.get(Submission, submission_id)
    if submission is None or not permissions.can_see_submission(api_user(), round_, submission):
        raise ApiProblem(404, "There is no submitted return with this id in this round that your token can see.")
    view = submission_view(submission)
    domains = []
    for section, result in (("core", view.core_score), ("supplement", view.supplement_score)):
        if result is None:
            continue
        for d in result.domains:
            answers = []
            for q in d.questions:
                a = view.answers.get(q.question.id)
                answers.append(
                    {
                        "question_id": q.question.id,
                        "question": q.question.text,
                        "now": a.current if a else None,
                        "now_not_sure": bool(a and a.current_unsure),
                        "target": a.target if a else None,
                        "target_not_sure": bool(a and a.target_unsure),
                        "not_applicable": bool(a and a.not_applicable),
                        "note": a.note if a else "",
                    }
                )
            domains.append(
                {
                    "section": section,
                    "domain_id": d.domain.id,
                    "title": d.domain.title,
                    "now": _pct(d.now),
                    "target": _pct(d.target),
                    "answers": answers,
                }
            )
    return {
        "id": submission.id,
        "round_id": round_.id,
        "pcn": _organisation(submission.pcn),
        "submitted_at": _time(submission.submitted_at),
        "reopened_at": _time(submission.reopened_at),
        "reopen_reason": submission.reopen_reason,
        "is_latest": bool(view.history) and view.history[0].id == submission.id,
        "declaration": submission.declaration,
        "overall": {"now": _pct(submission.overall_now), "target": _pct(submission.overall_target)},
        "supplement": {"now": _pct(submission.supplement_now), "target": _pct(submission.supplement_target)},
        "domains": domains,
        "plan": view.plan,
    }


@bp.route(f"{PREFIX}/organisations")
@token_view
@operation(summary="The PCNs in your ICB's area, by PCN code", response="OrganisationList", etag=True)
def organisations():
    pcns = sorted(rounds.pcns_of(permissions.icb_of(api_user())), key=lambda o: (o.ods_code or "", o.id))
    return with_etag({"items": [_organisation(o) for o in pcns]})
