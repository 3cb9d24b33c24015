"""The timesheet clock: FAKE_NOW pins it in development and tests, production refuses it."""
from datetime import datetime, timezone

import pytest

from config import ProductionConfig
from marketplace.core.time import app_now


def test_fake_now_pins_the_clock_and_naive_means_utc(app, monkeypatch):
    with app.app_context():
        monkeypatch.setitem(app.config, "FAKE_NOW", "2026-11-29T22:00:00")
        assert app_now() == datetime(2026, 11, 29, 22, tzinfo=timezone.utc)
        monkeypatch.setitem(app.config, "FAKE_NOW", "2026-11-29T23:00:00+01:00")
        assert app_now() == datetime(2026, 11, 29, 22, tzinfo=timezone.utc)
        monkeypatch.setitem(app.config, "FAKE_NOW", None)
        assert abs((app_now() - datetime.now(timezone.utc)).total_seconds()) < 60


def test_production_refuses_a_fake_clock(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("FAKE_NOW", "2026-11-29T22:00:00")
    with pytest.raises(RuntimeError, match="FAKE_NOW"):
        ProductionConfig.validate()
    assert ProductionConfig.FAKE_NOW is None
