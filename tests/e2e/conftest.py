"""Browser tests: the real app served by `flask run`, driven by headless Chromium.

The server runs in a subprocess on a fresh SQLite file, migrated and seeded
through the same CLI commands a developer uses, with the outbox public so a
test can read the emails the app sends. Playwright drives the system
Chromium at /usr/bin/chromium; we never run `playwright install`.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO_ROOT / "test-artifacts"
STARTUP_TIMEOUT = 30  # seconds for /healthz to answer 200
DEFAULT_TIMEOUT_MS = 10_000  # per Playwright action or expectation


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(tmp: Path, base_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("FLASK_") and key != "TEST_DATABASE_URL"}
    # PUBLIC_BASE_URL: links in emails point at this server, as `make run` does for its port.
    env.update(APP_ENV="development", DATABASE_URL=f"sqlite:///{tmp / 'e2e.sqlite3'}",
               OUTBOX_PUBLIC="1", RATELIMIT_ENABLED="0", SECRET_KEY="e2e-secret",
               PUBLIC_BASE_URL=base_url, PYTHONUNBUFFERED="1", UPLOADS_DIR=str(tmp / "uploads"))
    return env


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    # The server runs in its own process group, so a reloader child would go too.
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Base URL of the app served by `flask run` on a free port, stopped after the session."""
    tmp = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _server_env(tmp, base_url)
    SERVER_ENV.update(env)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for command in (["db", "upgrade"], ["seed-skills"]):
        result = subprocess.run(flask + command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            pytest.fail(f"`flask {' '.join(command)}` failed ({result.returncode}):\n"
                        f"{result.stdout}\n{result.stderr}", pytrace=False)

    log_path = tmp / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(flask + ["run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
                                   cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(f"{base_url}/healthz"):
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text()}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz did not answer 200 within {STARTUP_TIMEOUT} s:\n{log_path.read_text()}",
                            pytrace=False)
            time.sleep(0.2)
        yield base_url
    finally:
        _stop(process)


SERVER_ENV: dict[str, str] = {}   # the live server's environment (its database), for operator steps

_APPROVE_TASK = """
import sys
from sqlalchemy import select
from marketplace import create_app
from marketplace.accounts.models import Role, User
from marketplace.accounts.services import create_operator
from marketplace.extensions import db
from marketplace.moderation import actions, holds
from marketplace.tasks.models import Task

app = create_app()
with app.app_context():
    operator = db.session.scalar(select(User).where(User.role == Role.OPERATOR).limit(1))
    operator = operator or create_operator("e2e-operator@example.com", "e2e operator passphrase 42", "E2E Operator")
    task = db.session.scalar(select(Task).where(Task.title == sys.argv[1]))
    actions.approve_case(operator, holds.open_case_for("task", task.id), "Looks good.")
    db.session.commit()
"""


@pytest.fixture()
def approve_held_task(live_server):
    """An operator approves the held task with this title (a new business's first task waits for review).

    It runs the console's own service (moderation.actions.approve_case) against the live
    server's database; the console's pages are exercised by the moderation tests.
    """
    def _approve(title: str) -> None:
        result = subprocess.run([sys.executable, "-c", _APPROVE_TASK, title], cwd=REPO_ROOT, env=SERVER_ENV,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr[-2000:]
    return _approve


@pytest.fixture(scope="session", autouse=True)
def _require_chromium():
    # Autouse so it runs before the server starts: no point serving pages nobody can open.
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install -y chromium` "
                    "(browser tests never download a browser)")


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets the page fixture see whether the test failed, for the screenshot.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"_e2e_report_{report.when}", report)


@pytest.fixture()
def new_page(browser, request):
    """Opens pages in fresh browser contexts (own cookies: one per person in the journey).

    On failure every page opened lands as a screenshot in test-artifacts/.
    """
    contexts = []

    def _open():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    try:
        yield _open
    finally:
        report = getattr(request.node, "_e2e_report_call", None)
        for index, context in enumerate(contexts):
            if report is not None and report.failed:
                ARTIFACTS.mkdir(exist_ok=True)
                name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.nodeid)
                for page in context.pages:
                    try:
                        page.screenshot(path=str(ARTIFACTS / f"{name}-{index}.png"), full_page=True)
                        (ARTIFACTS / f"{name}-{index}.html").write_text(page.content())
                    except Exception as error:  # a failed screenshot must not hide the real failure
                        print(f"could not save a screenshot: {error}", file=sys.stderr)
            context.close()


@pytest.fixture()
def page(new_page):
    """One fresh browser context and page."""
    return new_page()


# --- accessibility: axe-core (an npm devDependency, installed by `npm ci` in `make test`) -------------

AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        pytest.skip(f"{AXE_SCRIPT.relative_to(REPO_ROOT)} is missing: run `npm ci` in the repository root "
                    "(`make test` does it when npm is installed)")
    return AXE_SCRIPT.read_text()


def axe_violations(page, axe_source: str) -> list[str]:
    """axe-core's violations on the page as it is now, one readable line per rule and element.

    The script is evaluated through the DevTools protocol, so the app's Content-Security-Policy
    (scripts from 'self' only) stays on and is tested as served."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(f"() => {{ {axe_source}\n;window.axe = axe; }}")
    results = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                            ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
                            " nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))")
    return [f"{page.url} [{v['impact']}] {v['id']}: {v['help']} -> {node}"
            for v in results for node in v["nodes"][:5]]


def assert_accessible(page, axe_source: str) -> None:
    problems = axe_violations(page, axe_source)
    assert not problems, "axe-core found accessibility violations:\n" + "\n".join(problems)


# --- the demo data, for pages that need content (accessibility, browsing) ------------------------------

_DEMO_IDS = """
import json
from sqlalchemy import select
from marketplace import create_app
from marketplace.accounts.models import User
from marketplace.demo import DEMO_LOGINS
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.messaging.models import Thread
from marketplace.tasks.models import Task

app = create_app()
with app.app_context():
    business = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["business"]))
    specialist = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["freelancer"]))
    open_task = db.session.scalar(select(Task).where(Task.business_id == business.id, Task.status == "open")
                                  .order_by(Task.id))
    filled = db.session.scalar(select(Task).where(Task.business_id == business.id, Task.status == "in_progress")
                               .order_by(Task.id))
    engagement = db.session.scalar(select(Engagement).where(Engagement.business_id == business.id,
                                                            Engagement.freelancer_id == specialist.id,
                                                            Engagement.status == "completed").order_by(Engagement.id))
    thread = db.session.scalar(select(Thread).where(Thread.business_id == business.id,
                                                    Thread.freelancer_id == specialist.id).order_by(Thread.id))
    print(json.dumps({"task": open_task.id, "filled_task": filled.id, "specialist": specialist.id, "engagement": engagement.id,
                      "thread": thread.id}))
"""


@pytest.fixture(scope="session")
def demo(live_server):
    """The demo data (`flask seed-demo`, small) in the live server's database, and ids of pages to visit."""
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    result = subprocess.run(flask + ["seed-demo", "--freelancers", "12", "--businesses", "3"], cwd=REPO_ROOT,
                            env=SERVER_ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    ids = subprocess.run([sys.executable, "-c", _DEMO_IDS], cwd=REPO_ROOT, env=SERVER_ENV, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=60)
    assert ids.returncode == 0, ids.stderr[-2000:]
    return json.loads(ids.stdout.strip().splitlines()[-1])
