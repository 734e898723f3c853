"""Page times with all of England's PCNs loaded: median of repeated requests per page, through the WSGI app.

Run: .venv/bin/python -m tests.benchmarks.page_times [repeats]
Uses a temporary SQLite database (or DATABASE_URL if set to PostgreSQL; it then creates tables in that
database's default schema, so point it at a scratch database).
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from app import create_app
from app.extensions import db
from app.models import Organisation, OrgKind
from app.queries.organisations import get_organisation_by_code
from app.services import database, demo
from tests.helpers import complete_all, start

PCN_COUNT = 1260


def main(repeats: int = 20) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        import os

        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "APP_ENV": "testing"})
        with app.app_context():
            database.upgrade()
            demo.load()
            icb = get_organisation_by_code(demo.ICB[1])
            db.session.add_all(
                Organisation(name=f"Bench PCN {n:04d}", kind=OrgKind.PCN, ods_code=f"B{n:05d}", area=icb)
                for n in range(PCN_COUNT)
            )
            db.session.commit()
        cd = app.test_client()
        cd.post("/sign-in", data={"email": "cd@example.org", "password": "demo-password"})
        base = start(cd)
        complete_all(cd, app, base, current="1", target="3")
        cd.post(f"{base}/check")
        icb_client = app.test_client()
        icb_client.post("/sign-in", data={"email": "icb@example.org", "password": "demo-password"})
        pages = [
            ("home (PCN)", cd, "/"),
            ("task list", cd, base),
            ("domain page", cd, f"{base}/domains/integrated-teams"),
            ("check your answers", cd, f"{base}/check"),
            ("results", cd, f"{base}/results"),
            ("action plan", cd, f"{base}/plan"),
            ("plan CSV", cd, f"{base}/plan.csv"),
            (f"home (ICB, {PCN_COUNT + 6} PCNs)", icb_client, "/"),
        ]
        print(f"{'page':38} {'median ms':>10} {'max ms':>8}")
        for name, client, path in pages:
            timings = []
            for _ in range(repeats):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            print(f"{name:38} {statistics.median(timings):10.1f} {max(timings):8.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
