"""The questionnaire model: frozen dataclasses built by the loader from a validated YAML file."""

from dataclasses import dataclass, field
from functools import cached_property

DEFAULT_LEVEL_NAMES = ("Level 0", "Level 1", "Level 2", "Level 3", "Level 4")
# The roles in a PCN that can own an action; partner organisations are named in an action's `with`.
OWNERS = (
    "Clinical director",
    "Deputy clinical director",
    "PCN manager",
    "Operational lead",
    "Practice leads",
    "Digital lead",
)
# An action's effort, as days of PCN work the planner counts against a month's capacity.
EFFORT_DAYS = {"days": 2, "weeks": 5, "months": 10}
EFFORT_LABELS = {"days": "Days", "weeks": "Weeks", "months": "Months"}
DEFAULT_EFFORT = "days"  # questionnaires written before efforts existed


@dataclass(frozen=True)
class Scale:
    """The maturity scale: level names from level 0 up. With `below_first`, level 0 sits below the first named level."""

    names: tuple[str, ...] = DEFAULT_LEVEL_NAMES
    below_first: bool = False

    @property
    def max_level(self) -> int:
        return len(self.names) - 1

    @property
    def levels(self) -> range:
        return range(len(self.names))

    @property
    def steps(self) -> range:
        return range(1, len(self.names))

    def name(self, level: int) -> str:
        return self.names[level]

    def describe(self) -> str:
        """The scale in words, for pages and the report's method."""
        return f"{len(self.names)} levels, from {self.names[0]} (level 0) to {self.names[-1]} (level {self.max_level})"


@dataclass(frozen=True)
class Action:
    title: str
    description: str
    owner: str
    partner: str = ""  # `with` in the file: who the PCN works with on it
    effort: str = DEFAULT_EFFORT
    requires: tuple[tuple[str, int], ...] = ()  # (question id, level) that must exist first

    @property
    def effort_days(self) -> int:
        return EFFORT_DAYS[self.effort]


@dataclass(frozen=True)
class Question:
    id: str
    domain_id: str
    text: str
    guidance: str
    weight: float
    levels: dict[int, str]
    actions: dict[int, Action]
    depends_on: tuple[str, ...] = ()
    evidence: dict[int, str] = field(default_factory=dict)
    not_applicable: str = ""  # when set, "Not applicable or not in place locally yet" is offered; the text says when
    local_guidance: tuple[tuple[str, str], ...] = ()  # (supplement title, Markdown) attached by a supplement
    terms: tuple[str, ...] = ()  # glossary terms its text uses

    @property
    def allows_not_applicable(self) -> bool:
        return bool(self.not_applicable)


@dataclass(frozen=True)
class Domain:
    id: str
    title: str
    summary: str
    intro: str
    weight: float
    questions: tuple[Question, ...]
    depends_on: tuple[str, ...] = ()
    intro_terms: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """Glossary terms used on the domain's page, in the order they first appear."""
        seen = dict.fromkeys(self.intro_terms)
        for question in self.questions:
            seen.update(dict.fromkeys(question.terms))
        return tuple(seen)


@dataclass(frozen=True)
class Band:
    name: str
    min: float


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: str
    title: str
    kind: str
    description: str
    bands: tuple[Band, ...]
    domains: tuple[Domain, ...]
    max_actions_per_month: int = 5
    supplements: str | None = None
    content_hash: str = ""
    source: str = field(default="", repr=False, compare=False)
    scale: Scale = Scale()
    glossary: dict[str, str] = field(default_factory=dict, compare=False)
    plan_capacity: int = 12
    local_guidance: dict[str, str] = field(default_factory=dict, compare=False)
    # Glossary terms the text uses that its own glossary does not define, with their lines: a supplement may use
    # its core's terms, which only the directory check can see.
    borrowed_terms: dict[str, int] = field(default_factory=dict, compare=False)

    @cached_property
    def domains_by_id(self) -> dict[str, Domain]:
        return {d.id: d for d in self.domains}

    @cached_property
    def questions_by_id(self) -> dict[str, Question]:
        return {q.id: q for d in self.domains for q in d.questions}

    @property
    def question_count(self) -> int:
        return len(self.questions_by_id)

    def domain(self, domain_id: str) -> Domain | None:
        return self.domains_by_id.get(domain_id)

    def next_domain(self, domain_id: str) -> Domain | None:
        ids = [d.id for d in self.domains]
        index = ids.index(domain_id)
        return self.domains[index + 1] if index + 1 < len(ids) else None

    def band_for(self, percent: float) -> Band:
        """The band of a figure as people see it, rounded to a whole percent, so "75%" is never "Developing"."""
        shown = round(percent)
        chosen = self.bands[0]
        for band in self.bands:
            if shown >= band.min:
                chosen = band
        return chosen

    def level_name(self, level: int) -> str:
        return self.scale.name(level)

    def minutes(self, domain: Domain | None = None) -> int:
        """Expected minutes to answer: reading at 200 words a minute, and a minute to decide each question."""
        if domain is None:
            return self._minutes[None]
        if any(d is domain for d in self.domains):
            return self._minutes[domain.id]
        return _minutes_for(domain.questions)

    @cached_property
    def _minutes(self) -> dict[str | None, int]:
        """Counted once per loaded questionnaire: the home and Questionnaires pages ask on every view."""
        every = _minutes_for(tuple(self.questions_by_id.values()))
        return {None: every} | {d.id: _minutes_for(d.questions) for d in self.domains}

    def longest_section_minutes(self) -> int:
        return max((self.minutes(d) for d in self.domains), default=0)


def _minutes_for(questions) -> int:
    words = sum(
        len(text.split()) for q in questions for text in (q.text, q.guidance, *q.levels.values(), *q.evidence.values())
    )
    return max(1, round(words / 200 + len(questions)))
