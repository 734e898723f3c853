"""The trend of domain readiness across a PCN's assessments: a line chart as hand-written SVG.

Like the other charts (app/services/charts.py) it is an image with a title and a description giving every figure,
and the page puts a data table beside it. Each domain differs in marker shape and line style as well as colour.
"""

from collections.abc import Sequence

from markupsafe import Markup

from .charts import FIGURE, GRID, GRID_STRONG, TICK, _svg, _text, percent

PALETTE = ("#005eb8", "#007f3b", "#d5281b", "#330072", "#ffb81c", "#4c6272", "#ae2573", "#00a499")
DASHES = ("", "8 4", "2 4", "12 4 2 4")
MARKERS = ("circle", "square", "diamond", "triangle")

WIDTH = 720
LEFT, RIGHT, TOP = 60, 30, 20
PLOT_HEIGHT = 260
LEGEND_LINE = 24


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>'
    if kind == "square":
        return f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{colour}"/>'
    if kind == "diamond":
        points = f"M{x:.1f} {y - 6:.1f} L{x + 6:.1f} {y:.1f} L{x:.1f} {y + 6:.1f} L{x - 6:.1f} {y:.1f} Z"
        return f'<path d="{points}" fill="{colour}"/>'
    return f'<path d="M{x:.1f} {y - 6:.1f} L{x + 6:.1f} {y + 5:.1f} L{x - 6:.1f} {y + 5:.1f} Z" fill="{colour}"/>'


def _style(index: int) -> tuple[str, str, str]:
    return PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)], MARKERS[index % len(MARKERS)]


def describe(points: Sequence, domains: Sequence[tuple[str, str]]) -> str:
    parts = []
    for point in points:
        figures = ", ".join(
            f"{title} {percent(point.scores[d]) if point.scores.get(d) is not None else 'not applicable'}"
            for d, title in domains
        )
        parts.append(f"Assessment completed {point.label}: {figures}.")
    return " ".join(parts)


def trend_chart(points: Sequence, domains: Sequence[tuple[str, str]]) -> Markup:
    """Readiness now of each domain at each assessment, oldest on the left; empty for no assessment."""
    if not points:
        return Markup("")
    plot_width = WIDTH - LEFT - RIGHT
    bottom = TOP + PLOT_HEIGHT
    height = bottom + 40 + LEGEND_LINE * len(domains) + 10

    def x_at(i: int) -> float:
        return LEFT + (plot_width / 2 if len(points) == 1 else plot_width * i / (len(points) - 1))

    def y_at(value: float) -> float:
        return bottom - PLOT_HEIGHT * max(0.0, min(100.0, value)) / 100

    body: list[str] = []
    for tick in range(0, 101, 25):
        y = y_at(tick)
        body.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            f'stroke="{GRID_STRONG if tick == 0 else GRID}" stroke-width="1"/>'
        )
        body.append(_text(LEFT - 8, y + 4, f"{tick}%", TICK, "end"))
    for i, point in enumerate(points):
        body.append(_text(x_at(i), bottom + 22, point.label, TICK, "middle"))
    for index, (domain_id, title) in enumerate(domains):
        colour, dash, marker = _style(index)
        placed = [
            (x_at(i), y_at(p.scores[domain_id])) for i, p in enumerate(points) if p.scores.get(domain_id) is not None
        ]
        if len(placed) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in placed)
            dashing = f' stroke-dasharray="{dash}"' if dash else ""
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dashing}/>')
        body.extend(_marker(marker, x, y, colour) for x, y in placed)
        legend_y = bottom + 48 + LEGEND_LINE * index
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<line x1="{LEFT}" y1="{legend_y - 5}" x2="{LEFT + 36}" y2="{legend_y - 5}" stroke="{colour}" '
            f'stroke-width="2.5"{dashing}/>'
        )
        body.append(_marker(marker, LEFT + 18, legend_y - 5, colour))
        body.append(_text(LEFT + 46, legend_y, title, FIGURE))
    return _svg(
        "trend",
        WIDTH,
        height,
        "Readiness by domain across your assessments",
        describe(points, domains),
        body,
    )
