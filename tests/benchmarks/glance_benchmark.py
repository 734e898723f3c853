"""How long the kept-page glance at the session takes on PostgreSQL, each way it can run. A script, not a test:

    .venv/bin/python -m tests.benchmarks.glance_benchmark [--postgres URL] [--rounds 7] [--calls 500]

It loads the demo data into a throwaway schema, signs the demo clinical director in, then times the glance
(app/queries/sessions.py, one statement reading the session, the user and the data counters), interleaved, per call:

- through SQLAlchemy on the shared engine with an AUTOCOMMIT execution option (as it ran before the reader engine);
- through SQLAlchemy on the reader engine, whose connections start in autocommit;
- straight through the driver on the reader engine (`DriverGlance`, what the app runs).
"""

import argparse
import os
import secrets
import statistics
import time
from urllib.parse import quote

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_URL, help=f"PostgreSQL URL (default {DEFAULT_URL})")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--calls", type=int, default=500, help="calls timed per way per round (default 500)")
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", "benchmark")  # so the app does not write a key into instance/
    from sqlalchemy import create_engine, select, text

    from app import create_app
    from app.extensions import db
    from app.models import UserSession
    from app.queries import sessions as session_queries
    from app.queries.users import get_user_by_email
    from app.services import database, demo, sessions

    schema = f"glance_{secrets.token_hex(4)}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in args.postgres else "?"
    url = f"{args.postgres}{separator}options={quote(f'-csearch_path={schema}')}"
    try:
        app = create_app({"APP_ENV": "testing", "DATABASE_URL": url, "SERVER_NAME": "localhost"})
        with app.app_context():
            database.upgrade()
            demo.load()
            sessions.start(get_user_by_email("cd@example.org"), "127.0.0.1", "benchmark")
            db.session.commit()
            token_hash = db.session.scalars(select(UserSession.token_hash)).first()
            shared = db.engine.execution_options(isolation_level="AUTOCOMMIT")
            driver = session_queries.DriverGlance(db.reader)

            def through(engine):
                def glance():
                    with engine.connect() as connection:
                        return connection.execute(session_queries._GLANCE, {"token_hash": token_hash}).first()

                return glance

            ways = {
                "SQLAlchemy, shared engine with the AUTOCOMMIT option (before)": through(shared),
                "SQLAlchemy, reader engine in autocommit": through(db.reader),
                "the driver, reader engine in autocommit (the app)": lambda: driver.first(token_hash),
            }
            assert tuple(driver.first(token_hash)) == tuple(through(db.reader)())
            times: dict[str, list[float]] = {name: [] for name in ways}
            for _ in range(args.rounds):
                for name, glance in ways.items():
                    for _ in range(50):  # warm: pool, prepared statements
                        glance()
                    started = time.perf_counter()
                    for _ in range(args.calls):
                        glance()
                    times[name].append((time.perf_counter() - started) / args.calls * 1000)
            db.reader.dispose()
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    print(f"The kept-page glance on PostgreSQL, {args.rounds} interleaved rounds of {args.calls} calls")
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.3f} ms, min {min(values):.3f} ms a glance")


if __name__ == "__main__":
    main()
