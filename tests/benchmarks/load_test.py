"""Many PCN staff saving domain pages at once, through gunicorn: are saves quick, and is every save kept?

    .venv/bin/python -m tests.benchmarks.load_test [--database sqlite|postgresql] [--seconds 60] [--users 50]

It builds a database of its own (a SQLite file in a temporary folder, or a fresh schema on the PostgreSQL server
at --postgres-url, dropped at the end), with 10 PCNs in one ICB and 5 staff in each, and serves it with gunicorn
(2 workers) on a free port of 127.0.0.1. Each simulated user signs in through the sign-in page, finds or starts
their PCN's assessment, then saves domain pages over and over with new answers and a note of its own. The 5 users
of a PCN save different pages (user i saves the domains whose position % 5 == i), so no save should meet a
colleague's and get a 409. Users are spread PCN by PCN: the first 5 share a PCN, and so on.

Afterwards it reads the database and checks that every page holds what its last acknowledged save (a 302) sent.
It also counts PCNs left with more than one assessment in progress (colleagues starting at the same moment).
Exit code 1 if any request failed or was refused (409, 429), any acknowledged save is missing, or a PCN has
two assessments in progress.
A script, not a test: it only ever talks to 127.0.0.1.
"""

import argparse
import http.cookiejar
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, func, select, text

from app import create_app
from app.extensions import db
from app.models import Answer, Assessment, AssessmentStatus, Organisation, OrgKind, Role, User
from app.services import database
from tests.servers import free_port, start_gunicorn, stop_gunicorn, wait_for_gunicorn

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PCN_COUNT = 10
USERS_PER_PCN = 5
PASSWORD = "load-test-password"
MAX_USERS = PCN_COUNT * USERS_PER_PCN
MAX_SECONDS = 600
REQUEST_TIMEOUT = 60  # seconds a single request may take before it counts as an error
WORKERS = 2


# --- The database -------------------------------------------------------------------------------------------


def fresh_database(kind: str, tmp: Path, postgres_url: str) -> tuple[str, callable]:
    """A database of this run's own and a function that removes it (as tests/conftest.py does)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'load.sqlite'}", lambda: None
    schema = f"load_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    separator = "&" if "?" in postgres_url else "?"
    return f"{postgres_url}{separator}options={quote(f'-csearch_path={schema}')}", drop


def user_email(number: int) -> str:
    return f"load{number:02d}@example.org"


def build_data(url: str) -> None:
    """Migrations, then one ICB, its PCNs and 5 staff in each: user 0 of a PCN its clinical director."""
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url})
    with app.app_context():
        database.upgrade()
        icb = Organisation(name="Load Test ICB", kind=OrgKind.ICB, ods_code="QLT")
        db.session.add(icb)
        for p in range(PCN_COUNT):
            pcn = Organisation(name=f"Load Test PCN {p:02d}", kind=OrgKind.PCN, ods_code=f"L{p:05d}", area=icb)
            db.session.add(pcn)
            for i in range(USERS_PER_PCN):
                user = User(
                    email=user_email(p * USERS_PER_PCN + i),
                    name=f"Load User {p:02d}-{i}",
                    role=Role.CLINICAL_DIRECTOR if i == 0 else Role.PCN_MEMBER,
                    organisation=pcn,
                )
                user.set_password(PASSWORD)
                db.session.add(user)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


# --- The server ---------------------------------------------------------------------------------------------


def start_server(url: str, port: int, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        {
            "APP_ENV": "development",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": url,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return start_gunicorn("app:create_app()", port, env, log_path, WORKERS)


def stop_server(server: subprocess.Popen) -> None:
    stop_gunicorn(server, grace=30)  # let in-flight saves finish before the database is read


# --- Recording ----------------------------------------------------------------------------------------------


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    errors: Counter = field(default_factory=Counter)  # what went wrong -> how often
    conflicts: int = 0  # 409: a colleague saved the page first (should not happen here)
    rate_limited: int = 0  # 429
    sign_in_ms: list[float] = field(default_factory=list)
    save_ms: list[float] = field(default_factory=list)
    # (assessment id, domain id) -> answers sent by the last acknowledged save: question -> (now, target, note)
    last_saved: dict[tuple[int, str], dict[str, tuple[str, str, str]]] = field(default_factory=dict)
    assessment_of_user: dict[int, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] += 1


class Failed(Exception):
    """This user's request went wrong (already recorded); the user starts again from signing in."""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect comes back as an HTTPError with its status and Location


class PageParser(HTMLParser):
    """The inputs (name -> values) and links of a page."""

    def __init__(self):
        super().__init__()
        self.inputs: dict[str, list[str]] = {}
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name"):
            self.inputs.setdefault(attributes["name"], []).append(attributes.get("value") or "")
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])


def parse(body: str) -> PageParser:
    parser = PageParser()
    parser.feed(body)
    return parser


@dataclass
class Response:
    status: int
    location: str
    body: str


class Browser:
    """One user's cookies, talking to the server without following redirects; every request is recorded."""

    def __init__(self, base: str, stats: Stats):
        self.base = base
        self.stats = stats
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def request(self, path: str, form: dict | list | None = None) -> tuple[Response, float]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        started = time.perf_counter()
        try:
            try:
                with self.opener.open(self.base + path, data=data, timeout=REQUEST_TIMEOUT) as raw:
                    response = Response(raw.status, raw.headers.get("Location", ""), raw.read().decode())
            except urllib.error.HTTPError as raw:
                response = Response(raw.code, raw.headers.get("Location", ""), raw.read().decode(errors="replace"))
        except (OSError, urllib.error.URLError) as problem:
            with self.stats.lock:
                self.stats.requests += 1
                self.stats.errors[f"connection error: {type(problem).__name__}: {problem}"[:120]] += 1
            raise Failed from problem
        elapsed = (time.perf_counter() - started) * 1000
        with self.stats.lock:
            self.stats.requests += 1
            if response.status >= 500:
                self.stats.errors[f"{response.status} on {'POST' if form is not None else 'GET'} {kind(path)}"] += 1
            elif response.status == 429:
                self.stats.rate_limited += 1
            elif response.status == 409:
                self.stats.conflicts += 1
        return response, elapsed

    def expect(self, response: Response, status: int, path: str, method: str) -> None:
        if response.status == status:
            return
        if response.status < 500 and response.status not in (409, 429):  # those are counted already
            where = f" to {urllib.parse.urlsplit(response.location).path}" if response.location else ""
            self.stats.error(f"{response.status}{where} on {method} {kind(path)} (expected {status})")
        raise Failed


def kind(path: str) -> str:
    """A path with its ids taken out, so errors group by page."""
    path = re.sub(r"/assessments/\d+", "/assessments/<id>", path)
    return re.sub(r"/domains/[^/?]+", "/domains/<domain>", path)


# --- One user -----------------------------------------------------------------------------------------------


def run_user(number: int, base: str, stats: Stats, deadline: float, seed: int) -> None:
    """Sign in, find or start the PCN's assessment, then save this user's domain pages until the deadline."""
    rng = random.Random(seed * 1000 + number)
    slot = number % USERS_PER_PCN
    saves = 0
    while time.monotonic() < deadline:
        browser = Browser(base, stats)
        try:
            assessment_id, domains = sign_in_and_open(browser, number)
            with stats.lock:
                stats.assessment_of_user[number] = assessment_id
            mine = [d for position, d in enumerate(domains) if position % USERS_PER_PCN == slot]
            if not mine:
                return
            while time.monotonic() < deadline:
                for domain_id in mine:
                    if time.monotonic() >= deadline:
                        return
                    saves += 1
                    save_page(browser, rng, number, saves, assessment_id, domain_id)
        except Failed:
            time.sleep(0.5)  # after an error, start again with a fresh sign-in, unless time is up


def sign_in_and_open(browser: Browser, number: int) -> tuple[int, list[str]]:
    response, _ = browser.request("/sign-in")
    browser.expect(response, 200, "/sign-in", "GET")
    token = parse(response.body).inputs.get("csrf_token", [""])[0]
    form = {"csrf_token": token, "email": user_email(number), "password": PASSWORD}
    response, elapsed = browser.request("/sign-in", form)
    browser.expect(response, 302, "/sign-in", "POST")
    if "/sign-in" in response.location:
        browser.stats.error("sign-in sent back to sign-in")
        raise Failed
    with browser.stats.lock:
        browser.stats.sign_in_ms.append(elapsed)

    response, _ = browser.request("/")
    browser.expect(response, 200, "/", "GET")
    home = parse(response.body)
    task_list = next((link for link in home.links if re.fullmatch(r"/assessments/\d+", link)), None)
    if task_list is None:  # nobody in the PCN has started one yet: the home page has the start button
        form = {"csrf_token": home.inputs.get("csrf_token", [""])[0]}
        response, _ = browser.request("/assessments/start", form)
        browser.expect(response, 302, "/assessments/start", "POST")
        task_list = urllib.parse.urlsplit(response.location).path
        if not re.fullmatch(r"/assessments/\d+", task_list):
            browser.stats.error(f"start sent to {task_list}")
            raise Failed
    assessment_id = int(task_list.rsplit("/", 1)[1])

    response, _ = browser.request(task_list)
    browser.expect(response, 200, task_list, "GET")
    domains = []
    for link in parse(response.body).links:
        found = re.fullmatch(rf"{task_list}/domains/([^/?#]+)", link)
        if found and found[1] not in domains:
            domains.append(found[1])
    if not domains:
        browser.stats.error("task list without domain links")
        raise Failed
    return assessment_id, domains


def save_page(browser: Browser, rng: random.Random, number: int, save: int, assessment_id: int, domain_id: str):
    path = f"/assessments/{assessment_id}/domains/{domain_id}"
    response, _ = browser.request(path)
    browser.expect(response, 200, path, "GET")
    page = parse(response.body)
    questions = [name.removesuffix("-now") for name in page.inputs if name.endswith("-now")]
    if not questions or "csrf_token" not in page.inputs or "revision" not in page.inputs:
        browser.stats.error("domain page without its form")
        raise Failed
    note = f"load u{number} n{save}"
    form = [("csrf_token", page.inputs["csrf_token"][0]), ("revision", page.inputs["revision"][0])]
    sent = {}
    for question in questions:
        levels = sorted(int(v) for v in page.inputs[f"{question}-now"] if v.isdigit())
        now = rng.choice(levels)
        target = rng.choice([level for level in levels if level >= now])
        form += [(f"{question}-now", str(now)), (f"{question}-target", str(target)), (f"{question}-note", note)]
        sent[question] = (now, target, note)
    form.append(("continue", "1"))
    response, elapsed = browser.request(path, form)
    browser.expect(response, 302, path, "POST")
    if not urllib.parse.urlsplit(response.location).path.startswith(f"/assessments/{assessment_id}/"):
        browser.stats.error(f"save sent to {urllib.parse.urlsplit(response.location).path}")
        raise Failed
    with browser.stats.lock:
        browser.stats.save_ms.append(elapsed)
        browser.stats.last_saved[(assessment_id, domain_id)] = sent


# --- Checking and reporting ---------------------------------------------------------------------------------


def lost_saves(url: str, stats: Stats) -> tuple[int, int, list[str]]:
    """Pages whose stored answers differ from what their last acknowledged save sent, and PCNs that ended up
    with more than one assessment in progress (colleagues who pressed start at the same moment)."""
    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url})
    lost, examples = 0, []
    with app.app_context():
        for (assessment_id, domain_id), sent in sorted(stats.last_saved.items()):
            rows = db.session.scalars(
                select(Answer).where(Answer.assessment_id == assessment_id, Answer.domain_id == domain_id)
            )
            stored = {a.question_id: (a.current, a.target, a.note) for a in rows}
            if stored != sent:
                lost += 1
                if len(examples) < 5:
                    question = next((q for q in sent if stored.get(q) != sent[q]), "?")
                    examples.append(
                        f"assessment {assessment_id} {domain_id} {question}: "
                        f"sent {sent.get(question)}, stored {stored.get(question)}"
                    )
        per_pcn = db.session.execute(
            select(Assessment.pcn_id, func.count(Assessment.id))
            .where(Assessment.status == AssessmentStatus.IN_PROGRESS)
            .group_by(Assessment.pcn_id)
        ).all()
        doubled = sum(count > 1 for _, count in per_pcn)
        db.session.remove()
        db.engine.dispose()
    return lost, doubled, examples


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def server_problems(log_path: Path) -> list[str]:
    """What gunicorn's log says went wrong: exception lines and worker timeouts, counted."""
    found = Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        if "database is locked" in line:
            found["database is locked"] += 1
        elif "WORKER TIMEOUT" in line:
            found["gunicorn worker timeout"] += 1
        elif re.match(r"^[\w.]+(Error|Exception)\b", line):
            found[line[:160]] += 1
        elif "Traceback (most recent call last)" in line:
            found["tracebacks"] += 1
    return [f"{count:6d}  {what}" for what, count in found.most_common()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=60, help=f"how long users save pages (max {MAX_SECONDS})")
    parser.add_argument("--users", type=int, default=MAX_USERS, help=f"concurrent users (1-{MAX_USERS})")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="server and database for --database postgresql")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-log", type=Path, help="copy gunicorn's log here")
    args = parser.parse_args()
    if not 1 <= args.users <= MAX_USERS:
        parser.error(f"--users must be between 1 and {MAX_USERS}")
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be between 1 and {MAX_SECONDS}")
    # Setting up reads SECRET_KEY from the environment; a random one keeps it from touching instance/secret_key.
    os.environ["SECRET_KEY"] = secrets.token_hex(32)

    stats = Stats()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        url, drop = fresh_database(args.database, tmp, args.postgres_url)
        log_path = tmp / "gunicorn.log"
        server = None
        try:
            started = time.perf_counter()
            build_data(url)
            setup = time.perf_counter() - started
            print(f"{args.database}: {PCN_COUNT} PCNs and {MAX_USERS} users created in {setup:.1f} s")
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            server = start_server(url, port, log_path)
            wait_for_gunicorn(server, f"{base}/healthz", limit=30)
            print(f"gunicorn ({WORKERS} workers) on {base}; {args.users} users for {args.seconds:g} s")

            started = time.perf_counter()
            deadline = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=run_user, args=(n, base, stats, deadline, args.seed), daemon=True)
                for n in range(args.users)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT * 3 + 10)
            elapsed = time.perf_counter() - started
            stuck = sum(thread.is_alive() for thread in threads)
            if stuck:
                stats.error(f"{stuck} users still waiting when the run ended")
        except KeyboardInterrupt:
            print("interrupted: stopping the server")
            raise
        finally:
            if server is not None:
                stop_server(server)
                if args.keep_log:
                    args.keep_log.write_bytes(log_path.read_bytes())
            problems = server_problems(log_path) if log_path.exists() else []
            try:
                lost, doubled, notes = lost_saves(url, stats) if stats.assessment_of_user else (0, 0, [])
            finally:
                drop()

    errors = sum(stats.errors.values())
    users_seen = len(stats.assessment_of_user)
    print()
    print(f"{'requests':28} {stats.requests:10d}")
    print(f"{'errors':28} {errors:10d}")
    print(f"{'409 conflicts':28} {stats.conflicts:10d}")
    print(f"{'429 rate limited':28} {stats.rate_limited:10d}")
    print(f"{'sign-ins':28} {len(stats.sign_in_ms):10d}   p50 {percentile(stats.sign_in_ms, 0.5):.0f} ms, "
          f"max {max(stats.sign_in_ms, default=0):.0f} ms")  # fmt: skip
    print(f"{'users who reached a page':28} {users_seen:10d}")
    print(f"{'saves acknowledged':28} {len(stats.save_ms):10d}")
    print(f"{'save p50 ms':28} {percentile(stats.save_ms, 0.5):10.0f}")
    print(f"{'save p95 ms':28} {percentile(stats.save_ms, 0.95):10.0f}")
    print(f"{'save max ms':28} {max(stats.save_ms, default=0):10.0f}")
    print(f"{'requests/s':28} {stats.requests / elapsed:10.1f}")
    print(f"lost saves: {lost}")
    for note in notes:
        print(f"  {note}")
    print(f"PCNs with 2+ assessments in progress: {doubled}")
    if stats.errors:
        print("errors seen:")
        for what, count in stats.errors.most_common():
            print(f"{count:6d}  {what}")
    if problems:
        print("gunicorn log:")
        print("\n".join(problems))
    return 1 if errors or lost or doubled or stats.conflicts or stats.rate_limited else 0


if __name__ == "__main__":
    sys.exit(main())
