"""The benchmark box plot as hand-written SVG: for each domain, how PCNs' readiness is spread now and at target.

One row per domain, two boxes in it: readiness now (solid blue) and at the six-month target (green, dashed). A box
spans the lower to the upper quartile with a line at the median; whiskers reach the lowest and highest PCN. Each PCN
is a dot as well. The image has a title and a description that gives every figure, and the page puts a data table
next to it. A domain with fewer than five PCNs counted has no box and no dots, only a note.
"""

import textwrap

from markupsafe import Markup

from .benchmarks import MIN_PCNS, DomainSpread, Member, Spread
from .charts import (
    BLUE,
    FIGURE,
    GREEN,
    GREY,
    LABEL,
    TARGET_DASH,
    _circles_path,
    _svg,
    _text,
    percent,
    percent_grid,
)

WIDTH = 720
LABEL_RIGHT = 226
PLOT_LEFT, PLOT_WIDTH = 244, 440
TOP = 76
LINE = 19
BOX = 16  # height of a box
LANE = 26  # height of one of a domain's two lanes (now, target)
ROW_PAD = 14
DOT = 3.5


def _x(value: float) -> float:
    return PLOT_LEFT + PLOT_WIDTH * max(0.0, min(value, 100.0)) / 100


def _describe(spread: Spread) -> str:
    return (
        f"median {percent(spread.median)}, middle half {percent(spread.q1)} to {percent(spread.q3)}, "
        f"range {percent(spread.low)} to {percent(spread.high)}"
    )


def _box(spread: Spread, middle: float, colour: str, dashed: bool, css: str) -> list[str]:
    dash = f' stroke-dasharray="{TARGET_DASH}"' if dashed else ""
    low, q1, median, q3, high = (_x(v) for v in (spread.low, spread.q1, spread.median, spread.q3, spread.high))
    top = middle - BOX / 2
    whiskers = (
        f"M{low:.1f},{middle:.1f} H{q1:.1f} M{q3:.1f},{middle:.1f} H{high:.1f} "
        f"M{low:.1f},{top + 3:.1f} V{top + BOX - 3:.1f} M{high:.1f},{top + 3:.1f} V{top + BOX - 3:.1f}"
    )
    return [
        f'<path class="app-chart__whisker" d="{whiskers}" fill="none" stroke="{colour}" stroke-width="2"/>',
        f'<rect class="{css}" x="{q1:.1f}" y="{top:.1f}" width="{max(q3 - q1, 1.5):.1f}" height="{BOX}" '
        f'fill="{colour}" fill-opacity="0.15" stroke="{colour}" stroke-width="2"{dash}/>',
        f'<path class="app-chart__median" d="M{median:.1f},{top - 3:.1f} V{top + BOX + 3:.1f}" stroke="{colour}" '
        'stroke-width="4"/>',
    ]


def box_plot(domains: list[DomainSpread], members: list[Member], count: int) -> Markup:
    """The spread of each domain now and at target across `count` PCNs, with each PCN (member) as a dot."""
    rows = [(d, textwrap.wrap(d.title, 26) or [d.title]) for d in domains]
    heights = [max(2 * LANE + ROW_PAD, LINE * len(lines) + ROW_PAD) for _, lines in rows]
    bottom = TOP + sum(heights)
    height = bottom + 10

    body: list[str] = []
    # Legend.
    body.append(
        f'<rect x="{PLOT_LEFT}" y="10" width="28" height="{BOX}" fill="{BLUE}" fill-opacity="0.15" '
        f'stroke="{BLUE}" stroke-width="2"/>'
    )
    body.append(_text(PLOT_LEFT + 36, 24, "Now"))
    body.append(
        f'<rect x="{PLOT_LEFT + 96}" y="10" width="28" height="{BOX}" fill="{GREEN}" fill-opacity="0.15" '
        f'stroke="{GREEN}" stroke-width="2" stroke-dasharray="{TARGET_DASH}"/>'
    )
    body.append(_text(PLOT_LEFT + 132, 24, "Six-month target"))
    body.append(f'<path d="{_circles_path([(PLOT_LEFT + 284, 18)], DOT)}" fill="{BLUE}" fill-opacity="0.7"/>')
    body.append(
        f'<path d="{_circles_path([(PLOT_LEFT + 296, 18)], DOT)}" fill="#ffffff" stroke="{GREEN}" stroke-width="1.5"/>'
    )
    body.append(_text(PLOT_LEFT + 306, 24, "One PCN"))

    # Scale and gridlines.
    body.extend(percent_grid(_x, TOP - 12, TOP - 6, bottom))

    now_dots, target_dots = [], []
    figures = []
    y = TOP
    for (d, lines), row_height in zip(rows, heights, strict=True):
        middle = y + row_height / 2
        label_top = middle - (len(lines) - 1) * LINE / 2 + 6
        for i, line in enumerate(lines):
            body.append(_text(LABEL_RIGHT, label_top + i * LINE, line, LABEL, "end", font_weight="bold"))
        now_y, target_y = middle - LANE / 2, middle + LANE / 2
        if d.now is None or d.target is None:
            body.append(_text(PLOT_LEFT + 8, middle + 5, f"Fewer than {MIN_PCNS} PCNs: not shown", FIGURE, fill=GREY))
            figures.append(f"{d.title}: fewer than {MIN_PCNS} PCNs counted, so not shown.")
        else:
            body.extend(_box(d.now, now_y, BLUE, False, "app-chart__now"))
            body.extend(_box(d.target, target_y, GREEN, True, "app-chart__target"))
            scored = [m.scores[d.domain_id] for m in members if d.domain_id in m.scores]
            # A small vertical spread so that PCNs at the same figure stay visible as separate dots.
            for i, (now, target) in enumerate(scored):
                offset = (i % 3 - 1) * 4
                now_dots.append((_x(now), now_y + offset))
                target_dots.append((_x(target), target_y + offset))
            figures.append(f"{d.title} ({d.count} PCNs): now {_describe(d.now)}; at target {_describe(d.target)}.")
        y += row_height
    if now_dots:
        body.append(
            f'<path class="app-chart__pcn" d="{_circles_path(now_dots, DOT)}" fill="{BLUE}" fill-opacity="0.7"/>'
        )
    if target_dots:
        body.append(
            f'<path class="app-chart__pcn" d="{_circles_path(target_dots, DOT)}" fill="#ffffff" '
            f'stroke="{GREEN}" stroke-width="1.5"/>'
        )

    title = "How readiness is spread across PCNs, by domain, now and at the six-month target"
    desc = (
        f"Box plot of {len(rows)} domains on a scale of 0 to 100%, from {count} PCNs' submitted returns. For each "
        "domain a box spans the middle half of PCNs, from the lower to the upper quartile, with a line at the "
        "median; whiskers reach the lowest and highest PCN, and each PCN is a dot. " + " ".join(figures)
    )
    return _svg("benchmark", WIDTH, height, title, desc, body)
