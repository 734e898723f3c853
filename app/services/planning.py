"""The six-month action plan: which actions the gaps need, in what order, in which month.

Method (also in docs/scoring.md):
- For every applicable question whose target is above its current level, the questionnaire's suggested action
  for each step from the current level up to the target, on the questionnaire's own scale (steps current+1 to
  target). A question answered "Not applicable" gets no actions. Each "Not sure" becomes a find-out action in
  month 1, counted as a few days of work.
- Every action carries an effort from the questionnaire: days (2 days of PCN work), weeks (5) or months (10).
- Priority of a step = gap (target - current) x question weight x domain weight. A step that other actions
  require adds their priority to its own and ranks in the earliest foundation tier among them.
- Foundations first: domains (and questions) a questionnaire declares others depend on are scheduled first;
  within a foundation tier, higher priority first.
- Capacity: each month holds at most the PCN's capacity in days of work (the questionnaire's default unless
  the PCN chose its own); an action bigger than the capacity may go alone in an otherwise empty month. A later
  step of a question comes in a later month than the step before it, and a question's first step comes no
  earlier than the first action on any question or domain it depends on.
- Requires: an action that assumes another question has reached a level (most often the neighbourhood
  leaders' meeting) comes in a month after the step that reaches that level, which is scheduled first. No
  constraint when the PCN is already at that level or has answered the question "Not applicable"; when that
  step is not in the six months (the target stops short of it, or it went to "later"), neither is the action.
- What does not fit in six months is "later", for the PCN to consider.
- Regenerating keeps every action the PCN added, edited, started or removed, and counts their effort in their
  months; it adds what new gaps need, reschedules the untouched generated actions, and marks actions whose gap
  has closed.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache

from ..questionnaires import Question, Questionnaire
from ..questionnaires.schema import DEFAULT_EFFORT, EFFORT_DAYS
from .scoring import AnswerValue

MONTHS = (1, 2, 3, 4, 5, 6)
FIND_OUT_EFFORT = "days"  # finding out an answer is a few days of asking around


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
    partner: str = ""
    effort: str = DEFAULT_EFFORT
    # The questionnaire's `requires` that these answers leave open: (question id, level) steps that must come first.
    requires: tuple[tuple[str, int], ...] = ()

    @property
    def effort_days(self) -> int:
        return EFFORT_DAYS[self.effort]


@dataclass(frozen=True)
class Placed:
    """What scheduling needs to know of an action already in the plan that it must not move."""

    question_id: str | None
    step: int | None
    month: int | None
    effort_days: int = EFFORT_DAYS[DEFAULT_EFFORT]


def effort_days(effort: str | None) -> int:
    """Days of PCN work for a stored effort; an action saved before efforts existed counts as a few days."""
    return EFFORT_DAYS.get(effort or DEFAULT_EFFORT, EFFORT_DAYS[DEFAULT_EFFORT])


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


def step_key(question: Question | str, step: int) -> str:
    question_id = question if isinstance(question, str) else question.id
    return f"{question_id}:step-{step}"


def open_requirements(
    questionnaire: Questionnaire, requires: Iterable[tuple[str, int]], answers: Mapping[str, AnswerValue]
) -> tuple[tuple[str, int], ...]:
    """The requirements these answers have not met yet: the PCN is below the level and the question applies."""
    left = []
    for question_id, level in requires:
        if question_id not in questionnaire.questions_by_id:
            continue  # a question outside this plan (a supplement's reference): nothing to wait for
        answer = answers.get(question_id) or AnswerValue()
        if answer.not_applicable:
            continue
        current = 0 if answer.current_unsure or answer.current is None else answer.current
        if current < level:
            left.append((question_id, level))
    return tuple(left)


def needed_actions(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> list[NeededAction]:
    """Every action the answers call for, in the order they should be scheduled."""
    ranks = foundation_ranks(questionnaire)
    order = {q_id: index for index, q_id in enumerate(questionnaire.questions_by_id)}
    top = questionnaire.scale.max_level
    needed: list[NeededAction] = []
    for domain in questionnaire.domains:
        for question in domain.questions:
            answer = answers.get(question.id)
            if answer is None or answer.not_applicable:
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
                        effort=FIND_OUT_EFFORT,
                        **base,
                    )
                )
            if answer.current_unsure or answer.current is None or answer.target is None:
                continue  # steps follow once the PCN knows where it stands and where it is going
            current, target = max(answer.current, 0), min(answer.target, top)
            priority = (target - current) * question.weight * domain.weight
            for step in range(current + 1, target + 1):
                suggested = question.actions.get(step)
                if suggested is None:
                    continue
                needed.append(
                    NeededAction(
                        key=step_key(question, step),
                        origin="suggested",
                        step=step,
                        title=suggested.title,
                        description=suggested.description,
                        owner=suggested.owner,
                        partner=suggested.partner,
                        effort=suggested.effort,
                        requires=open_requirements(questionnaire, suggested.requires, answers),
                        priority=priority,
                        rank=(*ranks[question.id], -priority, order[question.id], step),
                        **base,
                    )
                )
    needed = _unlocking_first(needed)
    needed.sort(key=lambda action: action.rank)
    return needed


def _unlocking_first(needed: list[NeededAction]) -> list[NeededAction]:
    """A step other actions require (the leaders' meeting most of all) ranks with the earliest of them, and
    carries their priority as well as its own: the more work waits on it, the sooner it is scheduled."""
    keys = {a.key for a in needed}
    required_by: dict[str, list[NeededAction]] = {}
    for action in needed:
        for question_id, level in action.requires:
            if (key := step_key(question_id, level)) in keys:
                required_by.setdefault(key, []).append(action)

    def waiting(key: str, seen: set[str]) -> list[NeededAction]:
        found = []
        for action in required_by.get(key, ()):
            if action.key not in seen:
                seen.add(action.key)
                found += [action, *waiting(action.key, seen)]
        return found

    ranked = []
    for action in needed:
        unlocks = waiting(action.key, {action.key})
        if unlocks:
            priority = action.priority + sum(a.priority for a in unlocks)
            tiers = min([action.rank[:2], *(a.rank[:2] for a in unlocks)])
            action = replace(action, rank=(*tiers, -priority, *action.rank[3:]))
        ranked.append(action)
    return ranked


NEVER = 10**6  # a step number no question reaches: nothing of it is put off


class _Months:
    """The months being filled: load in days, and when each step of each question and domain first happens."""

    def __init__(self, questionnaire: Questionnaire, capacity_days: int, placed: Iterable[Placed]):
        self.questionnaire = questionnaire
        self.capacity = capacity_days
        self.load: Counter[int] = Counter()
        self.step_month: dict[tuple[str, int], int | None] = {}  # None: put off until later
        self.first_month: dict[str, int] = {}
        self.domain_first: dict[str, int] = {}
        self.later_from: dict[str, int] = {}  # question -> its lowest step put off until later
        for action in placed:
            if action.month is None:
                if action.question_id and action.step is not None:
                    self._put_off(action.question_id, action.step)
                continue
            self.load[action.month] += action.effort_days
            if action.question_id and action.step is not None:
                self._record(action.question_id, action.step, action.month)

    def _put_off(self, question_id: str, step: int) -> None:
        self.step_month.setdefault((question_id, step), None)
        self.later_from[question_id] = min(self.later_from.get(question_id, NEVER), step)

    def _record(self, question_id: str, step: int, month: int) -> None:
        self.step_month[(question_id, step)] = month
        self.first_month[question_id] = min(self.first_month.get(question_id, month), month)
        question = self.questionnaire.questions_by_id.get(question_id)
        if question is not None:
            self.domain_first[question.domain_id] = min(self.domain_first.get(question.domain_id, month), month)

    def fits(self, month: int, days: int) -> bool:
        return self.load[month] + days <= self.capacity or self.load[month] == 0

    def earliest(self, action: NeededAction) -> int | None:
        """The first month the rules allow for this step, or None when it cannot be in the six months."""
        if action.step > self.later_from.get(action.question_id, NEVER):
            return None  # a later step never comes before an earlier one
        question = self.questionnaire.questions_by_id[action.question_id]
        if (action.question_id, action.step - 1) in self.step_month:
            previous = self.step_month[(action.question_id, action.step - 1)]
            if previous is None:
                return None
            earliest = previous + 1  # one step of a question a month, in order
        elif action.question_id in self.first_month:
            earliest = self.first_month[action.question_id]
        else:
            # Foundations first: not before the first action on any question or domain this one rests on.
            domain = self.questionnaire.domains_by_id[question.domain_id]
            earliest = max(
                [1]
                + [self.first_month[q] for q in question.depends_on if q in self.first_month]
                + [self.domain_first[d] for d in domain.depends_on if d in self.domain_first]
            )
        for needed in action.requires:
            month = self.step_month.get(needed)
            if month is None:
                return None  # the step it relies on is not in the six months, so neither is this
            earliest = max(earliest, month + 1)
        return earliest

    def place(self, action: NeededAction) -> int | None:
        if action.origin == "find_out":
            self.load[1] += action.effort_days  # a "Not sure" is always resolved first, whatever the load
            return 1
        earliest = self.earliest(action)
        month = None
        if earliest is not None:
            month = next((m for m in MONTHS if m >= earliest and self.fits(m, action.effort_days)), None)
        if month is None:
            self._put_off(action.question_id, action.step)
        else:
            self.load[month] += action.effort_days
            self._record(action.question_id, action.step, month)
        return month


def _before(actions: list[NeededAction], questionnaire: Questionnaire) -> dict[str, list[str]]:
    """For each action, the actions in this run that must be scheduled before it can be."""
    keys = {a.key for a in actions}
    first_step: dict[str, str] = {}
    of_question: dict[str, list[str]] = {}
    of_domain: dict[str, list[str]] = {}
    for action in actions:
        if action.origin != "suggested":
            continue
        first_step.setdefault(action.question_id, action.key)
        of_question.setdefault(action.question_id, []).append(action.key)
        of_domain.setdefault(action.domain_id, []).append(action.key)
    before: dict[str, list[str]] = {}
    for action in actions:
        if action.origin != "suggested":
            continue
        question = questionnaire.questions_by_id[action.question_id]
        needs = [step_key(question_id, level) for question_id, level in action.requires]
        previous = step_key(question, action.step - 1)
        if previous in keys:
            needs.insert(0, previous)
        if first_step[action.question_id] == action.key:
            domain = questionnaire.domains_by_id[question.domain_id]
            needs = [
                *(key for q in question.depends_on for key in of_question.get(q, ())),
                *(key for d in domain.depends_on for key in of_domain.get(d, ())),
                *needs,
            ]
        before[action.key] = [key for key in needs if key in keys]
    return before


def schedule(
    actions: list[NeededAction],
    questionnaire: Questionnaire,
    capacity_days: int,
    placed: Iterable[Placed] = (),
) -> dict[str, int | None]:
    """A month (1-6, or None for later) for each action, around actions already placed.

    Actions are taken in the given order, except that whatever an action must come after (the step before it,
    its foundations, the steps it requires) is scheduled first.
    """
    calendar = _Months(questionnaire, capacity_days, placed)
    by_key = {a.key: a for a in actions}
    before = _before(actions, questionnaire)
    months: dict[str, int | None] = {}

    def take(action: NeededAction, visiting: set[str]) -> None:
        if action.key in months or action.key in visiting:
            return  # done, or in a loop of requirements: what waits on it finds its step unplaced, so later
        visiting.add(action.key)
        for key in before.get(action.key, ()):
            take(by_key[key], visiting)
        visiting.discard(action.key)
        months[action.key] = calendar.place(action)

    for action in actions:
        if action.origin == "find_out":
            take(action, set())
    for action in actions:
        take(action, set())
    return months
