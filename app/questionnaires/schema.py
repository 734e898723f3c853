"""The questionnaire model: frozen dataclasses built by the loader from a validated YAML file."""

from dataclasses import dataclass, field
from functools import cached_property

LEVELS = (0, 1, 2, 3, 4)
STEPS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Action:
    title: str
    description: str
    owner: str


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


@dataclass(frozen=True)
class Domain:
    id: str
    title: str
    summary: str
    intro: str
    weight: float
    questions: tuple[Question, ...]
    depends_on: tuple[str, ...] = ()


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

    @cached_property
    def domains_by_id(self) -> dict[str, Domain]:
        return {d.id: d for d in self.domains}

    @cached_property
    def questions_by_id(self) -> dict[str, Question]:
        return {q.id: q for d in self.domains for q in d.questions}

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
