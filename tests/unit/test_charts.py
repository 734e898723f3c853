"""The charts: what a reader of the results page or the PDF relies on."""

import math
import re
import textwrap
from collections import Counter
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import pytest

from app.questionnaires.loader import parse_questionnaire
from app.services.charts import GAP_BAR_WIDTH, RADAR_R, RADAR_WRAP, gap_chart, radar_chart
from app.services.scoring import AnswerValue, score_assessment

FIXTURES = Path(__file__).parent.parent / "fixtures" / "questionnaires"
SVG = "{http://www.w3.org/2000/svg}"
CORE = parse_questionnaire((Path(__file__).parents[2] / "questionnaires" / "neighbourhood-readiness.yaml").read_text())
MINI = parse_questionnaire((FIXTURES / "mini.yaml").read_text())


def _score(questionnaire, current=1, target=3):
    answers = {q: AnswerValue(current=current, target=target) for q in questionnaire.questions_by_id}
    return score_assessment(questionnaire, answers)


def _parse(markup) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))


@pytest.fixture(scope="module")
def varied():
    """Different figures in every domain, so a mix-up between domains would show."""
    answers = {}
    for i, domain in enumerate(CORE.domains):
        for question in domain.questions:
            answers[question.id] = AnswerValue(current=i % 4, target=min(4, i % 4 + 1 + i % 2))
    return score_assessment(CORE, answers)


@pytest.mark.parametrize("chart", [radar_chart, gap_chart])
def test_each_chart_is_an_image_with_a_text_alternative_giving_every_figure(chart, varied):
    svg = _parse(chart(varied))
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title.text and desc.text
    assert set(svg.get("aria-labelledby").split()) == {title.get("id"), desc.get("id")}
    for d in varied.domains:
        assert f"{d.domain.title}: now {d.now:.0f}%, target {d.target:.0f}%" in desc.text


@pytest.mark.parametrize("chart", [radar_chart, gap_chart])
def test_colours_are_explicit_never_currentcolor(chart, varied):
    # WeasyPrint draws everything after a "currentcolor" invisible.
    assert "currentcolor" not in str(chart(varied)).lower()


@pytest.mark.parametrize("chart", [radar_chart, gap_chart])
def test_charts_scale_down_with_a_view_box(chart, varied):
    svg = _parse(chart(varied))
    assert svg.get("viewBox") == f"0 0 {svg.get('width')} {svg.get('height')}"
    assert "app-chart" in svg.get("class")


def test_radar_has_one_point_per_domain_for_now_and_target(varied):
    svg = _parse(radar_chart(varied))
    now = svg.find(f".//{SVG}polygon[@class='app-chart__now']")
    target = svg.find(f".//{SVG}polygon[@class='app-chart__target']")
    assert len(now.get("points").split()) == len(target.get("points").split()) == len(CORE.domains) == 8
    # Now and target differ without colour: a solid line against a dashed one.
    assert now.get("stroke-dasharray") is None and target.get("stroke-dasharray")


def test_radar_labels_every_axis_and_draws_gridlines_at_quarters(varied):
    svg = _parse(radar_chart(varied))
    text = " ".join(t.text for t in svg.iter(f"{SVG}text"))
    for domain in CORE.domains:
        assert domain.title.split()[0] in text
    for level in ("25%", "50%", "75%", "100%"):
        assert level in text
    grids = svg.findall(f".//{SVG}path[@class='app-chart__grid']")
    rings = sum(p.get("d").count("Z") for p in grids)
    assert rings == 4  # 25, 50 and 75% in one path; 100% with the axes in the other
    assert sum(p.get("d").count("M") for p in grids) == 4 + len(CORE.domains)


def test_radar_points_sit_at_the_figures():
    score = _score(MINI, current=2, target=4)  # 50% now and 100% at target everywhere
    svg = _parse(radar_chart(score))
    now = svg.find(f".//{SVG}polygon[@class='app-chart__now']").get("points").split()
    target = svg.find(f".//{SVG}polygon[@class='app-chart__target']").get("points").split()

    cx, cy = _radar_centre(svg)

    def distance(point):
        x, y = map(float, point.split(","))
        return math.hypot(x - cx, y - cy)

    assert all(distance(p) == pytest.approx(RADAR_R / 2, abs=0.2) for p in now)
    assert all(distance(p) == pytest.approx(RADAR_R, abs=0.2) for p in target)


def _radar_centre(svg) -> tuple[float, float]:
    """Every axis is drawn out from the centre."""
    axes = " ".join(p.get("d") for p in svg.findall(f".//{SVG}path[@class='app-chart__grid']"))
    (x, y), _ = Counter(re.findall(r"M([\d.]+),([\d.]+) L", axes)).most_common(1)[0]
    return float(x), float(y)


LONG_TITLE = "Leadership and organisational development"
FONTS = Path("/usr/share/fonts/truetype/liberation")  # Arial's metrics, which the charts ask for first


class _Font:
    """How far a line of text reaches, from the font's own metrics."""

    def __init__(self, path: Path):
        from fontTools.ttLib import TTFont

        font = TTFont(path)
        self.em = font["head"].unitsPerEm
        self.ascent, self.descent = font["hhea"].ascent / self.em, -font["hhea"].descent / self.em
        self.cmap, self.advances = font.getBestCmap(), font["hmtx"].metrics

    def width(self, text: str, size: float) -> float:
        glyphs = [self.cmap.get(ord(c)) for c in text]
        return sum(self.advances[g][0] if g else self.em for g in glyphs) * size / self.em


@pytest.fixture(scope="module")
def fonts():
    regular, bold = FONTS / "LiberationSans-Regular.ttf", FONTS / "LiberationSans-Bold.ttf"
    if not (regular.exists() and bold.exists()):
        pytest.skip("needs fonts-liberation")
    return {"normal": _Font(regular), "bold": _Font(bold)}


@pytest.mark.parametrize("position", range(8))
def test_radar_labels_of_three_lines_fit_inside_the_chart_on_every_side(fonts, position):
    assert len(textwrap.wrap(LONG_TITLE, RADAR_WRAP)) == 3
    domains = list(CORE.domains)
    domains[position] = replace(domains[position], title=LONG_TITLE)
    svg = _parse(radar_chart(_score(replace(CORE, domains=tuple(domains)))))
    left, top, width, height = map(float, svg.get("viewBox").split())

    boxes = []
    for text in svg.iter(f"{SVG}text"):
        font = fonts[text.get("font-weight", "normal")]
        x, y, size = float(text.get("x")), float(text.get("y")), float(text.get("font-size"))
        reach = font.width(text.text, size)
        start = {"start": x, "middle": x - reach / 2, "end": x - reach}[text.get("text-anchor")]
        box = (start, y - font.ascent * size, start + reach, y + font.descent * size)
        assert top <= box[1] and box[3] <= top + height, text.text
        assert left <= box[0] and box[2] <= left + width, text.text
        boxes.append((text.text, box))
    # Nor does any line of text run into another (the legend included).
    for i, (first, a) in enumerate(boxes):
        for second, b in boxes[i + 1 :]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, (first, second)
    lines = [t.text for t in svg.iter(f"{SVG}text")]
    assert textwrap.wrap(LONG_TITLE, RADAR_WRAP) == lines[lines.index("Leadership and") :][:3]


def _subpaths(svg, name: str) -> int:
    path = svg.find(f".//{SVG}path[@class='app-chart__{name}']")
    return 0 if path is None else path.get("d").count("M")


def test_gap_chart_has_a_bar_per_domain_and_a_target_marker(varied):
    svg = _parse(gap_chart(varied))
    assert _subpaths(svg, "target") == 8
    assert _subpaths(svg, "now") == sum(d.now > 0 for d in varied.domains)
    assert _subpaths(svg, "gap") == sum(d.target > d.now for d in varied.domains)
    # The gap is hatched, not only coloured.
    assert svg.find(f".//{SVG}path[@class='app-chart__gap']").get("fill").startswith("url(#")
    text = " ".join(t.text for t in svg.iter(f"{SVG}text"))
    for d in varied.domains:
        assert f"{d.now:.0f}% → {d.target:.0f}%" in text


def test_gap_chart_bars_end_at_the_figures():
    svg = _parse(gap_chart(_score(MINI, current=1, target=3)))  # 25% now, 75% at target
    now = svg.find(f".//{SVG}path[@class='app-chart__now']").get("d")
    gap = svg.find(f".//{SVG}path[@class='app-chart__gap']").get("d")
    assert f"h{GAP_BAR_WIDTH * 0.25:.1f}" in now and f"h{GAP_BAR_WIDTH * 0.5:.1f}" in gap


def test_text_is_escaped():
    domain = replace(MINI.domains[0], title='Lead <b>"&"</b>')
    questionnaire = replace(MINI, domains=(domain, *MINI.domains[1:]))
    for chart in (radar_chart, gap_chart):
        markup = str(chart(_score(questionnaire)))
        assert "<b>" not in markup
        _parse(markup)  # still well-formed
