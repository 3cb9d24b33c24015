"""An SMTP server for the load test that accepts every message and appends its X-Outbox-Id to a file.

    python loadtest/smtp_sink.py 127.0.0.1 8625 received.txt
"""
from __future__ import annotations

import sys
import time
from email import message_from_bytes

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, path: str):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content)
        with open(self.path, "a") as out:
            out.write(f"{message.get('X-Outbox-Id', '?')}\n")
        return "250 OK"


if __name__ == "__main__":
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    controller = Controller(Recorder(path), hostname=host, port=port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()
