"""How long the PDF report takes for a full assessment. A script, not a test (the target is 1 s median or better):

    .venv/bin/python -m tests.benchmarks.pdf_benchmark [--runs 10] [--out /tmp/report.pdf]

It builds a throwaway SQLite database with the demo organisations, completes the core questionnaire with
varied answers and notes through the services, generates the plan, then renders the PDF repeatedly.
"""

import argparse
import logging
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

NOTES = [
    "Discussed at the PCN board in March; the partners agreed in principle but want to see the contract terms.",
    "The community trust's locality director is supportive. We meet monthly and have a shared action log.",
    "Only two of our six practices have taken part so far, and we need the others before we can say more.",
    "The care home MDT runs well; the frailty MDT talks about patients but rarely agrees actions.",
    "Data sharing agreement drafted with the ICB's IG lead, waiting for sign-off by the Caldicott guardians.",
    "We do not know whether the estates review includes the old health centre site - to check with the ICB.",
    "Our social prescribing link workers know the voluntary sector well; we should use that in the plan.",
    "Board minutes record the decision; the clinical director has two sessions a week funded for this work.",
]


class _Counter(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _answers(questionnaire, rng: random.Random):
    from app.services.scoring import AnswerValue

    questions = [q for d in questionnaire.domains for q in d.questions]
    unsure_now = set(rng.sample(range(len(questions)), 2))
    unsure_target = set(rng.sample(range(len(questions)), 1)) - unsure_now
    values = {}
    for i, question in enumerate(questions):
        current = rng.choices([0, 1, 2, 3, 4], weights=[2, 4, 4, 2, 1])[0]
        target = min(4, current + rng.choice([0, 1, 1, 2, 2, 3]))
        note = rng.choice(NOTES) if rng.random() < 0.5 else ""
        if i in unsure_now:
            values[question.id] = AnswerValue(current_unsure=True, target=max(target, 1), note=note)
        elif i in unsure_target:
            values[question.id] = AnswerValue(current=current, target_unsure=True, note=note)
        else:
            values[question.id] = AnswerValue(current=current, target=target, note=note)
    return values


def build_assessment():
    """A completed core assessment for the first demo PCN, with its plan and a few actions under way."""
    from app.extensions import db
    from app.models import ActionStatus, Organisation
    from app.queries.users import get_user_by_email
    from app.questionnaires import registry
    from app.services import assessments, plans

    user = get_user_by_email("cd@example.org")
    pcn = db.session.get(Organisation, user.organisation_id)
    questionnaire = registry().core()[0]
    assessment = assessments.start_assessment(pcn, user, questionnaire)
    values = _answers(questionnaire, random.Random(2025))
    for domain in questionnaire.domains:
        page = {q.id: values[q.id] for q in domain.questions}
        assessments.save_domain(assessment, domain, page, 0, user)
    assessments.complete_assessment(assessment)
    for action, status in zip(
        plans.visible_actions(assessment)[:4],
        [ActionStatus.DONE, ActionStatus.IN_PROGRESS, ActionStatus.IN_PROGRESS, ActionStatus.NOT_STARTED],
        strict=False,
    ):
        change = plans.ActionChange(
            action.title, action.description, action.owner, action.month, status, "Agreed at the March board."
        )
        plans.update_action(action, change, action.revision, user)
    return assessment


def page_count(pdf: bytes) -> int:
    if shutil.which("pdfinfo"):
        out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed renders after the warm-up (default 10)")
    parser.add_argument("--out", type=Path, help="also write the PDF here")
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", "benchmark")  # so the app does not write a key into instance/
    from app import create_app
    from app.extensions import db
    from app.services import database, demo, reports

    warnings = _Counter()
    logging.getLogger("weasyprint").addHandler(warnings)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {"APP_ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp}/benchmark.sqlite", "SERVER_NAME": "localhost"}
        )
        with app.app_context(), app.test_request_context():
            database.upgrade()
            demo.load()
            assessment = build_assessment()

            started = time.perf_counter()
            pdf = reports.render_pdf(assessment)
            warm_up = time.perf_counter() - started
            times, cpu_times = [], []
            for _ in range(args.runs):
                started, cpu_started = time.perf_counter(), time.process_time()
                pdf = reports.render_pdf(assessment)
                times.append(time.perf_counter() - started)
                cpu_times.append(time.process_time() - cpu_started)
            if args.out:
                args.out.write_bytes(pdf)
            size = f"{len(assessment.answers)} answers, {len(assessment.actions)} actions"
            db.engine.dispose()

    print(f"PDF report for a full assessment ({size})")
    print(f"warm-up (first render: imports WeasyPrint, parses the stylesheet): {warm_up:.3f} s")
    if times:
        print(
            f"{len(times)} runs: median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
            f"max {max(times):.3f} s"
        )
        # The machine may be shared: CPU time and the load average help to read the figures.
        print(f"CPU time: median {statistics.median(cpu_times):.3f} s (load average {os.getloadavg()[0]:.1f})")
    print(f"pages: {page_count(pdf)}, size: {len(pdf) / 1024:.0f} KiB")
    if warnings.messages:
        print(f"WeasyPrint warnings ({len(warnings.messages)}), first: {sorted(set(warnings.messages))[:5]}")
    if args.out:
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
