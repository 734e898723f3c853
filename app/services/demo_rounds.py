"""Demonstration return rounds for the Demo ICB, so the dashboard has something to show from the first sign-in.

- An earlier round, closed, in which Eastgate submitted and Valley Villages never did (overdue).
- An open round with the Kent and Medway supplement: Northfields submitted (with its plan and PDF), Eastgate and
  Market Towns in progress, Riverside, Harbour and Coast and Valley Villages not started (Riverside is left for
  cd@example.org to complete and submit; Harbour and Coast for trying the assessment outside a round). Seven more
  PCNs (demo.SUBMITTING_PCNS) submitted too, so the round has eight submitted returns and its benchmarks have
  something to show: each answers from a profile of its own (further on in some domains than others), so the
  spread between PCNs is real.

Answers are made up, deterministically, from each PCN's code. Loaded once: nothing is added if the Demo ICB has any
round already, except that a winter round loaded before the seven extra PCNs existed gets their returns.
"""

import random
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import Assessment, ReturnRound, RoundPcn
from ..models.base import utcnow
from ..queries.organisations import get_organisation_by_code as organisation_by_code
from ..queries.users import get_user_by_email as account
from ..questionnaires import Questionnaire, registry
from . import assessments, demo, rounds
from .scoring import AnswerValue

CORE = "neighbourhood-readiness"
SUPPLEMENT = "kent-medway-snh-supplement"
WINTER = "Neighbourhood readiness return, winter 2026"
# How far on each extra PCN is overall (a level from 0 to 4): a spread from early steps to well established.
MATURITY = {"U00010": 0.8, "U00011": 1.3, "U00012": 1.7, "U00013": 2.1, "U00014": 2.5, "U00015": 1.1, "U00016": 2.9}


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


def _profile_answers(questionnaire: Questionnaire, seed: str, maturity: float) -> dict[str, dict[str, AnswerValue]]:
    """A PCN's answers around its overall maturity, stronger in some domains than others, now and then "Not sure"."""
    rng = random.Random(seed)
    by_domain = {}
    for domain in questionnaire.domains:
        lean = rng.uniform(-0.9, 0.9)
        values = {}
        for question in domain.questions:
            if rng.random() < 0.04:
                values[question.id] = AnswerValue(current_unsure=True, target=min(4, round(maturity) + 1))
                continue
            now = max(0, min(4, round(maturity + lean + rng.gauss(0, 0.6))))
            values[question.id] = AnswerValue(current=now, target=min(4, now + rng.choice((0, 1, 1, 1, 2))))
        by_domain[domain.id] = values
    return by_domain


def _answer(assessment: Assessment, user, seed: str, domains=None, maturity: float | None = None) -> None:
    questionnaire = assessments.questionnaire_for(assessment)
    if maturity is None:
        answers = _answers(questionnaire, seed, domains)
    else:
        answers = _profile_answers(questionnaire, seed, maturity)
    for domain_id, values in answers.items():
        domain = questionnaire.domain(domain_id)
        progress = next(p for p in assessment.domains if p.domain_id == domain_id)
        assessments.save_domain(assessment, domain, values, progress.revision, user)


def _submit(round_: ReturnRound, code: str, email: str, maturity: float | None = None) -> None:
    pcn, user = organisation_by_code(code), account(email)
    assessment = rounds.start_return(round_, pcn, user)
    _answer(assessment, user, code + round_.title, maturity=maturity)
    assessments.complete_assessment(assessment)
    rounds.submit(assessment, user, declared=True)


def load() -> int:
    icb = organisation_by_code("QDM")
    lead = account("icb@example.org")
    if icb is None or lead is None:
        return 0
    if db.session.scalar(select(ReturnRound.id).where(ReturnRound.icb_id == icb.id).limit(1)):
        return _extra_returns(icb)
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
        title=WINTER,
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
    _extra_returns(icb)
    return 2


def _extra_returns(icb) -> int:
    """The extra PCNs' submitted winter returns, for those that have none yet; how many were added."""
    current = db.session.scalar(select(ReturnRound).where(ReturnRound.icb_id == icb.id, ReturnRound.title == WINTER))
    if current is None or not rounds.accepting_returns(current):
        return 0
    added = 0
    for _, code in demo.SUBMITTING_PCNS:
        pcn, user = organisation_by_code(code), account(_director_of(code))
        if pcn is None or user is None or pcn.area_id != icb.id:
            continue
        started = select(Assessment.id).where(Assessment.round_id == current.id, Assessment.pcn_id == pcn.id)
        if db.session.scalar(started.limit(1)):
            continue  # submitted already, or someone is working on it: left as it is
        if all(entry.pcn_id != pcn.id for entry in current.scope):
            current.scope.append(RoundPcn(pcn_id=pcn.id))
            db.session.flush()
        _submit(current, code, user.email, maturity=MATURITY[code])
        added += 1
    return added


def _director_of(code: str) -> str:
    return next(email for email, _, _, org in demo.ACCOUNTS if org == code)
