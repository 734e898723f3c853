"""The readiness report: one template for the HTML print view and the A4 PDF (WeasyPrint).

The PDF uses a print stylesheet of our own (app/static/report.css), parsed once and reused, and a URL fetcher
that serves files from the static folder only: anything else is refused at once rather than waited for.

A PCN's PDF is rendered once per state of everything it shows and served from storage (StoredReport) until that
state changes: see `report_state_key` for what the state is, and `stored_pdf` for the download.
"""

import gc
import hashlib
import mimetypes
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from datetime import datetime
from importlib.metadata import version as package_version
from pathlib import Path

from flask import render_template
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..config import PROJECT_ROOT
from ..extensions import db
from ..models import Answer, Assessment, AssessmentStatus, Organisation, PlanAction, StoredReport, User
from ..models.base import utcnow
from ..questionnaires import Question, Questionnaire, Scale
from ..questionnaires.schema import EFFORT_LABELS
from ..templating import UK, in_uk, render_markdown, uk_date
from . import benchmarks, charts, pdf_engine, peer_figures
from .assessments import answer_values, core_questionnaire, questionnaire_for, supplement_questionnaire
from .planning import MONTHS
from .plans import by_month, progress_counts, visible_actions
from .progress import progress_of
from .scoring import AnswerValue, AssessmentScore, DomainScore, QuestionScore, score_assessment

STATIC_DIR = PROJECT_ROOT / "app" / "static"
STYLESHEET = STATIC_DIR / "report.css"
SCORING_METHOD = PROJECT_ROOT / "docs" / "scoring.md"
TOP_GAPS = 5
# Tagged PDF (structure tree, alternative text for the charts from their <title>) with PDF/UA-1 metadata.
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1"}


@dataclass(frozen=True)
class AnswerRow:
    question: Question
    now: str
    now_text: str
    target: str
    target_text: str
    note: str
    not_applicable: bool = False


@dataclass(frozen=True)
class DomainSection:
    score: DomainScore
    rows: list[AnswerRow]


@dataclass(frozen=True)
class ActionRow:
    title: str
    owner: str
    effort: str
    status: str
    domain: str
    note: str
    gap_closed: bool


@dataclass(frozen=True)
class Month:
    label: str
    actions: list[ActionRow]


@dataclass(frozen=True)
class MethodSection:
    heading: str
    body: Markup


@dataclass(frozen=True)
class Report:
    assessment: Assessment
    questionnaire: Questionnaire
    score: AssessmentScore
    pcn_name: str
    ods_code: str
    icb_name: str
    completed_on: str
    completed_by: str
    completed_by_role: str
    produced_on: str
    radar_chart: Markup
    gap_chart: Markup
    top_gaps: list[tuple[DomainScore, QuestionScore]]
    domains: list[DomainSection]
    months: list[Month]
    action_count: int
    progress: dict[str, int]
    method_title: str
    method: list[MethodSection]
    supplement: Questionnaire | None = None
    supplement_score: AssessmentScore | None = None
    submitted_to: str = ""
    submitted_on: str = ""
    glossary: list[tuple[str, str]] | None = None  # the terms the answered questions use, with their definitions
    core_bands: tuple = ()
    question_count: int = 0
    peers: tuple = ()  # benchmarks.PeerGroup: the PCN's ICB, then England, on this questionnaire content
    # Plan against delivery and the trend (progress.Progress), for a reassessment; None for a first assessment.
    # (Named `delivery` because `progress` above already holds the plan's action counts.)
    delivery: object = None


def report_context(assessment: Assessment, peers: tuple | None = None) -> Report:
    """Everything the report shows, worked out here so the template only lays it out."""
    report = build_report(assessment, answer_values(assessment), visible_actions(assessment), peers=peers)
    return dataclass_replace(report, delivery=progress_of(assessment))


def build_report(
    assessment: Assessment,
    values: Mapping[str, AnswerValue],
    actions: list[PlanAction],
    *,
    submitted_to: str = "",
    submitted_at: datetime | None = None,
    submitted_by: User | None = None,
    peers: tuple | None = None,
) -> Report:
    """The report of these answers and actions: the assessment's own, or a submission's frozen copy of them.
    `peers`, when given, is the peer comparison already worked out; otherwise it is worked out here."""
    questionnaire = questionnaire_for(assessment)
    core = core_questionnaire(assessment)
    supplement = supplement_questionnaire(assessment)
    result = score_assessment(core, values)
    supplement_result = score_assessment(supplement, values) if supplement else None
    grouped = by_month(actions)
    months = [Month(f"Month {m}", [_action_row(a, questionnaire) for a in grouped[m]]) for m in MONTHS]
    if grouped[None]:
        months.append(Month("Later", [_action_row(a, questionnaire) for a in grouped[None]]))
    method_title, method = scoring_method()
    # A submission's report says who submitted it and when, from the frozen copy, not from the live assessment.
    pcn, user = assessment.pcn, submitted_by or assessment.started_by
    return Report(
        assessment=assessment,
        questionnaire=questionnaire,
        score=result,
        pcn_name=pcn.name,
        ods_code=pcn.ods_code or "",
        icb_name=pcn.area.name if pcn.area else "",
        completed_on=uk_date(submitted_at or assessment.completed_at),
        completed_by=user.name,
        completed_by_role=user.role_label,
        produced_on=uk_date(datetime.now(UK)),
        radar_chart=charts.radar_chart(result),
        gap_chart=charts.gap_chart(result),
        top_gaps=result.top_gaps(TOP_GAPS),
        domains=[
            DomainSection(d, [_answer_row(q, core.scale) for q in d.questions])
            for d in result.domains + (supplement_result.domains if supplement_result else ())
        ],
        months=months,
        action_count=len(actions),
        progress=progress_counts(actions),
        method_title=method_title,
        method=method,
        supplement=supplement,
        supplement_score=supplement_result,
        submitted_to=submitted_to,
        submitted_on=uk_date(submitted_at) if submitted_at else "",
        glossary=_glossary(questionnaire),
        core_bands=core.bands,
        question_count=core.question_count,
        peers=peers if peers is not None else tuple(benchmarks.peer_comparison(core, pcn)),
    )


def _glossary(questionnaire: Questionnaire) -> list[tuple[str, str]]:
    used = {term for domain in questionnaire.domains for term in domain.terms}
    return sorted(
        ((term, text) for term, text in questionnaire.glossary.items() if term in used), key=lambda t: t[0].casefold()
    )


def _answer_row(q: QuestionScore, scale: Scale) -> AnswerRow:
    levels = q.question.levels
    if q.answer.not_applicable:
        return AnswerRow(q.question, "Not applicable or not in place locally yet", "Left out of the score.", "", "",
                         q.answer.note, not_applicable=True)  # fmt: skip
    if q.answer.current_unsure:
        now, now_text = "Not sure", f"Counted as {scale.name(0)} until the PCN finds out."
    else:
        now, now_text = scale.name(q.current), levels.get(q.current, "")
    if q.answer.target_unsure:
        target, target_text = "Not sure", f"Counted as no planned change ({scale.name(q.target)})."
    elif q.target == q.current and not q.answer.current_unsure:
        target, target_text = scale.name(q.target), "No change planned."
    else:
        target, target_text = scale.name(q.target), levels.get(q.target, "")
    return AnswerRow(q.question, now, now_text, target, target_text, q.answer.note)


def _action_row(action: PlanAction, questionnaire: Questionnaire) -> ActionRow:
    domain = questionnaire.domain(action.domain_id) if action.domain_id else None
    return ActionRow(
        title=action.title,
        owner=action.owner + (f" with {action.partner}" if action.partner else ""),
        effort=EFFORT_LABELS.get(action.effort or "", ""),
        status=action.status_label,
        domain=domain.title if domain else "General",
        note=action.note,
        gap_closed=action.gap_closed,
    )


# The scoring method is written once, in docs/scoring.md; the report prints it.

_method_cache: dict[tuple[Path, float], tuple[str, list[MethodSection]]] = {}


def scoring_method(path: Path = SCORING_METHOD) -> tuple[str, list[MethodSection]]:
    """The document's title and its "## " sections, each body rendered with the app's Markdown filter."""
    key = (path, path.stat().st_mtime)
    if key not in _method_cache:
        title, sections, heading, lines = "", [], None, []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# ") and not title:
                title = line[2:].strip()
            elif line.startswith("## "):
                if heading is not None or any(s.strip() for s in lines):
                    sections.append(MethodSection(heading or "", render_markdown("\n".join(lines))))
                heading, lines = line[3:].strip(), []
            else:
                lines.append(line)
        sections.append(MethodSection(heading or "", render_markdown("\n".join(lines))))
        _method_cache.clear()
        _method_cache[key] = (title or "How readiness is scored", sections)
    return _method_cache[key]


# Rendering ---------------------------------------------------------------------------------------------------------


def render_report_html(assessment: Assessment) -> str:
    """The report as a web page. Its peer figures come from those kept between pages (peer_figures); a PDF works
    them out afresh, as it is stored under a key that names the exact returns they come from."""
    peers = tuple(peer_figures.peer_comparison(core_questionnaire(assessment), assessment.pcn))
    return render_template("reports/report.html", report=report_context(assessment, peers), for_pdf=False)


def pdf_filename(assessment: Assessment) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", assessment.pcn.name.lower()).strip("-") or "pcn"
    when = in_uk(assessment.completed_at or datetime.now(UK)).date().isoformat()
    return f"{slug}-readiness-report-{when}.pdf"


def _local_fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFilesOnly(URLFetcher):
        """Serves files under the static folder; refuses every other URL at once (no network waits)."""

        def fetch(self, url, headers=None):
            if url.startswith("file:"):
                from urllib.request import url2pathname

                path = Path(url2pathname(url.split("?")[0].split("#")[0].removeprefix("file:"))).resolve()
                if path.is_relative_to(STATIC_DIR) and path.is_file():
                    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})
            raise ValueError(f"refused: the report loads local files only ({url[:80]})")

    return LocalFilesOnly


class _Renderer:
    """WeasyPrint objects kept between renders: the fetcher, fonts and the stylesheet, parsed once.

    WeasyPrint is imported on first use: it takes half a second, which every other page and command can skip.
    The HTML is parsed, and the PDF's streams compressed, as `pdf_engine` says.
    """

    def __init__(self):
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        self.weasyprint = weasyprint
        self.deflate = pdf_engine.use_default_deflate_level()
        self.fetcher = _local_fetcher_class()(timeout=1)
        self.fonts = FontConfiguration()
        self.stylesheet = None
        self.stylesheet_mtime = None
        # One render at a time per process: the shared font configuration is not meant for concurrent use.
        self.lock = threading.Lock()

    def css(self):
        mtime = STYLESHEET.stat().st_mtime
        if self.stylesheet is None or mtime != self.stylesheet_mtime:  # re-parsed only when the file changes
            self.stylesheet = self.weasyprint.CSS(
                filename=str(STYLESHEET), url_fetcher=self.fetcher, font_config=self.fonts
            )
            self.stylesheet_mtime = mtime
        return self.stylesheet

    def pdf(self, html: str, stylesheet: bool = True) -> bytes:
        """The PDF of this HTML; `stylesheet=False` gives WeasyPrint's floor (its own defaults) for benchmarks.

        The cyclic garbage collector is paused while WeasyPrint works: a render makes hundreds of thousands of
        objects, and the collections they trigger cost about an eighth of the render (1.33 s against 1.17 s median
        for the full report, measured side by side; tests/benchmarks/pdf_benchmark.py prints both). Peak memory
        barely moves (about 170 MiB per process while rendering): the boxes are freed by reference counting, and
        the collector runs as usual once the render is done.
        """
        with self.lock:
            document = pdf_engine.html_document(self.weasyprint, html, STATIC_DIR.as_uri() + "/", self.fetcher)
            stylesheets = [self.css()] if stylesheet else []
            paused = gc.isenabled()
            gc.disable()
            try:
                return document.write_pdf(stylesheets=stylesheets, font_config=self.fonts, **PDF_OPTIONS)
            finally:
                if paused:
                    gc.enable()


_renderer: _Renderer | None = None


def _get_renderer() -> _Renderer:
    global _renderer
    if _renderer is None:
        _renderer = _Renderer()
    return _renderer


def pdf_html(report: Report) -> str:
    """The HTML WeasyPrint turns into the PDF: it links no stylesheet (the parsed one is passed to WeasyPrint)."""
    return render_template("reports/report.html", report=report, for_pdf=True)


def render_pdf(assessment: Assessment) -> bytes:
    return _get_renderer().pdf(pdf_html(report_context(assessment)))


def render_report_pdf(report: Report) -> bytes:
    return _get_renderer().pdf(pdf_html(report))


# Stored reports ----------------------------------------------------------------------------------------------------

# Bump when Python code changes what the report shows in a way the files in RENDER_INPUTS do not reveal.
REPORT_FORMAT = "2"
# Files whose content shapes every report: a change to any of them (a deploy) makes every stored PDF stale. All the
# app's code is in it, not a chosen list, so a helper the report happens to use (a date format, a label) counts too.
RENDER_INPUTS = tuple(
    sorted(
        {
            *(PROJECT_ROOT / "app").rglob("*.py"),
            *(PROJECT_ROOT / "templates" / "reports").rglob("*.html"),
            *(path for path in STATIC_DIR.rglob("*") if path.is_file()),
            SCORING_METHOD,
        }
    )
)
_render_version_cache: dict[tuple, str] = {}


def render_version() -> str:
    """A digest of what every report is made with: the template, stylesheet, method text, code and WeasyPrint."""
    global _render_version_cache
    key = (REPORT_FORMAT, *(path.stat().st_mtime_ns for path in RENDER_INPUTS))
    found = _render_version_cache.get(key)
    if found is None:
        digest = hashlib.sha256(f"{REPORT_FORMAT}|weasyprint {package_version('weasyprint')}".encode())
        for path in RENDER_INPUTS:
            digest.update(path.read_bytes())
        found = digest.hexdigest()
        _render_version_cache = {key: found}  # replaced whole, so a reader never sees it empty
    return found


def _rows(statement) -> list[tuple]:
    return [tuple(row) for row in db.session.connection().execute(statement)]


def report_state_key(assessment: Assessment) -> str:
    """The state of everything the PCN's PDF report shows, as a SHA-256: equal keys, equal reports.

    A stored PDF is served only while its key equals this, so the key takes in every input of `report_context`,
    whole rows rather than chosen fields or timestamps (a field shown tomorrow, or a bulk update that forgets
    `updated_at`, still changes it):

    - the assessment's own row (status, completion, questionnaire and supplement content hashes, plan capacity),
      every one of its answers (levels, "Not sure", not applicable, notes) and every plan action (title, owner,
      partner, effort, month, status, note, removed, gap closed, position);
    - for "plan against delivery" and the trend: the same rows of the previous assessment and of every other
      completed assessment of the PCN (a reassessment's report reads its predecessor's answers and actions);
    - the names printed: the PCN's name and ODS code, its ICB (area) and that ICB's name, and the name and role
      of the person who completed it;
    - for "How your PCN compares": the set of submissions the peer figures are made from, that is each PCN's
      latest submission on this questionnaire content in the PCN's ICB and in England (the same query as
      `benchmarks.peer_comparison`). Another PCN submitting, or a PCN moving ICB, changes it. A submission's
      answers and scores are frozen when it is made, so its id stands for its figures;
    - `render_version()`: the template, stylesheet, scoring method, report code and WeasyPrint version.

    Left out on purpose: "Report produced" on the cover is the date the PDF was made, so a stored PDF keeps the
    date it was rendered (it says when that report was produced, which stays true).

    Cost: six small queries, no report build and no WeasyPrint: about 4 ms with the demo data and about 10 ms with
    1,250 PCNs' submissions as the England peers (tests/benchmarks/pdf_benchmark.py and pack_benchmark.py), against
    more than a second to render. A hash of the report's HTML would be as honest but dearer: it needs the whole
    report built (peer figures over every PCN in England included) on every download.
    """
    from .benchmarks import _latest_on

    own = [assessment.id] + ([assessment.previous_id] if assessment.previous_id else [])
    mine = (Assessment.pcn_id == assessment.pcn_id) & or_(
        Assessment.id.in_(own), Assessment.status == AssessmentStatus.COMPLETED
    )
    ids = select(Assessment.id).where(mine)
    area = Organisation.__table__.alias("area")
    names = _rows(
        select(Organisation.name, Organisation.ods_code, Organisation.area_id, area.c.name, User.name, User.role)
        .select_from(Organisation)
        .outerjoin(area, area.c.id == Organisation.area_id)
        .join(User, User.id == assessment.started_by_id)
        .where(Organisation.id == assessment.pcn_id)
    )
    area_id = names[0][2] if names else None
    core_hash = core_questionnaire(assessment).content_hash
    parts = [
        render_version(),
        assessment.id,
        names,
        _rows(select(Assessment.__table__).where(mine).order_by(Assessment.id)),
        _rows(select(Answer.__table__).where(Answer.assessment_id.in_(ids)).order_by(Answer.id)),
        _rows(select(PlanAction.__table__).where(PlanAction.assessment_id.in_(ids)).order_by(PlanAction.id)),
        sorted(db.session.scalars(_latest_on(core_hash, area_id))) if area_id else "no ICB",
        sorted(db.session.scalars(_latest_on(core_hash, None))),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def stored_pdf(assessment: Assessment) -> bytes:
    """The assessment's PDF report: the stored one while the state it shows is unchanged, else rendered and stored.

    One stored report per assessment, replaced in place. Two downloads racing to store a first report for the same
    assessment both render; the loser of the unique constraint updates the winner's row (or leaves it, if the
    winner's is as new) and serves its own bytes, so neither request fails.
    """
    key = report_state_key(assessment)
    # What this request loaded before the key (the assessment, its answers) may be older than the key: read it all
    # again, so that the report rendered is at least as new as the key it is stored under.
    db.session.expire_all()
    found = db.session.execute(
        select(StoredReport.id, StoredReport.state_key).where(StoredReport.assessment_id == assessment.id)
    ).first()
    if found is not None and found.state_key == key:
        pdf = db.session.scalar(select(StoredReport.pdf).where(StoredReport.id == found.id))
        if pdf is not None:
            return pdf
    pdf = render_pdf(assessment)
    _store(assessment.id, key, pdf)
    return pdf


def _store(assessment_id: int, key: str, pdf: bytes) -> None:
    values = {"state_key": key, "pdf": pdf, "rendered_at": utcnow()}
    table = StoredReport.__table__
    replace = table.update().where(table.c.assessment_id == assessment_id).values(**values)
    if db.session.execute(replace).rowcount == 0:
        try:
            with db.session.begin_nested():  # a savepoint: losing the race undoes only the insert
                db.session.execute(table.insert().values(assessment_id=assessment_id, **values))
        except IntegrityError:  # another download stored the first report for this assessment a moment ago
            db.session.execute(replace)
    db.session.commit()
