"""A fake Stripe API behind the real SDK: a `stripe.HTTPClient` subclass with an in-memory store.

The SDK's own encoding, headers, retries, idempotency keys and error mapping
all run; only the network is replaced. Responses follow the API reference's
shapes for the few resources the platform uses.
"""
from __future__ import annotations

import itertools
import json
import threading
from urllib.parse import parse_qsl, urlsplit

import stripe


class FakeStripe(stripe.HTTPClient):
    name = "fake"

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.by_key: dict[str, tuple[str, int, dict]] = {}
        self.failures: list[tuple[str, int, dict]] = []  # (path prefix, status, error body), used once each
        self.ids = itertools.count(1)
        self.objects: dict[str, dict] = {}

    # The SDK sleeps between retries; tests don't need to.
    def _sleep_time_seconds(self, num_retries, response=None):
        return 0

    def fail_next(self, path_prefix: str, status: int, error: dict | None = None) -> None:
        self.failures.append((path_prefix, status, error or {"type": "api_error", "message": "boom"}))

    def calls(self, method: str, path_prefix: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"].startswith(path_prefix)]

    def close(self):
        pass

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        path = urlsplit(url).path
        params = dict(parse_qsl(post_data or "")) if isinstance(post_data, str) else \
            dict(parse_qsl((post_data or b"").decode()))
        key = (headers or {}).get("Idempotency-Key")
        with self.lock:
            self.requests.append({"method": method.upper(), "path": path, "params": params, "key": key})
            for i, (prefix, status, error) in enumerate(self.failures):
                if path.startswith(prefix):
                    del self.failures[i]
                    return json.dumps({"error": error}), status, {"Request-Id": "req_fail"}
            if key and key in self.by_key:
                body, status, rheaders = self.by_key[key]
                return body, status, {**rheaders, "Idempotent-Replayed": "true"}
            body, status = self._handle(method.upper(), path, params)
            response = (json.dumps(body), status, {"Request-Id": f"req_{next(self.ids)}"})
            if key and method.upper() == "POST":
                self.by_key[key] = response
            return response

    def _new(self, prefix: str, obj: dict) -> dict:
        obj = {"id": f"{prefix}_test_{next(self.ids)}", "livemode": False, **obj}
        self.objects[obj["id"]] = obj
        return obj

    def _handle(self, method: str, path: str, p: dict) -> tuple[dict, int]:
        if method == "POST" and path == "/v1/checkout/sessions":
            obj = self._new("cs", {"object": "checkout.session", "mode": p["mode"], "payment_status": "unpaid",
                                   "status": "open", "amount_total": int(p["line_items[0][price_data][unit_amount]"]),
                                   "currency": p["line_items[0][price_data][currency]"],
                                   "metadata": {"engagement_id": p["metadata[engagement_id]"],
                                                "charge_id": p["metadata[charge_id]"]},
                                   "payment_intent": None, "transfer_group": p["payment_intent_data[transfer_group]"]})
            obj["url"] = f"https://checkout.stripe.test/c/pay/{obj['id']}"
            return obj, 200
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            pi = path.rsplit("/", 1)[1]
            return {"id": pi, "object": "payment_intent", "status": "succeeded",
                    "latest_charge": pi.replace("pi_", "ch_")}, 200
        if method == "POST" and path == "/v1/transfers":
            return self._new("tr", {"object": "transfer", "amount": int(p["amount"]), "currency": p["currency"],
                                    "destination": p["destination"], "transfer_group": p.get("transfer_group"),
                                    "source_transaction": p.get("source_transaction"), "amount_reversed": 0,
                                    "reversals": {"object": "list", "data": []}}), 200
        if method == "POST" and path.startswith("/v1/transfers/") and path.endswith("/reversals"):
            transfer_id = path.split("/")[3]
            return self._new("trr", {"object": "transfer_reversal", "amount": int(p["amount"]),
                                     "transfer": transfer_id, "currency": "usd"}), 200
        if method == "POST" and path == "/v1/refunds":
            return self._new("re", {"object": "refund", "amount": int(p["amount"]), "status": "succeeded",
                                    "payment_intent": p["payment_intent"], "currency": "usd",
                                    "metadata": {"refund_id": p.get("metadata[refund_id]")}}), 200
        if method == "POST" and path == "/v1/accounts":
            return self._new("acct", {"object": "account", "type": "express", "email": p.get("email"),
                                      "capabilities": {"transfers": "inactive"}}), 200
        if method == "POST" and path == "/v1/account_links":
            return {"object": "account_link", "url": f"https://connect.stripe.test/setup/{p['account']}",
                    "expires_at": 1}, 200
        if method == "GET" and path == "/v1/balance_transactions":
            data = [{"id": f"txn_{o['id']}", "object": "balance_transaction", "amount": o.get("amount", 0),
                     "currency": "usd", "type": o["object"], "source": o["id"]}
                    for o in self.objects.values() if o["object"] in ("transfer", "refund", "charge")]
            return {"object": "list", "data": data, "has_more": False, "url": "/v1/balance_transactions"}, 200
        return {"error": {"type": "invalid_request_error", "message": f"No such route {method} {path}"}}, 404

    # Test helpers: what Stripe would have done on its hosted pages.
    def add_charge(self, charge_id: str, amount: int) -> None:
        self.objects[charge_id] = {"id": charge_id, "object": "charge", "amount": amount}
