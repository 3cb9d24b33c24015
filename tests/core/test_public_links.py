"""Every link in an email starts with PUBLIC_BASE_URL, never with the request's Host header."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.outbox.models import OutboxMessage
from tests import factories

BASE = "https://market.example.com"
LINK = re.compile(r"https?://[^\s\"'<>]+")


@pytest.fixture()
def public_base(app, monkeypatch, dev_mailbox):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE + "/")
    # TRUSTED_HOSTS checks the host name only, so a request can carry any port.
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["localhost"])


def _links_mailed_to(address: str) -> list[str]:
    bodies = db.session.scalars(select(OutboxMessage.secret_body).where(OutboxMessage.to_address == address)).all()
    bodies += db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.to_address == address)).all()
    return [link for body in bodies if body for link in LINK.findall(body)]


def test_a_reset_link_ignores_the_port_in_the_host_header(client, public_base):
    user = factories.create_freelancer(email="port@example.com")
    response = client.post("/password/forgot", data={"email": user.email}, headers={"Host": "localhost:6666"})
    assert response.status_code == 302
    links = _links_mailed_to(user.email)
    assert links and all(link.startswith(f"{BASE}/password/reset/") for link in links), links


def test_confirmation_links_ignore_the_host_header(client, public_base):
    response = client.post("/signup", headers={"Host": "localhost:6666"},
                           data={"role": "business", "full_name": "Port Test", "email": "new@example.com",
                                 "password": "copper-lantern-sea-19"})
    assert response.status_code == 302
    links = _links_mailed_to("new@example.com")
    assert links and all(link.startswith(f"{BASE}/verify/") for link in links), links


def test_notification_links_ignore_the_host_header(client, login_as, public_base):
    business = factories.create_business(email="boss@example.com")
    task = factories.create_task(business)
    login_as(factories.create_freelancer())
    response = client.post(f"/tasks/{task.id}/bids", headers={"Host": "localhost:6666"}, data={
        "amount": "450", "estimated_hours": "", "cover_note": "I have run launch-weekend queues for two years.",
        "availability_note": ""})
    assert response.status_code == 302
    links = _links_mailed_to(business.email)
    assert links and all(link.startswith(BASE + "/") for link in links), links


ROOT = Path(__file__).resolve().parents[2]


def _make_public_base_url(*args: str, env: dict[str, str] | None = None) -> str:
    """PUBLIC_BASE_URL as the Makefile exports it to the commands of `make run ARGS`."""
    probe = "include Makefile\nprint-public-base-url:\n\t@echo $$PUBLIC_BASE_URL\n"
    environment = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "MAKEFLAGS", "MFLAGS")}
    environment.update(env or {})
    result = subprocess.run(["make", "-s", "--no-print-directory", "-f", "-", "print-public-base-url", *args],
                            input=probe, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_on_another_port_mails_links_to_that_port():
    assert _make_public_base_url("PORT=5011") == "http://127.0.0.1:5011"
    assert _make_public_base_url("HOST=0.0.0.0", "PORT=8080") == "http://0.0.0.0:8080"
    assert _make_public_base_url() == "http://127.0.0.1:5000"
    # A PUBLIC_BASE_URL set by the operator (the address behind a proxy) wins.
    assert _make_public_base_url("PORT=5011", env={"PUBLIC_BASE_URL": BASE}) == BASE
