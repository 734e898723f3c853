"""How fast the ICB's round pages are at national scale, and whether they grow with PCNs outside the ICB.

    APP_ENV=testing .venv/bin/python -m tests.benchmarks.returns_benchmark [--postgres URL] [--runs 15]

Builds `demo load --pcns 1250` in a fresh database (SQLite in a temporary folder; with --postgres, a fresh schema
on that server as well), then, in-process through the test client, times the dashboard, the heatmap and the XLSX
export for the largest ICB (X01, 120 PCNs) and for X02 (40 PCNs). Then it builds a database holding only X01, and
one holding only X02 (40 PCNs loaded in all), and times the same dashboards there: the ratio national ÷ alone shows
whether any query grows with PCNs outside the ICB. Targets: dashboard ≤ 300 ms, XLSX of the largest ICB ≤ 3 s,
ratio ≤ 1.5. Prints medians in milliseconds.
"""

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, select, text

from app import create_app
from app.extensions import db
from app.models import Organisation, ReturnRound, User
from app.services import database, demo, demo_scale, sessions


def _app(url: str):
    return create_app(
        {
            "TESTING": False,
            "APP_ENV": "testing",
            "DATABASE_URL": url,
            "SECRET_KEY": "benchmark-secret-benchmark-secret",
            "SERVER_NAME": "localhost",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


def _client(app, icb_code: str):
    with app.app_context():
        icb = db.session.scalar(select(Organisation).where(Organisation.ods_code == icb_code))
        lead = db.session.scalar(select(User).where(User.organisation_id == icb.id))
        round_id = db.session.scalar(select(ReturnRound.id).where(ReturnRound.icb_id == icb.id))
        token = sessions.start(lead, "127.0.0.1", "benchmark")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(lead.id)
        session["_fresh"] = True
        session["sid"] = token
    return client, round_id


def _median_ms(client, path: str, runs: int) -> float:
    client.get(path)  # warm caches (templates, questionnaire)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(times)


def _build(url: str, total: int, only_icb: int | None = None):
    app = _app(url)
    with app.app_context():
        database.upgrade()
        demo.load()
        demo_scale.load(total, only_icb=only_icb)
    return app


def _postgres_schema(base: str) -> tuple[str, callable]:
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}", drop


def measure(make_url, label: str, runs: int) -> None:
    print(f"\n{label}")
    url, drop = make_url()
    try:
        app = _build(url, 1250)
        figures = {}
        for code in ("X01", "X02"):
            client, round_id = _client(app, code)
            figures[code] = {
                "dashboard": _median_ms(client, f"/rounds/{round_id}", runs),
                "heatmap": _median_ms(client, f"/rounds/{round_id}/heatmap", runs),
                "xlsx": _median_ms(client, f"/rounds/{round_id}/export.xlsx", max(3, runs // 3)),
            }
    finally:
        drop()
    alone = {}
    for index, code in ((0, "X01"), (1, "X02")):
        url, drop = make_url()
        try:
            app = _build(url, 1250, only_icb=index)
            client, round_id = _client(app, code)
            alone[code] = _median_ms(client, f"/rounds/{round_id}", runs)
        finally:
            drop()
    print(f"{'ICB':<5} {'PCNs':>5} {'dashboard':>10} {'heatmap':>9} {'XLSX':>8} {'alone':>8} {'ratio':>6}")
    for code, size in (("X01", demo_scale.icb_sizes(1250)[0]), ("X02", 40)):
        f = figures[code]
        ratio = f["dashboard"] / alone[code]
        print(
            f"{code:<5} {size:>5} {f['dashboard']:>8.0f}ms {f['heatmap']:>7.0f}ms {f['xlsx']:>6.0f}ms "
            f"{alone[code]:>6.0f}ms {ratio:>6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="also measure on this PostgreSQL server (a fresh schema each time)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    os.environ.setdefault("APP_ENV", "testing")

    def sqlite_url():
        folder = tempfile.mkdtemp()
        return f"sqlite:///{Path(folder) / 'bench.sqlite'}", lambda: None

    measure(sqlite_url, "SQLite", args.runs)
    if args.postgres:
        measure(lambda: _postgres_schema(args.postgres), "PostgreSQL", args.runs)


if __name__ == "__main__":
    main()
