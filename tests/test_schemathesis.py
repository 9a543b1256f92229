"""
schemathesis checks docs/openapi.yaml (the committed file) against the live
example server: for every operation in the schema, generated requests with a
demo user's token and seed data; the server must not fail (5xx), and each
answer's status, content type and body must be the ones the schema declares.

Generation (examples per operation, determinism) and the checks left out for
some operations, with their reasons, are in tests/schemathesis.toml.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ROOT = Path(__file__).resolve().parent.parent
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
SCHEMA_FILE = ROOT / "docs" / "openapi.yaml"
CONFIG = schemathesis.config.SchemathesisConfig.from_path(ROOT / "tests" / "schemathesis.toml")
SCHEMA = schemathesis.openapi.from_path(SCHEMA_FILE, config=CONFIG)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def checks_for(operation, schema=SCHEMA) -> list:
    """CHECKS but those tests/schemathesis.toml disables for the operation."""
    config = schema.config.checks_config_for(operation=operation)
    return [check for check in CHECKS if config.get_by_name(name=check.__name__).enabled]


@dataclass
class Seed:
    token: str
    # Path parameter -> a value naming a seeded object, tried beside generated ones.
    path_values: dict[str, Any]


@pytest.fixture
def seed(settings, tmp_path) -> Seed:
    """The demo user (plans, a custom-bot subscription with a webhook and its
    events, a managed-bot investment with history) and another user's open checkout."""
    from django.contrib.auth import get_user_model

    from django_torgovo_subscriptions.services import payments as billing
    from django_torgovo_subscriptions.services import subscriptions as service
    from tests.docs_scenarios import load_all, seed_demo

    scenarios = load_all()
    context = seed_demo(settings, {"TMP": str(tmp_path)})
    webhook = scenarios["custom_bot_alert_received"](context)
    scenarios["invested_with_history"](context)
    buyer = get_user_model().objects.create_user("buyer")
    session, _ = billing.create_checkout(
        service.subscribe(buyer, context.plans["custom-bot-basic"])
    )
    return Seed(
        token=context.token,
        # 1: the first row of every table (sequences are reset), the demo user's.
        path_values={
            "id": 1,
            "secret": webhook["WEBHOOK_SECRET"],
            "session_id": session.session_id,
            "gateway": "dummy",
        },
    )


def test_a_check_the_config_disables_for_an_operation_is_left_out_there_only():
    config = schemathesis.config.SchemathesisConfig.from_str(
        '[[operations]]\ninclude-path = "/api/subscriptions/"\n'
        "checks.response_schema_conformance.enabled = false\n"
    )
    schema = schemathesis.openapi.from_path(SCHEMA_FILE, config=config)
    checks = {
        op.label: checks_for(op, schema) for op in (r.ok() for r in schema.get_all_operations())
    }
    assert response_schema_conformance not in checks["GET /api/subscriptions/"]
    assert len(checks["GET /api/subscriptions/"]) == 3
    assert checks["GET /api/subscriptions/{id}/"] == CHECKS


def test_runs_are_small_and_repeatable():
    hypothesis_settings = SCHEMA.config.get_hypothesis_settings(operation=OPERATIONS[0])
    assert hypothesis_settings.derandomize is True
    assert hypothesis_settings.max_examples <= 30


def test_the_schema_has_every_operation():
    assert len(OPERATIONS) >= 20
    assert {op.label for op in OPERATIONS} >= {
        "GET /api/subscriptions/{id}/",
        "POST /api/auth/token/",
        "GET /api/payments/dummy/checkout/{session_id}/",
    }


@pytest.mark.django_db(transaction=True, reset_sequences=True)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_the_server_answers_as_the_schema_says(operation, live_server, seed):
    from hypothesis import HealthCheck, given, settings, strategies

    checks = checks_for(operation)
    headers = {"Authorization": f"Token {seed.token}"}
    cases = operation.as_strategy()
    seeded = {
        name: value for name, value in seed.path_values.items() if f"{{{name}}}" in operation.path
    }
    if seeded:  # the seed's objects too, not only 404s
        cases = strategies.one_of(cases, operation.as_strategy(path_parameters=seeded))

    @settings(
        SCHEMA.config.get_hypothesis_settings(operation=operation, apply_ci_profile=False),
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def answers_as_documented(case):
        case.call_and_validate(base_url=live_server.url, headers=headers, checks=checks)

    answers_as_documented()


JSON = "application/json"


def alert(secret: str, order_id: str) -> dict[str, str]:
    return {
        "action": "buy",
        "ticker": "ETHUSDT",
        "quantity": "0.5",
        "order_id": order_id,
        "secret": secret,
    }


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_answers_generated_requests_rarely_reach_are_as_documented(live_server, seed):
    """What random data seldom gets: a token, an executed, a duplicate and a refused
    alert, a page past the end, a non-id, a junk page_size, a cancellation, the seed's
    orders and pairs, a logout and the revoked token's 401."""
    secret = seed.path_values["secret"]
    auth = {"Authorization": f"Token {seed.token}"}
    receiver = SCHEMA.find_operation_by_label("POST /api/custom-bot/webhook/receive/{secret}/")

    def receive(body):
        return receiver.Case(path_parameters={"secret": secret}, body=body, media_type=JSON)

    requests = [
        (
            SCHEMA.find_operation_by_label("POST /api/auth/token/").Case(
                body={"username": "demo", "password": "demo-password"},
                media_type=JSON,
            ),
            200,
        ),
        (receive(alert(secret, "A1")), 200),
        (receive(alert(secret, "A1")), 200),  # a duplicate
        (receive({"secret": secret}), 400),
        (
            SCHEMA.find_operation_by_label("GET /api/subscriptions/").Case(
                query={"page": 99}, headers=auth
            ),
            404,
        ),
        (
            SCHEMA.find_operation_by_label("GET /api/subscriptions/").Case(
                query={"page_size": "abc"}, headers=auth
            ),
            400,
        ),
        (
            SCHEMA.find_operation_by_label("GET /api/subscriptions/{id}/").Case(
                path_parameters={"id": "abc"}, headers=auth
            ),
            404,
        ),
        (
            SCHEMA.find_operation_by_label("PATCH /api/subscriptions/{id}/").Case(
                path_parameters={"id": 1},
                body={"status": "cancelled"},
                media_type=JSON,
                headers=auth,
            ),
            200,
        ),
        *(
            (SCHEMA.find_operation_by_label(f"GET /api/{path}").Case(headers=auth), 200)
            for path in ("orders/", "custom-bot/pairs/", "payments/gateways/")
        ),
        # Last: it revokes the token.
        (SCHEMA.find_operation_by_label("POST /api/auth/logout/").Case(headers=auth), 204),
        (SCHEMA.find_operation_by_label("POST /api/auth/logout/").Case(headers=auth), 401),
    ]
    bodies = {}
    for case, status in requests:
        response = case.call_and_validate(base_url=live_server.url, checks=CHECKS)
        assert response.status_code == status, (case.path, response.text)
        bodies.setdefault(case.path, response.json() if response.content else None)
    # The seed's alert orders and its webhook's pair were validated, not only empty pages.
    assert {order["source"] for order in bodies["/api/orders/"]["results"]} == {"custom_bot"}
    assert any(pair["webhook_id"] for pair in bodies["/api/custom-bot/pairs/"]["results"])
    assert [gateway["name"] for gateway in bodies["/api/payments/gateways/"]] == ["dummy"]
