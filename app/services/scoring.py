"""Readiness scoring. The method is documented in docs/scoring.md and printed in every report.

- Per question: current level c and six-month target t, each from 0 to the top level L of the questionnaire's
  scale. "Not sure" about where the PCN is now counts as c = 0 and is flagged; "Not sure" about the target
  counts as t = c (no planned change) and is flagged. The gap is t - c, never negative. "Not applicable or not
  in place locally yet" leaves the question out of every sum.
- Per domain: readiness now = 100 * sum(w * c) / sum(L * w) over its applicable questions, w the question
  weight; readiness at target likewise with t; the gap is the difference in percentage points. The band comes
  from the questionnaire's own band thresholds. A domain whose every question is not applicable has no figure
  and is left out of the overall one.
- Overall: the mean of the applicable domains' readiness weighted by domain weight.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..questionnaires import Band, Domain, Question, Questionnaire


@dataclass(frozen=True)
class AnswerValue:
    """An answer as scoring sees it: a level, or None with unsure=True for "Not sure", or None for unanswered."""

    current: int | None = None
    target: int | None = None
    current_unsure: bool = False
    target_unsure: bool = False
    note: str = ""
    not_applicable: bool = False  # "Not applicable or not in place locally yet": no levels, left out of the score

    @property
    def complete(self) -> bool:
        if self.not_applicable:
            return True
        return (self.current is not None or self.current_unsure) and (self.target is not None or self.target_unsure)


@dataclass(frozen=True)
class QuestionScore:
    question: Question
    answer: AnswerValue
    current: int
    target: int

    @property
    def gap(self) -> int:
        return self.target - self.current

    @property
    def unsure(self) -> bool:
        return self.answer.current_unsure or self.answer.target_unsure

    @property
    def applicable(self) -> bool:
        return not self.answer.not_applicable


@dataclass(frozen=True)
class DomainScore:
    domain: Domain
    questions: tuple[QuestionScore, ...]
    now: float
    target: float
    band: Band
    target_band: Band
    applicable: bool = True  # False when every question is "not applicable": the figures are then 0 and not shown

    @property
    def gap(self) -> float:
        return self.target - self.now

    @property
    def unsure_count(self) -> int:
        return sum(q.unsure for q in self.questions)

    @property
    def not_applicable_count(self) -> int:
        return sum(not q.applicable for q in self.questions)


@dataclass(frozen=True)
class AssessmentScore:
    domains: tuple[DomainScore, ...]
    now: float
    target: float
    band: Band
    target_band: Band

    @property
    def gap(self) -> float:
        return self.target - self.now

    def top_gaps(self, count: int = 5) -> list[tuple[DomainScore, QuestionScore]]:
        """The largest question gaps, larger weighted gaps first; question order breaks ties."""
        ranked = [(d, q) for d in self.domains for q in d.questions if q.gap > 0 and q.applicable]
        ranked.sort(key=lambda pair: (-pair[1].gap * pair[1].question.weight * pair[0].domain.weight, -pair[1].gap))
        return ranked[:count]

    @property
    def unsure_count(self) -> int:
        return sum(d.unsure_count for d in self.domains)

    @property
    def not_applicable_count(self) -> int:
        return sum(d.not_applicable_count for d in self.domains)


def effective_levels(answer: AnswerValue) -> tuple[int, int]:
    if answer.not_applicable:
        return 0, 0
    current = 0 if answer.current is None else answer.current
    target = current if answer.target is None else max(answer.target, current)
    return current, target


def score_question(question: Question, answer: AnswerValue) -> QuestionScore:
    current, target = effective_levels(answer)
    return QuestionScore(question=question, answer=answer, current=current, target=target)


def _percent(scores: Iterable[QuestionScore], attribute: str, top: int) -> float:
    scores = [s for s in scores if s.applicable]
    total = sum(top * s.question.weight for s in scores)
    if not total:
        return 0.0
    return 100.0 * sum(getattr(s, attribute) * s.question.weight for s in scores) / total


def score_domain(questionnaire: Questionnaire, domain: Domain, answers: Mapping[str, AnswerValue]) -> DomainScore:
    scores = tuple(score_question(q, answers.get(q.id, AnswerValue())) for q in domain.questions)
    top = questionnaire.scale.max_level
    now, target = _percent(scores, "current", top), _percent(scores, "target", top)
    return DomainScore(
        domain=domain,
        questions=scores,
        now=now,
        target=target,
        band=questionnaire.band_for(now),
        target_band=questionnaire.band_for(target),
        applicable=any(s.applicable for s in scores),
    )


def score_assessment(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> AssessmentScore:
    domains = tuple(score_domain(questionnaire, d, answers) for d in questionnaire.domains)
    counted = [d for d in domains if d.applicable]
    total_weight = sum(d.domain.weight for d in counted)
    now = sum(d.now * d.domain.weight for d in counted) / total_weight if total_weight else 0.0
    target = sum(d.target * d.domain.weight for d in counted) / total_weight if total_weight else 0.0
    return AssessmentScore(
        domains=domains,
        now=now,
        target=target,
        band=questionnaire.band_for(now),
        target_band=questionnaire.band_for(target),
    )
