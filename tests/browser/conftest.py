"""Browser tests: the app as a real server in a subprocess, driven by Debian's headless Chromium.

One server and one browser for the whole session. Each test gets a fresh browser context (its own cookies), and
every request that is not to 127.0.0.1 is aborted: nothing leaves the machine (the NHS.UK CSS asks for fonts on
assets.nhs.uk, which is unreachable here).
"""

import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.servers import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
FLASK = ROOT / ".venv" / "bin" / "flask"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "demo-password"
STARTUP_SECONDS = 20
# Requests a page needs to look and work right. Not "other": Chromium asks for the favicon only now and then.
ASSET_TYPES = {"stylesheet", "script", "image", "font", "media", "fetch", "xhr"}


# --- The server ------------------------------------------------------------------------------------------------


def _server_env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "APP_ENV": "testing",
            "SECRET_KEY": secrets.token_hex(32),  # so the server never writes instance/secret_key
            "FLASK_DEBUG": "0",  # no reloader: the handle we hold is the process serving requests
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _flask(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [str(FLASK), "--app", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        pytest.fail(f"`flask {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def _wait_until_healthy(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode} before answering:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer {url}/healthz within {STARTUP_SECONDS}s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> str:
    """The app served by `flask run` on a free port with its own SQLite database and the demo data; its base URL."""
    tmp = tmp_path_factory.mktemp("browser-server")
    env = _server_env(tmp / "browser.sqlite")
    _flask(env, "db", "upgrade")
    _flask(env, "demo", "load")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(FLASK), "--app", "app", "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(process, url, log)
        yield url
    finally:
        stop(process)


# --- The browser -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, for the whole session. Missing Chromium fails in CI and skips elsewhere."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _local_only(route) -> None:
    if urlsplit(route.request.url).hostname == "127.0.0.1":
        route.continue_()
    else:
        route.abort()


def open_context(browser, base_url: str, problems: list[str], **options):
    """A fresh browser context (its own cookies) that only reaches 127.0.0.1.

    A JavaScript error on any of its pages, anything the Content-Security-Policy refused, a server error, or a
    missing asset (stylesheet, script, image) is added to `problems`.
    """
    context = browser.new_context(base_url=base_url, **({"viewport": {"width": 1280, "height": 900}} | options))
    context.set_default_timeout(10_000)
    context.route("**/*", _local_only)

    def check(response) -> None:
        if response.status >= 500 or (response.status >= 400 and response.request.resource_type in ASSET_TYPES):
            problems.append(f"{response.status} from {response.url} ({response.request.resource_type})")

    def csp(page, message) -> None:
        if "Content Security Policy" in message.text:
            problems.append(f"Content-Security-Policy refused something on {page.url}: {message.text}")

    def watch(page):
        page.on("pageerror", lambda error: problems.append(f"JavaScript error on {page.url}: {error}"))
        page.on("console", lambda message: csp(page, message))
        page.on("response", check)

    context.on("page", watch)
    return context


@pytest.fixture
def new_page(browser, live_server):
    """A factory for pages, each in its own fresh context; `new_page(storage_state=...)` starts signed in.

    A JavaScript error, a server error or a missing asset on any of them fails the test.
    """
    contexts = []
    problems: list[str] = []

    def make(**options):
        context = open_context(browser, live_server, problems, **options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(new_page):
    return new_page()


# --- Helpers for the tests -------------------------------------------------------------------------------------


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)  # a refused sign-in stays on /sign-in, and times out here


def screenshot(page, name: str) -> Path:
    """A full-page screenshot in test-artifacts/ (git-ignored), for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe(page) -> list[dict]:
    """Run axe-core on the page with the WCAG 2.2 AA rules; returns its violations."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` (or `make install`)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's debugging protocol, which the page's Content-Security-Policy does not
        # govern (a <script> tag would be refused, as it should be).
        page.evaluate(AXE_JS.read_text())
    return page.evaluate(
        """async (tags) => {
            const options = {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]};
            const results = await axe.run(document, options);
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary})),
            }));
        }""",
        WCAG_22_AA,
    )


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} – {v['helpUrl']}")
        for node in v["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    {target}")
            lines.extend(f"        {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)


def assert_accessible(page, what: str = "") -> None:
    violations = axe(page)
    where = what or page.url
    assert not violations, f"axe found {len(violations)} WCAG 2.2 AA violation(s) on {where}:\n" + describe_violations(
        violations
    )
