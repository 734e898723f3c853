"""Benchmarks for ICB leads and LMC officers: how the PCNs' submitted returns in a round compare, as a profile.

Figures come from app/services/benchmarks.py, which applies the rules (submitted returns only, no figure from fewer
than five PCNs, PCNs lettered to an LMC unless they chose to be named). The page and both exports show the same
views with the same labels.
"""

import csv
import io

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user

from ..access import roles
from ..extensions import db
from ..models import ReturnRound, Role
from ..rounds import cells
from ..services import audit, security_log
from ..services import benchmarks as service
from ..services.benchmark_charts import box_plot
from ..services.dashboard import filename
from ..services.exports import safe_cell, workbook_bytes
from ..services.rounds import frozen_cache

bp = Blueprint("benchmarks", __name__, url_prefix="/benchmarks")

PURPOSE = (
    "Benchmarks show how PCNs' readiness compares, so that support can be targeted where it is needed. They are a "
    "profile of the area, not a measure of any PCN's performance."
)
LETTERS = (
    "PCNs are shown by a letter unless their clinical director has chosen to name the PCN to its LMC. A PCN keeps "
    "its letter for this round."
)


def _round(round_id: int) -> ReturnRound:
    """The round if this user may benchmark it; 404 otherwise, so other areas' rounds cannot be probed."""
    round_ = db.session.get(ReturnRound, round_id)
    if round_ is None:
        abort(404)
    if not service.can_benchmark(current_user, round_):
        security_log.event("object_access_denied", "refused", round_id=round_id)
        abort(404)
    return round_


def which_returns(view: service.RoundBenchmark) -> str:
    q = view.questionnaire
    return (
        f"{view.count} PCN{'s' if view.count != 1 else ''}' submitted returns in “{view.round.title}” (each PCN's "
        f"latest submission), on {q.title} version {q.version}."
    )


@bp.route("/")
@roles(Role.ICB_LEAD, Role.LMC_OFFICER)
def index():
    found = service.rounds_for(current_user)
    return render_template(
        "benchmarks/index.html",
        rounds=found,
        counts=service.submitted_counts(current_user, [r.id for r in found]),
        purpose=PURPOSE,
        min_pcns=service.MIN_PCNS,
    )


@bp.route("/rounds/<int:round_id>")
@roles(Role.ICB_LEAD, Role.LMC_OFFICER)
def round_page(round_id: int):
    round_ = _round(round_id)
    view = service.round_benchmark(round_, current_user)
    chart = None
    if view.enough:  # the chart of the same returns in the same order is the same chart: drawn once, then reused
        key = (view.questionnaire.content_hash, tuple(m.key for m in view.members))
        chart = frozen_cache("benchmark_charts", 200).get_or_make(
            key, lambda: box_plot(view.domains, view.members, view.count)
        )
    return render_template(
        "benchmarks/round.html",
        round=round_,
        view=view,
        chart=chart,
        which=which_returns(view),
        purpose=PURPOSE,
        letters=None if view.named else LETTERS,
        min_pcns=service.MIN_PCNS,
        pct=cells.pct_or_not_applicable,
        member_rows_html=cells.member_rows_html,
    )


# Exports ------------------------------------------------------------------------------------------------------------

SPREAD_HEADER = ["lowest", "lower quartile", "median", "upper quartile", "highest"]


def _figure(value: float | None):
    return None if value is None else round(value, 1)


def domain_rows(view: service.RoundBenchmark) -> tuple[list[str], list[list]]:
    header = (
        ["Domain", "PCNs counted"]
        + [f"Now, {h} (%)" for h in SPREAD_HEADER]
        + [f"Six-month target, {h} (%)" for h in SPREAD_HEADER]
    )
    rows = []
    for d in view.domains:
        row = [d.title, d.count_text]
        for spread in (d.now, d.target):
            if spread is None:
                row += [f"Fewer than {service.MIN_PCNS} PCNs: not shown"] + [None] * 4
            else:
                row += [_figure(v) for v in (spread.low, spread.q1, spread.median, spread.q3, spread.high)]
        rows.append(row)
    return header, rows


def member_rows(view: service.RoundBenchmark) -> tuple[list[str], list[list]]:
    header = ["PCN"]
    for d in view.domains:
        header += [f"{d.title}, now (%)", f"{d.title}, target (%)"]
    rows = []
    for m in view.members:
        row = [m.label]
        for d in view.domains:
            now, target = m.scores.get(d.domain_id, (None, None))
            row += [_figure(now), _figure(target)]
        rows.append(row)
    return header, rows


def _few(count: int):
    """A count of PCNs as the page gives it: never one of one to four, which could point to a PCN."""
    return f"Fewer than {service.MIN_PCNS}" if 0 < count < service.MIN_PCNS else count


def weakest_rows(view: service.RoundBenchmark) -> tuple[list[str], list[list]]:
    header = ["Question", "Domain", "Average level now (%)", "PCNs at the lowest two levels (%)"]
    rows = [
        [
            f.text,
            f.domain,
            _figure(f.value),
            f"{_few(f.low)} PCNs" if 0 < f.low < service.MIN_PCNS else _figure(f.low_share * 100),
        ]
        for f in view.weakest
    ]
    return header, rows or [[f"No question was answered by at least {service.MIN_PCNS} PCNs."]]


def not_sure_rows(view: service.RoundBenchmark) -> tuple[list[str], list[list]]:
    header = ["Question", "Domain", "PCNs not sure", "PCNs counted"]
    rows = [[f.text, f.domain, _few(int(f.value)), f.count] for f in view.not_sure]
    return header, rows or [["No PCN answered “Not sure”."]]


def action_rows(view: service.RoundBenchmark) -> tuple[list[str], list[list]]:
    header = ["Action", "Domain", "PCNs planning it", "PCNs counted"]
    rows = [[a.title, a.domain, _few(a.count), a.total] for a in view.actions]
    return header, rows or [["No PCN has planned one of the suggested actions yet."]]


# The views in each export, in the page's order: (title, rows).
SECTIONS = [
    ("Domains", domain_rows),
    ("PCNs", member_rows),
    ("Weakest questions", weakest_rows),
    ("Not sure answers", not_sure_rows),
    ("Planned actions", action_rows),
]


def _about(view: service.RoundBenchmark) -> list[list[str]]:
    lines = [[f"Benchmark of “{view.round.title}”"]]
    if not view.enough:
        return lines + [[view.small_numbers]]
    lines.append([which_returns(view)])
    lines.append([PURPOSE])
    if not view.named:
        lines.append([LETTERS])
    return lines


def export_csv(view: service.RoundBenchmark) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def write(row):
        writer.writerow(["" if v is None else safe_cell(v) for v in row])

    for line in _about(view):
        write(line)
    if view.enough:
        for title, view_rows in SECTIONS:
            header, rows = view_rows(view)
            write([])
            write([title])
            write(header)
            for row in rows:
                write(row)
    return buffer.getvalue()


def export_xlsx(view: service.RoundBenchmark) -> bytes:
    sheets = [("About", None, list(_about(view)))]
    if view.enough:
        sheets += [(title, *view_rows(view)) for title, view_rows in SECTIONS]
    return workbook_bytes(sheets)


def _export(round_id: int, kind: str) -> tuple[service.RoundBenchmark, ReturnRound]:
    round_ = _round(round_id)
    view = service.round_benchmark(round_, current_user)
    shown = "figures" if view.enough else "no figures: fewer than five PCNs"
    audit.record(
        "benchmark_export",
        f"Downloaded the benchmark of “{round_.title}” ({kind}, {view.count} PCNs, {shown}).",
        area_id=round_.icb_id,
        round_id=round_.id,
    )
    db.session.commit()
    return view, round_


def _download(body, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/rounds/<int:round_id>/export.csv")
@roles(Role.ICB_LEAD, Role.LMC_OFFICER)
def round_csv(round_id: int):
    view, round_ = _export(round_id, "CSV")
    return _download(export_csv(view), "text/csv; charset=utf-8", filename(round_, "benchmark", "csv"))


@bp.route("/rounds/<int:round_id>/export.xlsx")
@roles(Role.ICB_LEAD, Role.LMC_OFFICER)
def round_xlsx(round_id: int):
    view, round_ = _export(round_id, "XLSX")
    return _download(
        export_xlsx(view),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename(round_, "benchmark", "xlsx"),
    )
