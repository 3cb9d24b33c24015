"""A real SMTP server on a free local port (aiosmtpd), so delivery is tested over the wire, not mocked."""
from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """Keeps every accepted message; answers RCPT TO for chosen addresses with a chosen SMTP reply."""

    def __init__(self):
        self.messages = []
        self.refuse: dict[str, str] = {}   # recipient -> reply, e.g. "550 5.1.1 no such user"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str):
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture()
def smtp_sink(app, monkeypatch):
    """Starts the sink and points the app's MAIL_* settings at it."""
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
                       "MAIL_USERNAME": None}.items():
        monkeypatch.setitem(app.config, key, value)
    try:
        yield sink
    finally:
        controller.stop()
