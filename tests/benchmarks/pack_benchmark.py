"""How long the PDF pack of the largest ICB's round takes, built from stored PDFs. A script, not a test
(target: 10 s or less at national scale):

    .venv/bin/python -m tests.benchmarks.pack_benchmark [--pcns 1250] [--runs 3] [--copies]
    .venv/bin/python -m tests.benchmarks.pack_benchmark --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

It builds a throwaway database (SQLite, or a fresh schema on --postgres, dropped afterwards) with the demo data and
the national-scale data set (app/services/demo_scale.py, as `flask demo load --pcns 1250` does), finds the round
with the most submitted returns (the largest ICB's), and makes sure each of its submissions has a stored PDF: a real
render of each submission's own report, as the submission_pdf job makes it (about a second each, so a few minutes
for ~100 returns; --copies renders one real report and stores it for every submission instead, for a quick run).
Then it times build_pdf_pack (the job's own function, median of --runs) and prints the pack's size. It also times
the stored-report state key of one of that ICB's PCNs with the whole country's submissions as its England peers.
"""

import argparse
import os
import statistics
import tempfile
import time

from sqlalchemy import distinct, func, select

TARGET_S = 10.0


def _largest_round() -> int:
    from app.extensions import db
    from app.models import Submission

    counts = (
        select(Submission.round_id, func.count(distinct(Submission.pcn_id)).label("pcns"))
        .where(Submission.reopened_at.is_(None))
        .group_by(Submission.round_id)
        .order_by(func.count(distinct(Submission.pcn_id)).desc())
        .limit(1)
    )
    return db.session.execute(counts).first()[0]


def _store_pdfs(round_id: int, copies: bool) -> tuple[int, list[float]]:
    """Render and store the PDF of every submission in the pack that has none; the seconds each render took."""
    from app.extensions import db
    from app.models import Submission
    from app.models.base import utcnow
    from app.queries.packs import latest_submissions
    from app.services.reports import render_report_pdf
    from app.services.return_jobs import submission_report

    missing = [entry.submission_id for entry in latest_submissions(round_id) if not entry.has_pdf]
    times, shared = [], None
    for done, submission_id in enumerate(missing, start=1):
        submission = db.session.get(Submission, submission_id)
        started = time.perf_counter()
        if shared is None or not copies:
            pdf = render_report_pdf(submission_report(submission))
            times.append(time.perf_counter() - started)
            shared = pdf
        submission.pdf, submission.pdf_rendered_at = shared, utcnow()
        if done % 10 == 0 or done == len(missing):
            db.session.commit()
            print(f"  stored {done} of {len(missing)} PDFs", flush=True)
    return len(missing), times


def _state_key_ms(round_id: int, runs: int = 20) -> tuple[float, float]:
    """Median ms of the stored-report state key of one of the round's PCNs, and of building its report's HTML
    (what a key made by hashing the HTML would cost on every download)."""
    from app.extensions import db
    from app.models import Assessment, Submission
    from app.services.reports import pdf_html, report_context, report_state_key

    assessment_id = db.session.scalar(select(Submission.assessment_id).where(Submission.round_id == round_id).limit(1))
    figures = []
    for call in (report_state_key, lambda a: pdf_html(report_context(a))):
        call(db.session.get(Assessment, assessment_id))
        times = []
        for _ in range(runs):
            db.session.expire_all()  # as on a fresh request
            started = time.perf_counter()
            call(db.session.get(Assessment, assessment_id))
            times.append((time.perf_counter() - started) * 1000)
        figures.append(statistics.median(times))
    return figures[0], figures[1]


def measure(url: str, pcns: int, runs: int, copies: bool) -> None:
    from app.extensions import db
    from app.models import ReturnRound
    from app.services import database, demo, demo_scale
    from app.services.packs import build_pdf_pack
    from tests.benchmarks.returns_benchmark import _app

    app = _app(url)
    with app.app_context(), app.test_request_context():
        started = time.perf_counter()
        database.upgrade()
        demo.load()
        demo_scale.load(pcns)
        print(f"data loaded: {pcns} PCNs at national scale in {time.perf_counter() - started:.0f} s", flush=True)
        round_id = _largest_round()
        round_ = db.session.get(ReturnRound, round_id)
        print(f"largest round: {round_.title!r} (ICB {round_.icb.name})", flush=True)
        started = time.perf_counter()
        rendered, render_times = _store_pdfs(round_id, copies)
        if render_times:
            print(
                f"stored PDFs for {rendered} submissions in {time.perf_counter() - started:.0f} s "
                f"({len(render_times)} real renders, median {statistics.median(render_times):.2f} s each)"
            )
        job = type("PackJob", (), {"round_id": round_id})()
        times, result = [], None
        for _ in range(runs):
            db.session.expire_all()
            started = time.perf_counter()
            result = build_pdf_pack(job, lambda done, total: None)
            times.append(time.perf_counter() - started)
        pdfs = len(_entries(round_id))
        key_ms, html_ms = _state_key_ms(round_id)
        db.session.rollback()
        db.engine.dispose()
    median = statistics.median(times)
    verdict = "ok" if median <= TARGET_S else f"over the {TARGET_S:.0f} s target"
    print(
        f"PDF pack of the largest round: {pdfs} PDFs, {len(result.content) / 2**20:.1f} MB ZIP; "
        f"build_pdf_pack median of {runs}: {median:.2f} s (min {min(times):.2f}, max {max(times):.2f}) {verdict}"
    )
    print(f"stored-report state key of one of its PCNs (England peers at national scale): median {key_ms:.1f} ms")
    print(f"building that PCN's report HTML (what hashing the HTML for a key would cost): median {html_ms:.1f} ms")


def _entries(round_id: int):
    from app.queries.packs import latest_submissions

    return latest_submissions(round_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcns", type=int, default=1250, help="PCNs in the national-scale data set (default 1250)")
    parser.add_argument("--runs", type=int, default=3, help="timed pack builds (default 3)")
    parser.add_argument("--copies", action="store_true", help="render one real PDF and store it for every return")
    parser.add_argument("--postgres", metavar="URL", help="measure on a fresh schema of this PostgreSQL database")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "benchmark")
    if args.postgres:
        from tests.benchmarks.returns_benchmark import _postgres_schema

        url, drop = _postgres_schema(args.postgres)
        try:
            measure(url, args.pcns, args.runs, args.copies)
        finally:
            drop()
        return
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{tmp}/pack-benchmark.sqlite", args.pcns, args.runs, args.copies)


if __name__ == "__main__":
    main()
