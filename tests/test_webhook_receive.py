"""
The TradingView receiver on the example host, end to end: every outcome is an
HTTP status and code TradingView will not retry (4xx/2xx), and one
WebhookEvent row; accepted alerts become host Orders.
"""

import json
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models import signals
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from model_bakery import baker

from django_torgovo_subscriptions.api.custom_bot import WebhookReceiveView
from django_torgovo_subscriptions.exceptions import AlertRateLimited
from django_torgovo_subscriptions.models import CustomBotWebhook, WebhookEvent
from django_torgovo_subscriptions.services.custom_bot import event_runner, issuing
from example_project import settings as example
from tests.factories import make_plan, make_subscription
from tests.webhook_support import RECEIVE, alert_body, issue, post_alert, unreachable_redis
from trading.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def webhook_settings(**overrides):
    return override_settings(TORGOVO_SUBSCRIPTIONS={**example.TORGOVO_SUBSCRIPTIONS, **overrides})


def only_event():
    assert WebhookEvent.objects.count() == 1, list(WebhookEvent.objects.values("outcome", "code"))
    return WebhookEvent.objects.get()


def assert_refused(response, status, code, webhook=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail"} and body["code"] == code
    event = only_event()
    assert (event.outcome, event.code, event.status_code) == ("rejected", code, status)
    assert event.webhook == webhook
    assert event.error == body["detail"]
    assert event.dedupe_key is None and event.order_id == ""
    assert not Order.objects.exists()
    return event


# --- the whole way --------------------------------------------------------------


def test_generate_then_paste_the_json_then_an_order_in_the_hosts_table(
    api, user, pair_config, subscription, anon
):
    response = api.post(
        "/api/custom-bot/webhook/generate/", {"pair_config": pair_config.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    issued = response.json()
    assert list(issued)[-2:] == ["webhook_url", "tradingview_json"]
    secret = issued["tradingview_json"]["secret"]
    assert issued["tradingview_json"] == {
        "action": "{{strategy.order.action}}",
        "ticker": "{{ticker}}",
        "price": "{{close}}",
        "quantity": "{{strategy.order.contracts}}",
        "secret": secret,
    }
    assert issued["webhook_url"] == f"http://testserver/api/custom-bot/webhook/receive/{secret}/"
    assert len(secret) >= 43

    # TradingView replaces the placeholders and posts the message to the URL.
    message = json.dumps(issued["tradingview_json"])
    for placeholder, value in (
        ("{{strategy.order.action}}", "sell"),
        ("{{ticker}}", "BTCUSDT"),
        ("{{close}}", "64250.50"),
        ("{{strategy.order.contracts}}", "0.015"),
    ):
        message = message.replace(placeholder, value)
    path = issued["webhook_url"].removeprefix("http://127.0.0.1:8000")
    response = anon.post(path, data=message, content_type="application/json")

    assert response.status_code == 200, response.content
    order = Order.objects.get()
    assert response.json() == {
        "status": "executed",
        "event_id": WebhookEvent.objects.get().pk,
        "order_id": str(order.pk),
        "code": None,
        "detail": "The alert was executed.",
    }
    assert (order.user, order.pair_config, order.symbol) == (user, pair_config, "BTCUSDT")
    assert (order.side, order.status, order.source) == ("SELL", "FILLED", "WEBHOOK")
    assert (order.quantity, order.price) == (Decimal("0.015"), Decimal("64250.50"))
    event = only_event()
    assert (event.outcome, event.code, event.status_code, event.order_id) == (
        "executed",
        "",
        200,
        str(order.pk),
    )
    assert event.signal["side"] == "sell" and event.signal["quantity"] == "0.015"
    assert event.signal["client_order_id"].startswith("tv-")
    assert event.execution["status"] == "executed" and event.execution["external_id"].startswith(
        "demo-"
    )
    assert event.duration_ms is not None and event.processed_at is not None
    assert event.source_ip == "127.0.0.1"
    webhook = CustomBotWebhook.objects.get()
    assert webhook.last_used_at == event.received_at


def test_a_text_plain_body_that_is_json_is_executed(client, secret):
    response = post_alert(client, secret, content_type="text/plain; charset=utf-8")
    assert response.status_code == 200 and response.json()["status"] == "executed"
    assert Order.objects.count() == 1


def test_numbers_as_json_numbers_and_any_accept_header(client, secret):
    body = json.dumps(
        {
            "action": "BUY",
            "ticker": "BINANCE:BTCUSDT",
            "price": 64250.5,
            "quantity": 0.1,
            "secret": secret,
        }
    )
    response = post_alert(client, secret, raw=body, HTTP_ACCEPT="text/html")
    assert response.status_code == 200, response.content
    assert Order.objects.get().quantity == Decimal("0.1")


def test_the_receiver_needs_no_token_and_no_csrf_token(secret):
    from django.test import Client

    response = post_alert(Client(enforce_csrf_checks=True), secret)
    assert response.status_code == 200


# --- every refusal ---------------------------------------------------------------


def test_wrong_secret_in_the_url(client, secret):
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    response = post_alert(client, wrong, alert_body(wrong))
    assert_refused(response, 403, "invalid_secret", webhook=None)


def test_an_absurdly_long_url_secret_is_not_even_hashed(client):
    assert_refused(post_alert(client, "x" * 500, alert_body("x")), 403, "invalid_secret")


def test_wrong_or_missing_secret_in_the_body(client, webhook, secret):
    assert_refused(post_alert(client, secret, alert_body("not-it")), 403, "invalid_secret", webhook)
    WebhookEvent.objects.all().delete()
    without = {k: v for k, v in alert_body(secret).items() if k != "secret"}
    assert_refused(post_alert(client, secret, without), 403, "invalid_secret", webhook)
    WebhookEvent.objects.all().delete()
    assert_refused(
        post_alert(client, secret, {**alert_body(secret), "secret": 12}),
        403,
        "invalid_secret",
        webhook,
    )


def test_inactive_webhook(client, webhook, secret):
    issuing.deactivate(webhook)
    assert_refused(post_alert(client, secret), 410, "webhook_inactive", webhook)


def test_lapsed_subscription(client, webhook, secret, subscription):
    subscription.end_date = timezone.now() - timedelta(minutes=1)
    subscription.save()
    assert_refused(post_alert(client, secret), 403, "subscription_expired", webhook)


def test_no_subscription_that_ever_started(client, webhook, secret, subscription):
    subscription.status, subscription.start_date, subscription.end_date = (
        "pending_payment",
        None,
        None,
    )
    subscription.save()
    assert_refused(post_alert(client, secret), 403, "subscription_required", webhook)


def hosts_other_bots(user, plan_type):
    """A host counting bots of its own: two other pairs in use."""
    return {-1, -2}


def test_pair_quota_counted_by_the_host(client, webhook, secret, subscription):
    with webhook_settings(PAIRS_IN_USE_FUNCTION="tests.test_webhook_receive.hosts_other_bots"):
        event = assert_refused(post_alert(client, secret), 403, "pair_limit_reached", webhook)
    # The plan read with the webhook: its name and limit.
    assert f"Your {subscription.plan.name} plan allows 1 trading pair and" in event.error


def test_the_host_counted_quota_is_the_live_subscriptions_plan(client, webhook, secret, user):
    # The webhook's subscription ended; the user's live one has room for the host's two
    # pairs and this one: its plan counts, not the one read with the webhook.
    webhook.subscription.status = "expired"
    webhook.subscription.end_date = timezone.now() - timedelta(days=1)
    webhook.subscription.save()
    make_subscription(user, plan=make_plan(max_trading_pairs=3, slug="roomier"))
    with webhook_settings(PAIRS_IN_USE_FUNCTION="tests.test_webhook_receive.hosts_other_bots"):
        assert post_alert(client, secret).json()["status"] == "executed"


def hosts_bots_including_this_pair(user, plan_type):
    from trading.models import PairConfig

    return set(PairConfig.objects.filter(user=user).values_list("pk", flat=True)) | {-1, -2}


def test_pair_quota_counted_by_the_host_with_this_pair_among_them(client, webhook, secret):
    with webhook_settings(
        PAIRS_IN_USE_FUNCTION="tests.test_webhook_receive.hosts_bots_including_this_pair"
    ):
        assert post_alert(client, secret).json()["status"] == "executed"


def test_pair_config_deactivated_or_turned_managed(client, webhook, secret, pair_config):
    pair_config.is_active = False
    pair_config.save()
    assert_refused(post_alert(client, secret), 403, "pair_config_unavailable", webhook)
    WebhookEvent.objects.all().delete()
    pair_config.is_active, pair_config.is_managed = True, True
    pair_config.save()
    assert_refused(post_alert(client, secret), 403, "pair_config_unavailable", webhook)


def test_rate_limit_per_webhook(client, webhook, secret):
    with webhook_settings(WEBHOOK_RATE_LIMIT_PER_WEBHOOK="2/m"):
        for price in ("1", "2"):
            assert post_alert(client, secret, alert_body(secret, price=price)).status_code == 200
        response = post_alert(client, secret, alert_body(secret, price="3"))
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    event = WebhookEvent.objects.get(outcome="rejected")
    assert (event.code, event.status_code, event.webhook) == ("rate_limited", 429, webhook)
    assert Order.objects.count() == 2


def test_only_a_rate_limited_refusal_says_when_to_retry(client, webhook, secret):
    response = post_alert(client, secret, alert_body(secret, quantity="-1"))
    assert response.status_code == 400 and "Retry-After" not in response
    assert AlertRateLimited().retry_after is None
    assert AlertRateLimited(retry_after=7).retry_after == 7


def test_rate_limits_fail_open_when_the_cache_is_down(client, webhook, secret, caplog, settings):
    # A real Redis client pointed at a port nothing listens on.
    settings.CACHES = {**settings.CACHES, "ratelimit": unreachable_redis()}
    response = post_alert(client, secret)
    assert response.status_code == 200 and Order.objects.count() == 1
    assert "cache is unreachable" in caplog.text


def test_disallowed_ip(client, webhook, secret):
    # The example host trusts X-Forwarded-For from its proxy on 127.0.0.1.
    response = post_alert(client, secret, HTTP_X_FORWARDED_FOR="198.51.100.1")
    event = assert_refused(response, 403, "ip_not_allowed", webhook)
    assert event.source_ip == "198.51.100.1"


def test_disallowed_ip_without_a_proxy_and_the_tradingview_addresses(client, webhook, secret):
    response = post_alert(
        client, secret, REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="52.89.214.238"
    )  # not from a trusted proxy
    assert_refused(response, 403, "ip_not_allowed", webhook)
    response = post_alert(client, secret, HTTP_X_FORWARDED_FOR="34.212.75.30")
    assert response.status_code == 200
    assert WebhookEvent.objects.get(outcome="executed").source_ip == "34.212.75.30"


@pytest.mark.parametrize(
    "raw, code",
    [
        ("buy BTCUSDT", "invalid_json"),
        ('{"action": "buy", "ticker": "BTCUSDT",', "invalid_json"),
        ("", "invalid_json"),
    ],
)
def test_malformed_body(client, webhook, secret, raw, code):
    response = post_alert(client, secret, raw=raw, content_type="text/plain")
    event = assert_refused(response, 400, code, webhook)
    assert event.body == raw


def test_unreplaced_placeholder(client, webhook, secret):
    body = alert_body(secret, quantity="{{strategy.order.contracts}}")
    response = post_alert(client, secret, body)
    assert_refused(response, 400, "unreplaced_placeholder", webhook)
    assert "{{strategy.order.contracts}}" in response.json()["detail"]


def test_unquoted_unreplaced_placeholder_in_text_plain(client, webhook, secret):
    raw = (
        '{"action": "buy", "ticker": "BTCUSDT", "price": {{close}}, "quantity": 1, '
        f'"secret": "{secret}"}}'
    )
    event = assert_refused(
        post_alert(client, secret, raw=raw, content_type="text/plain"),
        400,
        "unreplaced_placeholder",
        webhook,
    )
    assert secret not in event.body and '"secret": "[redacted]"' in event.body


@pytest.mark.parametrize("quantity", ["0", "-0.5", 0, -1])
def test_zero_or_negative_quantity(client, webhook, secret, quantity):
    assert_refused(
        post_alert(client, secret, alert_body(secret, quantity=quantity)),
        400,
        "invalid_quantity",
        webhook,
    )


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"action": "hold"}, "invalid_action"),
        ({"ticker": None}, "missing_ticker"),
        ({"price": "-1"}, "invalid_price"),
        ({"ticker": "ETHUSDT"}, "ticker_mismatch"),
    ],
)
def test_other_invalid_alerts(client, webhook, secret, overrides, code):
    assert_refused(post_alert(client, secret, alert_body(secret, **overrides)), 400, code, webhook)


def test_ticker_check_can_be_turned_off(client, secret):
    with webhook_settings(WEBHOOK_CHECK_TICKER=False):
        response = post_alert(client, secret, alert_body(secret, ticker="ETHUSDT"))
    assert response.status_code == 200


def test_too_large(client, webhook, secret):
    body = alert_body(secret, comment="x" * 20000)
    event = assert_refused(post_alert(client, secret, body), 413, "payload_too_large", webhook)
    assert event.body == ""


def test_alert_too_old_or_from_the_future(client, webhook, secret):
    old = (timezone.now() - timedelta(seconds=121)).isoformat()
    assert_refused(
        post_alert(client, secret, alert_body(secret, time=old)), 400, "alert_too_old", webhook
    )
    WebhookEvent.objects.all().delete()
    future = (timezone.now() + timedelta(minutes=5)).isoformat()
    assert_refused(
        post_alert(client, secret, alert_body(secret, time=future)), 400, "invalid_time", webhook
    )
    WebhookEvent.objects.all().delete()
    fresh = timezone.now().isoformat()
    assert post_alert(client, secret, alert_body(secret, time=fresh)).status_code == 200
    with webhook_settings(WEBHOOK_MAX_AGE_SECONDS=None):
        assert post_alert(client, secret, alert_body(secret, time=old)).status_code == 200


def test_a_get_is_refused_and_logged(client, webhook, secret):
    response = client.get(RECEIVE.format(secret))
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    event = only_event()
    assert (event.outcome, event.code, event.webhook) == ("rejected", "method_not_allowed", webhook)


@pytest.mark.parametrize("method", ["options", "put", "delete"])
def test_other_methods_are_refused_and_logged_without_the_secret(
    client, webhook, secret, method, caplog
):
    with caplog.at_level(logging.DEBUG):
        response = getattr(client, method)(RECEIVE.format(secret))
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "POST"
    event = only_event()
    assert (event.outcome, event.code, event.webhook) == ("rejected", "method_not_allowed", webhook)
    assert secret not in caplog.text


def test_the_order_of_checks(client, webhook, secret, subscription):
    """Each failure reports the earliest failing check."""
    subscription.end_date = timezone.now() - timedelta(minutes=1)
    subscription.save()
    bad = alert_body(secret, quantity="-1")
    # body secret before everything after it
    assert post_alert(client, secret, {**bad, "secret": "x"}).json()["code"] == "invalid_secret"
    # The per-webhook limit counts every request to the URL, that one included.
    with webhook_settings(WEBHOOK_RATE_LIMIT_PER_WEBHOOK="2/m"):
        # rate limit before the allowlist, the body and the subscription
        assert (
            post_alert(client, secret, bad, HTTP_X_FORWARDED_FOR="198.51.100.1").json()["code"]
            == "ip_not_allowed"
        )
        assert (
            post_alert(client, secret, bad, HTTP_X_FORWARDED_FOR="198.51.100.1").json()["code"]
            == "rate_limited"
        )
    # the body before the subscription
    assert post_alert(client, secret, bad).json()["code"] == "invalid_quantity"
    assert post_alert(client, secret).json()["code"] == "subscription_expired"
    issuing.deactivate(webhook)
    assert post_alert(client, secret, bad).json()["code"] == "webhook_inactive"


# --- duplicates -------------------------------------------------------------------


def test_a_repeated_alert_is_executed_once(client, webhook, secret):
    first = post_alert(client, secret)
    second = post_alert(client, secret)
    assert first.status_code == second.status_code == 200
    body = second.json()
    assert (body["status"], body["code"], body["order_id"]) == (
        "duplicate",
        "duplicate_alert",
        None,
    )
    assert Order.objects.count() == 1
    original = WebhookEvent.objects.get(outcome="executed")
    duplicate = WebhookEvent.objects.get(outcome="duplicate")
    assert (duplicate.code, duplicate.status_code, duplicate.duplicate_of) == (
        "duplicate_alert",
        200,
        original,
    )
    assert duplicate.dedupe_key is None and original.dedupe_key


def test_the_same_order_id_is_a_duplicate_within_the_window_only(client, webhook, secret):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert (
            post_alert(client, secret, alert_body(secret, order_id="Long", price="1")).json()[
                "status"
            ]
            == "executed"
        )
        assert (
            post_alert(client, secret, alert_body(secret, order_id="Long", price="2")).json()[
                "status"
            ]
            == "duplicate"
        )
        # The same id with the other action is another order.
        assert (
            post_alert(client, secret, alert_body(secret, order_id="Long", action="sell")).json()[
                "status"
            ]
            == "executed"
        )
        clock.shift(61)
        assert (
            post_alert(client, secret, alert_body(secret, order_id="Long", price="3")).json()[
                "status"
            ]
            == "executed"
        )
    assert Order.objects.count() == 3
    # The expired holder gave its key to the new alert.
    assert WebhookEvent.objects.exclude(dedupe_key=None).count() == 2


def test_duplicates_are_per_webhook(client, user, subscription):
    subscription.plan.max_trading_pairs = 2
    subscription.plan.save()
    hooks = [
        issue(user, baker.make("trading.PairConfig", user=user, symbol="BTC/USDT"))
        for _ in range(2)
    ]
    for _, secret in hooks:
        body = alert_body(secret, order_id="Long")
        assert post_alert(client, secret, body).json()["status"] == "executed"
    assert Order.objects.count() == 2


# --- execution failures --------------------------------------------------------------


def test_an_exchange_error_is_a_failed_order_and_event_not_a_500(client, user, webhook, secret):
    user.Demo = False  # the example host's manager refuses live trading
    user.save()
    response = post_alert(client, secret)
    assert response.status_code == 200
    body = response.json()
    order = Order.objects.get()
    assert (body["status"], body["code"], body["order_id"]) == (
        "failed",
        "execution_error",
        str(order.pk),
    )
    assert "Live trading is not configured" in body["detail"]
    assert order.status == "FAILED" and "Live trading is not configured" in order.error_message
    event = only_event()
    assert (event.outcome, event.code, event.order_id, event.status_code) == (
        "failed",
        "execution_error",
        str(order.pk),
        200,
    )


class FillWithoutQuantity:
    """A host manager reporting a fill the host's Order table refuses (quantity NULL)."""

    def create_bot(self, user, pair_config):
        return None

    def start_bot(self, user, pair_config, **kwargs):
        from django_torgovo_subscriptions.trading import TradeResult

        return TradeResult(status="executed", quantity=None, price=Decimal("1"), external_id="x-1")


def test_an_order_that_cannot_be_saved_leaves_a_failed_event(client, webhook, secret):
    with webhook_settings(TRADING_MANAGER_CLASS="tests.test_webhook_receive.FillWithoutQuantity"):
        response = post_alert(client, secret)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["code"], body["order_id"]) == ("failed", "order_not_saved", None)
    event = only_event()
    assert event.outcome == "failed" and "could not be saved: IntegrityError" in event.error
    assert event.signal["quantity"] == "0.01" and event.signal["client_order_id"]
    # The fill the manager reported is kept, to reconcile with the exchange.
    assert event.execution["external_id"] == "x-1" and event.execution["status"] == "executed"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_refused_order_still_leaves_a_failed_event(client, webhook, secret):
    """The receiver runs in autocommit: the Order insert has no transaction of its
    own there, and its refusal must not stop the event from being written."""
    autocommit_at_save = []

    def record(sender, **kwargs):
        autocommit_at_save.append(transaction.get_autocommit())

    signals.pre_save.connect(record, sender=Order, weak=False)
    try:
        with webhook_settings(
            TRADING_MANAGER_CLASS="tests.test_webhook_receive.FillWithoutQuantity"
        ):
            refused = post_alert(client, secret, alert_body(secret, price="1")).json()
        executed = post_alert(client, secret, alert_body(secret, price="2")).json()
    finally:
        signals.pre_save.disconnect(record, sender=Order)
    assert autocommit_at_save == [True, True]
    assert (refused["status"], refused["code"]) == ("failed", "order_not_saved")
    assert executed["status"] == "executed"
    failed = WebhookEvent.objects.get(pk=refused["event_id"])
    assert failed.outcome == "failed" and failed.execution["external_id"] == "x-1"
    assert Order.objects.get().pk == int(executed["order_id"])


def test_recording_an_alerts_result_writes_no_indexed_column():
    """Every accepted alert's event is updated once with its result; with no index
    on those columns PostgreSQL updates the row in place (HOT)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, WebhookEvent._meta.db_table)
    indexed = {
        column for c in constraints.values() if c["index"] or c["unique"] for column in c["columns"]
    }
    written = {
        WebhookEvent._meta.get_field(name).column for name in event_runner.EVENT_RESULT_FIELDS
    }
    assert "dedupe_key" in indexed and "received_at" in indexed  # the introspection works
    assert not written & indexed


# --- cost and safety ------------------------------------------------------------------


def test_the_receiver_is_outside_atomic_requests():
    view = WebhookReceiveView.as_view()
    assert getattr(view, "_non_atomic_requests", None) and getattr(view, "csrf_exempt", False)


PAPER = "django_torgovo_subscriptions.trading.paper.PaperTradingManager"


def alert_statements(client, secret):
    post_alert(client, secret, alert_body(secret, price="1"))  # warm caches
    with CaptureQueriesContext(connection) as queries:
        assert post_alert(client, secret, alert_body(secret, price="2")).status_code == 200
    # Savepoints belong to the test's transaction.
    statements = [q["sql"].lstrip("(").split()[0] for q in queries.captured_queries]
    return [s for s in statements if s not in ("SAVEPOINT", "RELEASE")]


def db_timeouts():
    """On PostgreSQL the receiver's lock and statement timeouts come first (set LOCAL
    in the test's transaction; in autocommit one statement more puts them back after)."""
    return ["WITH"] if connection.vendor == "postgresql" else []


@webhook_settings(
    TRADING_MANAGER_CLASS=PAPER,
    PAIRS_IN_USE_FUNCTION="django_torgovo_subscriptions.services.quota.default_pairs_in_use",
)
def test_an_executed_alert_costs_a_fixed_number_of_queries(client, secret):
    # The webhook with its user, PairConfig and subscription; the event; the order;
    # the event's outcome (last_used_at was written by the first alert, less than
    # a minute ago). With the package's own pair count the quota costs nothing.
    assert alert_statements(client, secret) == [
        *db_timeouts(),
        "SELECT",
        "INSERT",
        "INSERT",
        "UPDATE",
    ]


@webhook_settings(TRADING_MANAGER_CLASS=PAPER)
def test_a_host_that_counts_its_own_pairs_pays_for_the_count_per_alert(client, secret):
    # The plan comes with the webhook; before the INSERTs, the example host's count
    # (trading.quota.pairs_in_use): the active webhooks' pairs and the bots' pairs
    # in one UNION.
    assert alert_statements(client, secret) == [
        *db_timeouts(),
        "SELECT",
        "SELECT",
        "INSERT",
        "INSERT",
        "UPDATE",
    ]


def test_last_used_at_is_kept_to_the_minute(client, webhook, secret):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        post_alert(client, secret, alert_body(secret, price="1"))
        first = CustomBotWebhook.objects.get().last_used_at
        clock.shift(30)
        post_alert(client, secret, alert_body(secret, price="2"))
        assert CustomBotWebhook.objects.get().last_used_at == first
        clock.shift(31)
        post_alert(client, secret, alert_body(secret, price="3"))
        assert CustomBotWebhook.objects.get().last_used_at == first + timedelta(seconds=61)


def test_a_webhook_outlives_its_subscription_row_when_the_user_subscribes_again(
    client, user, webhook, secret, subscription
):
    subscription.status, subscription.end_date = "expired", timezone.now() - timedelta(days=1)
    subscription.save()
    assert post_alert(client, secret).json()["code"] == "subscription_expired"
    make_subscription(user, plan=subscription.plan)  # a new row; the webhook points at the old one
    assert post_alert(client, secret, alert_body(secret, price="2")).json()["status"] == "executed"


def test_a_refusal_is_logged_without_the_url(client, secret, caplog):
    caplog.set_level(logging.DEBUG)
    post_alert(client, secret, alert_body("wrong"))
    assert "invalid_secret" in caplog.text
    assert secret not in caplog.text
    assert "custom-bot/webhook/receive" not in caplog.text
