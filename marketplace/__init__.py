"""The human-touch support marketplace: application factory."""
from __future__ import annotations

import logging

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, config_from_env

CSP = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "style-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(config: type[Config] | dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_relative_config=True)
    if isinstance(config, dict):
        app.config.from_object(config_from_env())
        app.config.update(config)
    else:
        config_class = config or config_from_env()
        if hasattr(config_class, "validate"):
            config_class.validate()
        app.config.from_object(config_class)
    _database_session_settings(app)
    from marketplace.core.observability import configure_logging
    configure_logging(app)
    # Importing Alembic (through Flask-Migrate) logs its plugin setup at INFO on every command;
    # `db upgrade` still lists the revisions it applies (migrations/env.py).
    logging.getLogger("alembic").setLevel(logging.WARNING)

    if app.config["PROXY_FIX_X_FOR"]:
        hops = app.config["PROXY_FIX_X_FOR"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from marketplace.core.requests import register_request_guards
    register_request_guards(app)  # before blueprints: routes compile with the bounded int converter
    register_extensions(app)
    import_models()
    register_blueprints(app)
    register_template_helpers(app)
    register_commands(app)
    from marketplace.core.errors import register_errorhandlers
    register_errorhandlers(app)
    from marketplace.moderation.access import register_second_factor_gate
    register_second_factor_gate(app)  # operators' powers outside /moderation need the second factor too
    from marketplace.core.observability import register_observability
    register_observability(app)
    from marketplace.core.queue import init_queue, register_request_hook
    from marketplace.jobs import queued_jobs
    init_queue(app, queued_jobs())
    register_request_hook(app)   # in-process mode: jobs of a committed request run at its end, as mail did
    return app


def _database_session_settings(app: Flask) -> None:
    """PostgreSQL: parallel query off for the app's connections unless DATABASE_PARALLEL_QUERY."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") or app.config["DATABASE_PARALLEL_QUERY"]:
        return
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])   # a copy: the class attribute is shared
    connect_args = dict(options.get("connect_args", {}))
    connect_args["options"] = (connect_args.get("options", "") + " -c max_parallel_workers_per_gather=0").strip()
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def register_extensions(app: Flask) -> None:
    from flask_talisman import Talisman

    from marketplace.core.ratelimit import init_rate_limits
    from marketplace.extensions import bootstrap, cache, compress, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    bootstrap.init_app(app)
    compress.init_app(app)
    cache.init_app(app)
    init_rate_limits(app)
    # One Talisman per app: it keeps its options on the instance, so a shared
    # instance would let the last app configured decide for every other one.
    app.extensions["talisman"] = Talisman(
        app,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        strict_transport_security=True,
        strict_transport_security_max_age=63072000,
        permissions_policy={"geolocation": "()", "microphone": "()", "camera": "()"},
    )
    from marketplace.accounts.session import init_login
    init_login(app, login_manager)
    from marketplace.storage import init_storage
    init_storage(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, and let SQLAlchemy own BEGIN so savepoints work."""
    import sqlite3
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


def import_models() -> None:
    """Every feature's models, so Alembic and relationships see the whole schema."""
    from marketplace.accounts import models as _accounts  # noqa: F401
    from marketplace.bidding import models as _bidding  # noqa: F401
    from marketplace.contracts import models as _contracts  # noqa: F401
    from marketplace.engagements import models as _engagements  # noqa: F401
    from marketplace.files import models as _files  # noqa: F401
    from marketplace.messaging import models as _messaging  # noqa: F401
    from marketplace.moderation import models as _moderation  # noqa: F401
    from marketplace.notifications import models as _notifications  # noqa: F401
    from marketplace.outbox import models as _outbox  # noqa: F401
    from marketplace.payments import models as _payments  # noqa: F401
    from marketplace.profiles import models as _profiles  # noqa: F401
    from marketplace.reviews import models as _reviews  # noqa: F401
    from marketplace.schedules import models as _schedules  # noqa: F401
    from marketplace.tasks import models as _tasks  # noqa: F401
    from marketplace.timesheets import models as _timesheets  # noqa: F401
    from marketplace.invoicing import models as _invoicing  # noqa: F401
    from marketplace.api import models as _api  # noqa: F401
    from marketplace.webhooks import models as _webhooks  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from marketplace.accounts.views import bp as accounts_bp
    from marketplace.bidding.views import bp as bidding_bp
    from marketplace.contracts.views import bp as contracts_bp
    from marketplace.engagements.views import bp as engagements_bp
    from marketplace.files.views import bp as files_bp
    from marketplace.messaging.views import bp as messaging_bp
    from marketplace.moderation.dispute_views import bp as disputes_bp
    from marketplace.moderation.job_views import bp as job_console_bp
    from marketplace.moderation.metrics_views import bp as metrics_bp
    from marketplace.moderation.payment_views import bp as payment_attention_bp
    from marketplace.moderation.report_views import bp as reports_bp
    from marketplace.moderation.views import bp as moderation_bp
    from marketplace.notifications.views import bp as notifications_bp
    from marketplace.outbox.views import bp as outbox_bp
    from marketplace.payments.billing_views import bp as billing_bp
    from marketplace.payments.views import bp as payments_bp
    from marketplace.profiles.views import bp as profiles_bp
    from marketplace.reviews.views import bp as reviews_bp
    from marketplace.tasks.views import bp as tasks_bp
    from marketplace.timesheets.views import bp as timesheets_bp
    from marketplace.invoicing.views import bp as invoicing_bp
    from marketplace.schedules.views import bp as schedules_bp
    from marketplace.web.views import bp as web_bp

    for bp in (web_bp, accounts_bp, profiles_bp, outbox_bp, tasks_bp, bidding_bp, contracts_bp, engagements_bp,
               messaging_bp, notifications_bp, payments_bp, reviews_bp, reports_bp, moderation_bp, disputes_bp,
               metrics_bp, payment_attention_bp, timesheets_bp, billing_bp, invoicing_bp, schedules_bp, files_bp,
               job_console_bp):
        app.register_blueprint(bp)
    from marketplace.api.pages import bp as api_tokens_bp
    from marketplace.webhooks.views import bp as webhooks_bp
    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(webhooks_bp)
    from marketplace.api import init_api
    init_api(app)
    from marketplace.payments.attention import connect_signals
    connect_signals()
    from marketplace.invoicing.audit import billing_problems
    from marketplace.payments.ledger import register_check
    register_check("contracts and invoices", billing_problems)
    from marketplace.webhooks.services import connect_signals as connect_webhooks
    connect_webhooks()


def register_template_helpers(app: Flask) -> None:
    from marketplace.core import reference
    from marketplace.core.money import format_money, format_percent, to_major

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["percent"] = format_percent
    app.jinja_env.filters["major"] = to_major
    from marketplace.core.options import option_tags
    app.jinja_env.globals["option_tags"] = option_tags

    from marketplace.core.urls import memoized_url_for
    from marketplace.web.navigation import nav_badges

    app.jinja_env.globals["url_for"] = memoized_url_for

    @app.context_processor
    def inject_globals():
        from marketplace.core.urls import public_url
        return {"site_name": app.config["SITE_NAME"], "ref": reference, "nav_badges": nav_badges,
                "public_url": public_url}


def register_commands(app: Flask) -> None:
    from marketplace.accounts.cli import create_operator_command, reset_second_factor_command
    from marketplace.demo import seed_demo_command
    from marketplace.jobs import jobs_cli
    from marketplace.payments.cli import ledger_cli
    from marketplace.profiles.cli import seed_skills_command

    for command in (create_operator_command, reset_second_factor_command, seed_skills_command, seed_demo_command, jobs_cli, ledger_cli):
        app.cli.add_command(command)

