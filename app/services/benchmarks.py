"""Benchmarks: how PCNs' submitted returns compare, for LMCs, ICBs and PCNs themselves.

The rules, tested without a browser:
- Only submitted returns count, never drafts: each PCN's latest submission (a reopened return keeps its last
  submitted copy until it is submitted again).
- Like with like: a figure compares returns on the same questionnaire content (id, version and the very text,
  by its hash). A round has one questionnaire, so a round's returns always compare.
- Small numbers: no aggregate of fewer than MIN_PCNS PCNs is shown anywhere; the caller says why instead.
- An LMC sees the PCNs in the sub-ICB locations it covers. Each is shown by its letter in the round unless its
  clinical director has chosen to name the PCN to its LMC; nothing unique to a lettered PCN is shown.
- An ICB lead sees its own area's returns with names.
- Quartiles are the inclusive method of Python's statistics.quantiles (the median of an even count is the mean of
  the middle two). Figures come from one query per view; the arithmetic is done here.
"""

import json
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import quantiles

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Organisation,
    OrgKind,
    ReturnRound,
    Role,
    RoundPcn,
    Submission,
    SubmissionAnswer,
    SubmissionDomainScore,
    User,
    lmc_coverage,
)
from ..questionnaires import Questionnaire, registry
from . import permissions

MIN_PCNS = 5
SMALL_NUMBERS = (
    "Fewer than {n} PCNs have submitted returns here, so no figures are shown: with so few, a figure could "
    "point to a single PCN."
)
TOP = 5


@dataclass(frozen=True)
class Spread:
    """Five figures of a distribution, in percent."""

    low: float
    q1: float
    median: float
    q3: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> "Spread":
        ordered = sorted(values)
        q1, mid, q3 = quantiles(ordered, n=4, method="inclusive")
        return cls(ordered[0], q1, mid, q3, ordered[-1])


@dataclass(frozen=True)
class DomainSpread:
    domain_id: str
    title: str
    count: int  # PCNs with a figure for this domain (a domain answered all "not applicable" has none)
    now: Spread | None  # None when count < MIN_PCNS
    target: Spread | None

    @property
    def shown_count(self) -> int | None:
        """How many PCNs have a figure, unless that is one to four: a count that small could point to a PCN."""
        return None if 0 < self.count < MIN_PCNS else self.count

    @property
    def count_text(self) -> str:
        return f"fewer than {MIN_PCNS}" if self.shown_count is None else str(self.count)


@dataclass(frozen=True)
class Member:
    """One PCN in a benchmark: by name, or by its letter in the round."""

    pcn_id: int
    label: str
    named: bool
    scores: dict[str, tuple[float, float]]  # domain id -> (now, target)
    key: tuple = ()  # the frozen submission its figures come from: (id, submitted at)


@dataclass(frozen=True)
class QuestionFigure:
    question_id: str
    text: str
    domain: str
    count: int  # PCNs counted
    value: float  # mean level now (weakest), or how many were "Not sure"
    low_share: float = 0.0  # share of PCNs at the lowest two levels
    low: int = 0  # how many PCNs are at the lowest two levels

    @property
    def low_text(self) -> str:
        """The share at the lowest two levels, never a count of one to four PCNs."""
        return f"fewer than {MIN_PCNS} PCNs" if 0 < self.low < MIN_PCNS else f"{self.low_share * 100:.0f}%"

    @property
    def unsure_text(self) -> str:
        return few(int(self.value), self.count)


@dataclass(frozen=True)
class ActionFigure:
    title: str
    domain: str
    count: int  # PCNs whose plan holds it
    total: int = 0  # PCNs in the view

    @property
    def count_text(self) -> str:
        return few(self.count, self.total)


def few(count: int, total: int) -> str:
    """ "7 of 12", but "fewer than 5 of 12" for one to four PCNs: a count that small could point to a PCN."""
    return f"fewer than {MIN_PCNS} of {total}" if 0 < count < MIN_PCNS else f"{count} of {total}"


@dataclass
class RoundBenchmark:
    round: ReturnRound
    questionnaire: Questionnaire
    count: int  # PCNs with a submitted return in this view
    named: bool  # names (ICB) or letters unless opted in (LMC)
    domains: list[DomainSpread] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    weakest: list[QuestionFigure] = field(default_factory=list)
    not_sure: list[QuestionFigure] = field(default_factory=list)
    actions: list[ActionFigure] = field(default_factory=list)

    @property
    def enough(self) -> bool:
        return self.count >= MIN_PCNS

    @property
    def small_numbers(self) -> str:
        return SMALL_NUMBERS.format(n=MIN_PCNS)


# Who sees what ------------------------------------------------------------------------------------------------------


def covered_pcn_ids(lmc: Organisation):
    """The PCNs in the sub-ICB locations an LMC covers, as a subquery."""
    return (
        select(Organisation.id)
        .join(lmc_coverage, lmc_coverage.c.sub_icb_id == Organisation.parent_id)
        .where(lmc_coverage.c.lmc_id == lmc.id, Organisation.kind == OrgKind.PCN)
        .scalar_subquery()
    )


def can_benchmark(user: User, round_: ReturnRound) -> bool:
    """An ICB lead for its own rounds; an LMC officer for rounds that include PCNs it covers."""
    if permissions.can_manage_round(user, round_):
        return True
    if user.role != Role.LMC_OFFICER or user.organisation.kind != OrgKind.LMC:
        return False
    found = db.session.scalar(
        select(RoundPcn.id)
        .where(RoundPcn.round_id == round_.id, RoundPcn.pcn_id.in_(covered_pcn_ids(user.organisation)))
        .limit(1)
    )
    return found is not None


def rounds_for(user: User) -> list[ReturnRound]:
    """The rounds this user may benchmark, newest first."""
    query = (
        select(ReturnRound)
        .options(joinedload(ReturnRound.icb))  # the page names each round's ICB
        .order_by(ReturnRound.closes_on.desc(), ReturnRound.id.desc())
    )
    icb_id = permissions.icb_of(user)
    if icb_id is not None:
        return list(db.session.scalars(query.where(ReturnRound.icb_id == icb_id)))
    if user.role == Role.LMC_OFFICER and user.organisation.kind == OrgKind.LMC:
        covered = covered_pcn_ids(user.organisation)
        with_pcns = select(RoundPcn.round_id).where(RoundPcn.pcn_id.in_(covered)).distinct()
        return list(db.session.scalars(query.where(ReturnRound.id.in_(with_pcns))))
    return []


def submitted_counts(user: User, round_ids: list[int]) -> dict[int, int]:
    """How many PCNs have submitted in each round, counting only the PCNs this user's view holds."""
    if not round_ids:
        return {}
    query = (
        select(Submission.round_id, func.count(func.distinct(Submission.pcn_id)))
        .where(Submission.round_id.in_(round_ids))
        .group_by(Submission.round_id)
    )
    if user.role == Role.LMC_OFFICER:
        query = query.where(Submission.pcn_id.in_(covered_pcn_ids(user.organisation)))
    return dict(db.session.execute(query).all())


# Letters ------------------------------------------------------------------------------------------------------------


def letter_for(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, 27 -> AB …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def ensure_letters(round_: ReturnRound, attempts: int = 3) -> dict[int, str]:
    """Each PCN in the round's scope has a letter, drawn at random once and kept: {pcn id: letter}."""
    # Once drawn, a letter never changes: when every PCN has one, they are read without a lock or a commit (which
    # would also expire everything the request has loaded).
    drawn = db.session.execute(select(RoundPcn.pcn_id, RoundPcn.letter).where(RoundPcn.round_id == round_.id)).all()
    if all(letter for _, letter in drawn):
        return dict(drawn)
    # The round's row is locked while letters are drawn (PostgreSQL), and a letter is unique in its round, so two
    # first views at the same moment cannot hand out the same letter twice: the later draw gives way and re-reads.
    db.session.execute(select(ReturnRound.id).where(ReturnRound.id == round_.id).with_for_update())
    rows = db.session.execute(
        select(RoundPcn.id, RoundPcn.pcn_id, RoundPcn.letter).where(RoundPcn.round_id == round_.id)
    ).all()
    used = {r.letter for r in rows if r.letter}
    missing = [r for r in rows if not r.letter]
    if not missing:
        db.session.commit()
        return {r.pcn_id: r.letter for r in rows}
    free, index = [], 0
    while len(free) < len(missing):
        candidate = letter_for(index)
        if candidate not in used:
            free.append(candidate)
        index += 1
    secrets.SystemRandom().shuffle(free)
    try:
        for row, letter in zip(missing, free, strict=True):
            db.session.execute(
                update(RoundPcn).where(RoundPcn.id == row.id, RoundPcn.letter.is_(None)).values(letter=letter)
            )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if attempts <= 1:
            raise
    return ensure_letters(round_, attempts - 1)


# A round's benchmark ------------------------------------------------------------------------------------------------


def _latest_in_round(round_id: int, pcn_ids=None):
    query = select(func.max(Submission.id)).where(Submission.round_id == round_id)
    if pcn_ids is not None:
        query = query.where(Submission.pcn_id.in_(pcn_ids))
    return query.group_by(Submission.pcn_id).scalar_subquery()


def round_benchmark(round_: ReturnRound, user: User) -> RoundBenchmark:
    """The round's submitted returns as this user may see them: distributions, and each PCN named or lettered."""
    from .rounds import frozen_cache, frozen_scores  # (rounds imports the templating, which imports this module)

    questionnaire = registry().by_hash(round_.questionnaire_hash)
    lmc = user.organisation if user.role == Role.LMC_OFFICER else None
    latest = _latest_in_round(round_.id, covered_pcn_ids(lmc) if lmc is not None else None)
    rows = db.session.execute(
        select(
            Submission.id,
            Submission.pcn_id,
            Organisation.name,
            Organisation.named_to_lmc,
            Submission.submitted_at,
        )
        .join(Organisation, Organisation.id == Submission.pcn_id)
        .where(Submission.id.in_(latest), Submission.questionnaire_hash == round_.questionnaire_hash)
    ).all()
    view = RoundBenchmark(round=round_, questionnaire=questionnaire, count=len(rows), named=lmc is None)
    if not view.enough:
        return view  # nothing about fewer than five PCNs leaves this function

    keys = {r.id: (r.id, r.submitted_at) for r in rows}
    frozen = frozen_scores(keys.values())
    scores = {submission_id: figures.core for submission_id, figures in frozen.items()}
    # The figures over a set of submitted returns never change: they are worked out once for each set.
    figures = frozen_cache("benchmark_figures", 500).get_or_make(
        (questionnaire.content_hash, frozenset(keys.values())),
        lambda: _round_figures(questionnaire, [r.id for r in rows], [scores[r.id] for r in rows]),
    )
    view.domains, view.weakest, view.not_sure, view.actions = figures
    letters = ensure_letters(round_) if lmc is not None else {}
    # With one to four PCNs lettered beside named ones, the letters could be told apart by elimination: then
    # every PCN in the view is shown by its letter.
    lettered = sum(not r.named_to_lmc for r in rows)
    naming = lmc is None or not 0 < lettered < MIN_PCNS
    members = []
    for r in rows:
        named = lmc is None or (naming and r.named_to_lmc)
        label = r.name if named else f"PCN {letters[r.pcn_id]}"
        members.append(Member(r.pcn_id, label, named, scores[r.id], keys[r.id]))
    # Named PCNs by name; lettered PCNs by letter: an order that says nothing about who they are.
    members.sort(key=lambda m: (not m.named, m.label if m.named else (len(m.label), m.label)))
    view.members = members
    return view


def _round_figures(questionnaire: Questionnaire, submission_ids: list[int], scores: list[dict]) -> tuple:
    """A round's distributions by domain, weakest questions, "Not sure" answers and common actions."""
    plans = list(db.session.scalars(select(Submission.plan_json).where(Submission.id.in_(submission_ids))))
    weakest, not_sure = question_figures(questionnaire, submission_ids)
    return domain_spreads(questionnaire, scores), weakest, not_sure, common_actions(questionnaire, plans)


def core_scores(submission_ids) -> dict[int, dict[str, tuple[float, float]]]:
    """Each submission's core domain figures, {submission id: {domain id: (now, target)}}, in one query; a domain
    whose every question was not applicable has none."""
    scores: dict[int, dict[str, tuple[float, float]]] = defaultdict(dict)
    for row in db.session.execute(
        select(
            SubmissionDomainScore.submission_id,
            SubmissionDomainScore.domain_id,
            SubmissionDomainScore.now,
            SubmissionDomainScore.target,
        ).where(
            SubmissionDomainScore.submission_id.in_(submission_ids),
            SubmissionDomainScore.section == "core",
            SubmissionDomainScore.applicable,
        )
    ):
        scores[row.submission_id][row.domain_id] = (row.now, row.target)
    return scores


def domain_spreads(questionnaire: Questionnaire, scores: list[dict[str, tuple[float, float]]]) -> list[DomainSpread]:
    spreads = []
    for domain in questionnaire.domains:
        values = [s[domain.id] for s in scores if domain.id in s]
        enough = len(values) >= MIN_PCNS
        spreads.append(
            DomainSpread(
                domain.id,
                domain.title,
                len(values),
                Spread.of([v[0] for v in values]) if enough else None,
                Spread.of([v[1] for v in values]) if enough else None,
            )
        )
    return spreads


def question_figures(
    questionnaire: Questionnaire, submission_ids: list[int]
) -> tuple[list[QuestionFigure], list[QuestionFigure]]:
    """The questions where PCNs are weakest now (lowest mean level), and those most often answered "Not sure"."""
    answered = and_(SubmissionAnswer.current.is_not(None), SubmissionAnswer.not_applicable.is_(False))
    rows = db.session.execute(
        select(
            SubmissionAnswer.question_id,
            func.count().filter(answered),
            func.avg(SubmissionAnswer.current).filter(answered),
            func.count().filter(answered, SubmissionAnswer.current <= 1),
            func.count().filter(SubmissionAnswer.current_unsure | SubmissionAnswer.target_unsure),
        )
        .where(SubmissionAnswer.submission_id.in_(submission_ids), SubmissionAnswer.section == "core")
        .group_by(SubmissionAnswer.question_id)
    ).all()
    top = questionnaire.scale.max_level or 1
    weakest, unsure = [], []
    for question_id, count, average, low, not_sure in rows:
        question = questionnaire.questions_by_id.get(question_id)
        if question is None:
            continue
        domain = questionnaire.domain(question.domain_id).title
        if count >= MIN_PCNS:
            weakest.append(
                QuestionFigure(question_id, question.text, domain, count, float(average) / top * 100, low / count, low)
            )
        if not_sure:
            unsure.append(QuestionFigure(question_id, question.text, domain, len(submission_ids), not_sure))
    weakest.sort(key=lambda f: (f.value, -f.low_share, f.question_id))
    unsure.sort(key=lambda f: (-f.value, f.question_id))
    return weakest[:TOP], unsure[:TOP]


def common_actions(questionnaire: Questionnaire, plans: list[str | None]) -> list[ActionFigure]:
    """The suggested actions most PCNs have planned (not dropped), counted once per PCN."""
    counts: Counter[tuple[str, str]] = Counter()
    for plan in plans:
        seen = set()
        for action in json.loads(plan or "[]"):
            if action.get("origin") != "suggested" or action.get("status") == "dropped":
                continue
            question = questionnaire.questions_by_id.get(action.get("question_id") or "")
            step = action.get("step")
            if question is None or step not in question.actions:
                continue
            key = (question.id, step)
            if key not in seen:
                seen.add(key)
                counts[key] += 1
    figures = []
    for (question_id, step), count in counts.most_common():
        question = questionnaire.questions_by_id[question_id]
        figures.append(
            ActionFigure(
                question.actions[step].title, questionnaire.domain(question.domain_id).title, count, len(plans)
            )
        )
    return figures[:TOP]


# A PCN's own comparison ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerGroup:
    label: str  # "PCNs in <ICB>", "PCNs in England"
    count: int
    domains: list[DomainSpread]
    # Shown beside a smaller group, a figure over one to four more PCNs would tell those few apart.
    withheld: bool = False

    @property
    def enough(self) -> bool:
        return self.count >= MIN_PCNS and not self.withheld

    @property
    def why_not(self) -> str:
        if self.withheld:
            return (
                f"no England figure is shown yet: fewer than {MIN_PCNS} PCNs outside your ICB have submitted "
                "returns on this questionnaire, so it could point to them."
            )
        return SMALL_NUMBERS.format(n=MIN_PCNS)


def _latest_on(questionnaire_hash: str, area_id: int | None):
    """Each PCN's latest submitted return on this questionnaire content (in this ICB's area, or anywhere)."""
    query = select(func.max(Submission.id)).where(Submission.questionnaire_hash == questionnaire_hash)
    if area_id is not None:
        in_area = select(Organisation.id).where(Organisation.area_id == area_id, Organisation.kind == OrgKind.PCN)
        query = query.where(Submission.pcn_id.in_(in_area.scalar_subquery()))
    return query.group_by(Submission.pcn_id)


def peer_group(questionnaire: Questionnaire, label: str, area_id: int | None) -> PeerGroup:
    latest = list(db.session.scalars(_latest_on(questionnaire.content_hash, area_id)))
    if len(latest) < MIN_PCNS:
        return PeerGroup(label, len(latest), [])
    scores = core_scores(latest)
    return PeerGroup(label, len(latest), domain_spreads(questionnaire, list(scores.values())))


def peer_comparison(questionnaire: Questionnaire, pcn: Organisation) -> list[PeerGroup]:
    """The PCN's ICB and England, each compared on this exact questionnaire content."""
    groups = []
    if pcn.area is not None:
        groups.append(peer_group(questionnaire, f"PCNs in {pcn.area.name}", pcn.area_id))
    england = peer_group(questionnaire, "PCNs in England", None)
    if groups and groups[0].enough and 0 < england.count - groups[0].count < MIN_PCNS:
        england = PeerGroup(england.label, england.count, [], withheld=True)
    groups.append(england)
    return groups
