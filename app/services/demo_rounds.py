"""Demonstration return rounds for the Demo ICB, so the dashboard has something to show from the first sign-in.

- An earlier round, closed, in which Eastgate submitted and Valley Villages never did (overdue).
- An open round with the Kent and Medway supplement: Northfields submitted (with its plan and PDF), Eastgate and
  Market Towns in progress, Riverside, Harbour and Coast and Valley Villages not started (Riverside is left for
  cd@example.org to complete and submit; Harbour and Coast for trying the assessment outside a round).

Answers are made up, deterministically, from each PCN's code. Loaded once: nothing is added if the Demo ICB has any
round already.
"""

import random
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import Assessment, ReturnRound
from ..models.base import utcnow
from ..queries.organisations import get_organisation_by_code as organisation_by_code
from ..queries.users import get_user_by_email as account
from ..questionnaires import Questionnaire, registry
from . import assessments, rounds
from .scoring import AnswerValue

CORE = "neighbourhood-readiness"
SUPPLEMENT = "kent-medway-snh-supplement"


def _answers(questionnaire: Questionnaire, seed: str, domains=None) -> dict[str, dict[str, AnswerValue]]:
    rng = random.Random(seed)
    by_domain = {}
    for domain in questionnaire.domains:
        if domains is not None and domain.id not in domains:
            continue
        values = {}
        for question in domain.questions:
            now = rng.choice((0, 1, 1, 2, 2, 3))
            values[question.id] = AnswerValue(current=now, target=min(4, now + rng.choice((0, 1, 1, 2))))
        by_domain[domain.id] = values
    return by_domain


def _answer(assessment: Assessment, user, seed: str, domains=None) -> None:
    questionnaire = assessments.questionnaire_for(assessment)
    for domain_id, values in _answers(questionnaire, seed, domains).items():
        domain = questionnaire.domain(domain_id)
        progress = next(p for p in assessment.domains if p.domain_id == domain_id)
        assessments.save_domain(assessment, domain, values, progress.revision, user)


def _submit(round_: ReturnRound, code: str, email: str) -> None:
    pcn, user = organisation_by_code(code), account(email)
    assessment = rounds.start_return(round_, pcn, user)
    _answer(assessment, user, code + round_.title)
    assessments.complete_assessment(assessment)
    rounds.submit(assessment, user, declared=True)


def load() -> int:
    icb = organisation_by_code("QDM")
    lead = account("icb@example.org")
    if icb is None or lead is None:
        return 0
    if db.session.scalar(select(ReturnRound.id).where(ReturnRound.icb_id == icb.id).limit(1)):
        return 0
    today = rounds.today()
    pcns = {p.ods_code: p for p in rounds.pcns_of(icb.id)}

    earlier = rounds.create_round(
        icb,
        lead,
        title="Neighbourhood readiness return, spring 2026",
        core=registry().get(CORE),
        supplement=None,
        opens_on=today - timedelta(days=200),
        closes_on=today - timedelta(days=150),
        pcn_ids=[pcns["U00005"].id, pcns["U00006"].id],
    )
    earlier.closes_on = today + timedelta(days=1)  # open while Eastgate submits, then back to its real dates
    _submit(earlier, "U00005", "cd5@example.org")
    earlier.closes_on = today - timedelta(days=150)
    earlier.closed_early_at = utcnow() - timedelta(days=140)
    db.session.commit()

    current = rounds.create_round(
        icb,
        lead,
        title="Neighbourhood readiness return, winter 2026",
        core=registry().get(CORE),
        supplement=registry().get(SUPPLEMENT),
        opens_on=today - timedelta(days=14),
        closes_on=today + timedelta(days=21),
        pcn_ids=[p.id for p in pcns.values()],
    )
    _submit(current, "U00002", "cd2@example.org")
    eastgate = rounds.start_return(current, pcns["U00005"], account("cd5@example.org"))
    _answer(eastgate, account("cd5@example.org"), "U00005", domains={"leadership", "external-relationships"})
    market_user = account("cd6@example.org")
    market = rounds.start_return(current, pcns["U00004"], market_user)
    _answer(market, market_user, "U00004", domains={"leadership"})
    return 2
