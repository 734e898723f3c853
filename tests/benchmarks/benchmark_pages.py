"""How fast the benchmark pages are at national scale.

    APP_ENV=testing .venv/bin/python -m tests.benchmarks.benchmark_pages [--postgres URL] [--runs 20]

Loads the demo data and `demo load --pcns 1250` into a throwaway SQLite file (and, with --postgres, into a fresh
schema on that server as well), gives an LMC coverage of every sub-ICB location of the largest ICB (X01, about 120
PCNs), then times, warm, the median of the runs:
- the LMC's benchmark page for X01's round, through the Flask test client (and the ICB lead's, for comparison);
- a PCN results page's England-wide comparison: benchmarks.peer_comparison for a PCN in X01, called directly.
Target: ≤ 300 ms each. Prints milliseconds.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import distinct, func, select

from app.extensions import db
from app.models import Organisation, OrgKind, ReturnRound, Role, Submission, User
from app.questionnaires import registry
from app.services import benchmarks, database, demo, demo_rounds, demo_scale, sessions
from tests.benchmarks.returns_benchmark import _app, _postgres_schema

TARGET_MS = 300
LMC_EMAIL = "lmc-x01@measuring.invalid"


def _build(url: str):
    app = _app(url)
    with app.app_context():
        database.upgrade()
        demo.load()
        demo_rounds.load()
        demo_scale.load(1250)
        icb = db.session.scalar(select(Organisation).where(Organisation.ods_code == "X01"))
        subs = list(
            db.session.scalars(
                select(Organisation).where(Organisation.area_id == icb.id, Organisation.kind == OrgKind.SUB_ICB)
            )
        )
        lmc = db.session.scalar(
            select(Organisation).where(Organisation.kind == OrgKind.LMC, Organisation.area_id == icb.id)
        )
        if lmc is None:
            lmc = Organisation(name="Measuring LMC X01", kind=OrgKind.LMC, area_id=icb.id)
            db.session.add(lmc)
        for sub in subs:
            if sub not in lmc.covers:
                lmc.covers.append(sub)
        if db.session.scalar(select(User).where(User.email == LMC_EMAIL)) is None:
            db.session.add(
                User(
                    email=LMC_EMAIL,
                    name="LMC officer X01",
                    password_hash="not a password",
                    role=Role.LMC_OFFICER,
                    organisation=lmc,
                )
            )
        db.session.commit()
    return app


def _client(app, email: str):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        token = sessions.start(user, "127.0.0.1", "benchmark")
        user_id = user.id
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session["sid"] = token
    return client


def _median_ms(action, runs: int) -> float:
    action()  # warm: templates, questionnaire, letters drawn
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _page(client, path: str):
    def get():
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert "Fewer than 5 PCNs" not in response.get_data(as_text=True)

    return get


def measure(url: str, label: str, runs: int) -> dict[str, float]:
    app = _build(url)
    with app.app_context():
        icb = db.session.scalar(select(Organisation).where(Organisation.ods_code == "X01"))
        round_ = db.session.scalar(select(ReturnRound).where(ReturnRound.icb_id == icb.id))
        round_id = round_.id
        lead_email = db.session.scalar(
            select(User.email).where(User.organisation_id == icb.id, User.role == Role.ICB_LEAD)
        )
        submitted = db.session.scalar(
            select(func.count(distinct(Submission.pcn_id))).where(Submission.round_id == round_id)
        )
    path = f"/benchmarks/rounds/{round_id}"
    figures = {
        "LMC benchmark page (X01)": _median_ms(_page(_client(app, LMC_EMAIL), path), runs),
        "ICB lead benchmark page (X01)": _median_ms(_page(_client(app, lead_email), path), runs),
    }
    with app.app_context():
        round_ = db.session.get(ReturnRound, round_id)
        questionnaire = registry().by_hash(round_.questionnaire_hash)
        pcn_id = db.session.scalar(select(Submission.pcn_id).where(Submission.round_id == round_id).limit(1))
        pcn = db.session.get(Organisation, pcn_id)
        groups = benchmarks.peer_comparison(questionnaire, pcn)
        assert all(g.enough for g in groups), [(g.label, g.count) for g in groups]

        def compare():
            db.session.expire_all()  # as on a fresh request: nothing kept from the last call
            benchmarks.peer_comparison(questionnaire, pcn)

        figures["Peer comparison (X01 PCN: its ICB and England)"] = _median_ms(compare, runs)
        england = groups[-1].count
    print(f"\n{label}: X01 round with {submitted} submitted returns; England peer group of {england} PCNs")
    for name, ms in figures.items():
        verdict = "ok" if ms <= TARGET_MS else f"over the {TARGET_MS} ms target"
        print(f"  {name:<48} {ms:8.1f} ms  {verdict}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="also measure on a fresh schema of this PostgreSQL server")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", "SQLite", args.runs)
    if args.postgres:
        url, drop = _postgres_schema(args.postgres)
        try:
            measure(url, "PostgreSQL", args.runs)
        finally:
            drop()


if __name__ == "__main__":
    main()
