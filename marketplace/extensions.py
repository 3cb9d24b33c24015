"""Unbound Flask extensions, initialised in `create_app()`."""
from __future__ import annotations

from flask_bootstrap import Bootstrap5
from flask_compress import Compress
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints make Alembic migrations (and SQLite batch downgrades) deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def on_postgresql() -> bool:
    """The app's database is PostgreSQL (else SQLite): where a query is written per dialect."""
    return db.engine.dialect.name == "postgresql"
# Indexes and columns written by hand in migrations because autogenerate cannot compare them
# (expression indexes, PostgreSQL-only generated columns); autogenerate and `db check` skip them.
HAND_WRITTEN_INDEXES = frozenset({"ix_tasks_fulltext", "ix_tasks_search", "ix_tasks_listed_price",
                                  "ix_freelancer_profiles_listed_rating",
                                  "ix_freelancer_profiles_search_trgm"})
HAND_WRITTEN_COLUMNS = frozenset({("tasks", "search_vector"), ("tasks", "skill_ids"), ("tasks", "language_codes")})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "column" and reflected and (getattr(obj.table, "name", None), name) in HAND_WRITTEN_COLUMNS:
        return False
    return not (type_ == "index" and name in HAND_WRITTEN_INDEXES)


migrate = Migrate(render_as_batch=True, compare_type=True, include_object=include_object)
login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()
# Pages, CSS and JavaScript compressed for browsers that accept it (Bootstrap's CSS goes from 230 to 30 kB).
compress = Compress()
# Short-lived page cache for anonymous visitors of public listings (see tasks/views.py).
cache = Cache()
# request.remote_addr only: X-Forwarded-For is honoured solely through ProxyFix,
# which create_app() installs only when PROXY_FIX_X_FOR is configured.
limiter = Limiter(key_func=get_remote_address)
