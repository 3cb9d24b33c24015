"""Property-based run of the whole OpenAPI document (schemathesis), in-process on the real app.

Every operation is called with generated requests as a business and as a specialist, then a
stateful run follows the document's links (create task -> publish -> propose -> accept). Each
response must not be a server error and must match the document (status, content type, body,
headers).
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from marketplace.extensions import db
from tests import factories
from tests.api.helpers import auth, skill_id, task_body, token_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES_PER_OPERATION = 13   # x operations x 2 roles: over 1,000 cases
SPECIALIST_OPERATIONS = {"createProposal", "updateProposal", "withdrawProposal", "listMyProposals",
                         "listMyInvitations", "answerInvitation", "deliverEngagement"}
JOURNEY = ["createTask", "getTask", "publishTask", "createProposal", "getProposal", "acceptProposal",
           "getEngagement"]
FAST = settings(deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))


@pytest.fixture()
def world(app):
    """A business with a published task and a specialist with a proposal on it, committed for the run."""
    app.config["MODERATION_FIRST_TASK_REVIEW"] = False
    business, specialist = factories.create_business(), factories.create_freelancer()
    task = factories.create_task(business)
    tokens = {"business": token_for(business), "specialist": token_for(specialist)}
    db.session.commit()
    yield {"tokens": tokens, "task_id": task.id}
    app.config["MODERATION_FIRST_TASK_REVIEW"] = True


@pytest.fixture()
def schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_every_operation_as_business_and_specialist(schema, world):
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    calls = 0
    for role in ("business", "specialist"):
        headers = auth(world["tokens"][role])
        for operation in operations:
            @settings(FAST, max_examples=EXAMPLES_PER_OPERATION)
            @given(case=operation.as_strategy(headers=headers))
            def run(case):
                nonlocal calls
                calls += 1
                case.call_and_validate(checks=CHECKS)

            run()
    assert calls >= 1000


def test_stateful_links_create_publish_propose_accept(schema, world):
    tokens = world["tokens"]
    seen: dict[str, int] = {}

    # The journey's operations only, linked by the document's own links (no inferred ones), so the
    # steps are spent on create -> publish -> propose -> accept and what follows it.
    schema.config.phases.stateful.inference.algorithms = []
    journey = schema.include(operation_id=JOURNEY)

    class Journey(journey.as_state_machine()):
        def before_call(self, case):
            operation = case.operation.definition.raw.get("operationId")
            seen[operation] = seen.get(operation, 0)
            # Random Idempotency-Keys would replay answers from earlier scenarios (tested on their own in
            # test_idempotency.py) and make the scenarios depend on one another.
            if case.headers:
                case.headers.pop("Idempotency-Key", None)
            if operation == "createTask" and isinstance(case.body, dict):
                # Dates and skills the services accept, so that the links can go further.
                valid = task_body(skill_id())
                case.body.update({k: valid[k] for k in ("start_date", "end_date", "pricing", "budget",
                                                        "required_skills", "languages", "channel")})
                case.body.pop("nice_skills", None)
                case.body.update({"seats": 1, "hiring_mode": "open", "timezone": "UTC", "work_hours_start": 9,
                                  "work_hours_end": 17})
            if operation == "createProposal" and isinstance(case.body, dict):
                case.body.update({"amount": 40_000, "estimated_hours": None})
            if operation == "acceptProposal" and isinstance(case.body, dict):
                case.body.update({"seen_amount": 40_000, "seen_hours": None})

        def get_call_kwargs(self, case):
            operation = case.operation.definition.raw.get("operationId")
            role = "specialist" if operation in SPECIALIST_OPERATIONS else "business"
            return {"headers": auth(tokens[role])}

        def after_call(self, response, case):
            operation = case.operation.definition.raw.get("operationId")
            if response.status_code < 300:
                seen[operation] = seen.get(operation, 0) + 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Journey.run(settings=settings(FAST, max_examples=40, stateful_step_count=10))
    # The links were followed to the end: tasks created and published, proposals sent and accepted.
    assert all(seen.get(operation, 0) > 0 for operation in ("createTask", "publishTask", "createProposal",
                                                             "acceptProposal")), seen
