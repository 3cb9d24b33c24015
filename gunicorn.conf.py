"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app` (see Procfile).

Every value can be overridden from the environment (GUNICORN_WORKERS=8 ...) or the command line.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Sync workers with a few threads each: requests mostly wait on PostgreSQL.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
# A request running longer than this is killed (its worker restarts); Stripe and SMTP calls are jobs,
# so no page should come near it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
# SIGTERM / SIGHUP: finish in-flight requests for up to this long before stopping a worker.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
# Longer than the idle timeout of the load balancer in front (60 s on most), so the balancer closes idle
# connections first: a server closing a kept-alive connection just as a request arrives resets it (the load
# test saw this as "connection reset by peer" with gunicorn's default of 5 s).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 75))
# Recycle each worker after about this many requests (jitter spreads the restarts), so a slow leak
# never takes a host down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 200))
# Import the app once in the master: faster worker (re)starts, less memory. The database pool is
# created lazily, after the fork, so no connection is shared between workers.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# One JSON object per request, with the request id the app sets (X-Request-ID) and the time in microseconds.
access_log_format = ('{"time":"%(t)s","remote":"%(h)s","method":"%(m)s","path":"%(U)s","query":"%(q)s",'
                     '"status":%(s)s,"bytes":"%(B)s","duration_us":%(D)s,"request_id":"%({x-request-id}o)s",'
                     '"user_agent":"%(a)s"}')

# Prometheus: every worker writes its figures to files in this directory, and /metrics adds them up.
# It must be empty when the master starts and be set before the app (and prometheus_client) is imported.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="marketplace-metrics-")


def on_starting(server):
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
