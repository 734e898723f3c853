"""The API's benchmark routes, for ICB leads and LMC officers: each reads through app/services/benchmarks.py, as the
benchmark pages do, so the API can never show more than the page: no figure from fewer than five PCNs, no count of
one to four PCNs, and to an LMC each PCN by its letter unless it chose to be named."""

from flask import url_for

from ..benchmarks import LETTERS, PURPOSE, which_returns
from ..extensions import db
from ..models import ReturnRound
from ..questionnaires import Questionnaire, registry
from ..services import benchmarks as service
from ..services import security_log
from . import BENCHMARK_READERS, PREFIX, ApiProblem, api_user, bp, token_view, with_etag
from .spec import operation


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _questionnaire(questionnaire: Questionnaire) -> dict:
    return {"id": questionnaire.id, "title": questionnaire.title, "version": str(questionnaire.version)}


def _small(count: int, total: int) -> dict:
    """A count of PCNs as the page gives it: never the number when it is one to four."""
    hidden = 0 < count < service.MIN_PCNS
    return {"count": None if hidden else count, "of": total, "text": service.few(count, total)}


@bp.route(f"{PREFIX}/benchmarks")
@token_view(roles=BENCHMARK_READERS)
@operation(summary="The rounds you can benchmark, newest first", response="BenchmarkList", etag=True)
def benchmarks_list():
    user = api_user()
    found = service.rounds_for(user)
    counts = service.submitted_counts(user, [r.id for r in found])
    items = []
    for r in found:
        items.append(
            {
                "id": r.id,
                "title": r.title,
                "icb": r.icb.name,
                "opens_on": r.opens_on.isoformat(),
                "closes_on": r.closes_on.isoformat(),
                "questionnaire": _questionnaire(registry().by_hash(r.questionnaire_hash)),
                "returns_counted": counts.get(r.id, 0),
                "links": {"benchmark": url_for("api.round_benchmark", round_id=r.id)},
            }
        )
    return with_etag({"items": items})


@bp.route(f"{PREFIX}/rounds/<int:round_id>/benchmark")
@token_view(roles=BENCHMARK_READERS)
@operation(
    summary="A round's benchmark: spreads by domain, each PCN (named or lettered) and common questions and actions",
    response="RoundBenchmark",
)
def round_benchmark(round_id: int):
    user = api_user()
    round_ = db.session.get(ReturnRound, round_id)
    if round_ is None or not service.can_benchmark(user, round_):
        if round_ is not None:
            security_log.event("object_access_denied", "refused", user=user, round_id=round_id)
        raise ApiProblem(404, "There is no round with this id that your token can benchmark.")
    view = service.round_benchmark(round_, user)
    body = {
        "round": {"id": round_.id, "title": round_.title, "icb": round_.icb.name},
        "returns": {
            "count": view.count,
            "round": round_.title,
            "questionnaire": _questionnaire(view.questionnaire),
            "text": which_returns(view),
        },
        "enough": view.enough,
        "minimum_pcns": service.MIN_PCNS,
        "named": view.named,
        "purpose": PURPOSE,
        "letters": None if view.named else LETTERS,
        "small_numbers": None if view.enough else view.small_numbers,
        "links": {"self": url_for("api.round_benchmark", round_id=round_.id)},
    }
    if not view.enough:
        return body  # no figures at all: the page says why, and so does this

    def spread(s: service.Spread | None) -> dict | None:
        if s is None:
            return None
        return {"low": _pct(s.low), "q1": _pct(s.q1), "median": _pct(s.median), "q3": _pct(s.q3), "high": _pct(s.high)}

    body["domains"] = [
        {
            "domain_id": d.domain_id,
            "title": d.title,
            "count": d.shown_count,
            "now": spread(d.now),
            "target": spread(d.target),
            "note": None if d.now is not None else f"Fewer than {service.MIN_PCNS} PCNs: not shown",
        }
        for d in view.domains
    ]
    body["pcns"] = [
        {
            "label": m.label,
            "named": m.named,
            "domains": [
                {
                    "domain_id": d.domain_id,
                    "now": _pct(m.scores[d.domain_id][0]) if d.domain_id in m.scores else None,
                    "target": _pct(m.scores[d.domain_id][1]) if d.domain_id in m.scores else None,
                }
                for d in view.domains
            ],
        }
        for m in view.members
    ]
    body["weakest"] = [
        {
            "question_id": f.question_id,
            "question": f.text,
            "domain": f.domain,
            "pcns_counted": f.count,
            "average_now": _pct(f.value),
            "lowest_two_levels": {
                "share": None if 0 < f.low < service.MIN_PCNS else _pct(f.low_share * 100),
                "text": f.low_text,
            },
        }
        for f in view.weakest
    ]
    body["not_sure"] = [
        {
            "question_id": f.question_id,
            "question": f.text,
            "domain": f.domain,
            "not_sure": _small(int(f.value), f.count),
        }
        for f in view.not_sure
    ]
    body["common_actions"] = [
        {"action": a.title, "domain": a.domain, "planned_by": _small(a.count, a.total)} for a in view.actions
    ]
    return body
