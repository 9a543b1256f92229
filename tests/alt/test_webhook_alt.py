"""
Custom-bot webhooks on the differently shaped host: platform-wide strategies
(no owner), trades with a UUID key and lower-case choices, an engine that
returns session ids.
"""

import contextlib
import json
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from model_bakery import baker

from django_torgovo_subscriptions.models import WebhookEvent
from tests.brokerage.engine import Engine
from tests.brokerage.models import Strategy, Trade
from tests.concurrency import run_concurrently, table_locked
from tests.webhook_support import (
    assert_figure_fits_or_is_refused,
    host_figures,
    issue,
    post_alert,
    subscribe,
    without_rate_limits,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def test_generate_then_alert_then_a_trade_in_the_hosts_uuid_keyed_table(api, user, anon):
    subscribe(user)
    strategy = baker.make(Strategy, market="ETH/USDT", venue="kraken", enabled=True)
    Engine.started.clear()

    response = api.post(
        "/api/custom-bot/webhook/generate/", {"pair_config": strategy.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    issued = response.json()
    secret = issued["tradingview_json"]["secret"]
    assert (
        issued["webhook_url"]
        == f"https://brokerage.example/api/custom-bot/webhook/receive/{secret}/"
    )

    message = json.dumps(issued["tradingview_json"])
    for placeholder, value in (
        ("{{strategy.order.action}}", "sell"),
        ("{{ticker}}", "KRAKEN:ETHUSDT"),
        ("{{close}}", "3012.40"),
        ("{{strategy.order.contracts}}", "1.25"),
    ):
        message = message.replace(placeholder, value)
    response = anon.post(
        issued["webhook_url"].removeprefix("https://brokerage.example"),
        data=message,
        content_type="text/plain",
    )

    assert response.status_code == 200, response.content
    trade = Trade.objects.get()
    assert isinstance(trade.pk, uuid.UUID)
    assert response.json()["order_id"] == str(trade.pk)
    assert (trade.account, trade.strategy, trade.market) == (user, strategy, "KRAKEN:ETHUSDT")
    assert (trade.direction, trade.state, trade.origin) == ("sell", "executed", "webhook")
    assert (trade.amount, trade.fill_price) == (Decimal("1.25"), Decimal("3012.40"))
    assert trade.venue_ref == f"session-{strategy.pk}-1"
    assert Engine.started[0]["signal"]["extra"] == {}
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.order_id) == ("executed", str(trade.pk))


def test_any_enabled_strategy_is_tradable_but_not_a_disabled_one(api, user, other_user):
    subscribe(user, max_pairs=2)
    subscribe(other_user)
    shared = baker.make(Strategy, market="BTC/USDT", enabled=True)
    disabled = baker.make(Strategy, market="BTC/USDT", enabled=False)
    assert (
        api.post(
            "/api/custom-bot/webhook/generate/", {"pair_config": shared.pk}, format="json"
        ).status_code
        == 201
    )
    response = api.post(
        "/api/custom-bot/webhook/generate/", {"pair_config": disabled.pk}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "validation_error"


def test_a_strategy_disabled_after_generation_refuses_alerts(client, user):
    from django_torgovo_subscriptions.services.custom_bot import issuing

    subscribe(user)
    strategy = baker.make(Strategy, market="BTC/USDT", enabled=True)
    issued = issuing.generate_webhook(user, strategy)
    strategy.enabled = False
    strategy.save()
    response = post_alert(client, issued.secret)
    assert response.status_code == 403 and response.json()["code"] == "pair_config_unavailable"
    assert not Trade.objects.exists()


def test_a_celery_claim_loads_the_hosts_own_user_and_strategy(user):
    """event_runner.claim_queued builds its SQL from the host's models (one statement on
    PostgreSQL): the alt host's user and UUID-keyed strategy load as the ORM would."""
    from django_torgovo_subscriptions.services.custom_bot import event_runner, issuing

    subscribe(user)
    strategy = baker.make(Strategy, market="ETH/USDT", venue="kraken", enabled=True)
    webhook = issuing.generate_webhook(user, strategy).webhook
    event = WebhookEvent.objects.create(webhook=webhook, outcome="queued", signal={"a": 1})
    claimed = event_runner.claim_queued(event.pk)
    assert (claimed.outcome, claimed.signal) == ("processing", {"a": 1})
    assert claimed.webhook.user == user and claimed.webhook.pair_config == strategy
    assert claimed.webhook.pair_config.market == "ETH/USDT"
    assert event_runner.claim_queued(event.pk) is None


@pytest.fixture
def strategy_secret(user):
    subscribe(user)
    strategy = baker.make(Strategy, market="BTC/USDT", venue="kraken", enabled=True)
    return issue(user, strategy)[1]


@pytest.mark.parametrize("name", ["quantity", "price"])
@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=host_figures(14, 10))
@example(value=Decimal("99999999999999.9999999999"))  # numeric(24, 10): the largest
@example(value=Decimal("0.00000000001"))  # 11 places: one too many
@example(value=Decimal("0.000000001"))  # refused by the example host, fits this one
def test_figures_are_held_to_this_hosts_numeric_24_10(client, strategy_secret, name, value):
    Engine.started.clear()
    with without_rate_limits():
        assert_figure_fits_or_is_refused(client, strategy_secret, name, value, 14, 10, Trade)
    # nothing reaches the engine unless the figure fits
    assert bool(Engine.started) == (value == value.quantize(Decimal("1e-10")) and value < 10**14)


@contextlib.contextmanager
def trades_locked_out():
    """The Trade table locked by another connection; the receiver waits 200 ms for it."""
    with (
        override_settings(
            TORGOVO_SUBSCRIPTIONS={
                **settings.TORGOVO_SUBSCRIPTIONS,
                "WEBHOOK_DB_LOCK_TIMEOUT_MS": 200,
            }
        ),
        table_locked(Trade),
    ):
        yield


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_fill_whose_trade_row_is_locked_out_is_a_503_and_the_retry_writes_it(
    client, strategy_secret
):
    """The engine fills, then the Trade table is locked: the event keeps the fill for
    reconciliation, and TradingView's retry writes the Trade from it, not trading again."""
    Engine.started.clear()
    secret = strategy_secret
    with trades_locked_out():
        response = post_alert(client, secret)
        early = post_alert(client, secret)  # a retry while the table is still locked
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response.json()["code"] == "order_pending"
    assert early.status_code == 503 and early["Retry-After"] == "1"
    assert early.json()["status"] == "duplicate"
    pending = WebhookEvent.objects.get(pk=response.json()["event_id"])
    assert (pending.outcome, pending.code, pending.status_code) == ("failed", "order_pending", 503)
    assert pending.execution["status"] == "executed" and pending.dedupe_key
    assert len(Engine.started) == 1 and not Trade.objects.exists()

    retry = post_alert(client, secret)
    assert retry.status_code == 200
    trade = Trade.objects.get()
    assert (retry.json()["status"], retry.json()["order_id"]) == ("duplicate", str(trade.pk))
    assert trade.venue_ref == pending.execution["external_id"]
    pending.refresh_from_db()
    assert (pending.outcome, pending.code, pending.order_id) == ("executed", "", str(trade.pk))
    assert post_alert(client, secret).json()["order_id"] is None  # a plain duplicate now
    assert len(Engine.started) == 1 and Trade.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_a_pending_fill_write_one_trade(client, strategy_secret):
    Engine.started.clear()
    with trades_locked_out():
        assert post_alert(client, strategy_secret).json()["code"] == "order_pending"
    answers = run_concurrently(
        4, lambda _index: post_alert(Client(), strategy_secret).json()["order_id"]
    )
    # The event's row lock lets one retry write the Trade; the others find it written
    # (and name it, or, arriving after, are plain duplicates).
    trade = Trade.objects.get()
    assert set(answers) <= {str(trade.pk), None} and str(trade.pk) in answers
    assert len(Engine.started) == 1
