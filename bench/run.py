"""`make bench`: matching and browsing at marketplace scale.

Seeds (or reuses) a database with 100,000 specialists and 50,000 tasks
(`seed-demo`), then measures and prints, and writes to bench/results.json:

- match_top20_ms: "Find specialists" (top 20) over 200 different tasks, median and p95
- recommended_tasks_ms: "Recommended for you" over 200 specialists, median and p95
- browse_rps / hello_rps: /tasks?q=..&skill=..&language=.. and the trivial /ping, both served by
  gunicorn and loaded in the same run by the same Python client; and their ratio
- queries_per_browse_page: SQL statements for one browse page
- metrics_30d / metrics_365d: the operator metrics page over the last 30 / 365 days: its queries
  (`report_ms`) and the whole page (`page_ms`), median and p95 of 7 runs, and its statement count.
  The first run on a database also seeds a history of past tasks, bids, hires and payments
  (`marketplace.demo.seed_activity`) for these figures.

SQLite by default (bench/bench.sqlite3); PostgreSQL when BENCH_DATABASE_URL is set.
Sizes: BENCH_FREELANCERS, BENCH_TASKS; load duration: BENCH_SECONDS.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FREELANCERS = int(os.environ.get("BENCH_FREELANCERS", 100_000))
TASKS = int(os.environ.get("BENCH_TASKS", 50_000))
SECONDS = float(os.environ.get("BENCH_SECONDS", 10))
CLIENT_THREADS = int(os.environ.get("BENCH_CLIENTS", 4))
BROWSE_PATH = "/tasks?q=router&skill=network-troubleshooting&language=es"


def database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url or f"sqlite:///{ROOT / 'bench' / 'bench.sqlite3'}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 2), "p95": round(percentile(values, 0.95), 2),
            "n": len(values)}


def prepare(app) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from marketplace.accounts.models import Role, User
    from marketplace.demo import seed_demo
    from marketplace.extensions import db
    from marketplace.tasks.models import Task

    with app.app_context():
        upgrade()
        have_freelancers = db.session.scalar(select(func.count()).select_from(User).where(User.role == Role.FREELANCER))
        have_tasks = db.session.scalar(select(func.count()).select_from(Task))
        missing_f, missing_t = max(0, FREELANCERS - have_freelancers), max(0, TASKS - have_tasks)
        if missing_f or missing_t:
            print(f"seeding {missing_f:,} specialists and {missing_t:,} tasks ...", flush=True)
            started = time.perf_counter()
            seed_demo(freelancers=missing_f, businesses=max(0, 2000 - have_freelancers // 50), seed=11,
                      tasks=missing_t, echo=lambda msg: print(msg, flush=True))
            db.session.commit()
            print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
            _analyze()
        seed_history(app)
        return {"freelancers": max(have_freelancers, FREELANCERS), "tasks": max(have_tasks, TASKS)}


def seed_history(app) -> None:
    """Bids, hires, payments and disputes over the past year (for the metrics), once per database."""
    import random

    from sqlalchemy import func, select

    from marketplace.demo import ACTIVITY_MIN_TASKS, SEEDED_CHARGE_PREFIX, seed_activity
    from marketplace.extensions import db
    from marketplace.payments.models import Charge

    seeded = db.session.scalar(select(func.count()).select_from(Charge)
                               .where(Charge.idempotency_key.like(f"{SEEDED_CHARGE_PREFIX}%")))
    if TASKS < ACTIVITY_MIN_TASKS or seeded:
        return
    print(f"seeding a history of {TASKS // 2:,} past tasks with bids, hires and payments ...", flush=True)
    started = time.perf_counter()
    seed_activity(random.Random(12), TASKS // 2, echo=lambda msg: print(msg, flush=True))
    db.session.commit()
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    _analyze()


def _analyze() -> None:
    from marketplace.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def time_metrics(app, runs: int = 7) -> dict:
    """The operator metrics page for the last 30 and 365 days: its queries alone (`report`) and the
    whole page through the test client; median (and p95) of `runs` runs after one warm-up."""
    from sqlalchemy import event, select

    from marketplace.accounts.models import Role, User
    from marketplace.extensions import db
    from marketplace.moderation import metrics
    from marketplace.moderation.access import MFA_SESSION_KEY

    results = {}
    with app.app_context():
        operator = db.session.scalar(select(User).where(User.role == Role.OPERATOR).order_by(User.id).limit(1))
        operator_id, operator_pk = operator.get_id(), operator.id
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = operator_id
            session["_fresh"] = True
            session[MFA_SESSION_KEY] = operator_id
        for days in (30, 365):
            period = metrics.parse_period({"days": str(days)})
            report_ms, page_ms = [], []
            for i in range(runs + 1):
                db.session.remove()
                operator = db.session.get(User, operator_pk)
                started = time.perf_counter()
                metrics.report(operator, period)
                elapsed = (time.perf_counter() - started) * 1000
                started = time.perf_counter()
                response = client.get(f"/moderation/metrics?days={days}")
                page_elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.status_code
                if i:  # the first run warms caches
                    report_ms.append(elapsed)
                    page_ms.append(page_elapsed)
            statements = []
            listener = lambda *args: statements.append(1)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                db.session.remove()
                metrics.report(db.session.get(User, operator_pk), period)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            results[f"metrics_{days}d"] = {"report_ms": summary(report_ms), "page_ms": summary(page_ms),
                                           "queries": len(statements)}
        db.session.remove()
    return results


def time_matching(app) -> tuple[dict, dict]:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from marketplace.accounts.models import Role, User
    from marketplace.extensions import db
    from marketplace.matching.service import rank_specialists, recommended_for
    from marketplace.tasks.models import Task, TaskStatus

    with app.app_context():
        task_ids = list(db.session.scalars(select(Task.id).where(Task.status == TaskStatus.OPEN).order_by(Task.id)))
        step = max(1, len(task_ids) // 200)
        sample = task_ids[::step][:200]
        match_ms = []
        for task_id in sample:
            db.session.remove()
            task = db.session.scalar(select(Task).where(Task.id == task_id)
                                     .options(selectinload(Task.skills), selectinload(Task.languages)))
            started = time.perf_counter()
            rank_specialists(task, 20)
            match_ms.append((time.perf_counter() - started) * 1000)
        freelancer_ids = list(db.session.scalars(select(User.id).where(User.role == Role.FREELANCER).order_by(User.id)))
        step = max(1, len(freelancer_ids) // 200)
        recommended_ms = []
        for user_id in freelancer_ids[::step][:200]:
            db.session.remove()
            user = db.session.get(User, user_id)
            started = time.perf_counter()
            recommended_for(user, 10)
            recommended_ms.append((time.perf_counter() - started) * 1000)
        db.session.remove()
    return summary(match_ms), summary(recommended_ms)


def queries_per_page(app) -> int:
    from sqlalchemy import event

    from marketplace.extensions import db

    with app.app_context():
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            response = app.test_client().get(BROWSE_PATH)
            assert response.status_code == 200, response.status_code
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(port: int, path: str, seconds: float) -> float:
    """Requests per second for `path`, CLIENT_THREADS keep-alive clients, bounded in time."""
    done = [0] * CLIENT_THREADS
    errors = [0] * CLIENT_THREADS
    deadline = time.perf_counter() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < deadline:
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    done[i] += 1
                else:
                    errors[i] += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENT_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if sum(errors):
        print(f"  {path}: {sum(errors)} failed requests", flush=True)
    return sum(done) / elapsed


def serve_and_load(url: str) -> dict:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, APP_ENV="development", RATELIMIT_ENABLED="0",
               TRUSTED_HOSTS="127.0.0.1,localhost", OUTBOX_PUBLIC="0")
    workers = str(os.cpu_count() or 2)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", workers, "--worker-class", "gthread",
                               "--threads", "4", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                               "wsgi:app"], cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.2)
        load(port, "/ping", 1)           # warm up both paths
        load(port, BROWSE_PATH, 1)
        hello = load(port, "/ping", SECONDS)
        browse = load(port, BROWSE_PATH, SECONDS)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return {"hello_rps": round(hello, 1), "browse_rps": round(browse, 1),
            "browse_to_hello_ratio": round(browse / hello, 3) if hello else None,
            "gunicorn_workers": int(workers), "client_threads": CLIENT_THREADS, "seconds": SECONDS}


def main() -> None:
    url = database_url()
    os.environ.setdefault("RATELIMIT_ENABLED", "0")
    os.environ.setdefault("APP_ENV", "development")
    from marketplace import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TRUSTED_HOSTS": None, "RATELIMIT_ENABLED": False})
    backend = app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]
    print(f"database: {backend}", flush=True)
    sizes = prepare(app)
    match_ms, recommended_ms = time_matching(app)
    print(f"match_top20_ms        median {match_ms['median']:8.2f}   p95 {match_ms['p95']:8.2f}", flush=True)
    print(f"recommended_tasks_ms  median {recommended_ms['median']:8.2f}   p95 {recommended_ms['p95']:8.2f}",
          flush=True)
    metrics_figures = time_metrics(app)
    for name, figures in metrics_figures.items():
        print(f"{name:<21} report median {figures['report_ms']['median']:8.2f}   page median "
              f"{figures['page_ms']['median']:8.2f}   p95 {figures['page_ms']['p95']:8.2f}   "
              f"({figures['queries']} queries)", flush=True)
    queries = queries_per_page(app)
    print(f"queries_per_browse_page {queries}", flush=True)
    http_figures = serve_and_load(url)
    print(f"hello_rps  {http_figures['hello_rps']:8.1f}   (/ping)", flush=True)
    print(f"browse_rps {http_figures['browse_rps']:8.1f}   ({BROWSE_PATH})", flush=True)
    print(f"browse/hello ratio {http_figures['browse_to_hello_ratio']}", flush=True)
    results = {"database": backend, **sizes, "match_top20_ms": match_ms, "recommended_tasks_ms": recommended_ms,
               "queries_per_browse_page": queries, **metrics_figures, **http_figures,
               "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    out = ROOT / "bench" / "results.json"
    existing = json.loads(out.read_text()) if out.exists() else {}
    existing[backend] = results
    out.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
