"""Which core questionnaires are offered to PCNs for self-assessment: an administrator's choice.

Every questionnaire file that passes the check can be offered. Until an administrator has chosen, the
questionnaires named in the DEFAULT_QUESTIONNAIRES setting are offered (the shipped core).
"""

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import QuestionnaireOffer, User
from ..questionnaires import Questionnaire, registry
from . import audit


def _choices() -> dict[str, bool]:
    return {row.questionnaire_key: row.offered for row in db.session.scalars(select(QuestionnaireOffer))}


def is_offered(questionnaire: Questionnaire, choices: dict[str, bool] | None = None) -> bool:
    choices = _choices() if choices is None else choices
    if questionnaire.kind != "core":
        return False
    if questionnaire.id in choices:
        return choices[questionnaire.id]
    return questionnaire.id in current_app.config["DEFAULT_QUESTIONNAIRES"]


def offered_cores() -> list[Questionnaire]:
    """The core questionnaires a PCN may start, in title order; never empty while any core file exists."""
    choices = _choices()
    cores = sorted(registry().core(), key=lambda q: q.title.casefold())
    offered = [q for q in cores if is_offered(q, choices)]
    return offered or cores[:1]


def catalogue() -> list[tuple[Questionnaire, bool]]:
    """Every questionnaire that passed the check, cores first, with whether it is offered."""
    choices = _choices()
    found = sorted(registry().current.values(), key=lambda q: (q.kind != "core", q.title.casefold()))
    return [(q, is_offered(q, choices)) for q in found]


def set_offered(keys: set[str], user: User) -> list[str]:
    """Offer exactly these core questionnaires; returns the titles whose offer changed, and audits each change."""
    changed = []
    choices = _choices()
    for questionnaire in registry().core():
        want = questionnaire.id in keys
        if is_offered(questionnaire, choices) == want:
            continue
        row = db.session.get(QuestionnaireOffer, questionnaire.id) or QuestionnaireOffer(
            questionnaire_key=questionnaire.id
        )
        row.offered, row.updated_by_id = want, user.id
        db.session.add(row)
        verb = "Offered" if want else "Stopped offering"
        audit.record(
            "questionnaire_offer", f"{verb} “{questionnaire.title}” for self-assessment.", area_id=None, user=user
        )
        changed.append(questionnaire.title)
    db.session.commit()
    return changed
