"""Requests a second for every main page of every role at national scale, each beside the floor for its own bytes.

    .venv/bin/python -m tests.benchmarks.page_throughput [--database sqlite|postgresql|both] [--seconds 5]
        [--connections 8] [--only TEXT] [--postgres-url URL] [--keep DIR] [--fresh]

For each database it builds a throwaway copy (a SQLite file in a temporary folder; a fresh schema on the PostgreSQL
server, dropped afterwards) with the demo data and `demo load --pcns 1250` (1,266 PCNs, 42 ICBs). It signs in, through
the sign-in page, a clinical director of an X01 PCN part way through its return (every question answered, not yet
confirmed), a clinical director of an X01 PCN that has submitted (with its plan generated), X01's ICB lead, an LMC
officer covering X01, and the demo administrator. X01 is the largest ICB (120 PCNs, about 100 returns).

The app is served by gunicorn with 2 workers, with APP_ENV=development (production refuses a database that
holds the demo accounts; it differs otherwise only in cookie flags and one header). Each page is fetched once and
its bytes captured; then a bare Flask app (tests/benchmarks/floor_app.py), served by gunicorn in the same way,
answers with those bytes, page by page. wrk (Debian package `wrk`) loads each page for --seconds with --connections
connections, the app and then its floor, one page at a time, each after a second's warm-up. The table gives both
rates and their ratio; the target is 20% of the floor or better for every page. wrk asks for the same page again and
again, so the app serves it from its kept pages (app/page_cache.py) after the first view; --fresh turns keeping
pages off (PAGE_CACHE_BYTES=0), so that every request renders its page afresh, as the first view after a change
does. Peak resident memory (VmHWM) of each app worker is read at the end. Absolute figures drift on a shared
machine, so compare ratios from one run.

A script, not a test: it only ever talks to 127.0.0.1.
"""

import argparse
import http.client
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import distinct, func, select, text

from app.extensions import db
from app.models import Assessment, Organisation, OrgKind, ReturnRound, Role, Submission, User
from app.services import assessments, plans, rounds
from app.services.scoring import AnswerValue
from tests.benchmarks import python_line
from tests.benchmarks.benchmark_pages import LMC_EMAIL, _build
from tests.benchmarks.returns_benchmark import _postgres_schema
from tests.servers import free_port, start_gunicorn, stop_gunicorn, wait_for_gunicorn

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "benchmark-password"
WORKERS = 2
TARGET = 0.20
WARM_UP = 1  # seconds of load on each page, and on its floor, before either is measured
DRAFT_EMAIL = "draft-cd@measuring.invalid"
SUBMITTED_EMAIL = "submitted-cd@measuring.invalid"
ADMIN_EMAIL = "admin@example.org"


@dataclass
class Page:
    role: str
    name: str
    path: str
    email: str


# --- The data -----------------------------------------------------------------------------------------------


def _answer_everything(assessment: Assessment, questionnaire, user: User) -> None:
    revisions = {state.domain.id: state.revision for state in assessments.domain_states(assessment)}
    for position, domain in enumerate(questionnaire.domains):
        values = {}
        for index, question in enumerate(domain.questions):
            now = (position + index) % 4
            values[question.id] = AnswerValue(
                current=now, target=min(now + 1 + index % 2, 4), note="Agreed at the board." if index == 0 else ""
            )
        assessments.save_domain(assessment, domain, values, revisions[domain.id], user)


def build(url: str) -> tuple[list[Page], dict]:
    """The national data set, the users who sign in, and the pages each of them loads."""
    app = _build(url)
    with app.app_context():
        icb = db.session.scalar(select(Organisation).where(Organisation.ods_code == "X01"))
        round_ = db.session.scalar(select(ReturnRound).where(ReturnRound.icb_id == icb.id))
        lead = db.session.scalar(select(User).where(User.organisation_id == icb.id, User.role == Role.ICB_LEAD))
        # The national data set's returns carry answers in the submission only; these two PCNs answer every question
        # through the services, as a PCN would: one is part way through its return, the other has submitted it.
        draft_pcn, submitted_pcn = db.session.scalars(
            select(Organisation)
            .where(Organisation.area_id == icb.id, Organisation.kind == OrgKind.PCN)
            .where(~select(Assessment.id).where(Assessment.pcn_id == Organisation.id).exists())
            .order_by(Organisation.id)
            .limit(2)
        ).all()
        users = {}
        for email, pcn in ((DRAFT_EMAIL, draft_pcn), (SUBMITTED_EMAIL, submitted_pcn)):
            user = User(email=email, name="Clinical director", role=Role.CLINICAL_DIRECTOR, organisation=pcn)
            user.set_password(PASSWORD)
            db.session.add(user)
            users[email] = user
        for email in (LMC_EMAIL, ADMIN_EMAIL, lead.email):
            users[email] = db.session.scalar(select(User).where(User.email == email))
            users[email].set_password(PASSWORD)
        db.session.commit()

        draft = rounds.start_return(round_, draft_pcn, users[DRAFT_EMAIL])
        draft_questionnaire = assessments.questionnaire_for(draft)
        _answer_everything(draft, draft_questionnaire, users[DRAFT_EMAIL])
        done = rounds.start_return(round_, submitted_pcn, users[SUBMITTED_EMAIL])
        _answer_everything(done, assessments.questionnaire_for(done), users[SUBMITTED_EMAIL])
        assessments.complete_assessment(done)
        plans.regenerate(done, assessments.questionnaire_for(done), assessments.answer_values(done))
        db.session.commit()
        submission = rounds.submit(done, users[SUBMITTED_EMAIL], declared=True)
        db.session.commit()
        first_domain = draft_questionnaire.domains[0].id
        pages = [
            Page("PCN (draft)", "Home", "/", DRAFT_EMAIL),
            Page("PCN (draft)", "Task list", f"/assessments/{draft.id}", DRAFT_EMAIL),
            Page("PCN (draft)", "Domain page", f"/assessments/{draft.id}/domains/{first_domain}", DRAFT_EMAIL),
            Page("PCN (draft)", "Check answers", f"/assessments/{draft.id}/check", DRAFT_EMAIL),
            Page("PCN (submitted)", "Home", "/", SUBMITTED_EMAIL),
            Page("PCN (submitted)", "Results", f"/assessments/{done.id}/results", SUBMITTED_EMAIL),
            Page("PCN (submitted)", "Action plan", f"/assessments/{done.id}/plan", SUBMITTED_EMAIL),
            Page("PCN (submitted)", "Report (HTML)", f"/assessments/{done.id}/report", SUBMITTED_EMAIL),
            Page("PCN (submitted)", "Members", "/pcn/members", SUBMITTED_EMAIL),
            Page("PCN (submitted)", "PCN settings", "/pcn/settings", SUBMITTED_EMAIL),
            Page("ICB lead (X01)", "Home", "/", lead.email),
            Page("ICB lead (X01)", "Rounds", "/rounds/", lead.email),
            Page("ICB lead (X01)", "Round dashboard", f"/rounds/{round_.id}", lead.email),
            Page("ICB lead (X01)", "Heatmap", f"/rounds/{round_.id}/heatmap", lead.email),
            Page("ICB lead (X01)", "A return", f"/rounds/{round_.id}/returns/{submission.id}", lead.email),
            Page("ICB lead (X01)", "Benchmark", f"/benchmarks/rounds/{round_.id}", lead.email),
            Page("ICB lead (X01)", "Organisations", "/organisations", lead.email),
            Page("ICB lead (X01)", "People", "/people", lead.email),
            Page("LMC officer (X01)", "Home", "/", LMC_EMAIL),
            Page("LMC officer (X01)", "Benchmarks", "/benchmarks/", LMC_EMAIL),
            Page("LMC officer (X01)", "Benchmark", f"/benchmarks/rounds/{round_.id}", LMC_EMAIL),
            Page("Administrator", "Home", "/", ADMIN_EMAIL),
            Page("Administrator", "Questionnaires", "/questionnaires", ADMIN_EMAIL),
            Page("Administrator", "People", "/people", ADMIN_EMAIL),
        ]
        if url.startswith("postgresql"):
            # As a database in use has: the planner's statistics, which autovacuum would gather within minutes.
            # Without them PostgreSQL takes every freshly loaded table for a small one, and plans to match.
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        facts = {
            "pcns": db.session.scalar(select(func.count()).where(Organisation.kind == OrgKind.PCN)),
            "x01 returns": db.session.scalar(
                select(func.count(distinct(Submission.pcn_id))).where(Submission.round_id == round_.id)
            ),
        }
    return pages, facts


# --- Servers ------------------------------------------------------------------------------------------------


def _workers(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Client:
    """Just enough HTTP for signing in: keeps cookies whatever their Secure flag (production sets it; this is
    plain HTTP on loopback)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def _request(self, method: str, path: str, body: str | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie_header()} if self.cookies else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        connection.close()
        return response.status, dict(response.getheaders()), data

    def get(self, path: str):
        return self._request("GET", path)

    def post(self, path: str, fields: dict) -> tuple:
        return self._request("POST", path, urllib.parse.urlencode(fields))

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def sign_in(self, email: str) -> None:
        status, _, body = self.get("/sign-in")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body) or re.search(
            rb'name="csrf_token" value="([^"]+)"', body
        )
        status, headers, body = self.post(
            "/sign-in", {"csrf_token": token.group(1).decode(), "email": email, "password": PASSWORD}
        )
        if status != 302:
            raise RuntimeError(f"{email} could not sign in ({status}): {body[:300]!r}")


# --- Measuring ----------------------------------------------------------------------------------------------


def wrk(port: int, path: str, cookie: str, seconds: float, connections: int) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", f"http://127.0.0.1:{port}{path}"]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if bad:
        raise RuntimeError(f"{path}: {bad.group(1)} responses were not 200\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def measure(url: str, label: str, args, keep: Path | None) -> list[dict]:
    started = time.monotonic()
    pages, facts = build(url)
    print(f"\n{label}: {facts['pcns']:,} PCNs; X01 has {facts['x01 returns']} returns. Built in "
          f"{time.monotonic() - started:.0f} s. Pages {'rendered afresh' if args.fresh else 'kept'}. {python_line()}.",
          flush=True)  # fmt: skip
    if args.only:
        pages = [p for p in pages if args.only.lower() in f"{p.role}: {p.name}".lower()]  # as the table prints them
        if not pages:
            raise SystemExit(f"No page matches --only {args.only!r}: give part of a name as the table prints it.")
    rows = []
    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        tmp = Path(tmp)
        captured = tmp / "pages"
        captured.mkdir()
        app_port, floor_port = free_port(), free_port()
        env = {
            # As `make run` serves: production refuses a database holding demo accounts, and differs otherwise only
            # in its cookie flags and HSTS header.
            "APP_ENV": "development",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": url,
            "MAIL_BACKEND": "file",
            "MAIL_FROM": "Readiness <benchmark@localhost>",
            "MAIL_FILE_DIR": str(tmp / "mail"),
            "JOBS_SQLITE_PATH": str(tmp / "jobs.sqlite"),
            "PYTHONUNBUFFERED": "1",
            "PAGE_CACHE_BYTES": "0" if args.fresh else str(32 * 1024 * 1024),
        }
        app_server = start_gunicorn("app:create_app()", app_port, env, tmp / "app.log", WORKERS)
        try:
            wait_for_gunicorn(app_server, f"http://127.0.0.1:{app_port}/healthz")
            clients: dict[str, Client] = {}
            index = []
            for number, page in enumerate(pages):
                if page.email not in clients:
                    clients[page.email] = Client(app_port)
                    clients[page.email].sign_in(page.email)
                client = clients[page.email]
                status, headers, body = client.get(page.path)
                if status != 200:
                    raise RuntimeError(f"{page.role} {page.name} {page.path}: {status} {headers.get('Location', '')}")
                (captured / f"{number}.html").write_bytes(body)
                index.append(f"{number}.html {page.path}")
                page.size = len(body)
                for _ in range(10):  # each worker compiles its templates and warms its caches
                    client.get(page.path)
            (captured / "index.txt").write_text("\n".join(index) + "\n")
            if keep:
                shutil.copytree(captured, keep / label.lower(), dirs_exist_ok=True)
            floor_env = {"FLOOR_PAGES": str(captured)}
            floor_server = start_gunicorn(
                "tests.benchmarks.floor_app:create_floor()", floor_port, floor_env, tmp / "f.log", WORKERS
            )
            try:
                wait_for_gunicorn(floor_server, f"http://127.0.0.1:{floor_port}/0")
                print(f"{'page':<38} {'size':>7} {'app r/s':>9} {'floor r/s':>10} {'ratio':>7}", flush=True)
                for number, page in enumerate(pages):
                    cookie = clients[page.email].cookie_header()
                    wrk(app_port, page.path, cookie, WARM_UP, args.connections)  # not counted: caches, CPU clocks
                    wrk(floor_port, f"/{number}", "", WARM_UP, args.connections)
                    app_rate = wrk(app_port, page.path, cookie, args.seconds, args.connections)
                    floor_rate = wrk(floor_port, f"/{number}", "", args.seconds, args.connections)
                    ratio = app_rate / floor_rate
                    mark = "" if ratio >= TARGET else "  below 20%"
                    name = f"{page.role}: {page.name}"
                    print(f"{name:<38} {page.size / 1024:6.1f}K {app_rate:9.0f} {floor_rate:10.0f} "
                          f"{ratio:6.1%}{mark}", flush=True)  # fmt: skip
                    rows.append({"page": name, "size": page.size, "app": app_rate, "floor": floor_rate})
            finally:
                stop_gunicorn(floor_server)
            peaks = [_peak_rss_mb(pid) for pid in _workers(app_server)]
            print("Peak resident memory of the app's workers: " + ", ".join(f"{mb:.0f} MB" for mb in peaks))
        finally:
            stop_gunicorn(app_server)
    below = [r["page"] for r in rows if r["app"] / r["floor"] < TARGET]
    print(f"{len(rows) - len(below)} of {len(rows)} pages at 20% of their floor or better.")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--only", help="only the pages whose role or name holds this text")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--keep", type=Path, help="copy the captured pages to this folder")
    parser.add_argument("--fresh", action="store_true", help="keep no pages: every request renders its page afresh")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: sudo apt-get install -y wrk")
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="throughput-db-") as folder:
            measure(f"sqlite:///{folder}/national.sqlite", "SQLite", args, args.keep)
    if args.database in ("postgresql", "both"):
        url, drop = _postgres_schema(args.postgres_url)
        try:
            measure(url, "PostgreSQL", args, args.keep)
        finally:
            drop()


if __name__ == "__main__":
    main()
