"""What people do on the marketplace, for `make loadtest` (locust, headless).

LOADTEST_HOSTS lists the app servers (comma-separated base URLs); every request of a simulated person
goes to the next one in turn, so a signed-in session hops between instances all the time.

- Visitor: browses and searches tasks, opens tasks and specialist profiles.
- Deal: a business (company<N>@example.org) and a specialist (specialist<N>@example.net) from the demo
  data do a whole deal: sign in, post a task, propose, accept, fund through the sandbox, message,
  deliver, approve (the payout is a queued job), and review each other.
"""
from __future__ import annotations

import itertools
import os
import random
import re
import time
from datetime import date, timedelta
from html.parser import HTMLParser

from locust import HttpUser, between, task
from locust.clients import HttpSession

HOSTS = [h.rstrip("/") for h in os.environ.get("LOADTEST_HOSTS", "http://127.0.0.1:8601").split(",")]
# Seconds a person takes between two pages of a deal (reading, typing): without it each simulated pair
# fired its thirty requests back to back, a stress test rather than fifty people. LOADTEST_THINK=0 for that.
THINK = tuple(float(x) for x in os.environ.get("LOADTEST_THINK", "0.5,2").split(",")) if os.environ.get(
    "LOADTEST_THINK", "") != "0" else (0.0, 0.0)
PASSWORD = "demo-support-2026"
_pair_numbers = itertools.count(1)


# --- reading forms -----------------------------------------------------------------------------------

class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action", ""), "fields": [], "selects": {}, "textareas": [],
                          "radios": {}, "checkboxes": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "radio":
                options = self._form["radios"].setdefault(a["name"], [])
                options.insert(0, a.get("value", "")) if "checked" in a else options.append(a.get("value", ""))
            elif kind == "checkbox":
                self._form["checkboxes"].setdefault(a["name"], []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "file"):
                self._form["fields"].append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["selects"][self._select] = []
        elif tag == "option" and self._select:
            options = self._form["selects"][self._select]
            value = a.get("value", "")
            if "selected" in a:
                options.insert(0, value)
            else:
                options.append(value)
        elif tag == "textarea" and a.get("name"):
            self._form["textareas"].append(a["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def find_form(html: str, action: str, page_path: str = "") -> dict | None:
    parser = _Forms()
    parser.feed(html)
    pattern = re.compile(action)
    for form in parser.forms:
        form["action"] = (form["action"] or page_path).split("#")[0]   # no action: the page's own URL
    return next((f for f in parser.forms if pattern.search(f["action"])), None)


def form_data(form: dict, values: dict) -> list[tuple[str, str]]:
    data = {name: value for name, value in form["fields"]}
    for name, options in form["selects"].items():
        data[name] = options[0] if options else ""     # what a browser sends untouched
    for name in form["textareas"]:
        data[name] = "Load test: kind, clear and on time."
    for name, options in form["radios"].items():
        data[name] = options[0]
    for name, value in values.items():
        if value == FIRST_CHOICE:    # the first real option of a select ("Choose a skill" skipped)
            value = next((o for o in form["selects"].get(name, []) if o), "")
        if not isinstance(value, list):
            data[name] = value
    pairs = list(data.items())
    for name, value in values.items():
        if isinstance(value, list):
            pairs += [(name, v) for v in value]
    return pairs


FIRST_CHOICE = object()
REFUSAL = re.compile(r'class="(?:alert alert-(?:danger|warning) alert-dismissible|invalid-feedback)[^"]*"[^>]*>.{0,300}', re.S)


class FlowError(Exception):
    pass


# --- a person whose requests alternate between the app servers --------------------------------------

class Person:
    def __init__(self, user: HttpUser, session: HttpSession, think: bool = False):
        self.user, self.session, self.think = user, session, think and THINK[1] > 0
        self.hosts = itertools.cycle(random.sample(HOSTS, len(HOSTS)))

    def get(self, path: str, name: str):
        if self.think:
            time.sleep(random.uniform(*THINK))
        return self._request("GET", path, name)

    def post(self, path: str, name: str, data):
        return self._request("POST", path, name, data=data)

    def _request(self, method: str, path: str, name: str, **kw):
        with self.session.request(method, next(self.hosts) + path, name=name, catch_response=True,
                                  **kw) as response:
            if response.status_code >= 400 or not response.status_code:   # 0: no answer (connection lost)
                why = f"{response.status_code}" if response.status_code else f"no answer ({response.error!r:.120})"
                response.failure(f"{why} on {path}")
                raise FlowError(f"{name}: {response.status_code}")
            refusal = REFUSAL.search(response.text or "") if method == "POST" else None
            if refusal or (method == "POST" and "/login" in (response.url or "") and "/login" not in path):
                # A 200 page that said no (a flash error, a form error, or the login page): the write failed.
                message = re.sub(r"<[^>]+>|\s+", " ", refusal.group(0))[:160] if refusal else "sent to the login page"
                response.failure(f"refused: {message}")
                raise FlowError(f"{name}: {message}")
            response.success()
            return response

    def submit(self, page_path: str, page_name: str, action: str, name: str, values: dict | None = None,
               html: str | None = None):
        html = html if html is not None else self.get(page_path, page_name).text
        form = find_form(html, action, page_path)
        if form is None:
            self.user.environment.events.request.fire(
                request_type="FLOW", name=name, response_time=0, response_length=0, context={},
                exception=FlowError(f"no form {action} on {page_path}"))
            raise FlowError(f"{name}: no form {action} on {page_path}")
        return self.post(form["action"], name, form_data(form, values or {}))

    def sign_in(self, email: str):
        page = self.get("/login", "/login")
        if find_form(page.text, r"^/login", "/login") is None and "/logout" in page.text:
            return   # still signed in (the login page sent us on)
        self.submit("/login", "/login", r"^/login", "POST /login", {"email": email, "password": PASSWORD},
                    html=page.text)


# --- visitors -----------------------------------------------------------------------------------------

class Visitor(HttpUser):
    weight = 2
    wait_time = between(1, 3)
    host = HOSTS[0]

    def on_start(self):
        self.person = Person(self, self.client)
        self.task_ids: list[str] = []
        self.profile_ids: list[str] = []

    @task(3)
    def browse_tasks(self):
        try:
            page = self.person.get(f"/tasks?page={random.randint(1, 3)}", "/tasks").text
            self.task_ids = re.findall(r'href="/tasks/(\d+)"', page) or self.task_ids
        except FlowError:
            pass

    @task(2)
    def search_tasks(self):
        query = random.choice(["refunds", "chat", "billing", "phone support", "spanish", "returns"])
        try:
            self.person.get(f"/tasks?q={query}&sort=newest", "/tasks?q=")
        except FlowError:
            pass

    @task(3)
    def open_task(self):
        if self.task_ids:
            try:
                self.person.get(f"/tasks/{random.choice(self.task_ids)}", "/tasks/<id>")
            except FlowError:
                pass

    @task(2)
    def browse_specialists(self):
        try:
            page = self.person.get("/freelancers", "/freelancers").text
            self.profile_ids = re.findall(r'href="/freelancers/(\d+)"', page) or self.profile_ids
        except FlowError:
            pass

    @task(2)
    def open_profile(self):
        if self.profile_ids:
            try:
                self.person.get(f"/freelancers/{random.choice(self.profile_ids)}", "/freelancers/<id>")
            except FlowError:
                pass


# --- deals ---------------------------------------------------------------------------------------------

class Deal(HttpUser):
    weight = 3
    wait_time = between(1, 2)
    host = HOSTS[0]

    def on_start(self):
        number = next(_pair_numbers)
        self.business = Person(self, self.client, think=True)
        self.specialist = Person(self, HttpSession(base_url=HOSTS[0], request_event=self.environment.events.request,
                                                   user=self), think=True)
        self.business_email = f"company{number}@example.org"
        self.specialist_email = f"specialist{number}@example.net"
        self.signed_in = False

    def _sign_in_both(self):
        self.business.sign_in(self.business_email)
        self.specialist.sign_in(self.specialist_email)
        self.specialist.submit("/payments/sandbox/onboarding", "/payments/sandbox/onboarding",
                               r"/payments/sandbox/onboarding", "POST /payments/sandbox/onboarding")
        self.signed_in = True

    @task
    def deal(self):
        try:
            if not self.signed_in:
                self._sign_in_both()
            self._one_deal()
        except FlowError:
            self.signed_in = False   # start over with fresh sign-ins

    def _one_deal(self):
        b, s = self.business, self.specialist
        start = date.today() + timedelta(days=5)
        posted = b.submit("/tasks/new", "/tasks/new", r"^/tasks/new", "POST /tasks/new", {
            "title": f"Weekend chat cover {random.randint(1, 10**9)}",
            "description": "Answer billing questions kindly in chat over one weekend, with patience.",
            "channel": "chat", "languages": ["en"], "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=2)).isoformat(), "budget": "900", "publish": "1",
            "required-0-skill": FIRST_CHOICE,
            "hiring_mode": "open", "pricing": "fixed"})
        match = re.search(r"/tasks/(\d+)$", posted.url)
        if not match:
            raise FlowError("posting a task did not land on the task")
        task_id = match.group(1)
        s.get("/tasks?q=billing", "/tasks?q=")
        s.submit(f"/tasks/{task_id}", "/tasks/<id>", rf"/tasks/{task_id}/bids", "POST /tasks/<id>/bids",
                 {"amount": "850", "cover_note": "Five years of calm billing support in chat."})
        # "Accept and hire…" opens a confirmation page (the terms and the price) holding the form.
        accept = re.search(r'href="(/bids/\d+/accept)"', b.get(f"/tasks/{task_id}", "/tasks/<id>").text)
        if not accept:
            raise FlowError("no Accept and hire link on the task")
        hired = b.submit(accept.group(1), "/bids/<id>/accept", r"/bids/\d+/accept", "POST /bids/<id>/accept")
        engagement = (re.search(r"/engagements/(\d+)$", hired.url or "")
                      or re.search(r'action="/engagements/(\d+)/fund"', hired.text))
        if not engagement:
            raise FlowError("no engagement after hiring")
        eid = engagement.group(1)
        checkout = b.submit(f"/engagements/{eid}", "/engagements/<id>", rf"/engagements/{eid}/fund",
                            "POST /engagements/<id>/fund")
        b.submit("", "", r"/payments/sandbox/checkout/\d+/pay", "POST /payments/sandbox/checkout/<id>/pay",
                 html=checkout.text)
        threads = re.findall(r'href="/messages/(\d+)', s.get("/messages", "/messages").text)
        if threads:
            s.submit(f"/messages/{threads[0]}", "/messages/<id>", rf"/messages/{threads[0]}",
                     "POST /messages/<id>", {"body": "Hello! Starting Saturday 9:00, summary on Sunday."})
        s.submit(f"/engagements/{eid}", "/engagements/<id>", rf"/engagements/{eid}/deliver",
                 "POST /engagements/<id>/deliver")
        # "Approve and release…" opens a confirmation page too.
        b.submit(f"/engagements/{eid}/approve", "/engagements/<id>/approve", rf"/engagements/{eid}/approve",
                 "POST /engagements/<id>/approve")
        stars = {"stars": "5", "listening": "5", "acknowledging": "4", "patience": "5", "positive_language": "5",
                 "follow_through": "4"}
        b.submit(f"/engagements/{eid}/review", "/engagements/<id>/review", rf"/engagements/{eid}/review",
                 "POST /engagements/<id>/review", stars)
        s.submit(f"/engagements/{eid}/review", "/engagements/<id>/review", rf"/engagements/{eid}/review",
                 "POST /engagements/<id>/review", {"stars": "5"})
        profiles = re.findall(r'href="/freelancers/(\d+)', b.get("/freelancers", "/freelancers").text)
        if profiles:
            b.get(f"/freelancers/{random.choice(profiles)}", "/freelancers/<id>")
        time.sleep(random.uniform(0.5, 1.5))
