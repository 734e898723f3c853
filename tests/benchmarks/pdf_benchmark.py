"""How long the PDF report takes for a full assessment. A script, not a test (target: first render 0.5 s median):

    .venv/bin/python -m tests.benchmarks.pdf_benchmark [--runs 10] [--out /tmp/report.pdf]

It builds a throwaway SQLite database with the demo organisations, completes the core questionnaire with
varied answers and notes through the services, generates the plan, then measures, each as a median of --runs:

- first render: the download when nothing stored matches (reports.stored_pdf after a plan action's note has
  changed): the state key, the report build, WeasyPrint, and storing the PDF;
- the WeasyPrint floor: the same HTML with no stylesheet (WeasyPrint's defaults), to read the first against;
- what app/services/pdf_engine.py saves: the HTML parse by expat against WeasyPrint's own parser (tinyhtml5), and
  a render with pydyf deflating at its own level 9 rather than at zlib's default;
- cached download: reports.stored_pdf with nothing changed (the state key and the stored bytes), and the state
  key alone;
- peak resident memory (ru_maxrss) of the process before the first render and after all the renders.

Wall-clock and CPU times are both printed: the machine may be shared, and CPU time moves less with its load.
"""

import argparse
import logging
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.benchmarks import python_line

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


def _timed(call, runs: int, before=None) -> tuple[list[float], list[float], object]:
    """Wall-clock and CPU seconds of each of `runs` calls (after `before()`, which is not timed) and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        if before is not None:
            before()
        started, cpu_started = time.perf_counter(), time.process_time()
        result = call()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
    return walls, cpus, result


def _line(label: str, walls: list[float], cpus: list[float], unit: str = "s") -> str:
    scale = 1000 if unit == "ms" else 1
    return (
        f"{label}: median {statistics.median(walls) * scale:.3f} {unit} (min {min(walls) * scale:.3f}, "
        f"max {max(walls) * scale:.3f}; CPU median {statistics.median(cpus) * scale:.3f} {unit}), {len(walls)} runs"
    )


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _reset_high_water_mark() -> bool:
    """Start the kernel's count of peak resident memory (VmHWM) afresh, so it covers only what follows (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _high_water_mark_mib() -> float | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) / 1024 if found else None


class _PydyfOwnLevel:
    """For comparison only: renders with pydyf deflating at its own level 9, as before pdf_engine."""

    def __enter__(self):
        import zlib

        import pydyf

        self.ours, pydyf.zlib = pydyf.zlib, zlib

    def __exit__(self, *exc):
        import pydyf

        pydyf.zlib = self.ours


class _CollectorLeftOn:
    """For comparison only: renders with the cyclic garbage collector running, as before it was paused."""

    def __enter__(self):
        import gc

        self.disable, gc.disable = gc.disable, lambda: None

    def __exit__(self, *exc):
        import gc

        gc.disable = self.disable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed renders of each kind (default 10)")
    parser.add_argument("--out", type=Path, help="also write the PDF here")
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", "benchmark")  # so the app does not write a key into instance/
    from app import create_app
    from app.extensions import db
    from app.services import database, demo, plans, reports

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
            rss_before = _peak_rss_mib()

            started = time.perf_counter()
            pdf = reports.stored_pdf(assessment)
            warm_up = time.perf_counter() - started
            action = plans.visible_actions(assessment)[0]
            serial = iter(range(1_000_000))

            def new_state():  # a plan action's note changes: what the report shows is new, nothing stored matches
                change = plans.ActionChange(
                    action.title, action.description, action.owner, action.month, action.status, f"Note {next(serial)}"
                )
                plans.update_action(action, change, action.revision, assessment.started_by)
                db.session.commit()

            hwm_reset = _reset_high_water_mark()
            first = _timed(lambda: reports.stored_pdf(assessment), args.runs, before=new_state)
            pdf = first[2]
            renderer = reports._get_renderer()
            html = reports.pdf_html(reports.report_context(assessment))
            floor = _timed(lambda: renderer.pdf(html, stylesheet=False), args.runs)
            styled = _timed(lambda: renderer.pdf(html), args.runs)
            rss_after, hwm = _peak_rss_mib(), _high_water_mark_mib() if hwm_reset else None
            with _CollectorLeftOn():
                collector_on = _timed(lambda: renderer.pdf(html), args.runs)
            with _PydyfOwnLevel():
                level_nine = _timed(lambda: renderer.pdf(html), args.runs)
            import tinyhtml5

            from app.services import pdf_engine

            expat = _timed(lambda: pdf_engine.parse_html(html), max(args.runs, 50))
            html5 = _timed(lambda: tinyhtml5.parse(html, namespace_html_elements=False), max(args.runs, 50))
            cached = _timed(lambda: reports.stored_pdf(assessment), max(args.runs, 50))
            assert cached[2] == pdf, "the cached download did not serve the stored bytes"
            key = _timed(lambda: reports.report_state_key(assessment), max(args.runs, 50))
            if args.out:
                args.out.write_bytes(pdf)
            size = f"{len(assessment.answers)} answers, {len(assessment.actions)} actions"
            db.engine.dispose()

    print(f"PDF report for a full assessment ({size}); load average {os.getloadavg()[0]:.1f}; {python_line()}")
    print(f"warm-up (first render in the process: imports WeasyPrint, parses the stylesheet): {warm_up:.3f} s")
    print(_line("first render (download of a new state: key, build, WeasyPrint, store)", *first[:2]))
    print(_line("WeasyPrint alone, report stylesheet", *styled[:2]))
    print(_line("WeasyPrint floor (same HTML, no stylesheet)", *floor[:2]))
    print(_line("WeasyPrint with the report stylesheet, garbage collector left on (as before)", *collector_on[:2]))
    print(_line("WeasyPrint with the report stylesheet, pydyf deflating at level 9 (as before)", *level_nine[:2]))
    print(_line("HTML parse by expat (pdf_engine.parse_html)", *expat[:2], unit="ms"))
    print(_line("HTML parse by tinyhtml5 (WeasyPrint's own, as before)", *html5[:2], unit="ms"))
    print(_line("cached download (served from storage)", *cached[:2], unit="ms"))
    print(_line("state key alone", *key[:2], unit="ms"))
    if hwm is not None:
        print(f"peak RSS while rendering (VmHWM, reset before the first render): {hwm:.0f} MiB")
    print(f"process peak RSS (ru_maxrss): {rss_before:.0f} MiB before the first render, {rss_after:.0f} MiB after")
    print(f"pages: {page_count(pdf)}, size: {len(pdf) / 1024:.0f} KiB")
    if warnings.messages:
        print(f"WeasyPrint warnings ({len(warnings.messages)}), first: {sorted(set(warnings.messages))[:5]}")
    if args.out:
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
