"""What the ICB lead sees of a round: the returns table, the heatmap, a submitted return, the chase list, exports.

Everything is read from submissions (frozen at submission) and the round's scope, in a fixed number of queries
bounded by the round: nothing grows with PCNs outside the ICB, and nothing is fetched PCN by PCN.
"""

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    RETURN_STATUS_LABELS,
    ROLE_LABELS,
    AuditEvent,
    Organisation,
    ReturnRound,
    ReturnStatus,
    Role,
    Submission,
    SubmissionAnswer,
    User,
)
from ..questionnaires import Domain, Questionnaire, registry
from ..templating import in_uk, uk_date
from .exports import safe_cell, workbook_bytes
from .rounds import (
    ReturnRow,
    frozen_cache,
    latest_submission_ids,
    questionnaires_of,
    record,
    return_rows,
    status_counts,
    submission_scores,
)

NOT_SUBMITTED = {ReturnStatus.NOT_STARTED, ReturnStatus.IN_PROGRESS, ReturnStatus.OVERDUE, ReturnStatus.REOPENED}


# The returns table --------------------------------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    label: str
    numeric: bool = False


@dataclass
class DashboardView:
    rows: list[ReturnRow]
    all_count: int
    counts: dict[ReturnStatus, int]
    submitted_percent: int
    core: Questionnaire
    supplement: Questionnaire | None
    domains: list[Domain]
    supplement_domains: list[Domain]
    columns: list[Column]
    sort: str
    descending: bool
    sub_icbs: list[tuple[str, str]]
    sub_icb: str
    status: str


def _sort_value(row: ReturnRow, key: str):
    if key == "pcn":
        return row.pcn_name.lower()
    if key == "sub_icb":
        return row.sub_icb_code
    if key == "status":
        return list(ReturnStatus).index(row.status)
    if key == "submitted":
        return row.submitted_at
    if key in ("now", "target", "supplement_now", "supplement_target"):
        return getattr(row, "overall_" + key if key in ("now", "target") else key)
    if key.startswith("domain:"):
        value = row.scores.get(key.removeprefix("domain:"))
        return value[0] if value else None
    return row.pcn_name.lower()


def build(round_: ReturnRound, args: Mapping[str, str]) -> DashboardView:
    core, supplement = questionnaires_of(round_)
    everyone = return_rows(round_)
    columns = [
        Column("pcn", "PCN"),
        Column("sub_icb", "Sub-ICB location"),
        Column("status", "Status"),
        Column("submitted", "Submitted"),
        Column("now", "Readiness now", True),
        Column("target", "At target", True),
    ]
    columns += [Column(f"domain:{d.id}", d.title, True) for d in core.domains]
    if supplement is not None:
        columns += [Column("supplement_now", "Supplement now", True), Column("supplement_target", "At target", True)]
        columns += [Column(f"domain:{d.id}", d.title, True) for d in supplement.domains]
    keys = {c.key for c in columns}
    sort = args.get("sort", "pcn")
    sort = sort if sort in keys else "pcn"
    descending = args.get("order") == "desc"

    sub_icbs = sorted({(r.sub_icb_code, r.sub_icb_name) for r in everyone if r.sub_icb_code})
    sub_icb = args.get("sub_icb", "")
    sub_icb = sub_icb if sub_icb in {code for code, _ in sub_icbs} else ""
    status = args.get("status", "")
    status = status if status in {s.value for s in ReturnStatus} else ""
    rows = [r for r in everyone if (not sub_icb or r.sub_icb_code == sub_icb) and (not status or r.status == status)]
    # Missing values (no return yet) go last whichever way the column is sorted.
    present = [r for r in rows if _sort_value(r, sort) is not None]
    missing = [r for r in rows if _sort_value(r, sort) is None]
    present.sort(key=lambda r: (_sort_value(r, sort), r.pcn_name.lower()), reverse=descending)
    counts = status_counts(everyone)
    return DashboardView(
        rows=present + missing,
        all_count=len(everyone),
        counts=counts,
        submitted_percent=round(100 * counts[ReturnStatus.SUBMITTED] / len(everyone)) if everyone else 0,
        core=core,
        supplement=supplement,
        domains=list(core.domains),
        supplement_domains=list(supplement.domains) if supplement else [],
        columns=columns,
        sort=sort,
        descending=descending,
        sub_icbs=sub_icbs,
        sub_icb=sub_icb,
        status=status,
    )


# The heatmap --------------------------------------------------------------------------------------------------------


@dataclass
class HeatCell:
    value: float | None
    band: str
    band_index: int


@dataclass
class HeatRow:
    row: ReturnRow
    cells: list[HeatCell]
    key: tuple = ()  # what the cells are worked out from: the frozen submission, the measure and the questionnaire


@dataclass
class Heatmap:
    measure: str
    domains: list[Domain]
    supplement_start: int | None
    rows: list[HeatRow]
    bands: list[tuple[str, float, float]]
    not_submitted: int
    summary: list[tuple[str, list[tuple[str, int]]]]


def heatmap(round_: ReturnRound, args: Mapping[str, str]) -> Heatmap:
    core, supplement = questionnaires_of(round_)
    measure = "target" if args.get("measure") == "target" else "now"
    domains = list(core.domains) + (list(supplement.domains) if supplement else [])
    index = 1 if measure == "target" else 0
    everyone = return_rows(round_)
    rows = [r for r in everyone if r.submission_id is not None]
    names = [b.name for b in core.bands]
    cache = frozen_cache("heat_cells")

    def cells_of(row: ReturnRow) -> list[HeatCell]:
        cells = []
        for d in domains:
            value = row.scores.get(d.id)
            if value is None:
                cells.append(HeatCell(None, "", -1))
            else:
                band = core.band_for(value[index])
                cells.append(HeatCell(value[index], band.name, names.index(band.name)))
        return cells

    heat_rows = []
    for row in rows:  # a submission's cells are the same every time: worked out once, then reused
        key = (row.submission_id, row.submitted_at, measure, round_.questionnaire_hash, round_.supplement_hash)
        heat_rows.append(HeatRow(row, cache.get_or_make(key, lambda row=row: cells_of(row)), key))
    limits = [b.min for b in core.bands] + [100]
    bands = [(b.name, b.min, limits[i + 1]) for i, b in enumerate(core.bands)]
    summary = []
    for position, d in enumerate(domains):
        tally = dict.fromkeys(names, 0)
        for heat_row in heat_rows:
            if heat_row.cells[position].band:
                tally[heat_row.cells[position].band] += 1
        summary.append((d.title, [(name, count) for name, count in tally.items() if count]))
    return Heatmap(
        measure=measure,
        domains=domains,
        supplement_start=len(core.domains) if supplement else None,
        rows=heat_rows,
        bands=bands,
        not_submitted=len(everyone) - len(rows),
        summary=summary,
    )


# A submitted return -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrozenAnswer:
    """An answer as submitted, with how the return page words each level."""

    current: int | None
    current_unsure: bool
    target: int | None
    target_unsure: bool
    not_applicable: bool
    note: str
    now_text: str
    target_text: str


@dataclass
class SubmissionView:
    submission: Submission
    core: Questionnaire
    supplement: Questionnaire | None
    core_score: object
    supplement_score: object
    answers: dict[str, FrozenAnswer]
    plan: list[dict]
    history: list[Submission]
    pdf_ready: bool


def _level_text(question, value: int | None, unsure: bool) -> str:
    if unsure:
        return "Not sure"
    if value is None:
        return "Not answered"
    return f"Level {value}: {question.levels.get(value, '') if question else ''}"


def _frozen_return(submission: Submission) -> tuple:
    """What a submitted return's page shows of its answers, scores and plan: frozen at submission, so worked out
    once (its answers read and scored again) and then reused."""
    core_score, supplement_score = submission_scores(submission)
    questions = {}
    for questionnaire_hash in (submission.questionnaire_hash, submission.supplement_hash):
        if questionnaire_hash:
            questions.update(registry().by_hash(questionnaire_hash).questions_by_id)
    answers = {}
    for a in submission.answers:
        question = questions.get(a.question_id)
        answers[a.question_id] = FrozenAnswer(
            a.current,
            a.current_unsure,
            a.target,
            a.target_unsure,
            a.not_applicable,
            a.note,
            _level_text(question, a.current, a.current_unsure),
            _level_text(question, a.target, a.target_unsure),
        )
    return core_score, supplement_score, answers, json.loads(submission.plan_json or "[]")


def submission_view(submission: Submission) -> SubmissionView:
    core_score, supplement_score, answers, plan = frozen_cache("returns", 2_000).get_or_make(
        (submission.id, submission.submitted_at), lambda: _frozen_return(submission)
    )
    history = list(
        db.session.scalars(
            select(Submission)
            .where(Submission.round_id == submission.round_id, Submission.pcn_id == submission.pcn_id)
            .order_by(Submission.id.desc())
        )
    )
    return SubmissionView(
        submission=submission,
        core=registry().by_hash(submission.questionnaire_hash),
        supplement=registry().by_hash(submission.supplement_hash) if submission.supplement_hash else None,
        core_score=core_score,
        supplement_score=supplement_score,
        answers=answers,
        plan=plan,
        history=history,
        pdf_ready=submission.pdf_rendered_at is not None,
    )


def stored_pdf(submission: Submission) -> bytes | None:
    return db.session.scalar(select(Submission.pdf).where(Submission.id == submission.id))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "file"


def pdf_name(submission: Submission) -> str:
    when = in_uk(submission.submitted_at).date().isoformat()
    return f"{submission.pcn.ods_code or submission.pcn_id}-{_slug(submission.pcn.name)}-return-{when}.pdf"


def filename(round_: ReturnRound, what: str, extension: str) -> str:
    return f"{_slug(round_.title)}-{_slug(what)}.{extension}"


# The chase list and reminders ---------------------------------------------------------------------------------------


@dataclass
class Contact:
    name: str
    email: str
    role: str


@dataclass
class ChaseRow:
    pcn_id: int
    pcn_name: str
    ods_code: str
    status: ReturnStatus
    last_reminded_at: datetime | None
    contacts: list[Contact]


def chase_list(round_: ReturnRound) -> list[ChaseRow]:
    outstanding = [r for r in return_rows(round_) if r.status in NOT_SUBMITTED]
    ids = [r.pcn_id for r in outstanding]
    contacts: dict[int, list[Contact]] = {}
    if ids:
        for user in db.session.scalars(
            select(User)
            .where(User.organisation_id.in_(ids), User.active.is_(True))
            .order_by(User.role != Role.CLINICAL_DIRECTOR, User.name)
        ):
            contacts.setdefault(user.organisation_id, []).append(
                Contact(user.name, user.email, ROLE_LABELS[Role(user.role)])
            )
    return [
        ChaseRow(r.pcn_id, r.pcn_name, r.ods_code, r.status, r.last_reminded_at, contacts.get(r.pcn_id, []))
        for r in outstanding
    ]


def default_reminder(round_: ReturnRound) -> str:
    return (
        f"Your PCN's neighbourhood readiness return for “{round_.title}” is due by "
        f"{uk_date(round_.closes_on)}. Sign in to PCN Neighbourhood Readiness to finish it; the clinical director "
        "submits it when the PCN agrees its answers. Thank you."
    )


def send_reminders(round_: ReturnRound, user: User, pcn_ids: list[int], text: str):
    from .. import jobs

    round_.reminder_text = text
    record(round_, "reminders_requested", f"Asked for reminders to {len(pcn_ids)} PCN(s) for “{round_.title}”.", user)
    db.session.commit()
    link = url_for("main.home", _external=True)
    params = {"pcn_ids": sorted(pcn_ids), "text": text, "link": f"Sign in: {link}"}
    return jobs.enqueue("reminders", round_id=round_.id, params=params, user=user)


def chase_csv(rows: list[ChaseRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["PCN code", "PCN", "Status", "Last reminded", "Name", "Role", "Email"])
    for row in rows:
        for contact in row.contacts or [Contact("", "", "")]:
            writer.writerow(
                [
                    safe_cell(row.ods_code),
                    safe_cell(row.pcn_name),
                    RETURN_STATUS_LABELS[row.status],
                    uk_date(row.last_reminded_at),
                    safe_cell(contact.name),
                    contact.role,
                    safe_cell(contact.email),
                ]
            )
    return buffer.getvalue()


# Exports ------------------------------------------------------------------------------------------------------------


def _pct(value: float | None):
    return None if value is None else round(value, 1)


def wide_rows(round_: ReturnRound) -> tuple[list[str], list[list]]:
    core, supplement = questionnaires_of(round_)
    domains = list(core.domains) + (list(supplement.domains) if supplement else [])
    header = ["Sub-ICB location code", "Sub-ICB location", "PCN code", "PCN", "Status", "Submitted", "Last reminded"]
    header += ["Readiness now (%)", "Readiness at target (%)"]
    if supplement is not None:
        header += ["Supplement readiness now (%)", "Supplement readiness at target (%)"]
    for d in domains:
        header += [f"{d.title}: now (%)", f"{d.title}: at target (%)"]
    rows = []
    for r in return_rows(round_):
        line = [
            r.sub_icb_code,
            r.sub_icb_name,
            r.ods_code,
            r.pcn_name,
            RETURN_STATUS_LABELS[r.status],
            in_uk(r.submitted_at).date() if r.submitted_at else None,
            in_uk(r.last_reminded_at).date() if r.last_reminded_at else None,
            _pct(r.overall_now),
            _pct(r.overall_target),
        ]
        if supplement is not None:
            line += [_pct(r.supplement_now), _pct(r.supplement_target)]
        for d in domains:
            value = r.scores.get(d.id)
            line += [_pct(value[0]), _pct(value[1])] if value else [None, None]
        rows.append(line)
    return header, rows


LONG_HEADER = [
    "PCN code",
    "PCN",
    "Section",
    "Domain",
    "Question",
    "Now (level)",
    "Now: not sure",
    "Target (level)",
    "Target: not sure",
    "Not applicable",
    "Note",
]


def long_rows(round_: ReturnRound) -> list[list]:
    core, supplement = questionnaires_of(round_)
    latest_ids = latest_submission_ids(round_.id)
    pcn = aliased(Organisation)
    result = db.session.execute(
        select(
            pcn.ods_code,
            pcn.name,
            Submission.questionnaire_hash,
            Submission.supplement_hash,
            SubmissionAnswer.section,
            SubmissionAnswer.domain_id,
            SubmissionAnswer.question_id,
            SubmissionAnswer.current,
            SubmissionAnswer.current_unsure,
            SubmissionAnswer.target,
            SubmissionAnswer.target_unsure,
            SubmissionAnswer.not_applicable,
            SubmissionAnswer.note,
        )
        .join(Submission, Submission.id == SubmissionAnswer.submission_id)
        .join(pcn, pcn.id == Submission.pcn_id)
        .where(SubmissionAnswer.submission_id.in_(latest_ids))
        .order_by(pcn.name, SubmissionAnswer.position)
    )
    rows = []
    for r in result:
        questionnaire = registry().by_hash(r.supplement_hash if r.section == "supplement" else r.questionnaire_hash)
        question = questionnaire.questions_by_id.get(r.question_id)
        domain = questionnaire.domain(r.domain_id)
        rows.append(
            [
                r.ods_code,
                r.name,
                "Supplement" if r.section == "supplement" else "Core",
                domain.title if domain else r.domain_id,
                question.text if question else r.question_id,
                r.current,
                "Yes" if r.current_unsure else "",
                r.target,
                "Yes" if r.target_unsure else "",
                "Yes" if r.not_applicable else "",
                r.note,
            ]
        )
    return rows


def export_csv(round_: ReturnRound, sheet: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if sheet == "wide":
        header, rows = wide_rows(round_)
    else:
        header, rows = LONG_HEADER, long_rows(round_)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v.isoformat() if hasattr(v, "isoformat") else v) for v in row])
    return buffer.getvalue()


def export_xlsx(round_: ReturnRound) -> bytes:
    header, rows = wide_rows(round_)
    return workbook_bytes([("Returns", header, rows), ("Answers", LONG_HEADER, long_rows(round_))])


# The audit log ------------------------------------------------------------------------------------------------------

AUDIT_PAGE = 50


def audit_events(area_id: int | None, page: int) -> tuple[list[AuditEvent], bool]:
    statement = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if area_id is not None:
        statement = statement.where(AuditEvent.area_id == area_id)
    events = list(db.session.scalars(statement.offset((page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE + 1)))
    return events[:AUDIT_PAGE], len(events) > AUDIT_PAGE
