"""How long each domain page is: questions, words a reader meets and the page's height in a 1280-pixel-wide browser.

Runs the app from a checkout (this one, or --root another, such as a worktree of an earlier commit, to compare),
with demo data in a throwaway SQLite file, and measures every domain page of a new assessment in headless
Chromium. Words are counted from the page itself: the main column's text, without the site header and footer.

    .venv/bin/python tests/benchmarks/domain_pages.py [--root DIR] [--screenshot DIR]
"""

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(HERE))

from tests.servers import free_port, stop  # noqa: E402

ACCOUNT = "cd3@example.org"  # a PCN with no round, so the assessment is the core questionnaire alone
PASSWORD = "demo-password"


def serve(root: Path, database: Path) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env |= {"DATABASE_URL": f"sqlite:///{database}", "APP_ENV": "testing", "SECRET_KEY": secrets.token_hex(32)}
    flask = [str(HERE / ".venv" / "bin" / "flask"), "--app", "app"]
    for args in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run(flask + args, cwd=root, env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        flask + ["run", "--port", str(port)], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise SystemExit("the server did not start")


def measure(url: str, screenshots: Path | None) -> list[tuple[str, int, int, int]]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url else route.abort())
        page.goto(f"{url}/sign-in")
        page.fill("#email", ACCOUNT)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(url + "/")
        page.click("form[action$='/assessments/start'] button")
        page.wait_for_url("**/assessments/*")
        links = page.eval_on_selector_all(
            "a[href*='/domains/']", "links => [...new Set(links.map(a => a.getAttribute('href')))]"
        )
        for href in links:
            page.goto(url + href)
            questions = page.locator("section.app-question").count()
            words = len(page.locator("main").inner_text().split())
            height = page.evaluate("document.documentElement.scrollHeight")
            title = page.locator("h1").inner_text()
            rows.append((title, questions, words, height))
            if screenshots:
                screenshots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshots / f"{href.rsplit('/', 1)[-1]}.png"), full_page=True)
        browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout to serve (default: this one)")
    parser.add_argument("--screenshot", type=Path, help="save a full-page screenshot of each domain page here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        process, url = serve(args.root.resolve(), Path(tmp) / "pages.sqlite")
        try:
            rows = measure(url, args.screenshot)
        finally:
            stop(process)
    print(f"{'domain page':45} {'questions':>9} {'words':>7} {'height px':>10}")
    for title, questions, words, height in rows:
        print(f"{title:45} {questions:>9} {words:>7} {height:>10}")
    questions, words, tallest = sum(r[1] for r in rows), sum(r[2] for r in rows), max(r[3] for r in rows)
    print(f"{'all':45} {questions:>9} {words:>7} {tallest:>10} (tallest)")


if __name__ == "__main__":
    main()
