"""A PCN's own readiness beside its peers': hand-written SVG, the same markup on the results page and in the PDF.

A profile, not a rank: per domain, the middle half of the peers' readiness now (the interquartile band, from the
lower to the upper quartile) with a tick at the median, for each peer group with enough PCNs to show (see
app/services/benchmarks.py), and the PCN's own readiness now (a blue circle) and six-month target (a green square).
The chart has a title and a description that gives every figure; the page puts a data table next to it as well.
"""

import textwrap
from collections.abc import Sequence

from markupsafe import Markup

from .benchmarks import MIN_PCNS, SMALL_NUMBERS
from .charts import (
    BLUE,
    FIGURE,
    GREEN,
    GREY,
    LABEL,
    TEXT,
    TICK,
    _rects_path,
    _svg,
    _text,
    percent,
    percent_grid,
)
from .scoring import AssessmentScore

WIDTH = 720
LABEL_RIGHT = 226
BAR_LEFT, BAR_WIDTH = 236, 400
SUB_ROW = 20  # one line per series in a domain's row: the PCN, then each peer group
BAND = 12
LINE = 19
TOP = 92
ROW_GAP = 14
# Why a peer group with too few PCNs shows no figure.
SMALL_NUMBERS_TEXT = SMALL_NUMBERS.format(n=MIN_PCNS)
# Peer groups in order (the ICB, then England): a darker and a paler band, told apart by the legend and the order.
BAND_FILLS = ("#768692", "#c8cfd3")


def _x(value: float) -> float:
    return BAR_LEFT + BAR_WIDTH * max(0.0, min(value, 100.0)) / 100


def spread_text(spread) -> str:
    """ "50% (middle half 25% to 75%)": a median and the interquartile range, as the table and description say it."""
    return f"{percent(spread.median)} (middle half {percent(spread.q1)} to {percent(spread.q3)})"


def shown_groups(groups: Sequence) -> list:
    """The peer groups with enough PCNs to show any figure."""
    return [g for g in groups if g.enough]


def peer_chart(groups: Sequence, score: AssessmentScore) -> Markup:
    """One row per domain: the PCN's now and target, and each peer group's middle half and median (readiness now).
    Empty when no peer group has enough PCNs: the page says why instead."""
    groups = shown_groups(groups)
    if not groups:
        return Markup("")
    own = {d.domain.id: d for d in score.domains}
    domains = groups[0].domains
    spreads = [{d.domain_id: d for d in g.domains} for g in groups]
    rows = [(d, textwrap.wrap(d.title, 26) or [d.title]) for d in domains]
    row_height = SUB_ROW * (1 + len(groups))
    heights = [max(row_height, LINE * len(lines)) + ROW_GAP for _, lines in rows]
    bottom = TOP + sum(heights)
    height = bottom + 8

    body: list[str] = []
    # Legend: the PCN's markers on the first line, one band per peer group below.
    body.append(f'<circle cx="{BAR_LEFT - 150}" cy="16" r="6" fill="{BLUE}" stroke="#ffffff" stroke-width="1.5"/>')
    body.append(_text(BAR_LEFT - 138, 22, "Your PCN now"))
    body.append(
        f'<rect x="{BAR_LEFT + 10}" y="10" width="12" height="12" fill="#ffffff" stroke="{GREEN}" stroke-width="2.5"/>'
    )
    body.append(_text(BAR_LEFT + 30, 22, "Your six-month target"))
    for i, group in enumerate(groups):
        y = 36 + i * 22
        body.append(f'<rect x="{BAR_LEFT - 156}" y="{y}" width="24" height="{BAND}" fill="{BAND_FILLS[i % 2]}"/>')
        body.append(f'<path d="M{BAR_LEFT - 144},{y - 3} V{y + BAND + 3}" stroke="{TEXT}" stroke-width="3"/>')
        body.append(_text(BAR_LEFT - 124, y + 11, f"{group.label}: middle half now, line at the median", TICK))

    # Scale and gridlines.
    body.extend(percent_grid(_x, TOP - 8, TOP - 2, bottom))

    bands: list[list[tuple[float, float, float, float]]] = [[] for _ in groups]
    medians, circles, squares, links = [], [], [], []
    y = TOP
    for (domain, lines), h in zip(rows, heights, strict=True):
        middle = y + (h - ROW_GAP) / 2
        label_top = middle - (len(lines) - 1) * LINE / 2 + 6
        for i, line in enumerate(lines):
            body.append(_text(LABEL_RIGHT, label_top + i * LINE, line, LABEL, "end"))
        first = y + (h - ROW_GAP - row_height) / 2 + SUB_ROW / 2  # centre of the PCN's own line
        mine = own.get(domain.domain_id)
        if mine is not None and mine.applicable:
            now_x, target_x = _x(mine.now), _x(mine.target)
            if target_x > now_x:
                links.append(f"M{now_x:.1f},{first:.1f} H{target_x:.1f}")
            squares.append((target_x - 6, first - 6, 12, 12))
            circles.append((now_x, first))
        else:
            body.append(_text(BAR_LEFT + 4, first + 5, "Your PCN: not applicable", FIGURE, fill=GREY))
        for i, by_domain in enumerate(spreads):
            centre = first + SUB_ROW * (i + 1)
            spread = by_domain[domain.domain_id].now if domain.domain_id in by_domain else None
            if spread is None:
                body.append(_text(BAR_LEFT + 4, centre + 5, f"Fewer than {MIN_PCNS} PCNs: no figure", TICK, fill=GREY))
                continue
            left, right = _x(spread.q1), _x(spread.q3)
            bands[i].append((left, centre - BAND / 2, max(right - left, 2.0), BAND))
            medians.append(f"M{_x(spread.median):.1f},{centre - BAND / 2 - 3:.1f} V{centre + BAND / 2 + 3:.1f}")
        y += h

    for i, rects in enumerate(bands):
        if rects:
            body.append(f'<path class="app-chart__peers" d="{_rects_path(rects)}" fill="{BAND_FILLS[i % 2]}"/>')
    if medians:
        body.append(f'<path class="app-chart__median" d="{" ".join(medians)}" stroke="{TEXT}" stroke-width="3"/>')
    if links:
        body.append(f'<path d="{" ".join(links)}" stroke="{GREY}" stroke-width="2" fill="none"/>')
    for cx, cy in circles:
        body.append(
            f'<circle class="app-chart__now" cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="{BLUE}" stroke="#ffffff" '
            'stroke-width="1.5"/>'
        )
    if squares:
        body.append(
            f'<path class="app-chart__target" d="{_rects_path(squares)}" fill="#ffffff" stroke="{GREEN}" '
            'stroke-width="2.5"/>'
        )

    title = "Your PCN's readiness by domain beside its peers'"
    desc = (
        f"Chart of {len(rows)} domains on a scale of 0 to 100%: for each, your PCN's readiness now and at its "
        "six-month target, and the middle half and median of the peers' readiness now. "
        + " ".join(_domain_figures(domain, own.get(domain.domain_id), groups, spreads) for domain, _ in rows)
    )
    return _svg("peers", WIDTH, height, title, desc, body)


def _domain_figures(domain, mine, groups, spreads) -> str:
    parts = []
    if mine is not None and mine.applicable:
        parts.append(f"your PCN now {percent(mine.now)}, target {percent(mine.target)}")
    else:
        parts.append("your PCN: not applicable")
    for group, by_domain in zip(groups, spreads, strict=True):
        spread = by_domain.get(domain.domain_id)
        if spread is None or spread.now is None:
            parts.append(f"{group.label}: fewer than {MIN_PCNS} PCNs, no figure")
        else:
            parts.append(f"{group.label}: median {spread_text(spread.now)}, {spread.count} PCNs")
    return f"{domain.title}: " + "; ".join(parts) + "."
