"""Configuration classes, read from environment variables.

Every setting the app reads is listed here and documented in the README's
configuration table. `create_app()` picks a class from `APP_ENV`
(development | testing | production) unless one is passed explicitly.
"""
from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: list[str] | None) -> list[str] | None:
    value = _env(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _database_url(default: str, name: str = "DATABASE_URL") -> str:
    url = _env(name, default)
    # Heroku-style URLs name the driver "postgres://"; SQLAlchemy wants an explicit driver.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    APP_ENV = "base"
    SECRET_KEY = _env("SECRET_KEY", "dev-insecure-secret-key-change-me")
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{BASE_DIR / 'instance' / 'marketplace.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # PostgreSQL: parallel query off for the app's connections (create_app). A web request's query
    # gains nothing from two helper processes when every core already serves other requests; they cost
    # more CPU in all (a directory query: 30 ms wall on three processes instead of 29 ms on one).
    DATABASE_PARALLEL_QUERY = _env_bool("DATABASE_PARALLEL_QUERY", False)

    # Requests
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 1024 * 1024)
    TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS", ["127.0.0.1", "localhost"])
    # Number of proxies in front of the app that set X-Forwarded-*; 0 = trust none.
    PROXY_FIX_X_FOR = _env_int("PROXY_FIX_X_FOR", 0)

    # Sessions and cookies
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_env_int("SESSION_HOURS", 12))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = timedelta(days=_env_int("REMEMBER_DAYS", 14))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    FORCE_HTTPS = False

    # Accounts
    PASSWORD_MIN_LENGTH = 12
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _env_int("LOGIN_LOCK_MINUTES", 15)
    EMAIL_TOKEN_MAX_AGE = _env_int("EMAIL_TOKEN_MAX_AGE", 60 * 60 * 48)
    RESET_TOKEN_MAX_AGE = _env_int("RESET_TOKEN_MAX_AGE", 60 * 60)

    # Rate limiting (Flask-Limiter). Use Redis in production: memory:// is per process.
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", _env("REDIS_URL", "memory://"))
    RATELIMIT_KEY_PREFIX = _env("REDIS_KEY_PREFIX", "ht:") + "limits"
    RATELIMIT_AUTH = _env("RATELIMIT_AUTH", "10 per minute;50 per hour")
    RATELIMIT_HEADERS_ENABLED = True
    # A dead Redis must not take logins down: Flask-Limiter then counts in each process's memory
    # (the per-IP limits keep working, per worker) and tries Redis again with a backoff; the switch
    # is logged as an error (marketplace/core/ratelimit.py, which also gives Redis short timeouts).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True   # last resort: a limiter error is logged, never a 500

    # Mail: with no MAIL_SERVER, messages stay in the outbox table only.
    MAIL_SERVER = _env("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "Human Touch Support <no-reply@humantouch.test>")
    # A failed delivery is tried again after MAIL_RETRY_SECONDS, doubling each time (at most an hour
    # apart), MAIL_MAX_ATTEMPTS times in all; then the message is marked failed in /outbox.
    MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 8)
    MAIL_RETRY_SECONDS = _env_int("MAIL_RETRY_SECONDS", 60)
    # A message claimed by a delivery run that never finished (a killed worker) is taken again after this.
    MAIL_SENDING_LEASE_SECONDS = _env_int("MAIL_SENDING_LEASE_SECONDS", 600)
    # Lets anyone read /outbox (development only); operators can always read it, with secret links
    # (password reset, email confirmation) redacted except in development with OUTBOX_PUBLIC.
    OUTBOX_PUBLIC = _env_bool("OUTBOX_PUBLIC", False)

    # Money (all amounts in minor units)
    DEFAULT_CURRENCY = _env("DEFAULT_CURRENCY", "USD")
    PLATFORM_FEE_BPS = _env_int("PLATFORM_FEE_BPS", 1000)
    PLATFORM_MIN_BUDGET = _env_int("PLATFORM_MIN_BUDGET", 2000)          # smallest task total: 20.00
    MAX_TASK_BUDGET = _env_int("MAX_TASK_BUDGET", 10_000_000)           # 100,000.00
    MAX_HOURLY_RATE = _env_int("MAX_HOURLY_RATE", 100_000)              # 1,000.00 per hour
    MAX_BID_AMOUNT = _env_int("MAX_BID_AMOUNT", 10_000_000)             # 100,000.00
    MAX_ESTIMATED_HOURS = _env_int("MAX_ESTIMATED_HOURS", 2000)

    # Matching (marketplace/matching/). The weights of the score's parts: every part is
    # a number in [0, 1], the score is their weighted sum divided by the total weight.
    MATCH_WEIGHTS = {
        "required_skills": 0.34,   # required skills covered, by level against the minimum
        "nice_skills": 0.06,       # nice-to-have skills covered
        "rating": 0.16,            # Bayesian-average stars (shrunk toward MATCH_RATING_PRIOR)
        "empathy": 0.10,           # empathy-dimension scores from reviews (neutral prior until then)
        "rate_fit": 0.12,          # hourly rate against the task's budget
        "timezone": 0.10,          # overlap of the specialist's day with the task's coverage hours
        "on_time": 0.06,           # reliability: engagements delivered on time and coverage shifts kept
                                   # (shrunk toward 0.9)
        "activity": 0.06,          # recent activity on the platform
    }
    MATCH_RATING_PRIOR = 4.5         # the platform's mean rating the shrinkage pulls toward
    MATCH_RATING_PRIOR_WEIGHT = 8    # how many "virtual reviews" the prior counts for
    MATCH_CANDIDATES = _env_int("MATCH_CANDIDATES", 100)   # ranked in Python after the SQL filters
    MATCH_AUTO_INVITE = _env_int("MATCH_AUTO_INVITE", 5)   # invited when a "match me" task is published

    # Coverage schedules (marketplace/schedules/): a claimed shift dropped less than this many hours
    # before it starts is a late drop; shifts are generated this many days ahead (the jobs extend it).
    SHIFT_DROP_NOTICE_HOURS = _env_int("SHIFT_DROP_NOTICE_HOURS", 24)
    SHIFT_HORIZON_DAYS = _env_int("SHIFT_HORIZON_DAYS", 42)

    # Marketplace
    MAX_TASK_SEATS = _env_int("MAX_TASK_SEATS", 20)
    MAX_TASK_DAYS_AHEAD = _env_int("MAX_TASK_DAYS_AHEAD", 730)
    TASKS_PER_PAGE = _env_int("TASKS_PER_PAGE", 20)
    # The task listing counts its matches up to this many ("200+ open tasks"), see core/paging.py:
    # the count is read from the same ordered ids as the page, so a skill or text filter with
    # thousands of matches read (and sorted) all of them at 1,000: 11-16 ms of SQL on PostgreSQL at
    # 50k tasks, 2-4 ms at 200.
    LISTING_COUNT_LIMIT = _env_int("LISTING_COUNT_LIMIT", 200)
    # The specialist directory counts up to this many ("200+ specialists"): its filters are checked
    # profile by profile in rating or recency order, so reading 1,000 matches walked ~9,000 profiles
    # (30 ms on PostgreSQL at 100k specialists) for a page of twenty.
    DIRECTORY_COUNT_LIMIT = _env_int("DIRECTORY_COUNT_LIMIT", 200)
    # Absolute base of links in emails sent outside a request (jobs, digests).
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    # Risk screen (marketplace/moderation/screening.py): a hit holds a task, bid or message for review.
    MODERATION_PROHIBITED_TERMS = _env_list("MODERATION_PROHIBITED_TERMS", [
        "fake reviews", "fake review", "write reviews for", "post reviews for", "buy followers", "buy likes",
        "buy reviews", "credit card numbers", "card numbers", "cvv", "social security number",
        "social security numbers", "ssn", "bypass verification", "bypass kyc", "account verification bypass",
        "phishing", "money mule", "carding", "chargeback fraud", "fake documents", "fake ids",
        "pretend to be the customer", "impersonate",
    ])
    # Links to these domains (and their subdomains) and to PUBLIC_BASE_URL's host pass the screen.
    MODERATION_ALLOWED_LINK_DOMAINS = _env_list("MODERATION_ALLOWED_LINK_DOMAINS", [
        "zendesk.com", "freshdesk.com", "intercom.com", "intercom.help", "github.com", "google.com",
        "notion.so", "loom.com", "atlassian.net", "salesforce.com", "hubspot.com", "helpscout.net",
    ])
    MODERATION_MIN_HOURLY_RATE = _env_int("MODERATION_MIN_HOURLY_RATE", 800)      # 8.00 per hour
    MODERATION_MIN_FIXED_BUDGET = _env_int("MODERATION_MIN_FIXED_BUDGET", 5000)   # 50.00 in total
    # A business's first task waits for an operator.
    MODERATION_FIRST_TASK_REVIEW = _env_bool("MODERATION_FIRST_TASK_REVIEW", True)

    # Stripe (the sandbox gateway is used while STRIPE_SECRET_KEY is unset)
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_PUBLISHABLE_KEY = _env("STRIPE_PUBLISHABLE_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_CONNECT_WEBHOOK_SECRET = _env("STRIPE_CONNECT_WEBHOOK_SECRET")

    # Payments (marketplace/payments/): how money is held and released.
    # PAYMENTS_GATEWAY: "auto" = Stripe when STRIPE_SECRET_KEY is set, else the sandbox
    # (test mode, ledger-only money); "sandbox" or "stripe" force one.
    PAYMENTS_GATEWAY = _env("PAYMENTS_GATEWAY", "auto")
    STRIPE_MAX_NETWORK_RETRIES = _env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
    # Starts every idempotency key sent to the gateway: give each install sharing a Stripe account its own
    # (letters, digits, - and _; at most 24 characters). Required in production when Stripe is used.
    PAYMENTS_INSTALL_ID = _env("PAYMENTS_INSTALL_ID", "dev")
    # The currency the platform's Stripe balance settles in: card payments in another currency are refused
    # (a transfer's source_transaction must be in the currency of the charge's balance transaction).
    STRIPE_SETTLEMENT_CURRENCY = _env("STRIPE_SETTLEMENT_CURRENCY", "USD")
    # A payout, refund or reversal still in flight after this many hours is listed among the payments
    # needing attention (and operators are emailed about it).
    PAYMENTS_STUCK_AFTER_HOURS = _env_int("PAYMENTS_STUCK_AFTER_HOURS", 24)
    # A payout, refund or reversal left `submitting` by a process that died mid-send is sent again with the
    # same idempotency key after this many seconds (Stripe replays the first answer, so nothing moves twice).
    PAYMENTS_SUBMITTING_LEASE_SECONDS = _env_int("PAYMENTS_SUBMITTING_LEASE_SECONDS", 600)
    # A delivered engagement the business neither approves nor disputes is approved after this many days.
    AUTO_APPROVE_DAYS = _env_int("AUTO_APPROVE_DAYS", 14)
    # Hourly billing: an invoice left unpaid this long after its charge failed pauses the contract.
    INVOICE_GRACE_HOURS = _env_int("INVOICE_GRACE_HOURS", 72)
    # The business is reminded this long before an invoice's review window closes (Friday 23:59 UTC).
    INVOICE_REVIEW_REMINDER_HOURS = _env_int("INVOICE_REVIEW_REMINDER_HOURS", 24)

    # Reviews (marketplace/reviews/): double-blind until both sides have reviewed or this many
    # days have passed since the engagement ended; the review window closes at the same time.
    REVIEW_REVEAL_DAYS = _env_int("REVIEW_REVEAL_DAYS", 14)
    # One reminder to write a review this many days after the engagement ended (jobs run-due).
    REVIEW_REMINDER_DAYS = _env_int("REVIEW_REMINDER_DAYS", 10)

    # Redis (production): with REDIS_URL set, queued jobs go to an RQ queue (marketplace/core/queue.py)
    # run by `flask jobs worker`, and the page cache and rate limits default to the same Redis, so no
    # app server keeps anything in its memory that another one needs. Unset: jobs run in-process.
    REDIS_URL = _env("REDIS_URL")
    REDIS_KEY_PREFIX = _env("REDIS_KEY_PREFIX", "ht:")        # page-cache and rate-limit keys
    REDIS_TIMEOUT_SECONDS = float(_env("REDIS_TIMEOUT_SECONDS", "2"))
    JOBS_QUEUE = _env("JOBS_QUEUE", "marketplace")          # the RQ queue's name
    # A failing job is retried after these many seconds (one retry per entry), then kept as failed.
    JOB_RETRY_DELAYS = [int(s) for s in _env_list("JOB_RETRY_DELAYS", ["10", "60", "300", "1800"])]
    # A job running longer is stopped (and retried); a job whose worker died is taken again after this.
    JOB_TIMEOUT_SECONDS = _env_int("JOB_TIMEOUT_SECONDS", 120)
    JOB_FAILURE_TTL_SECONDS = _env_int("JOB_FAILURE_TTL_SECONDS", 30 * 24 * 3600)   # dead letters kept this long

    # Observability (marketplace/core/observability.py)
    LOG_FORMAT = _env("LOG_FORMAT", "text")                 # "json": one JSON object per line
    METRICS_TOKEN = _env("METRICS_TOKEN")                   # /metrics wants "Authorization: Bearer <token>"
    METRICS_ALLOW_IPS = _env_list("METRICS_ALLOW_IPS", [])  # ... or a client address in these networks
    ERROR_REPORTER = _env("ERROR_REPORTER")                 # dotted path to report(exc, context)

    # Page cache for anonymous visitors of public listings. SimpleCache is per process;
    # CACHE_REDIS_URL (default: REDIS_URL) shares it between gunicorn workers and hosts.
    CACHE_REDIS_URL = _env("CACHE_REDIS_URL", REDIS_URL)
    CACHE_TYPE = "RedisCache" if CACHE_REDIS_URL else _env("CACHE_TYPE", "SimpleCache")
    CACHE_KEY_PREFIX = REDIS_KEY_PREFIX + "cache:"
    CACHE_DEFAULT_TIMEOUT = _env_int("CACHE_DEFAULT_TIMEOUT", 30)   # seconds a cached listing may be stale

    # Development and tests only (refused in production): an ISO-8601 UTC instant the
    # timesheet treats as "now" (which billing week is open, what is in the future),
    # so a week can be replayed in the browser. Everything else keeps the real clock.
    FAKE_NOW = _env("FAKE_NOW")

    # Uploaded files (marketplace/storage/): "local" keeps them under UPLOADS_DIR (default
    # instance/uploads); "s3" puts them in an S3-compatible bucket. Either way they are served
    # through the app after its authorization check (avatars and logos are public).
    STORAGE_BACKEND = _env("STORAGE_BACKEND", "local")
    UPLOADS_DIR = _env("UPLOADS_DIR")
    S3_BUCKET = _env("S3_BUCKET")
    S3_PREFIX = _env("S3_PREFIX", "")
    S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")        # e.g. a MinIO or R2 address; unset = AWS
    S3_REGION = _env("S3_REGION")
    S3_ACCESS_KEY_ID = _env("S3_ACCESS_KEY_ID")      # unset = boto3's usual credential chain
    S3_SECRET_ACCESS_KEY = _env("S3_SECRET_ACCESS_KEY")
    # Largest attachment and largest photo or logo, in bytes; pages taking an upload accept a
    # request body this much larger than MAX_CONTENT_LENGTH allows elsewhere.
    UPLOAD_MAX_BYTES = _env_int("UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
    AVATAR_MAX_BYTES = _env_int("AVATAR_MAX_BYTES", 5 * 1024 * 1024)
    # Public JSON API (/api/v1, marketplace/api/): per-token limit, idempotency window, token lifetime.
    API_RATE_LIMIT = _env("API_RATE_LIMIT", "300 per minute")
    API_IDEMPOTENCY_HOURS = _env_int("API_IDEMPOTENCY_HOURS", 24)
    API_TOKEN_MAX_DAYS = _env_int("API_TOKEN_MAX_DAYS", 365)
    # flask-smorest: the OpenAPI document at /api/v1/openapi.json (the docs page is ours, assets local).
    API_TITLE = "Human Touch API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    # Outgoing webhooks (marketplace/webhooks/): retried with backoff for WEBHOOK_RETRY_HOURS; a rotated
    # secret keeps signing for WEBHOOK_SECRET_OVERLAP_HOURS. Private/loopback URLs are refused unless
    # WEBHOOKS_ALLOW_PRIVATE_URLS (on in development and tests, off in production).
    WEBHOOK_RETRY_HOURS = _env_int("WEBHOOK_RETRY_HOURS", 24)
    WEBHOOK_SECRET_OVERLAP_HOURS = _env_int("WEBHOOK_SECRET_OVERLAP_HOURS", 24)
    WEBHOOK_TIMEOUT_SECONDS = _env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
    WEBHOOKS_ALLOW_PRIVATE_URLS = _env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", False)

    # Flask-Compress: pages, styles and scripts are compressed (zstd/br/gzip as the browser accepts). JSON is
    # left alone: API clients and their test transports read it as sent, and its bodies are small.
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
                          "image/svg+xml"]

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None
    SITE_NAME = _env("SITE_NAME", "Human Touch")


class DevelopmentConfig(Config):
    APP_ENV = "development"
    OUTBOX_PUBLIC = _env_bool("OUTBOX_PUBLIC", True)
    WEBHOOKS_ALLOW_PRIVATE_URLS = _env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", True)


class TestingConfig(Config):
    APP_ENV = "testing"
    TESTING = True
    PAYMENTS_INSTALL_ID = "test"
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = _database_url("sqlite://", "TEST_DATABASE_URL")
    # Forms are tested without tokens; tests/test_csrf.py switches CSRF back on.
    WTF_CSRF_ENABLED = False
    # Limits stay on (tests/accounts/test_login.py checks them) but generous by default.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_AUTH = "10000 per minute"
    MAIL_SERVER = None
    OUTBOX_PUBLIC = False
    TRUSTED_HOSTS = None
    CACHE_TYPE = "NullCache"  # tests/tasks/test_listing_cache.py switches a real cache on
    CACHE_REDIS_URL = None
    REDIS_URL = None          # jobs in-process; tests/core/test_queue.py switches Redis on where it answers
    LOG_FORMAT = "text"
    FAKE_NOW = None  # tests pin the clock per test (app.config), never from the environment
    STORAGE_BACKEND = "local"
    UPLOADS_DIR = str(Path(tempfile.gettempdir()) / f"marketplace-test-uploads-{os.getpid()}")
    WEBHOOKS_ALLOW_PRIVATE_URLS = True   # local receivers; tests/webhooks switches it off to test the refusal
    API_RATE_LIMIT = "100000 per minute"  # tests/api/test_rate_limits.py lowers it
    WEBHOOK_TIMEOUT_SECONDS = 5


class ProductionConfig(Config):
    APP_ENV = "production"
    LOG_FORMAT = _env("LOG_FORMAT", "json")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    FORCE_HTTPS = _env_bool("FORCE_HTTPS", True)
    OUTBOX_PUBLIC = False
    FAKE_NOW = None

    @classmethod
    def validate(cls) -> None:
        if _env("SECRET_KEY") is None:
            raise RuntimeError("SECRET_KEY must be set in production")
        if _env("STRIPE_SECRET_KEY") and _env("PAYMENTS_INSTALL_ID") is None:
            raise RuntimeError("PAYMENTS_INSTALL_ID must be set in production when Stripe is used")
        if _env("FAKE_NOW") is not None:
            raise RuntimeError("FAKE_NOW is for development and tests only; unset it in production")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    # Production unless told otherwise: a deploy that forgets APP_ENV stays locked down.
    return CONFIGS[_env("APP_ENV", "production")]
