"""A fake Stripe API behind the real SDK: a `stripe.HTTPClient` subclass with an in-memory store.

The SDK's own encoding, headers, retries and error mapping all run; only the
network is replaced. The fake is strict where Stripe is strict, because a
lenient fake hides exactly the bugs that lose money:

- every request is validated against the installed SDK's typed parameters
  (the `...CreateParams` TypedDict of the service method that builds it):
  an unknown parameter or a missing required one is a 400, as at Stripe;
- the first response to an idempotency key is stored, errors and 500s
  included, and replayed for 24 hours; the same key with other parameters is
  an `idempotency_error`. Like Stripe, nothing is stored when the request
  failed validation or never reached an endpoint (network error, 429);
- objects have the shapes of the current API: accounts with `capabilities` and
  `requirements`, PaymentIntents with `latest_charge`, charges that do not
  embed refunds and point at a balance transaction with `fee` and `net`,
  refunds that start `pending`.

Layout: request validation, then the idempotency layer and dispatch, then one
section per resource (`ROUTES`), then the helpers tests use to play the part
of Stripe's hosted pages and asynchronous processing. Add new resources as a
new section plus their `ROUTES` entries.
"""
from __future__ import annotations

import importlib
import itertools
import json
import re
import sys
import threading
import time
import types
import typing
from typing import Any, Callable, Literal, Union
from urllib.parse import parse_qsl, urlsplit

import stripe
import typing_extensions
import stripe._request_options as _request_options
from stripe._stripe_context import StripeContext
from stripe._stripe_object import UntypedStripeObject

STRIPE_FEE_BPS, STRIPE_FEE_FIXED = 290, 30  # card processing fee in the fake: 2.9% + 30 minor units


# --- request validation against the SDK's typed parameters --------------------------------------------

REQUEST_OPTION_KEYS = frozenset(_request_options.RequestOptions.__annotations__)


def _hints(cls) -> dict[str, Any]:
    # The params TypedDicts inherit RequestOptions, whose annotations name types of another module.
    namespace = {**vars(_request_options), "StripeContext": StripeContext, **vars(sys.modules[cls.__module__])}
    return typing.get_type_hints(cls, globalns=namespace)


def params_class(service: type, method: str) -> type:
    """The TypedDict the SDK's `service.method(params, ...)` is typed with (e.g. TransferCreateParams)."""
    annotation = getattr(service, method).__annotations__["params"]
    name = re.search(r"(\w+Params)\b", annotation if isinstance(annotation, str) else repr(annotation)).group(1)
    # stripe.checkout._session_service -> stripe.params.checkout
    package = ".".join(["stripe.params", *service.__module__.split(".")[1:-1]])
    return getattr(importlib.import_module(package), name)


def decode_form(pairs: list[tuple[str, str]]) -> dict:
    """`a[b][0][c]=v` (the SDK's encoding, lists always indexed) back into nested dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        path = [head, *re.findall(r"\[([^\]]*)\]", key[len(head):])]
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def _join(path: str, key: str) -> str:
    return f"{path}[{key}]" if path else key


def validate(value: Any, tp: Any, path: str = "") -> list[str]:
    """Stripe's messages for what the endpoint would refuse; [] when the request is acceptable."""
    if tp is Any:
        return []
    if typing_extensions.is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"Invalid object: {path}"]
        hints = {k: v for k, v in _hints(tp).items() if k not in REQUEST_OPTION_KEYS}
        errors = [f"Received unknown parameter: {_join(path, k)}" for k in value if k not in hints]
        errors += [f"Missing required param: {_join(path, k)}." for k in sorted(tp.__required_keys__)
                   if k not in REQUEST_OPTION_KEYS and k not in value]
        for k, v in value.items():
            if k in hints:
                errors += validate(v, hints[k], _join(path, k))
        return errors
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        attempts = [validate(value, option, path) for option in args]
        return [] if any(not a for a in attempts) else min(attempts, key=len)
    if origin is Literal:
        allowed = {str(a).lower() if isinstance(a, bool) else str(a) for a in args}
        return [] if isinstance(value, str) and value in allowed else [f"Invalid {path}: must be one of {', '.join(sorted(allowed))}"]
    if origin in (list, typing.List):
        if not isinstance(value, list):
            return [f"Invalid array: {path}"]
        return [e for i, item in enumerate(value) for e in validate(item, args[0], f"{path}[{i}]")]
    if origin in (dict, typing.Dict) or origin is UntypedStripeObject or tp is UntypedStripeObject:
        return [] if isinstance(value, dict) else [f"Invalid hash: {path}"]
    if tp is str:
        return [] if isinstance(value, str) else [f"Invalid string: {path}"]
    if tp is int:
        return [] if isinstance(value, str) and re.fullmatch(r"-?\d+", value) else [f"Invalid integer: {path}"]
    if tp is float:
        return [] if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value) else [f"Invalid number: {path}"]
    if tp is bool:
        return [] if value in ("true", "false") else [f"Invalid boolean: {path}"]
    return []


# --- the HTTP client: failures, idempotency, dispatch ---------------------------------------------------

class Route(typing.NamedTuple):
    method: str
    pattern: str          # regex on the path; groups are passed to the handler
    service: type | None  # the SDK service whose typed params the request must satisfy
    service_method: str
    handler: str          # FakeStripe method name


def _error(status: int, message: str, *, type_: str = "invalid_request_error", code: str | None = None,
           param: str | None = None) -> tuple[dict, int]:
    error = {"type": type_, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return {"error": error}, status


class FakeStripe(stripe.HTTPClient):
    name = "fake"

    def __init__(self):
        super().__init__()
        self.lock = threading.RLock()
        self.requests: list[dict] = []
        self.by_key: dict[str, dict] = {}                 # idempotency key -> stored first response
        self.failures: list[dict] = []                     # injected failures, used once each
        self.ids = itertools.count(1)
        self.objects: dict[str, dict] = {}
        self.created = itertools.count(int(time.time()))
        self.card_behaviour: dict[str, str] = {}           # pm id -> what an off-session charge on it does

    # The SDK sleeps between its own retries; tests don't need to.
    def _sleep_time_seconds(self, num_retries, response=None):
        return 0

    def close(self):
        pass

    # -- failure injection --------------------------------------------------------------------------
    def fail_next(self, path_prefix: str, status: int, error: dict | None = None) -> None:
        """The endpoint answers this error once. Like Stripe, it is stored under the request's idempotency
        key (so a retry with the same key gets it again), except a 429 or 409, which never reach an endpoint."""
        self.failures.append({"prefix": path_prefix, "status": status,
                              "error": error or {"type": "api_error", "message": "boom"}})

    def network_error_next(self, path_prefix: str, *, times: int = 1, after_processing: bool = False) -> None:
        """The connection fails `times` times. With after_processing, Stripe did the work and the response was
        lost: a retry with the same key gets the stored result."""
        for _ in range(times):
            self.failures.append({"prefix": path_prefix, "network": True, "after": after_processing})

    def expire_idempotency_keys(self) -> None:
        """24 hours have passed: Stripe has forgotten every stored response."""
        self.by_key.clear()

    def calls(self, method: str, path_prefix: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"].startswith(path_prefix)]

    # -- the transport --------------------------------------------------------------------------------
    def request(self, method, url, headers, post_data=None, *, _usage=None):
        method, parts = method.upper(), urlsplit(url)
        raw = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        pairs = parse_qsl(raw if method == "POST" else parts.query, keep_blank_values=True)
        params = dict(pairs)  # flat form, as sent: what tests assert on
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        key = lowered.get("idempotency-key")
        with self.lock:
            self.requests.append({"method": method, "path": parts.path, "params": params, "key": key,
                                  "stripe_version": lowered.get("stripe-version")})
            failure = self._take_failure(parts.path)
            if failure is not None and failure.get("network") and not failure["after"]:
                raise stripe.APIConnectionError("Network error (fake): connection reset", should_retry=True)
            if key and method == "POST" and key in self.by_key:
                stored = self.by_key[key]
                if stored["request"] != (method, parts.path, raw):
                    body, status = _error(400, "Keys for idempotent requests can only be used with the same "
                                          f"parameters they were first used with. Try using a key other than "
                                          f"'{key}' if you meant to execute a different request.",
                                          type_="idempotency_error")
                    return json.dumps(body), status, {"request-id": f"req_{next(self.ids)}"}
                if failure is not None and failure.get("network"):
                    raise stripe.APIConnectionError("Network error (fake): response lost", should_retry=True)
                return stored["body"], stored["status"], {**stored["headers"], "idempotent-replayed": "true"}
            body, status, store = self._respond(method, parts.path, pairs, failure)
            rheaders = {"request-id": f"req_{next(self.ids)}"}
            if status >= 500:
                rheaders["stripe-should-retry"] = "false"  # Stripe would only replay it
            response = (json.dumps(body), status, rheaders)
            if key and method == "POST" and store:
                self.by_key[key] = {"request": (method, parts.path, raw), "body": response[0], "status": status,
                                    "headers": rheaders}
            if failure is not None and failure.get("network"):
                raise stripe.APIConnectionError("Network error (fake): response lost", should_retry=True)
            return response

    def _take_failure(self, path: str) -> dict | None:
        for i, failure in enumerate(self.failures):
            if path.startswith(failure["prefix"]):
                return self.failures.pop(i)
        return None

    def _respond(self, method: str, path: str, pairs, failure) -> tuple[dict, int, bool]:
        """(body, status, stored under the idempotency key?)"""
        for route in ROUTES:
            match = re.fullmatch(route.pattern, path)
            if route.method != method or match is None:
                continue
            params = decode_form(pairs)
            if route.service is not None:
                errors = validate(params, params_class(route.service, route.service_method))
                if errors:  # refused before the endpoint ran: nothing is stored
                    return *_error(400, errors[0], param=errors[0].split(": ", 1)[-1].rstrip(".")), False
            if failure is not None and not failure.get("network"):
                status = failure["status"]
                return {"error": failure["error"]}, status, status not in (409, 429)
            body, status = getattr(self, route.handler)(params, *match.groups())
            return body, status, True
        return *_error(404, f"Unrecognized request URL ({method}: {path})."), False

    # -- store helpers --------------------------------------------------------------------------------
    def _new(self, prefix: str, obj: dict) -> dict:
        obj = {"id": f"{prefix}_test_{next(self.ids)}", "livemode": False, "created": next(self.created), **obj}
        self.objects[obj["id"]] = obj
        return obj

    def _get(self, object_type: str, object_id: str) -> dict | None:
        obj = self.objects.get(object_id)
        return obj if obj is not None and obj["object"] == object_type else None

    def _missing(self, what: str, object_id: str, param: str = "id") -> tuple[dict, int]:
        return _error(404, f"No such {what}: '{object_id}'", code="resource_missing", param=param)

    def _expand(self, obj: dict, params: dict) -> dict:
        expand = params.get("expand") or []
        obj = dict(obj)
        for field in expand:
            if isinstance(obj.get(field), str) and obj[field] in self.objects:
                obj[field] = self.objects[obj[field]]
        return obj

    def _balance_transaction(self, type_: str, amount: int, currency: str, source: str, fee: int = 0) -> dict:
        details = [{"amount": fee, "currency": currency, "type": "stripe_fee", "description": "Stripe processing fees",
                    "application": None}] if fee else []
        return self._new("txn", {"object": "balance_transaction", "type": type_, "amount": amount, "fee": fee,
                                 "net": amount - fee, "currency": currency, "source": source,
                                 "status": "available", "fee_details": details, "reporting_category": type_})

    # --- checkout sessions ------------------------------------------------------------------------------
    def create_checkout_session(self, p: dict) -> tuple[dict, int]:
        if p.get("mode") == "setup":
            return self._create_setup_session(p)
        if not p.get("line_items"):
            return _error(400, "You must provide `line_items` in `payment` mode.", param="line_items")
        item = p["line_items"][0]["price_data"]
        intent_data = p.get("payment_intent_data") or {}
        obj = self._new("cs", {"object": "checkout.session", "mode": p["mode"], "payment_status": "unpaid",
                               "status": "open", "amount_total": int(item["unit_amount"]) * int(
                                   p["line_items"][0].get("quantity", "1")),
                               "currency": item["currency"], "metadata": p.get("metadata") or {},
                               "client_reference_id": p.get("client_reference_id"), "payment_intent": None,
                               "success_url": p.get("success_url"), "cancel_url": p.get("cancel_url"),
                               "payment_intent_data": {"transfer_group": intent_data.get("transfer_group"),
                                                       "metadata": intent_data.get("metadata") or {}}})
        obj["url"] = f"https://checkout.stripe.test/c/pay/{obj['id']}"
        body = dict(obj)
        body.pop("payment_intent_data")
        return body, 200

    def retrieve_checkout_session(self, p: dict, session_id: str) -> tuple[dict, int]:
        session = self._get("checkout.session", session_id)
        if session is None:
            return self._missing("checkout session", session_id)
        body = {k: v for k, v in session.items() if k not in ("payment_intent_data", "setup_intent_data")}
        return self._expand(body, p), 200

    def _create_setup_session(self, p: dict) -> tuple[dict, int]:
        """Checkout in setup mode: collects a payment method for later, charges nothing."""
        if p.get("line_items"):
            return _error(400, "You can not pass `line_items` in `setup` mode.", param="line_items")
        if "payment_intent_data" in p:
            return _error(400, "You can not pass `payment_intent_data` in `setup` mode.",
                          param="payment_intent_data")
        if not p.get("currency") and not p.get("allowed_payment_method_types"):
            return _error(400, "Missing required param: currency. It is required in `setup` mode when "
                          "`allowed_payment_method_types` is not set.", param="currency")
        if p.get("customer") and self._get("customer", p["customer"]) is None:
            return self._missing("customer", p["customer"], "customer")
        obj = self._new("cs", {"object": "checkout.session", "mode": "setup", "payment_status": "no_payment_required",
                               "status": "open", "amount_total": None, "currency": p.get("currency"),
                               "customer": p.get("customer"), "metadata": p.get("metadata") or {},
                               "client_reference_id": p.get("client_reference_id"), "payment_intent": None,
                               "setup_intent": None,
                               "payment_method_types": p.get("allowed_payment_method_types") or ["card"],
                               "success_url": p.get("success_url"), "cancel_url": p.get("cancel_url"),
                               "setup_intent_data": {"metadata": (p.get("setup_intent_data") or {}).get("metadata")
                                                     or {}}})
        obj["url"] = f"https://checkout.stripe.test/c/setup/{obj['id']}"
        body = dict(obj)
        body.pop("setup_intent_data")
        return body, 200

    # --- customers, payment methods, setup intents (a card on file) -----------------------------------
    def create_customer(self, p: dict) -> tuple[dict, int]:
        return self._new("cus", {"object": "customer", "email": p.get("email"), "name": p.get("name"),
                                 "metadata": p.get("metadata") or {}, "description": p.get("description"),
                                 "invoice_settings": {"default_payment_method": None, "custom_fields": None,
                                                      "footer": None, "rendering_options": None}}), 200

    def retrieve_customer(self, p: dict, customer_id: str) -> tuple[dict, int]:
        customer = self._get("customer", customer_id)
        return (self._expand(customer, p), 200) if customer else self._missing("customer", customer_id)

    def update_customer(self, p: dict, customer_id: str) -> tuple[dict, int]:
        customer = self._get("customer", customer_id)
        if customer is None:
            return self._missing("customer", customer_id)
        settings = p.get("invoice_settings") or {}
        if "default_payment_method" in settings:
            pm_id = settings["default_payment_method"]
            method = self._get("payment_method", pm_id) if pm_id else None
            if pm_id and method is None:
                return self._missing("PaymentMethod", pm_id, "invoice_settings[default_payment_method]")
            if method is not None and method["customer"] != customer_id:
                return _error(400, f"The customer does not have a payment method with the ID {pm_id}. The payment "
                              "method must be attached to the customer.",
                              param="invoice_settings[default_payment_method]")
            customer["invoice_settings"]["default_payment_method"] = pm_id or None
        for key in ("email", "name", "description"):
            if key in p:
                customer[key] = p[key]
        if "metadata" in p:
            customer["metadata"].update(p["metadata"] or {})
        return customer, 200

    def retrieve_payment_method(self, p: dict, pm_id: str) -> tuple[dict, int]:
        method = self._get("payment_method", pm_id)
        return (method, 200) if method else self._missing("PaymentMethod", pm_id)

    def detach_payment_method(self, p: dict, pm_id: str) -> tuple[dict, int]:
        method = self._get("payment_method", pm_id)
        if method is None:
            return self._missing("PaymentMethod", pm_id)
        if method["customer"] is None:
            return _error(400, "The payment method you provided is not attached to a customer so detachment is "
                          "impossible.", code="payment_method_unexpected_state")
        customer = self._get("customer", method["customer"])
        if customer is not None and customer["invoice_settings"]["default_payment_method"] == pm_id:
            customer["invoice_settings"]["default_payment_method"] = None
        method["customer"] = None
        return method, 200

    def retrieve_setup_intent(self, p: dict, si_id: str) -> tuple[dict, int]:
        intent = self._get("setup_intent", si_id)
        return (self._expand(intent, p), 200) if intent else self._missing("setup_intent", si_id)

    # --- payment intents and charges --------------------------------------------------------------------
    def create_payment_intent(self, p: dict) -> tuple[dict, int]:
        """A PaymentIntent, confirmed at once when `confirm=true` (the off-session charge of a saved card)."""
        confirm, off_session = p.get("confirm") == "true", p.get("off_session") not in (None, "false")
        if off_session and not confirm:
            return _error(400, "You can only pass `off_session` when `confirm=true`.", param="off_session")
        # Only cards can be confirmed without a return_url: other methods may redirect the customer.
        if confirm and set(p.get("allowed_payment_method_types") or ["*"]) != {"card"} and not p.get("return_url") and (
                (p.get("automatic_payment_methods") or {}).get("allow_redirects") != "never"):
            return _error(400, "This PaymentIntent is configured to accept payment methods enabled in your "
                          "Dashboard. Because some of these payment methods might redirect your customer off of your "
                          "page, you must provide a `return_url`.", param="return_url")
        method = None
        if p.get("payment_method"):
            method = self._get("payment_method", p["payment_method"])
            if method is None:
                return self._missing("PaymentMethod", p["payment_method"], "payment_method")
            if method["customer"] is not None and method["customer"] != p.get("customer"):
                return _error(400, "The provided PaymentMethod belongs to a Customer. Please provide the ID of that "
                              "Customer as the `customer` parameter.", param="customer")
            if method["customer"] is None and p.get("customer"):
                return _error(400, f"The provided PaymentMethod {method['id']} was previously used or detached; "
                              "it can't be used again without attaching it to a Customer.",
                              param="payment_method")
        elif confirm:
            return _error(400, "You cannot confirm this PaymentIntent because it's missing a payment method.",
                          code="payment_intent_unexpected_state")
        amount, currency = int(p["amount"]), p["currency"]
        intent = self._new("pi", {"object": "payment_intent", "amount": amount, "amount_received": 0,
                                  "currency": currency, "customer": p.get("customer"),
                                  "payment_method": p.get("payment_method"), "status": "requires_confirmation"
                                  if method else "requires_payment_method", "latest_charge": None,
                                  "metadata": p.get("metadata") or {}, "transfer_group": p.get("transfer_group"),
                                  "description": p.get("description"), "last_payment_error": None,
                                  "payment_method_types": p.get("allowed_payment_method_types") or ["card"],
                                  "setup_future_usage": None, "next_action": None})
        if not confirm:
            return intent, 200
        behaviour = self.card_behaviour.get(method["id"], "succeeds")
        if behaviour == "succeeds":
            n = next(self.ids)
            charge = self.add_charge(f"ch_test_{n}", amount, currency, payment_intent=intent["id"],
                                     metadata=intent["metadata"])
            charge.update(transfer_group=p.get("transfer_group"), customer=p.get("customer"),
                          payment_method=method["id"])
            # add_charge stores a fresh PaymentIntent: keep ours, now succeeded.
            intent.update(status="succeeded", amount_received=amount, latest_charge=charge["id"],
                          created=intent["created"])
            self.objects[intent["id"]] = intent
            return intent, 200
        if behaviour == "authentication_required":
            code, decline, message = ("authentication_required", "authentication_required",
                                      "Your card was declined. This transaction requires authentication.")
        else:
            code, decline, message = "card_declined", "generic_decline", "Your card was declined."
        error = {"type": "card_error", "code": code, "decline_code": decline, "message": message,
                 "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
                 "payment_method": dict(method)}
        intent.update(status="requires_payment_method", payment_method=None,
                      last_payment_error={k: v for k, v in error.items()})
        error["payment_intent"] = dict(intent)
        return {"error": error}, 402

    def retrieve_payment_intent(self, p: dict, intent_id: str) -> tuple[dict, int]:
        intent = self._get("payment_intent", intent_id)
        return (self._expand(intent, p), 200) if intent else self._missing("payment_intent", intent_id)

    def retrieve_charge(self, p: dict, charge_id: str) -> tuple[dict, int]:
        charge = self._get("charge", charge_id)
        return (self._expand(charge, p), 200) if charge else self._missing("charge", charge_id)

    # --- transfers and reversals ------------------------------------------------------------------------
    def create_transfer(self, p: dict) -> tuple[dict, int]:
        account = self._get("account", p["destination"])
        if account is None:
            return _error(400, f"No such destination: '{p['destination']}'", code="resource_missing",
                          param="destination")
        if account["capabilities"].get("transfers") != "active":
            return _error(400, "Your destination account needs to have at least one of the following "
                          "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                          code="insufficient_capabilities_for_transfer", param="destination")
        amount, currency = int(p["amount"]), p["currency"]
        source = p.get("source_transaction")
        if source is not None:
            charge = self._get("charge", source)
            if charge is None:
                return _error(400, f"No such charge: '{source}'", code="resource_missing",
                              param="source_transaction")
            settled = self.objects[charge["balance_transaction"]]["currency"]
            if settled != currency:
                return _error(400, f"The currency of source_transaction's balance transaction ({settled}) must "
                              f"be the same as the transfer currency ({currency}).", param="currency")
            if amount > charge["amount"] - charge["amount_refunded"]:
                return _error(400, "Transfer amount exceeds the available amount of the source transaction.",
                              param="amount")
        transfer = self._new("tr", {"object": "transfer", "amount": amount, "currency": currency,
                                    "destination": p["destination"], "transfer_group": p.get("transfer_group"),
                                    "source_transaction": source, "amount_reversed": 0, "reversed": False,
                                    "metadata": p.get("metadata") or {}, "balance_transaction": None,
                                    "reversals": {"object": "list", "data": [], "has_more": False,
                                                  "url": "/v1/transfers/x/reversals"}})
        transfer["reversals"]["url"] = f"/v1/transfers/{transfer['id']}/reversals"
        transfer["balance_transaction"] = self._balance_transaction("transfer", -amount, currency,
                                                                    transfer["id"])["id"]
        return transfer, 200

    def create_transfer_reversal(self, p: dict, transfer_id: str) -> tuple[dict, int]:
        transfer = self._get("transfer", transfer_id)
        if transfer is None:
            return self._missing("transfer", transfer_id)
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = int(p.get("amount", remaining))
        if amount > remaining:
            return _error(400, f"Amount ({amount}) is greater than the amount that can be reversed ({remaining}).",
                          param="amount")
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        reversal = self._new("trr", {"object": "transfer_reversal", "amount": amount, "transfer": transfer_id,
                                     "currency": transfer["currency"], "metadata": p.get("metadata") or {}})
        reversal["balance_transaction"] = self._balance_transaction("transfer_refund", amount, transfer["currency"],
                                                                    reversal["id"])["id"]
        return reversal, 200

    # --- refunds ----------------------------------------------------------------------------------------
    def create_refund(self, p: dict) -> tuple[dict, int]:
        charge = None
        if p.get("charge"):
            charge = self._get("charge", p["charge"])
            if charge is None:
                return self._missing("charge", p["charge"], "charge")
        elif p.get("payment_intent"):
            intent = self._get("payment_intent", p["payment_intent"])
            if intent is None:
                return self._missing("payment_intent", p["payment_intent"], "payment_intent")
            charge = self.objects.get(intent["latest_charge"])
        if charge is None:
            return _error(400, "One of the following params should be provided for this request: payment_intent "
                          "or charge.")
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            return _error(400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        amount = int(p.get("amount", remaining))
        if amount > remaining:
            return _error(400, f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                          f"({remaining})", code="amount_too_large", param="amount")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = self._new("re", {"object": "refund", "amount": amount, "status": "pending",
                                  "charge": charge["id"], "payment_intent": charge["payment_intent"],
                                  "currency": charge["currency"], "metadata": p.get("metadata") or {},
                                  "reason": p.get("reason"), "failure_reason": None})
        refund["balance_transaction"] = self._balance_transaction("refund", -amount, charge["currency"],
                                                                  refund["id"])["id"]
        return refund, 200

    def retrieve_refund(self, p: dict, refund_id: str) -> tuple[dict, int]:
        refund = self._get("refund", refund_id)
        return (self._expand(refund, p), 200) if refund else self._missing("refund", refund_id)

    # --- connected accounts -----------------------------------------------------------------------------
    def create_account(self, p: dict) -> tuple[dict, int]:
        requested = [name for name, c in (p.get("capabilities") or {}).items() if c.get("requested") == "true"]
        return self._new("acct", {
            "object": "account", "type": p.get("type", "express"), "email": p.get("email"),
            "metadata": p.get("metadata") or {}, "charges_enabled": False, "payouts_enabled": False,
            "details_submitted": False, "capabilities": {name: "inactive" for name in requested},
            "requirements": {"currently_due": ["business_type", "external_account", "tos_acceptance.date"],
                             "eventually_due": [], "past_due": [], "disabled_reason": "requirements.past_due",
                             "errors": []}}), 200

    def retrieve_account(self, p: dict, account_id: str) -> tuple[dict, int]:
        account = self._get("account", account_id)
        return (account, 200) if account else _error(
            403, f"The provided key does not have access to account '{account_id}' (or that account does not "
            "exist). Application access may have been revoked.", type_="invalid_request_error",
            code="account_invalid")

    def create_account_link(self, p: dict) -> tuple[dict, int]:
        if self._get("account", p["account"]) is None:
            return self._missing("account", p["account"], "account")
        return {"object": "account_link", "url": f"https://connect.stripe.test/setup/{p['account']}",
                "created": next(self.created), "expires_at": next(self.created) + 300}, 200

    # --- balance transactions ---------------------------------------------------------------------------
    def list_balance_transactions(self, p: dict) -> tuple[dict, int]:
        data = sorted((o for o in self.objects.values() if o["object"] == "balance_transaction"),
                      key=lambda o: (o["created"], o["id"]), reverse=True)
        if p.get("starting_after"):
            ids = [o["id"] for o in data]
            data = data[ids.index(p["starting_after"]) + 1:] if p["starting_after"] in ids else []
        limit = int(p.get("limit", 10))
        return {"object": "list", "data": data[:limit], "has_more": len(data) > limit,
                "url": "/v1/balance_transactions"}, 200

    def retrieve_balance_transaction(self, p: dict, txn_id: str) -> tuple[dict, int]:
        txn = self._get("balance_transaction", txn_id)
        return (txn, 200) if txn else self._missing("balance transaction", txn_id)

    # === what Stripe does outside our requests (hosted pages, asynchronous processing) =================
    # Each returns the event Stripe would send, for the test to sign and post.

    def _event(self, kind: str, obj: dict, account: str | None = None) -> dict:
        event = {"id": f"evt_test_{next(self.ids)}", "object": "event", "type": kind, "api_version":
                 stripe.api_version, "created": next(self.created), "data": {"object": json.loads(json.dumps(obj))}}
        if account:
            event["account"] = account
        return event

    def add_charge(self, charge_id: str, amount: int, currency: str = "usd", *, payment_intent: str | None = None,
                   metadata: dict | None = None, settlement_currency: str | None = None) -> dict:
        """A succeeded card payment: PaymentIntent, its latest charge and the charge's balance transaction."""
        intent_id = payment_intent or charge_id.replace("ch_", "pi_", 1)
        settled = settlement_currency or currency
        fee = amount * STRIPE_FEE_BPS // 10_000 + STRIPE_FEE_FIXED
        self.objects[charge_id] = charge = {
            "id": charge_id, "object": "charge", "amount": amount, "amount_captured": amount, "amount_refunded": 0,
            "currency": currency, "paid": True, "captured": True, "refunded": False, "status": "succeeded",
            "payment_intent": intent_id, "metadata": metadata or {}, "disputed": False, "livemode": False,
            "created": next(self.created), "balance_transaction": None}
        charge["balance_transaction"] = self._balance_transaction("charge", amount, settled, charge_id, fee)["id"]
        self.objects[intent_id] = {"id": intent_id, "object": "payment_intent", "amount": amount,
                                   "amount_received": amount, "currency": currency, "status": "succeeded",
                                   "latest_charge": charge_id, "metadata": metadata or {}, "livemode": False,
                                   "created": next(self.created)}
        return charge

    def complete_setup(self, session_id: str, *, behaviour: str = "succeeds", brand: str = "visa",
                       last4: str = "4242", exp_month: int = 12, exp_year: int = 2034) -> dict:
        """The business entered a card on the hosted setup page: a PaymentMethod attached to the session's
        Customer and a succeeded SetupIntent. Returns `checkout.session.completed` (mode setup).
        `behaviour`: what an off-session charge on the card does (succeeds, authentication_required,
        declined), like Stripe's test cards 4242..., 4000 0027 6000 3184 and 4000 0000 0000 0341."""
        session = self._get("checkout.session", session_id)
        method = self._new("pm", {"object": "payment_method", "type": "card", "customer": session["customer"],
                                  "billing_details": {"email": None, "name": None, "phone": None, "address": None},
                                  "metadata": {}, "card": {"brand": brand, "last4": last4, "exp_month": exp_month,
                                                           "exp_year": exp_year, "country": "US", "funding": "credit",
                                                           "display_brand": brand}})
        self.card_behaviour[method["id"]] = behaviour
        intent = self._new("seti", {"object": "setup_intent", "status": "succeeded", "usage": "off_session",
                                    "customer": session["customer"], "payment_method": method["id"],
                                    "metadata": session["setup_intent_data"]["metadata"],
                                    "payment_method_types": ["card"], "last_setup_error": None})
        session.update(status="complete", setup_intent=intent["id"])
        body = dict(session)
        body.pop("setup_intent_data")
        return self._event("checkout.session.completed", body)

    def pay_checkout(self, session_id: str, *, settlement_currency: str | None = None) -> dict:
        """The business paid on the hosted page: returns `checkout.session.completed`."""
        session = self._get("checkout.session", session_id)
        n = next(self.ids)
        intent_data = session["payment_intent_data"]
        self.add_charge(f"ch_test_{n}", session["amount_total"], session["currency"], payment_intent=f"pi_test_{n}",
                        metadata=intent_data["metadata"], settlement_currency=settlement_currency)
        self.objects[f"ch_test_{n}"]["transfer_group"] = intent_data["transfer_group"]
        session.update(payment_status="paid", status="complete", payment_intent=f"pi_test_{n}")
        body = dict(session)
        body.pop("payment_intent_data")
        return self._event("checkout.session.completed", body)

    def add_account(self, account_id: str, *, transfers: str = "active", metadata: dict | None = None) -> dict:
        """A connected account in a given state (as if onboarded earlier)."""
        self.objects[account_id] = {
            "id": account_id, "object": "account", "type": "express", "metadata": metadata or {},
            "charges_enabled": False, "payouts_enabled": transfers == "active", "details_submitted": True,
            "capabilities": {"transfers": transfers}, "created": next(self.created), "livemode": False,
            "requirements": {"currently_due": [] if transfers == "active" else ["external_account"],
                             "eventually_due": [], "past_due": [], "disabled_reason": None, "errors": []}}
        return self.objects[account_id]

    def set_transfers_capability(self, account_id: str, state: str) -> dict:
        """Stripe (re)evaluated the account: returns `account.updated`."""
        account = self._get("account", account_id)
        account["capabilities"]["transfers"] = state
        account["requirements"]["currently_due"] = [] if state == "active" else ["external_account"]
        account["requirements"]["disabled_reason"] = None if state == "active" else "requirements.past_due"
        account["payouts_enabled"] = account["details_submitted"] = state == "active"
        return self._event("account.updated", account, account=account_id)

    def settle_refund(self, refund_id: str, status: str = "succeeded",
                      failure_reason: str = "expired_or_canceled_card") -> dict:
        """The refund leaves `pending`: returns `refund.updated` (succeeded) or `refund.failed`."""
        refund = self._get("refund", refund_id)
        refund["status"] = status
        if status == "failed":
            refund["failure_reason"] = failure_reason
            charge = self.objects[refund["charge"]]
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            refund["failure_balance_transaction"] = self._balance_transaction(
                "refund_failure", refund["amount"], refund["currency"], refund["id"])["id"]
        return self._event("refund.failed" if status == "failed" else "refund.updated", refund)

    def event_for(self, kind: str, object_id: str) -> dict:
        """An event about a stored object as it is now (e.g. `transfer.created`, `refund.created`)."""
        return self._event(kind, self.objects[object_id])


def _service(module: str, name: str) -> type:
    return getattr(importlib.import_module(module), name)


ROUTES = [
    Route("POST", r"/v1/checkout/sessions", _service("stripe.checkout._session_service", "SessionService"),
          "create", "create_checkout_session"),
    Route("GET", r"/v1/checkout/sessions/([^/]+)", _service("stripe.checkout._session_service", "SessionService"),
          "retrieve", "retrieve_checkout_session"),
    Route("GET", r"/v1/payment_intents/([^/]+)", _service("stripe._payment_intent_service", "PaymentIntentService"),
          "retrieve", "retrieve_payment_intent"),
    Route("GET", r"/v1/charges/([^/]+)", _service("stripe._charge_service", "ChargeService"), "retrieve",
          "retrieve_charge"),
    Route("POST", r"/v1/transfers", _service("stripe._transfer_service", "TransferService"), "create",
          "create_transfer"),
    Route("POST", r"/v1/transfers/([^/]+)/reversals",
          _service("stripe._transfer_reversal_service", "TransferReversalService"), "create",
          "create_transfer_reversal"),
    Route("POST", r"/v1/refunds", _service("stripe._refund_service", "RefundService"), "create", "create_refund"),
    Route("GET", r"/v1/refunds/([^/]+)", _service("stripe._refund_service", "RefundService"), "retrieve",
          "retrieve_refund"),
    Route("POST", r"/v1/accounts", _service("stripe._account_service", "AccountService"), "create",
          "create_account"),
    Route("GET", r"/v1/accounts/([^/]+)", _service("stripe._account_service", "AccountService"), "retrieve",
          "retrieve_account"),
    Route("POST", r"/v1/account_links", _service("stripe._account_link_service", "AccountLinkService"), "create",
          "create_account_link"),
    Route("GET", r"/v1/balance_transactions",
          _service("stripe._balance_transaction_service", "BalanceTransactionService"), "list",
          "list_balance_transactions"),
    Route("GET", r"/v1/balance_transactions/([^/]+)",
          _service("stripe._balance_transaction_service", "BalanceTransactionService"), "retrieve",
          "retrieve_balance_transaction"),
    Route("POST", r"/v1/payment_intents", _service("stripe._payment_intent_service", "PaymentIntentService"),
          "create", "create_payment_intent"),
    Route("POST", r"/v1/customers", _service("stripe._customer_service", "CustomerService"), "create",
          "create_customer"),
    Route("GET", r"/v1/customers/([^/]+)", _service("stripe._customer_service", "CustomerService"), "retrieve",
          "retrieve_customer"),
    Route("POST", r"/v1/customers/([^/]+)", _service("stripe._customer_service", "CustomerService"), "update",
          "update_customer"),
    Route("GET", r"/v1/payment_methods/([^/]+)", _service("stripe._payment_method_service", "PaymentMethodService"),
          "retrieve", "retrieve_payment_method"),
    Route("POST", r"/v1/payment_methods/([^/]+)/detach",
          _service("stripe._payment_method_service", "PaymentMethodService"), "detach", "detach_payment_method"),
    Route("GET", r"/v1/setup_intents/([^/]+)", _service("stripe._setup_intent_service", "SetupIntentService"),
          "retrieve", "retrieve_setup_intent"),
    # Further resources (e.g. disputes): add a handler section above and its routes here.
]


# === card disputes (chargebacks) ========================================================================
# Kept apart from the sections above: Stripe opens and closes disputes on its own, so there is no request
# to validate, only what Stripe does and the events it sends.

DISPUTE_FEE = 1500  # what Stripe debits per dispute in the fake (15.00 in the charge's settlement currency)


def _dispute_bt(fake: FakeStripe, dispute: dict, amount: int, fee: int, category: str) -> dict:
    charge = fake.objects[dispute["charge"]]
    currency = fake.objects[charge["balance_transaction"]]["currency"]
    bt = fake._balance_transaction("adjustment", amount, currency, dispute["id"], fee)
    bt["reporting_category"] = category
    bt["fee_details"] = [{"amount": fee, "currency": currency, "type": "stripe_fee", "description": "Dispute fee",
                          "application": None}] if fee else []
    dispute["balance_transactions"].append(bt)
    return bt


def open_dispute(fake: FakeStripe, charge_id: str, *, reason: str = "fraudulent",
                 amount: int | None = None) -> list[dict]:
    """The business's bank disputes a charge: Stripe withdraws the amount and the dispute fee from the
    platform balance. Returns `charge.dispute.created` and `charge.dispute.funds_withdrawn`."""
    charge = fake._get("charge", charge_id)
    amount = charge["amount"] if amount is None else amount
    dispute = fake._new("dp", {"object": "dispute", "amount": amount, "currency": charge["currency"],
                               "charge": charge_id, "payment_intent": charge["payment_intent"], "reason": reason,
                               "status": "needs_response", "is_charge_refundable": False, "metadata": {},
                               "balance_transactions": []})
    charge["disputed"] = True
    _dispute_bt(fake, dispute, -amount, DISPUTE_FEE, "dispute")
    return [fake._event("charge.dispute.created", dispute), fake._event("charge.dispute.funds_withdrawn", dispute)]


def close_dispute(fake: FakeStripe, dispute_id: str, status: str, *, fee_returned: bool = False) -> list[dict]:
    """The bank decided. Won: the amount comes back (the fee too if `fee_returned`), and Stripe sends
    `charge.dispute.funds_reinstated` then `charge.dispute.closed`. Lost: only `charge.dispute.closed`."""
    dispute = fake._get("dispute", dispute_id)
    dispute["status"] = status
    events = []
    if status == "won":
        _dispute_bt(fake, dispute, dispute["amount"], -DISPUTE_FEE if fee_returned else 0, "dispute_reversal")
        events.append(fake._event("charge.dispute.funds_reinstated", dispute))
    events.append(fake._event("charge.dispute.closed", dispute))
    return events


def plant_fee_difference(fake: FakeStripe, source_id: str, cents: int = 1) -> dict:
    """Stripe's balance transaction for `source_id` says the fee was `cents` more than the ledger recorded."""
    bt = next(o for o in fake.objects.values() if o["object"] == "balance_transaction" and o["source"] == source_id)
    bt["fee"] += cents
    bt["net"] -= cents
    return bt
