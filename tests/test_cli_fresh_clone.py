"""The README's `flask --app wsgi ...` commands work in a fresh checkout, quietly.

A copy of the application in a temporary directory stands in for a fresh clone: its own
`instance/` SQLite database, the committed `.flaskenv`, and an environment without APP_ENV,
SECRET_KEY or DATABASE_URL (as in a new shell after `make run`).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP_FILES = ("config.py", "wsgi.py", ".flaskenv", "marketplace", "migrations", "templates", "static")
CLEARED = ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "TEST_DATABASE_URL", "FLASK_APP", "FLASK_DEBUG",
           "RATELIMIT_STORAGE_URI", "MAIL_SERVER", "PYTHONPATH")

pytestmark = pytest.mark.no_db_transaction


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory) -> Path:
    clone = tmp_path_factory.mktemp("clone")
    for name in APP_FILES:
        source = ROOT / name
        if not source.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, clone / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, clone / name)
    (clone / "instance").mkdir()   # `make run` creates it
    return clone


def _run(clone: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    flask = Path(sys.executable).with_name("flask")
    command = [str(flask)] if flask.exists() else [sys.executable, "-m", "flask"]
    return subprocess.run([*command, "--app", "wsgi", *args], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=120)


def _info_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("INFO")]


def test_readme_commands_work_without_app_env_and_print_no_alembic_chatter(fresh_clone):
    upgrade = _run(fresh_clone, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    # `db upgrade` says what it applied, and nothing else.
    assert all(" Running upgrade " in line for line in _info_lines(upgrade)), _info_lines(upgrade)
    assert "Running upgrade" in upgrade.stderr

    for args, expected in ((("routes",), "accounts.login"), (("ledger", "check"), "ledger check: OK")):
        result = _run(fresh_clone, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert expected in result.stdout, (args, result.stdout)
        assert "alembic" not in (result.stdout + result.stderr).lower(), (args, result.stderr)
        assert _info_lines(result) == [], (args, result.stderr)


def test_without_app_env_the_wsgi_app_is_still_production(fresh_clone):
    """.flaskenv is for the flask command only: gunicorn imports wsgi.py without it."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=fresh_clone, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr
