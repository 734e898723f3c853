"""Readiness charts as hand-written SVG, the same markup on the results page and in the PDF.

Each chart is an image with a title and a description that gives every figure, so it can be read without
seeing it; the page puts a data table next to it as well. Colours are explicit (WeasyPrint draws everything
after a "currentcolor" invisible), and "now" and "target" differ in line style and marker shape as well as
colour.
"""

import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

from .scoring import AssessmentScore

BLUE = "#005eb8"
GREEN = "#007f3b"
YELLOW = "#ffb81c"
GREY = "#4c6272"
TEXT = "#212b32"
GRID = "#d8dde0"
GRID_STRONG = "#aeb7bd"
FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif"
TARGET_DASH = "10 6"
# Font sizes in chart units: a chart is 720 units wide, drawn at up to 720px on the page and about 530-640px in the
# PDF, so labels stay near the page's own text size.
LABEL, FIGURE, TICK = 16, 15, 13


def percent(value: float) -> str:
    """As the results page prints a figure, so the chart, its description and the table agree."""
    return f"{value:.0f}%"


def _svg(name: str, width: int, height: int, title: str, desc: str, body: Iterable[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart app-chart--{name}" role="img" '
        f'aria-labelledby="{name}-chart-title {name}-chart-desc" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" '
        f'font-family="{FONT}" fill="{TEXT}">'
        f'<title id="{name}-chart-title">{escape(title)}</title>'
        f'<desc id="{name}-chart-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, content: str, size: int = LABEL, anchor: str = "start", **attributes) -> str:
    extra = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in attributes.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'


NOT_APPLICABLE = "not applicable"


def _figures(score: AssessmentScore) -> str:
    return " ".join(
        f"{d.domain.title}: now {percent(d.now)}, target {percent(d.target)}, gap {d.gap:.0f} points."
        if d.applicable
        else f"{d.domain.title}: {NOT_APPLICABLE}."
        for d in score.domains
    )


def _range(d) -> str:
    """A domain's figures as a label shows them; a domain with no applicable question has none."""
    return f"{percent(d.now)} → {percent(d.target)}" if d.applicable else NOT_APPLICABLE


# Radar -------------------------------------------------------------------------------------------------------------

RADAR_WIDTH = 720  # the chart is this wide unless a label needs more, so its text matches the gap chart's
RADAR_R = 180
RADAR_LABEL_GAP = 24
RADAR_LINE = 19
RADAR_WRAP = 17  # characters a label line holds before it wraps
RADAR_MARGIN = 10  # clear space between the outermost text and the edge of the chart
RADAR_MARKER = 8  # how far a point marker reaches beyond the 100% ring
RADAR_LEGEND_GAP = 36  # from the lowest label to the legend line
RADAR_LEGEND_BELOW = 22  # from the legend line to the bottom edge
# How far text reaches above and below its baseline, as a share of the font size (Arial and its look-alikes).
ASCENT, DESCENT = 0.8, 0.25


def _text_width(content: str, size: float, bold: bool = False) -> float:
    """A generous estimate of how wide a line of text draws, to leave room for it: the SVG is laid out here,
    before any font is measured. Widths are shares of the font size, close to Arial's, rounded up."""
    width = 0.0
    for char in content:
        if char in "ijl.,:;'!|":
            width += 0.3
        elif char in "ftrI()-/ ":
            width += 0.4
        elif char in "mwMW%":
            width += 0.95
        elif char == "→":
            width += 1.0
        elif char.isupper():
            width += 0.78
        else:
            width += 0.6
    return width * size * (1.08 if bold else 1.0)


@dataclass(frozen=True)
class _RadarLabel:
    """A domain's label, placed relative to the centre of the chart: its title lines, then its figures."""

    x: float
    top: float  # baseline of the first line
    anchor: str
    lines: list[str]
    figures: str

    @property
    def baselines(self) -> list[float]:
        return [self.top + i * RADAR_LINE for i in range(len(self.lines) + 1)]

    def extent(self) -> tuple[float, float, float, float]:
        """Left, top, right and bottom of the text, allowing for how far letters reach around their baselines."""
        widths = [_text_width(line, LABEL, bold=True) for line in self.lines]
        width = max([*widths, _text_width(self.figures, FIGURE)])
        left = {"start": self.x, "end": self.x - width, "middle": self.x - width / 2}[self.anchor]
        return left, self.top - ASCENT * LABEL, left + width, self.baselines[-1] + DESCENT * FIGURE


def _radar_label(index: int, count: int, title: str, figures: str) -> _RadarLabel:
    angle = -math.pi / 2 + 2 * math.pi * index / count
    cos, sin = math.cos(angle), math.sin(angle)
    x = (RADAR_R + RADAR_LABEL_GAP) * cos
    y = (RADAR_R + RADAR_LABEL_GAP) * sin
    anchor = "start" if cos > 0.3 else "end" if cos < -0.3 else "middle"
    lines = textwrap.wrap(title, RADAR_WRAP) or [title]
    count_lines = len(lines) + 1
    if sin < -0.3:  # above the centre: the block ends just above the axis end
        top = y - (count_lines - 1) * RADAR_LINE
    elif sin > 0.3:  # below: the block starts just below it
        top = y + RADAR_LINE - 2
    else:
        top = y - (count_lines - 1) * RADAR_LINE / 2 + 5
    return _RadarLabel(x, top, anchor, lines, figures)


@dataclass(frozen=True)
class _RadarLayout:
    """Where the centre goes and how big the chart is: worked out from the labels, so that a long title,
    wrapped onto several lines on any side of the chart, still fits inside it."""

    cx: float
    cy: float
    width: float
    height: float
    legend_y: float

    @classmethod
    def around(cls, labels: list[_RadarLabel]) -> "_RadarLayout":
        ring = RADAR_R + RADAR_MARKER
        extents = [label.extent() for label in labels]
        left = max([ring, *(-e[0] for e in extents)])
        up = max([ring, *(-e[1] for e in extents)])
        right = max([ring, *(e[2] for e in extents)])
        down = max([ring, *(e[3] for e in extents)])
        # Centred across the page, as wide as the wider side needs.
        half = max(RADAR_WIDTH / 2, max(left, right) + RADAR_MARGIN)
        cy = math.ceil(up + RADAR_MARGIN)
        legend_y = math.ceil(cy + down + RADAR_LEGEND_GAP)
        return cls(math.ceil(half), cy, math.ceil(2 * half), legend_y + RADAR_LEGEND_BELOW, legend_y)

    def point(self, index: int, count: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / count
        distance = RADAR_R * max(0.0, min(value, 100.0)) / 100
        return self.cx + distance * math.cos(angle), self.cy + distance * math.sin(angle)

    def label(self, label: _RadarLabel) -> list[str]:
        x = self.cx + label.x
        baselines = [self.cy + b for b in label.baselines]
        titles = zip(baselines[:-1], label.lines, strict=True)
        parts = [_text(x, b, line, LABEL, label.anchor, font_weight="bold") for b, line in titles]
        parts.append(_text(x, baselines[-1], label.figures, FIGURE, label.anchor, fill=GREY))
        return parts


def _points(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


# Repeated shapes are drawn as one path each: fewer elements make the PDF noticeably quicker to render.


def _ring_path(points: Iterable[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) + " Z"


def _rects_path(rects: Iterable[tuple[float, float, float, float]]) -> str:
    return " ".join(f"M{x:.1f},{y:.1f} h{w:.1f} v{h:.1f} h{-w:.1f} Z" for x, y, w, h in rects)


def _circles_path(centres: Iterable[tuple[float, float]], r: float) -> str:
    return " ".join(f"M{x - r:.1f},{y:.1f} a{r},{r} 0 1,0 {2 * r},0 a{r},{r} 0 1,0 {-2 * r},0 Z" for x, y in centres)


def radar_chart(score: AssessmentScore) -> Markup:
    """Eight axes (one per domain), readiness now as a solid blue shape and the six-month target as a dashed
    green outline, with gridlines at 25, 50, 75 and 100%."""
    domains = score.domains
    count = len(domains)
    labels = [_radar_label(i, count, d.domain.title, _range(d)) for i, d in enumerate(domains)]
    layout = _RadarLayout.around(labels)
    point = layout.point
    body: list[str] = []
    rings = " ".join(_ring_path(point(i, count, level) for i in range(count)) for level in (25, 50, 75))
    body.append(f'<path class="app-chart__grid" d="{rings}" fill="none" stroke="{GRID}" stroke-width="1"/>')
    outer = _ring_path(point(i, count, 100) for i in range(count))
    axes = " ".join(
        f"M{layout.cx},{layout.cy} L{x:.1f},{y:.1f}" for x, y in (point(i, count, 100) for i in range(count))
    )
    body.append(
        f'<path class="app-chart__grid" d="{outer} {axes}" fill="none" stroke="{GRID_STRONG}" stroke-width="1"/>'
    )
    now = [point(i, count, d.now) for i, d in enumerate(domains)]
    target = [point(i, count, d.target) for i, d in enumerate(domains)]
    body.append(
        f'<polygon class="app-chart__now" points="{_points(now)}" fill="{BLUE}" fill-opacity="0.18" '
        f'stroke="{BLUE}" stroke-width="3" stroke-linejoin="round"/>'
    )
    body.append(
        f'<polygon class="app-chart__target" points="{_points(target)}" fill="none" stroke="{GREEN}" '
        f'stroke-width="3" stroke-dasharray="{TARGET_DASH}" stroke-linejoin="round"/>'
    )
    body.append(f'<path d="{_circles_path(now, 5)}" fill="{BLUE}" stroke="#ffffff" stroke-width="1.5"/>')
    squares = _rects_path((x - 5, y - 5, 10, 10) for x, y in target)
    body.append(f'<path d="{squares}" fill="#ffffff" stroke="{GREEN}" stroke-width="2.5"/>')
    # Scale labels on top, midway between the first two axes (away from the point markers), on a pale backing.
    ticks = []
    for level in (25, 50, 75, 100):
        (x0, y0), (x1, y1) = point(0, count, level), point(1 % count, count, level)
        ticks.append(((x0 + x1) / 2, (y0 + y1) / 2, level))
    backing = _rects_path((x - 19, y - 9, 38, 17) for x, y, _ in ticks)
    body.append(f'<path d="{backing}" fill="#ffffff" fill-opacity="0.85"/>')
    body.extend(_text(x, y + 5, f"{level}%", TICK, "middle", fill=GREY) for x, y, level in ticks)
    for label in labels:
        body.extend(layout.label(label))

    # Legend, under the chart and centred on it: a solid line with a round marker, a dashed line with a square one.
    legend_y, left = layout.legend_y, layout.cx - 190
    body.append(
        f'<line x1="{left}" y1="{legend_y}" x2="{left + 44}" y2="{legend_y}" stroke="{BLUE}" stroke-width="3"/>'
        f'<circle cx="{left + 22}" cy="{legend_y}" r="5" fill="{BLUE}" stroke="#ffffff" stroke-width="1.5"/>'
    )
    body.append(_text(left + 52, legend_y + 6, "Now"))
    body.append(
        f'<line x1="{left + 160}" y1="{legend_y}" x2="{left + 204}" y2="{legend_y}" stroke="{GREEN}" '
        f'stroke-width="3" stroke-dasharray="{TARGET_DASH}"/>'
        f'<rect x="{left + 177}" y="{legend_y - 5}" width="10" height="10" fill="#ffffff" stroke="{GREEN}" '
        'stroke-width="2.5"/>'
    )
    body.append(_text(left + 212, legend_y + 6, "Six-month target"))

    title = "Readiness by domain, now and at the six-month target"
    desc = (
        f"Radar chart of {count} domains on a scale of 0 to 100%. Overall readiness now {percent(score.now)}, "
        f"at target {percent(score.target)}. " + _figures(score)
    )
    return _svg("radar", layout.width, layout.height, title, desc, body)


def percent_grid(x_of, label_y: float, top: float, bottom: float) -> list[str]:
    """Labels at 0, 25, 50, 75 and 100% along a horizontal scale, with light gridlines and stronger ends."""
    parts, light, strong = [], [], []
    for level in (0, 25, 50, 75, 100):
        x = x_of(level)
        parts.append(_text(x, label_y, f"{level}%", TICK, "middle", fill=GREY))
        (strong if level in (0, 100) else light).append(f"M{x:.1f},{top} V{bottom}")
    parts.append(f'<path class="app-chart__grid" d="{" ".join(light)}" fill="none" stroke="{GRID}" stroke-width="1"/>')
    parts.append(
        f'<path class="app-chart__grid" d="{" ".join(strong)}" fill="none" stroke="{GRID_STRONG}" stroke-width="1"/>'
    )
    return parts


# Gaps --------------------------------------------------------------------------------------------------------------

GAP_WIDTH = 720
GAP_LABEL_RIGHT = 226
GAP_BAR_LEFT, GAP_BAR_WIDTH = 236, 340
GAP_VALUE_LEFT = GAP_BAR_LEFT + GAP_BAR_WIDTH + 12
GAP_BAR_HEIGHT = 22
GAP_LINE = 19
GAP_TOP = 76
HATCH = "gap-chart-hatch"


def _x(value: float) -> float:
    return GAP_BAR_LEFT + GAP_BAR_WIDTH * max(0.0, min(value, 100.0)) / 100


def gap_chart(score: AssessmentScore) -> Markup:
    """One horizontal bar per domain: readiness now as a solid blue bar, the gap to the six-month target as a
    hatched yellow extension, and a dark marker at the target."""
    rows = [(d, textwrap.wrap(d.domain.title, 26) or [d.domain.title]) for d in score.domains]
    heights = [max(42, GAP_LINE * len(lines) + 10) for _, lines in rows]
    height = GAP_TOP + sum(heights) + 8
    bottom = GAP_TOP + sum(heights)

    body = [
        "<defs>"
        f'<pattern id="{HATCH}" patternUnits="userSpaceOnUse" width="8" height="8" '
        'patternTransform="rotate(45)">'
        f'<rect x="0" y="0" width="8" height="8" fill="{YELLOW}"/>'
        f'<rect x="0" y="0" width="3" height="8" fill="{TEXT}" fill-opacity="0.55"/>'
        "</pattern>"
        "</defs>"
    ]
    # Legend.
    body.append(f'<rect x="{GAP_BAR_LEFT}" y="8" width="24" height="16" fill="{BLUE}"/>')
    body.append(_text(GAP_BAR_LEFT + 30, 22, "Now"))
    body.append(
        f'<rect x="{GAP_BAR_LEFT + 80}" y="8" width="24" height="16" fill="url(#{HATCH})" '
        f'stroke="{TEXT}" stroke-width="1"/>'
    )
    body.append(_text(GAP_BAR_LEFT + 110, 22, "Gap to target"))
    body.append(
        f'<line x1="{GAP_BAR_LEFT + 222}" y1="6" x2="{GAP_BAR_LEFT + 222}" y2="26" stroke="{TEXT}" stroke-width="3"/>'
    )
    body.append(_text(GAP_BAR_LEFT + 230, 22, "Six-month target"))

    # Scale and gridlines.
    body.extend(percent_grid(_x, GAP_TOP - 10, GAP_TOP - 4, bottom))

    now_bars, gap_bars, markers = [], [], []
    y = GAP_TOP
    for (d, lines), row_height in zip(rows, heights, strict=True):
        bar_y = y + (row_height - GAP_BAR_HEIGHT) / 2
        middle = y + row_height / 2
        label_top = middle - (len(lines) - 1) * GAP_LINE / 2 + 6
        for i, line in enumerate(lines):
            body.append(_text(GAP_LABEL_RIGHT, label_top + i * GAP_LINE, line, LABEL, "end"))
        now_x, target_x = _x(d.now), _x(d.target)
        if now_x > GAP_BAR_LEFT:
            now_bars.append((GAP_BAR_LEFT, bar_y, now_x - GAP_BAR_LEFT, GAP_BAR_HEIGHT))
        if target_x > now_x:
            gap_bars.append((now_x, bar_y, target_x - now_x, GAP_BAR_HEIGHT))
        markers.append(f"M{target_x:.1f},{bar_y - 5:.1f} V{bar_y + GAP_BAR_HEIGHT + 5:.1f}")
        figure = f"{_range(d)} (+{d.gap:.0f})" if d.applicable else NOT_APPLICABLE
        body.append(_text(GAP_VALUE_LEFT, middle + 5, figure, FIGURE))
        y += row_height
    if now_bars:
        body.append(f'<path class="app-chart__now" d="{_rects_path(now_bars)}" fill="{BLUE}"/>')
    if gap_bars:
        body.append(
            f'<path class="app-chart__gap" d="{_rects_path(gap_bars)}" fill="url(#{HATCH})" '
            f'stroke="{TEXT}" stroke-width="1"/>'
        )
    body.append(
        f'<path class="app-chart__target" d="{" ".join(markers)}" fill="none" stroke="{TEXT}" stroke-width="3"/>'
    )

    title = "Gap between readiness now and the six-month target, by domain"
    desc = (
        f"Bar chart of {len(rows)} domains on a scale of 0 to 100%: each bar shows readiness now, "
        f"extended by the gap to the six-month target. " + _figures(score)
    )
    return _svg("gap", GAP_WIDTH, height, title, desc, body)
