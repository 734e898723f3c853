"""The six-month action plan: which actions the gaps need, in what order, in which month.

Method (also in docs/scoring.md):
- For every question whose target is above its current level, the questionnaire's suggested action for each
  step from the current level up to the target. Each "Not sure" becomes a find-out action in month 1.
- Priority of a step = gap (target - current) x question weight x domain weight.
- Foundations first: domains (and questions) a questionnaire declares others depend on are scheduled first;
  within a foundation tier, higher priority first.
- Each month takes at most the assessment's ceiling of actions; a later step of a question comes in a later
  month than the step before it, and a question's first step comes no earlier than the first action on any
  question or domain it depends on. What does not fit in six months is "later", for the PCN to consider.
- Regenerating keeps every action the PCN added, edited, started or removed; it adds what new gaps need,
  reschedules the untouched generated actions, and marks actions whose gap has closed.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from ..questionnaires import Question, Questionnaire
from .scoring import AnswerValue

MONTHS = (1, 2, 3, 4, 5, 6)


@dataclass(frozen=True)
class NeededAction:
    """An action the current answers call for, before it is scheduled."""

    key: str
    origin: str  # "suggested" or "find_out"
    domain_id: str
    question_id: str
    step: int | None
    title: str
    description: str
    owner: str
    priority: float
    rank: tuple  # sort key: foundations first, then priority, then questionnaire order


@dataclass(frozen=True)
class Placed:
    """What scheduling needs to know of an action already in the plan that it must not move."""

    question_id: str | None
    step: int | None
    month: int | None


def _depths(graph: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Longest chain of foundations under each node (the loader has already refused loops)."""

    @cache
    def depth(node: str) -> int:
        return max((depth(dep) + 1 for dep in graph.get(node, ()) if dep in graph), default=0)

    return {node: depth(node) for node in graph}


def foundation_ranks(questionnaire: Questionnaire) -> dict[str, tuple[int, int]]:
    """(domain tier, question tier) for every question: lower comes first."""
    domain_tier = _depths({d.id: d.depends_on for d in questionnaire.domains})
    question_tier = _depths({q.id: q.depends_on for q in questionnaire.questions_by_id.values()})
    return {q.id: (domain_tier[q.domain_id], question_tier[q.id]) for q in questionnaire.questions_by_id.values()}


def find_out_key(question: Question) -> str:
    return f"{question.id}:find-out"


def step_key(question: Question, step: int) -> str:
    return f"{question.id}:step-{step}"


def needed_actions(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> list[NeededAction]:
    """Every action the answers call for, in the order they should be scheduled."""
    ranks = foundation_ranks(questionnaire)
    order = {q_id: index for index, q_id in enumerate(questionnaire.questions_by_id)}
    needed: list[NeededAction] = []
    for domain in questionnaire.domains:
        for question in domain.questions:
            answer = answers.get(question.id)
            if answer is None:
                continue
            base = {"domain_id": domain.id, "question_id": question.id}
            if answer.current_unsure or answer.target_unsure:
                unknown = "where the PCN stands now" if answer.current_unsure else "a realistic six-month target"
                needed.append(
                    NeededAction(
                        key=find_out_key(question),
                        origin="find_out",
                        step=None,
                        title=f"Find out {unknown}: {question.text}",
                        description=(
                            f'You answered "Not sure". Ask the people who would know, agree {unknown}, '
                            "then update your answer so the plan can include the right next steps."
                        ),
                        owner="PCN manager",
                        priority=0,
                        rank=(-1, 0, 0, order[question.id], 0),
                        **base,
                    )
                )
            if answer.current_unsure or answer.current is None or answer.target is None:
                continue  # steps follow once the PCN knows where it stands and where it is going
            gap = answer.target - answer.current
            priority = gap * question.weight * domain.weight
            for step in range(answer.current + 1, answer.target + 1):
                suggested = question.actions[step]
                needed.append(
                    NeededAction(
                        key=step_key(question, step),
                        origin="suggested",
                        step=step,
                        title=suggested.title,
                        description=suggested.description,
                        owner=suggested.owner,
                        priority=priority,
                        rank=(*ranks[question.id], -priority, order[question.id], step),
                        **base,
                    )
                )
    needed.sort(key=lambda action: action.rank)
    return needed


def schedule(
    actions: list[NeededAction],
    questionnaire: Questionnaire,
    max_per_month: int,
    placed: Iterable[Placed] = (),
) -> dict[str, int | None]:
    """A month (1-6, or None for later) for each action, in the given order, around actions already placed."""
    load: Counter[int] = Counter()
    step_month: dict[tuple[str, int], int] = {}
    first_month: dict[str, int] = {}
    later_from: dict[str, int] = {}  # question -> its lowest step already put off until later
    for action in placed:
        if action.month is None:
            if action.question_id and action.step is not None:
                later_from[action.question_id] = min(later_from.get(action.question_id, 5), action.step)
            continue
        load[action.month] += 1
        if action.question_id and action.step is not None:
            step_month[(action.question_id, action.step)] = action.month
            first_month[action.question_id] = min(first_month.get(action.question_id, 7), action.month)

    domain_first: dict[str, int] = {}
    for action in placed:
        if action.month is not None and action.question_id in questionnaire.questions_by_id:
            domain_id = questionnaire.questions_by_id[action.question_id].domain_id
            domain_first[domain_id] = min(domain_first.get(domain_id, 7), action.month)

    months: dict[str, int | None] = {}
    for action in actions:
        if action.origin == "find_out":
            months[action.key] = 1  # a "Not sure" is always resolved first, whatever the load
            load[1] += 1
            continue
        question = questionnaire.questions_by_id[action.question_id]
        if action.step > later_from.get(action.question_id, 5):
            months[action.key] = None  # a later step never comes before an earlier one
            continue
        previous = step_month.get((action.question_id, action.step - 1))
        if previous is not None:
            earliest = previous + 1  # one step of a question a month, in order
        elif action.question_id in first_month:
            earliest = first_month[action.question_id]
        else:
            # Foundations first: not before the first action on any question or domain this one rests on.
            domain = questionnaire.domains_by_id[question.domain_id]
            earliest = max(
                [1]
                + [first_month[q] for q in question.depends_on if q in first_month]
                + [domain_first[d] for d in domain.depends_on if d in domain_first]
            )
        month = next((m for m in MONTHS if m >= earliest and load[m] < max_per_month), None)
        months[action.key] = month
        if month is None:
            later_from[action.question_id] = min(later_from.get(action.question_id, 5), action.step)
            continue
        load[month] += 1
        step_month[(action.question_id, action.step)] = month
        first_month[action.question_id] = min(first_month.get(action.question_id, month), month)
        domain_first[question.domain_id] = min(domain_first.get(question.domain_id, month), month)
    return months
