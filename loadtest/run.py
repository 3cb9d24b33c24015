"""`make loadtest`: a production-like stack on this machine, loaded by locust, with optional faults.

    python loadtest/run.py [--users 50] [--minutes 5] [--fault none|web|worker|redis|postgres] [--fault-at 60]

Starts its own Redis (port LOADTEST_REDIS_PORT, 6390, append-only file on, so a restart keeps the queue),
an SMTP sink, two gunicorn instances (ports 8601 and 8602, two workers each) on a fresh PostgreSQL database
(LOADTEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/marketplace_load, dropped and
created again), the job worker and the scheduler; seeds demo data; runs locust headless; injects the
fault; then waits for the queue to drain and checks what was lost:

- jobs left: RQ queued/started/scheduled/failed, payouts not paid, mail not sent;
- duplicates: more than one payout posting per engagement, mail delivered twice (X-Outbox-Id);
- lost writes: successful POSTs of proposals, messages and reviews against the rows in the database;
- `flask ledger check`.

Results go to loadtest/results/<fault>.json and a line of markdown on stdout.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PORTS = (8601, 8602)
SMTP_PORT = int(os.environ.get("LOADTEST_SMTP_PORT", 8625))
REDIS_PORT = int(os.environ.get("LOADTEST_REDIS_PORT", 6390))
DATABASE_URL = os.environ.get("LOADTEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/marketplace_load")


def log(message: str) -> None:
    print(f"[loadtest {time.strftime('%H:%M:%S')}] {message}", flush=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Stack:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen] = {}
        db = urlsplit(DATABASE_URL)
        self.db_name = db.path.lstrip("/")
        self.admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
        self.redis_url = f"redis://127.0.0.1:{REDIS_PORT}/0"
        self.env = {
            **os.environ,
            "APP_ENV": "development",   # plain-HTTP cookies on 127.0.0.1; everything else as in production
            "SECRET_KEY": "loadtest-secret-key", "DATABASE_URL": DATABASE_URL, "REDIS_URL": self.redis_url,
            "LOG_FORMAT": "json", "PAYMENTS_GATEWAY": "sandbox", "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(SMTP_PORT), "MAIL_USE_TLS": "0", "MAIL_SENDING_LEASE_SECONDS": "20",
            "PAYMENTS_SUBMITTING_LEASE_SECONDS": "20", "RATELIMIT_AUTH": "100000 per minute",
            "MODERATION_FIRST_TASK_REVIEW": "0", "OUTBOX_PUBLIC": "0", "TRUSTED_HOSTS": "127.0.0.1,localhost",
            "METRICS_ALLOW_IPS": "127.0.0.1/32", "PUBLIC_BASE_URL": f"http://127.0.0.1:{PORTS[0]}",
            "JOB_RETRY_DELAYS": "2,5,10,30", "JOB_TIMEOUT_SECONDS": "30",
        }
        self.env.pop("FAKE_NOW", None)
        self.mail_log = workdir / "received.txt"
        self.stopping = False
        self.restarts: list[str] = []

    # --- processes ---
    def start(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        out = open(self.workdir / f"{name}.log", "ab")
        proc = subprocess.Popen(args, cwd=ROOT, env=env or self.env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def stop(self, name: str, sig=signal.SIGTERM) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, check=check)

    def psql(self, sql: str, url: str | None = None) -> str:
        return subprocess.run(["psql", url or self.admin_url.replace("+psycopg", ""), "-XtAq", "-c", sql],
                              capture_output=True, text=True, check=True).stdout.strip()

    def redis_cli(self, *args: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(REDIS_PORT), *args], capture_output=True, text=True).stdout

    def start_redis(self) -> None:
        self.start("redis", ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--dir",
                             str(self.workdir), "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""])
        for _ in range(50):
            if "PONG" in self.redis_cli("ping"):
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def start_web(self, port: int) -> None:
        env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2",
               "GUNICORN_THREADS": "4", "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / f"metrics-{port}")}
        self.start(f"web-{port}", [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], env)

    def start_worker(self) -> None:
        self.start("worker", [str(BIN / "flask"), "--app", "wsgi", "jobs", "worker"])

    def start_scheduler(self) -> None:
        self.start("scheduler", [str(BIN / "flask"), "--app", "wsgi", "jobs", "scheduler", "--every", "15"])

    def supervise(self) -> None:
        """Restart the worker and scheduler when they exit, as systemd's Restart=always does."""
        import threading

        def loop():
            while not self.stopping:
                for name, start in (("worker", self.start_worker), ("scheduler", self.start_scheduler)):
                    proc = self.procs.get(name)
                    if proc is not None and proc.poll() is not None:
                        self.restarts.append(f"{name} exited with {proc.returncode} at {time.strftime('%H:%M:%S')}")
                        log(f"{name} exited ({proc.returncode}); starting it again")
                        time.sleep(2)
                        start()
                time.sleep(1)
        threading.Thread(target=loop, daemon=True).start()

    def up(self) -> None:
        log(f"fresh database {self.db_name}")
        self.psql(f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)")
        self.psql(f"CREATE DATABASE {self.db_name}")
        self.flask("db", "upgrade")
        self.flask("seed-demo", "--freelancers", "300", "--businesses", "80", "--tasks", "400")
        self.start_redis()
        self.start("smtp", [str(BIN / "python"), "loadtest/smtp_sink.py", "127.0.0.1", str(SMTP_PORT),
                            str(self.mail_log)])
        for port in PORTS:
            self.start_web(port)
        self.start_worker()
        self.start_scheduler()
        self.supervise()
        import urllib.request
        for port in PORTS:
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/tasks", timeout=5)
                    break
                except Exception:
                    time.sleep(0.5)
            else:
                raise RuntimeError(f"gunicorn on {port} did not answer")
        log("stack is up")

    def down(self) -> None:
        self.stopping = True
        for name in list(self.procs):
            self.stop(name)

    # --- faults ---
    def web_worker_pids(self, port: int) -> list[int]:
        master = self.procs[f"web-{port}"].pid
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        return [int(pid) for pid in out]

    def fault(self, kind: str) -> str:
        if kind == "web":
            pid = self.web_worker_pids(PORTS[0])[0]
            os.kill(pid, signal.SIGKILL)
            return f"kill -9 gunicorn worker {pid} on :{PORTS[0]} (the master starts a new one)"
        if kind == "worker":
            # Wait for a payout job to be running, then kill the worker in the middle of it.
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    running = [self.rq_queue().fetch_job(job_id)
                               for job_id in self.rq_queue().started_job_registry.get_job_ids()]
                except Exception:
                    running = []
                if any(job is not None and (job.description or "").startswith("payments.") for job in running):
                    break
                time.sleep(0.01)
            os.killpg(self.procs["worker"].pid, signal.SIGKILL)   # the supervisor starts it again
            return "kill -9 the job worker while a payments job ran (started again by the supervisor, as systemd does)"
        if kind == "redis":
            self.redis_cli("shutdown")
            self.procs.pop("redis", None)
            time.sleep(3)
            self.start_redis()
            return "Redis shut down and started again 3 s later (append-only file on)"
        if kind == "postgres":
            count = self.psql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              f"WHERE datname = '{self.db_name}' AND pid <> pg_backend_pid()")
            return f"pg_terminate_backend on all {count} connections to {self.db_name}"
        return "no fault"

    # --- after the load ---
    def drain(self, timeout: int = 240) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            depth = self.depth()
            due = self.db_due()
            if not any(depth.values()) and not any(due.values()):
                break
            time.sleep(3)
        return {"queue": self.depth(), "due": self.db_due()}

    def rq_queue(self):
        from redis import Redis
        from rq import Queue
        return Queue("marketplace", connection=Redis.from_url(self.redis_url))

    def depth(self) -> dict:
        q = self.rq_queue()
        return {"queued": q.count, "started": q.started_job_registry.count,
                "scheduled": q.scheduled_job_registry.count, "failed": q.failed_job_registry.count}

    def db_due(self) -> dict:
        url = DATABASE_URL.replace("+psycopg", "")
        return {
            "payouts_not_paid": int(self.psql("SELECT count(*) FROM payment_transfers WHERE status <> 'paid' "
                                              "AND status <> 'awaiting_account'", url)),
            "mail_not_sent": int(self.psql("SELECT count(*) FROM outbox_messages WHERE status IN "
                                           "('queued', 'sending')", url)),
        }

    def checks(self) -> dict:
        url = DATABASE_URL.replace("+psycopg", "")
        received = [line for line in self.mail_log.read_text().split() if line] if self.mail_log.exists() else []
        ledger = self.flask("ledger", "check", check=False)
        return {
            "approved": int(self.psql("SELECT count(*) FROM payment_transfers", url)),
            "payouts_paid": int(self.psql("SELECT count(*) FROM payment_transfers WHERE status = 'paid'", url)),
            "duplicate_payout_postings": int(self.psql(
                "SELECT count(*) FROM (SELECT engagement_id FROM ledger_transactions WHERE kind = 'transfer' "
                "GROUP BY engagement_id HAVING count(*) > 1) d", url)),
            "mail_sent": int(self.psql("SELECT count(*) FROM outbox_messages WHERE status = 'sent'", url)),
            "mail_failed": int(self.psql("SELECT count(*) FROM outbox_messages WHERE status = 'failed'", url)),
            "mail_delivered": len(received),
            "mail_delivered_twice": len(received) - len(set(received)),
            "proposals": int(self.psql("SELECT count(*) FROM bids", url)),
            "messages": int(self.psql("SELECT count(*) FROM messages", url)),
            "reviews": int(self.psql("SELECT count(*) FROM reviews", url)),
            "ledger_check": "clean" if ledger.returncode == 0 else (ledger.stdout + ledger.stderr).strip()[-500:],
        }


def locust_stats(prefix: Path) -> dict:
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv")))
    pages = {}
    total = {}
    for row in rows:
        if row["Name"] == "Aggregated":
            total = {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                     "p95_ms": float(row["95%"] or 0), "median_ms": float(row["50%"] or 0),
                     "rps": float(row["Requests/s"] or 0)}
        else:
            pages[f"{row['Type']} {row['Name']}"] = {"requests": int(row["Request Count"]),
                                                     "failures": int(row["Failure Count"]),
                                                     "p95_ms": float(row["95%"] or 0)}
    return {"total": total, "pages": pages}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--fault", choices=["none", "web", "worker", "redis", "postgres"], default="none")
    parser.add_argument("--fault-at", type=float, default=60, help="seconds into the run")
    args = parser.parse_args()

    results_dir = ROOT / "loadtest" / "results"
    results_dir.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="marketplace-loadtest-"))
    stack = Stack(workdir)
    try:
        stack.up()
        baseline = stack.checks()
        prefix = workdir / "locust"
        hosts = ",".join(f"http://127.0.0.1:{port}" for port in PORTS)
        seconds = int(args.minutes * 60)
        load_start = load_average()
        log(f"locust: {args.users} users for {seconds} s, fault {args.fault} at {args.fault_at:.0f} s; "
            f"load average {load_start}")
        locust = subprocess.Popen(
            [str(BIN / "locust"), "-f", "loadtest/locustfile.py", "--headless", "-u", str(args.users),
             "-r", str(max(1, args.users // 10)), "-t", f"{seconds}s", "--csv", str(prefix), "--only-summary",
             "--stop-timeout", "20"],
            cwd=ROOT, env={**os.environ, "LOADTEST_HOSTS": hosts}, stdout=open(workdir / "locust.log", "wb"),
            stderr=subprocess.STDOUT)
        fault_note = "no fault"
        if args.fault != "none":
            time.sleep(args.fault_at)
            fault_note = stack.fault(args.fault)
            log(fault_note)
        time.sleep(max(0, seconds / 2 - (args.fault_at if args.fault != "none" else 0)))
        load_mid = load_average()
        locust.wait()
        load_end = load_average()
        log("load over; draining the queue")
        stats = locust_stats(prefix)
        drained = stack.drain()
        stack.flask("jobs", "run-due", check=False)   # what a cron run after the load would do
        checks = stack.checks()
        posted = {name: page["requests"] - page["failures"] for name, page in stats["pages"].items()
                  if name.startswith("POST ")}
        lost = {table: posted.get(f"POST POST {name}", 0) - (checks[table] - baseline[table])
                for table, name in (("proposals", "/tasks/<id>/bids"), ("messages", "/messages/<id>"),
                                    ("reviews", "/engagements/<id>/review"))}
        result = {"fault": args.fault, "lost_writes": lost, "fault_note": fault_note, "users": args.users, "seconds": seconds,
                  "think_seconds": os.environ.get("LOADTEST_THINK", "0.5,2"),
                  "load_average": {"start": load_start, "mid": load_mid, "end": load_end},
                  "locust": stats, "left_after_drain": drained, "checks": checks, "baseline": baseline,
                  "restarts": stack.restarts}
        (results_dir / f"{args.fault}.json").write_text(json.dumps(result, indent=2) + "\n")
        total = stats["total"]
        error_rate = 100 * total["failures"] / max(total["requests"], 1)
        left = sum(drained["queue"].values()) + sum(drained["due"].values())
        log(f"| {args.fault} | {total['requests']} | {total['failures']} ({error_rate:.2f} %) | "
            f"{total['p95_ms']:.0f} ms | {left} | {sum(lost.values())} | {checks['duplicate_payout_postings']} / "
            f"{checks['mail_delivered_twice']} | {checks['ledger_check']} | {load_start} / {load_mid} / {load_end} |")
        log(f"results in {results_dir / (args.fault + '.json')}; logs in {workdir}")
        return 0
    finally:
        stack.down()


if __name__ == "__main__":
    sys.exit(main())
