"""The rules of plan against delivery: reached or missed against the previous target, and actions counted."""

from types import SimpleNamespace

from app.services.progress import (
    MISSED,
    NEW,
    NO_TARGET,
    NOT_KNOWN,
    REACHED,
    ActionCounts,
    count_actions,
    outcome,
    question_progress,
)
from app.services.scoring import AnswerValue
from app.services.trend_charts import trend_chart


def action(status, title="An action", removed=False):
    return SimpleNamespace(status=status, title=title, removed=removed)


def test_a_target_is_reached_when_the_pcn_is_at_or_above_it_now():
    before = AnswerValue(current=1, target=3)
    assert outcome(before, AnswerValue(current=3, target=4)) == REACHED
    assert outcome(before, AnswerValue(current=4, target=4)) == REACHED
    assert outcome(before, AnswerValue(current=2, target=3)) == MISSED


def test_what_cannot_be_compared_is_said_so_not_counted():
    assert outcome(None, AnswerValue(current=2, target=3)) == NEW
    assert outcome(AnswerValue(current=1, target_unsure=True), AnswerValue(current=2, target=2)) == NO_TARGET
    assert outcome(AnswerValue(not_applicable=True), AnswerValue(current=2, target=2)) == NO_TARGET
    assert outcome(AnswerValue(current=1, target=2), AnswerValue(current_unsure=True, target=2)) == NOT_KNOWN
    assert outcome(AnswerValue(current=1, target=2), AnswerValue(not_applicable=True)) == NOT_KNOWN
    assert outcome(AnswerValue(current=1, target=2), None) == NOT_KNOWN


def test_actions_are_counted_done_dropped_or_open_and_removed_ones_left_out():
    actions = [
        action("done"),
        action("done"),
        action("dropped"),
        action("not_started"),
        action("in_progress"),
        action("not_started", removed=True),
    ]
    assert count_actions(actions) == ActionCounts(done=2, dropped=1, open=2)
    assert count_actions(actions).total == 5
    assert ActionCounts(1, 0, 2) + ActionCounts(0, 1, 1) == ActionCounts(1, 1, 3)


def _questionnaire():
    return SimpleNamespace(scale=SimpleNamespace(name=lambda level: f"Level {level}"))


def test_a_missed_target_lists_the_actions_not_done():
    question = SimpleNamespace(id="q1", text="A question")
    actions = [action("done", "Did it"), action("dropped", "Let it go"), action("in_progress", "Still going")]
    missed = question_progress(
        _questionnaire(), question, AnswerValue(current=1, target=3), AnswerValue(current=2, target=3), actions
    )
    assert missed.missed and missed.target_label == "Level 3" and missed.now_label == "Level 2"
    assert missed.not_done == ("Let it go", "Still going")
    assert missed.actions == ActionCounts(done=1, dropped=1, open=1)

    reached = question_progress(
        _questionnaire(), question, AnswerValue(current=1, target=3), AnswerValue(current=3, target=4), actions
    )
    assert reached.reached and reached.not_done == ()


def test_the_trend_chart_is_an_image_with_every_figure_described():
    points = [
        SimpleNamespace(label="1 March 2026", scores={"a": 25.0, "b": None}),
        SimpleNamespace(label="1 September 2026", scores={"a": 50.0, "b": 75.0}),
    ]
    svg = str(trend_chart(points, [("a", "Leadership"), ("b", "Governance")]))
    assert 'role="img"' in svg and "<title" in svg
    assert "Assessment completed 1 March 2026: Leadership 25%, Governance not applicable." in svg
    assert "Assessment completed 1 September 2026: Leadership 50%, Governance 75%." in svg
    assert str(trend_chart([], [("a", "Leadership")])) == ""
