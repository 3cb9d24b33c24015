"""`make bench`: matching and browsing at marketplace scale, signed in, with a real load generator.

Seeds (or reuses) a database with 100,000 specialists and 50,000 open tasks (`seed-demo`, bulk
inserts) plus a history of past tasks, bids, hires and payments, then measures and prints, and
writes to bench/results.json:

- match_top20_ms: "Find specialists" (top 20) over 200 different tasks, median and p95
- recommended_tasks_ms: "Recommended for you" over 200 specialists, median and p95
- metrics_30d / metrics_365d: the operator metrics page (its queries and the whole page)
- python_side: per page, one request in-process: total, SQL and the rest (the Python side), and
  its statement count
- http: per page, req/s, p50 and p99 latency under wrk (2 threads, 16 connections) against
  gunicorn (2 gthread workers x 4 threads) with the page cache off, every page but /ping
  requested with a signed-in session cookie and cycling through several different URLs
  (bench/scenarios.py, bench/paths.lua); each page's ratio to /ping measured in the same run;
  then the workers' RSS after BENCH_RSS_REQUESTS (10,000) mixed browse requests, and half-way.

SQLite by default (bench/bench.sqlite3); PostgreSQL when BENCH_DATABASE_URL is set.
Sizes: BENCH_FREELANCERS, BENCH_TASKS, BENCH_PROPOSALS; seconds of load per page: BENCH_SECONDS (10),
warm-up BENCH_WARMUP (2), quiet before it BENCH_IDLE (3); server and client: BENCH_WORKERS, BENCH_THREADS, BENCH_CONNECTIONS,
BENCH_WRK_THREADS; BENCH_SKIP_METRICS=1 skips the metrics page.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FREELANCERS = int(os.environ.get("BENCH_FREELANCERS", 100_000))
TASKS = int(os.environ.get("BENCH_TASKS", 50_000))
SECONDS = float(os.environ.get("BENCH_SECONDS", 10))
WARMUP = float(os.environ.get("BENCH_WARMUP", 2))
IDLE = float(os.environ.get("BENCH_IDLE", 3))      # seconds of quiet before each page's warm-up
RSS_REQUESTS = int(os.environ.get("BENCH_RSS_REQUESTS", 10_000))
SKIP_METRICS = os.environ.get("BENCH_SKIP_METRICS") == "1"


def database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url or f"sqlite:///{ROOT / 'bench' / 'bench.sqlite3'}"


def load_average() -> str:
    """The machine's 1/5/15-minute load average, printed and stored next to every figure: on a
    shared machine absolute figures drop with it (the ratios to /ping, from the same run, less)."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


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


def python_side(app, scenarios, rounds: int = 3) -> dict:
    """Per page, in-process (no HTTP): the whole request, its SQL and the rest, which is the
    Python side (routing, session, turning rows into objects, templates); medians over every URL
    of the scenario, `rounds` times after one warm-up; and its statement count.

    The SQL is measured by running each statement of the request again on its own and fetching
    all its rows (SQLite's driver returns from execute() before reading the rows, so timing the
    cursor during the request would hide most of SQLite's work in the Python figure). The Python
    side is CPU time of the serving thread minus the CPU time the same statements take in this
    thread (the driver, and SQLite itself): CPU time, not wall time, so that other processes on
    the machine do not inflate it."""
    from sqlalchemy import event

    from bench.scenarios import USER_AGENT
    from marketplace.extensions import db

    figures = {}
    with app.app_context():
        engine = db.engine
    for scenario in scenarios:
        if scenario.cookie is None:
            continue
        client = app.test_client(use_cookies=False)
        headers = {"User-Agent": USER_AGENT, "Cookie": scenario.cookie}
        total_ms, sql_ms, python_ms, statements = [], [], [], 0
        for round_ in range(rounds + 1):
            for path in scenario.paths:
                captured = []

                def capture(conn, cursor, statement, parameters, context, executemany):
                    captured.append((statement, parameters))

                event.listen(engine, "before_cursor_execute", capture)
                try:
                    started, cpu_started = time.perf_counter(), time.thread_time()
                    response = client.get(path, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
                    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
                finally:
                    event.remove(engine, "before_cursor_execute", capture)
                assert response.status_code == 200, (path, response.status_code)
                if round_:
                    sql_wall, sql_cpu = _replay(engine, captured)
                    total_ms.append(elapsed * 1000)
                    sql_ms.append(sql_wall * 1000)
                    python_ms.append(max(0.0, cpu - sql_cpu) * 1000)
                    statements = max(statements, len(captured))
        figures[scenario.name] = {"total_ms": round(statistics.median(total_ms), 2),
                                  "sql_ms": round(statistics.median(sql_ms), 2),
                                  "python_ms": round(statistics.median(python_ms), 2),
                                  "python_p95_ms": round(percentile(python_ms, 0.95), 2),
                                  "max_statements": statements}
    return figures


def _replay(engine, statements) -> tuple[float, float]:
    """Seconds (wall, and CPU of this thread) to run these read-only statements again and fetch
    every row, in one transaction that is rolled back."""
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        started, cpu_started = time.perf_counter(), time.thread_time()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
        elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
        cursor.close()
        conn.rollback()
    return elapsed, cpu


def http_load(url: str, scenarios) -> dict:
    """Every scenario through gunicorn + wrk in one run, /ping first and last (the ratios use
    their mean), then the worker RSS after RSS_REQUESTS mixed requests (and half-way)."""
    from bench import load

    server = load.Server(url)
    results: dict = {}
    try:
        for scenario in scenarios:
            load.check(server, scenario.paths, scenario.cookie)
        ordered = scenarios + [scenarios[0]]
        for i, scenario in enumerate(ordered):
            # Let the previous page's requests still queued in the server finish first: measured
            # right after the slow dashboards, /ping lost half its rate to them.
            time.sleep(IDLE)
            load.run_wrk(server, scenario.paths, scenario.cookie, WARMUP)
            figures = load.run_wrk(server, scenario.paths, scenario.cookie, SECONDS)
            name = scenario.name if i < len(scenarios) else "ping_again"
            results[name] = {"label": scenario.label, **figures}
            print(f"  {scenario.label:<58} {figures['rps']:8.1f} req/s   p50 {figures['p50_ms']:7.1f} ms   "
                  f"p99 {figures['p99_ms']:7.1f} ms" + (f"   {figures['not_200']} not 200!" if figures["not_200"]
                                                      else ""), flush=True)
        ping = (results["ping"]["rps"] + results.pop("ping_again")["rps"]) / 2
        for name, figures in results.items():
            figures["ratio_to_ping"] = round(figures["rps"] / ping, 3)
        mix = next(s for s in scenarios if s.name == "browse_mix")
        # Two rounds of half the requests each, the RSS of every worker after each; requests served
        # before this phase come on top. wrk stops its threads at the count but waits out the
        # duration, so the duration is sized from the mix's measured rate (with a margin).
        rss = {"requests": [], "after_first_half": None, "after_second_half": None}
        seconds = min(600.0, 1.3 * (RSS_REQUESTS // 2) / max(results["browse_mix"]["rps"], 1.0) + 5)
        for key in ("after_first_half", "after_second_half"):
            figures = load.run_wrk(server, mix.paths, mix.cookie, seconds, max_requests=RSS_REQUESTS // 2)
            rss["requests"].append(figures["requests"])
            rss[key] = server.worker_rss_mb()
        # Growth of each worker between the two rounds (the workers are listed smallest first).
        rss["growth_mb"] = [round(b - a, 1) for a, b in zip(rss["after_first_half"], rss["after_second_half"])]
        results["worker_rss_mb"] = rss
    finally:
        server.stop()
    results["server"] = {"gunicorn_workers": load.WORKERS, "threads": load.THREADS,
                         "wrk_threads": load.WRK_THREADS, "connections": load.CONNECTIONS, "seconds": SECONDS}
    return results


def main() -> None:
    url = database_url()
    os.environ.setdefault("RATELIMIT_ENABLED", "0")
    os.environ.setdefault("APP_ENV", "development")
    # The gunicorn workers must accept the session cookies signed here.
    os.environ.setdefault("SECRET_KEY", "make-bench-secret-key")
    from bench import load, scenarios as pages
    from marketplace import create_app

    load.wrk_path()  # fail early, with the install command, before seeding
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TRUSTED_HOSTS": None, "RATELIMIT_ENABLED": False,
                      "CACHE_TYPE": "NullCache"})
    backend = app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]
    print(f"database: {backend}", flush=True)
    sizes = prepare(app)
    if "--seed-only" in sys.argv[1:]:
        scenarios_ready = pages.build(app)  # adds the busy task's proposals once too
        print(f"seeded: {sizes}, {len(scenarios_ready)} scenarios ready", flush=True)
        return
    loads = {"matching": load_average()}
    print(f"load average {loads['matching']}", flush=True)
    match_ms, recommended_ms = time_matching(app)
    print(f"match_top20_ms        median {match_ms['median']:8.2f}   p95 {match_ms['p95']:8.2f}", flush=True)
    print(f"recommended_tasks_ms  median {recommended_ms['median']:8.2f}   p95 {recommended_ms['p95']:8.2f}",
          flush=True)
    metrics_figures = {} if SKIP_METRICS else time_metrics(app)
    for name, figures in metrics_figures.items():
        print(f"{name:<21} report median {figures['report_ms']['median']:8.2f}   page median "
              f"{figures['page_ms']['median']:8.2f}   p95 {figures['page_ms']['p95']:8.2f}   "
              f"({figures['queries']} queries)", flush=True)
    scenarios = pages.build(app)
    loads["python_side"] = load_average()
    print(f"load average {loads['python_side']}", flush=True)
    print("one request in-process, median: total = SQL + Python side", flush=True)
    python_figures = python_side(app, scenarios)
    for scenario in scenarios[1:]:
        f = python_figures[scenario.name]
        print(f"  {scenario.label:<58} {f['total_ms']:7.1f} ms = SQL {f['sql_ms']:6.1f} + Python "
              f"{f['python_ms']:5.1f} (p95 {f['python_p95_ms']:5.1f})   {f['max_statements']} statements", flush=True)
    print(f"HTTP: gunicorn {load.WORKERS} workers x {load.THREADS} threads, wrk {load.WRK_THREADS} threads x "
          f"{load.CONNECTIONS} connections, {SECONDS:.0f} s per page, signed in, page cache off", flush=True)
    loads["http"] = load_average()
    print(f"load average {loads['http']}", flush=True)
    http_figures = http_load(url, scenarios)
    loads["end"] = load_average()
    print(f"load average {loads['end']} (end)", flush=True)
    for name, figures in http_figures.items():
        if "ratio_to_ping" in figures and name != "ping":
            print(f"  {name:<22} {figures['ratio_to_ping']:6.3f} of /ping", flush=True)
    print(f"worker RSS (MB) {http_figures['worker_rss_mb']}", flush=True)
    results = {"database": backend, **sizes, "match_top20_ms": match_ms, "recommended_tasks_ms": recommended_ms,
               **metrics_figures, "python_side": python_figures, "http": http_figures,
               "cpu_count": os.cpu_count(), "load_average_1_5_15": loads, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    out = ROOT / "bench" / "results.json"
    existing = json.loads(out.read_text()) if out.exists() else {}
    existing[backend] = results
    out.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
