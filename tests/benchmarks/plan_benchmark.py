"""How the six-month plan comes out for a PCN one to two steps short everywhere. A script, not a test:

    .venv/bin/python tests/benchmarks/plan_benchmark.py [questionnaire.yaml] [--capacity DAYS] [--later]

The answers are deterministic: every question, in questionnaire order, alternates a gap of 1 and 2 steps from
level 1 (or lower when the scale leaves no room), with no "Not sure" and nothing not applicable. The plan is
scheduled at the questionnaire's default capacity (or --capacity). It prints the total of actions, each
month's actions with their days of effort, and how many are left for "Later" (--later lists them).

A file written before efforts existed (the first edition) fails today's check; it is read with the rules it
was written under, every action counting as "days" (2 days of work). At --capacity 10 that is exactly the
first edition's planner of five actions a month.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.questionnaires.loader import QuestionnaireError, load_file, parse_questionnaire  # noqa: E402
from app.questionnaires.schema import Questionnaire  # noqa: E402
from app.services.planning import MONTHS, needed_actions, schedule  # noqa: E402
from app.services.scoring import AnswerValue  # noqa: E402

DEFAULT_FILE = ROOT / "questionnaires" / "neighbourhood-readiness.yaml"


def read(path: Path) -> tuple[Questionnaire, str]:
    try:
        return load_file(path), ""
    except QuestionnaireError:
        return parse_questionnaire(path.read_text(), str(path), strict=False), " (read with first-edition rules)"


def one_to_two_steps_short(questionnaire: Questionnaire) -> dict[str, AnswerValue]:
    """Gaps of 1 and 2 in turn, from level 1 where the scale leaves room for the gap."""
    top = questionnaire.scale.max_level
    answers = {}
    for index, question_id in enumerate(questionnaire.questions_by_id):
        gap = min(1 if index % 2 == 0 else 2, top)
        current = max(0, min(1, top - gap))
        answers[question_id] = AnswerValue(current=current, target=current + gap)
    return answers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questionnaire", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--capacity", type=int, help="days of PCN work a month (default: the questionnaire's)")
    parser.add_argument("--later", action="store_true", help="list the actions left for later")
    args = parser.parse_args(argv)

    questionnaire, note = read(args.questionnaire)
    capacity = args.capacity or questionnaire.plan_capacity
    answers = one_to_two_steps_short(questionnaire)
    actions = needed_actions(questionnaire, answers)
    months = schedule(actions, questionnaire, capacity)

    print(f"{questionnaire.title} {questionnaire.version}{note}: {questionnaire.question_count} questions")
    print(f"  scale {questionnaire.scale.describe()}; capacity {capacity} days of work a month")
    print(f"Total actions: {len(actions)} ({sum(a.effort_days for a in actions)} days of effort)")
    for month in MONTHS:
        placed = [a for a in actions if months[a.key] == month]
        efforts = ", ".join(f"{sum(a.effort == e for a in placed)} {e}" for e in ("days", "weeks", "months"))
        print(f"  Month {month}: {len(placed):3} actions, {sum(a.effort_days for a in placed):3} days ({efforts})")
    later = [a for a in actions if months[a.key] is None]
    in_six = len(actions) - len(later)
    print(f"In six months: {in_six}; Later: {len(later)} ({sum(a.effort_days for a in later)} days of effort)")
    waiting = [a for a in later if a.requires]
    if waiting:
        print(f"  of which {len(waiting)} require a step of another question")
    if args.later:
        for action in later:
            print(f"    later: {action.key} [{action.effort}] {action.title}")


if __name__ == "__main__":
    main()
