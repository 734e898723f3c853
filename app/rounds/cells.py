"""Table cells of the round and benchmark pages, built in Python once per row.

These tables have a cell per PCN per domain (over a thousand on a large ICB's dashboard). As a Jinja macro call per
cell, the cells cost far more than the rest of the page; as one function call per row they cost little. The markup
is exactly what the templates' macros produced.
"""

from collections.abc import Iterable

from markupsafe import Markup, escape

from ..services.rounds import frozen_cache
from ..templating import uk_date

NO_RETURN = '<span class="nhsuk-u-visually-hidden">No return</span><span aria-hidden="true">–</span>'
NOT_APPLICABLE = '<span class="nhsuk-u-visually-hidden">Not applicable</span><span aria-hidden="true">–</span>'
CELL = '<td class="nhsuk-table__cell app-num">'


def percent(value: float | None, missing: str = NO_RETURN) -> str:
    """A figure in per cent, rounded to a whole number; `missing` (markup) when there is none."""
    return missing if value is None else f"{value:.0f}%"


def pct_or_not_applicable(value: float | None) -> Markup:
    """The benchmark's per cent, for use in a template."""
    return Markup(percent(value, NOT_APPLICABLE))


def _now_to_target(value: tuple[float, float] | None) -> str:
    if not value:
        return CELL + NO_RETURN + "</td>"
    return f'{CELL}{percent(value[0])} <span class="app-muted">→ {percent(value[1])}</span></td>'


def return_rows_html(rows, status_tags: dict, domain_ids: list[str], supplement_ids, returns_href: str) -> Markup:
    """The dashboard's rows: each PCN (a link to its return once submitted), its sub-ICB location, status, when it
    submitted, then its figures. `status_tags` is each status's tag, made once by the template. A submission never
    changes, so the cells that come from it (its date and figures) are made once and reused, as are the cells of a
    row with no return."""
    cache = frozen_cache("return_row_cells")
    layout = (tuple(domain_ids), tuple(supplement_ids or ()), supplement_ids is None)
    out = []
    for r in rows:
        name = escape(r.pcn_name)
        if r.submission_id:
            name = f'<a href="{returns_href}{r.submission_id}">{name}</a>'
        frozen = cache.get_or_make(
            (r.submission_id, r.submitted_at, layout), lambda r=r: _return_row_cells(r, domain_ids, supplement_ids)
        )
        out.append(
            '<tr class="nhsuk-table__row">\n'
            f'<th scope="row" class="nhsuk-table__cell">\n{name}\n<span class="app-code">{escape(r.ods_code)}</span>\n'
            "</th>\n"
            f'<td class="nhsuk-table__cell">{escape(r.sub_icb_code or "–")}</td>\n'
            f'<td class="nhsuk-table__cell">{status_tags[r.status]}</td>\n'
            f"{frozen}\n</tr>"
        )
    return Markup("\n".join(out))


def _return_row_cells(row, domain_ids: list[str], supplement_ids: list[str] | None) -> Markup:
    cells = [
        f'<td class="nhsuk-table__cell">{uk_date(row.submitted_at) if row.submitted_at else "–"}</td>',
        f"{CELL}{percent(row.overall_now)}</td>",
        f"{CELL}{percent(row.overall_target)}</td>",
    ]
    scores = row.scores
    cells += [_now_to_target(scores.get(d)) for d in domain_ids]
    if supplement_ids is not None:
        cells += [f"{CELL}{percent(row.supplement_now)}</td>", f"{CELL}{percent(row.supplement_target)}</td>"]
        cells += [_now_to_target(scores.get(d)) for d in supplement_ids]
    return Markup("\n".join(cells))


def heat_rows_html(heat_rows, supplement_start: int | None, returns_href: str) -> Markup:
    """The heatmap's rows: each PCN, a link to its return, then each domain's figure, shaded by its band and with
    the band in words for screen readers (made once for each submission)."""
    cache = frozen_cache("heat_row_cells")
    out = []
    for hr in heat_rows:
        cells = cache.get_or_make((hr.key, supplement_start), lambda hr=hr: _heat_row_cells(hr.cells, supplement_start))
        out.append(
            '<tr class="nhsuk-table__row">\n<th scope="row" class="nhsuk-table__cell">'
            f'<a href="{returns_href}{hr.row.submission_id}">{escape(hr.row.pcn_name)}</a></th>\n{cells}\n</tr>'
        )
    return Markup("\n".join(out))


def _heat_row_cells(cells: Iterable, supplement_start: int | None) -> Markup:
    out = []
    for index, cell in enumerate(cells):
        start = " app-heat-start" if supplement_start == index else ""
        if cell.value is None:
            out.append(f'<td class="nhsuk-table__cell app-num{start}">–</td>')
        else:
            out.append(
                f'<td class="nhsuk-table__cell app-num app-heat app-heat--{cell.band_index}{start}">'
                f'{cell.value:.0f}<span class="nhsuk-u-visually-hidden"> ({escape(cell.band)})</span></td>'
            )
    return Markup("\n".join(out))


def member_rows_html(members, domain_ids: list[str]) -> Markup:
    """The benchmark's PCN rows: each PCN's name or letter, then its figures by domain, now → at target (made once
    for each submission)."""
    cache, layout = frozen_cache("member_cells"), tuple(domain_ids)
    out = []
    for m in members:
        if m.key:
            cells = cache.get_or_make((m.key, layout), lambda m=m: _member_cells(m.scores, domain_ids))
        else:  # (a member made without its submission's key is not kept)
            cells = _member_cells(m.scores, domain_ids)
        out.append(
            f'<tr class="nhsuk-table__row">\n<th scope="row" class="nhsuk-table__header">{escape(m.label)}</th>\n'
            f"{cells}\n</tr>"
        )
    return Markup("\n".join(out))


def _member_cells(scores: dict[str, tuple[float, float]], domain_ids: list[str]) -> Markup:
    out = []
    for domain_id in domain_ids:
        s = scores.get(domain_id)
        if s:
            out.append(f"{CELL}{percent(s[0], NOT_APPLICABLE)} → {percent(s[1], NOT_APPLICABLE)}</td>")
        else:
            out.append(f"{CELL}not applicable</td>")
    return Markup("\n".join(out))
