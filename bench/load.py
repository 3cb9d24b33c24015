"""HTTP load for `make bench`: gunicorn serving the app, wrk loading it.

wrk (a compiled load generator) keeps 16 connections busy from 2 threads; a Python client
saturates near 2,000 requests/s, below what gunicorn serves for /ping, so it cannot give
the ratios the figures are about. Every scenario runs against the same server in one run.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "paths.lua"
WORKERS = int(os.environ.get("BENCH_WORKERS", 2))
THREADS = int(os.environ.get("BENCH_THREADS", 4))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", 16))
WRK_THREADS = int(os.environ.get("BENCH_WRK_THREADS", 2))


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu), `brew install wrk` (macOS), "
                 "then run `make bench` again.")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with WORKERS gthread workers x THREADS threads, page cache off."""

    def __init__(self, database_url: str):
        self.port = free_port()
        env = dict(os.environ, DATABASE_URL=database_url, APP_ENV="development", RATELIMIT_ENABLED="0",
                   TRUSTED_HOSTS="127.0.0.1,localhost", OUTBOX_PUBLIC="0", CACHE_TYPE="NullCache")
        env.pop("CACHE_REDIS_URL", None)
        self.process = subprocess.Popen(
            # Not the production gunicorn.conf.py: see bench/gunicorn_bench.py.
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "bench" / "gunicorn_bench.py"), "--workers", str(WORKERS), "--worker-class", "gthread",
             "--threads", str(THREADS), "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env)
        for _ in range(150):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_rss_mb(self) -> list[float]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        sizes = []
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(round(int(line.split()[1]) / 1024, 1))
        return sorted(sizes)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def check(server: Server, paths: list[str], cookie: str | None) -> None:
    """Every URL answers 200 (a redirect to the login page would be a fast, wrong figure)."""
    import http.client

    headers = {"User-Agent": "make-bench"}
    if cookie:
        headers["Cookie"] = cookie
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        for path in paths:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}, expected 200")
            if cookie and response.getheader("Set-Cookie"):
                raise RuntimeError(f"{path} rewrote the session cookie: the bench session is not accepted")
    finally:
        conn.close()


def run_wrk(server: Server, paths: list[str], cookie: str | None, seconds: float,
            max_requests: int = 0) -> dict:
    """Load the paths (cycled) for `seconds`; with `max_requests`, the threads stop sending at that
    count (wrk itself still returns after `seconds`)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(paths) + "\n")
        paths_file = f.name
    per_thread = -(-max_requests // WRK_THREADS) if max_requests else 0
    command = [wrk_path(), "-t", str(WRK_THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds:.0f}s",
               "--timeout", "10s", "-H", "User-Agent: make-bench"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command += ["-s", str(SCRIPT), server.url("/"), "--", paths_file, str(per_thread)]
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(paths_file)
    line = next(l for l in out.splitlines() if l.startswith("WRK_RESULT "))
    raw = json.loads(line[len("WRK_RESULT "):])
    seconds_taken = raw["duration_us"] / 1e6
    return {"rps": round(raw["requests"] / seconds_taken, 1), "p50_ms": round(raw["p50_us"] / 1000, 1),
            "p99_ms": round(raw["p99_us"] / 1000, 1), "requests": raw["requests"],
            "not_200": raw["not_200"], "socket_errors": raw["socket_errors"]}
