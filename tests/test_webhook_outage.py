"""
The receiver when the database fails under it, on a real PostgreSQL: a lookup
that cannot get its lock in time, a connection the server drops before the
alert is recorded, and one it drops in the middle of the trade; the receiver's
own lock and statement timeouts, and an Order table locked during the trade.
Nothing of the package is patched; a second connection does to Django's what an
outage would.
"""

import contextlib
import time
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from django_torgovo_subscriptions.models import UserSubscription, WebhookEvent
from django_torgovo_subscriptions.trading import TradeResult
from example_project import settings as example
from tests.celery_support import make_app
from tests.concurrency import other_connection, table_locked, table_locked_for
from tests.webhook_support import post_alert
from trading.models import Order

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_rate_limits"),
]


def server_drops_djangos_connection():
    """What a database restart or failover does to the connection Django holds."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with other_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


@contextlib.contextmanager
def lock_timeout(milliseconds):
    with connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {int(milliseconds)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


def test_a_lookup_the_database_cannot_answer_is_a_recorded_503(client, secret):
    # The webhook lookup joins the subscriptions table; the event row does not need it.
    with lock_timeout(300), table_locked(UserSubscription):
        response = post_alert(client, secret)
    assert response.status_code == 503
    assert response.json()["code"] == "temporarily_unavailable"
    event = WebhookEvent.objects.get()
    assert (event.code, event.status_code, event.webhook_id) == (
        "temporarily_unavailable",
        503,
        None,
    )
    assert "lock timeout" in event.error and secret not in event.error
    # TradingView sends it again, and this time it goes through.
    assert post_alert(client, secret).json()["status"] == "executed"


def test_with_the_database_gone_the_answer_is_503_and_nothing_half_written(client, secret):
    server_drops_djangos_connection()
    response = post_alert(client, secret)
    assert response.status_code == 503
    assert response.json()["code"] == "temporarily_unavailable"
    connection.close()  # as Django does with an unusable connection at the next request
    assert not WebhookEvent.objects.exists() and not Order.objects.exists()
    assert post_alert(client, secret).json()["status"] == "executed"


class EngineLosingTheDatabase:
    """A host trading engine during whose trade the database server goes away."""

    def create_bot(self, user, pair_config):
        return None

    def start_bot(self, user, pair_config, **kwargs):
        server_drops_djangos_connection()
        return TradeResult(
            status="executed", quantity=Decimal("0.01"), price=Decimal("1"), external_id="x-9"
        )


def test_losing_the_database_mid_trade_is_a_503_and_the_retry_a_duplicate(client, secret):
    engine = "tests.test_webhook_outage.EngineLosingTheDatabase"
    with override_settings(
        TORGOVO_SUBSCRIPTIONS={**example.TORGOVO_SUBSCRIPTIONS, "TRADING_MANAGER_CLASS": engine}
    ):
        response = post_alert(client, secret)
    assert response.status_code == 503
    assert response.json()["code"] == "temporarily_unavailable"
    connection.close()
    # The alert was stored before the trade: it stays "processing" (the operator's
    # cue to look its client order id up at the exchange) and holds its dedupe key.
    event = WebhookEvent.objects.get()
    assert event.outcome == "processing" and event.signal["client_order_id"]
    assert not Order.objects.exists()
    retry = post_alert(client, secret).json()
    assert retry["status"] == "duplicate" and str(event.pk) in retry["detail"]
    assert WebhookEvent.objects.count() == 2 and not Order.objects.exists()


def receiver_settings(**overrides):
    return override_settings(TORGOVO_SUBSCRIPTIONS={**settings.TORGOVO_SUBSCRIPTIONS, **overrides})


def session_setting(name):
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("lock_ms", "statement_ms", "message"),
    [(200, None, "lock timeout"), (None, 300, "statement timeout")],
)
def test_a_lock_held_elsewhere_is_a_503_within_the_receivers_timeout(
    client, secret, lock_ms, statement_ms, message
):
    # Held for 2 s: without the timeouts the alert would wait for it, then trade.
    with (
        receiver_settings(
            WEBHOOK_DB_LOCK_TIMEOUT_MS=lock_ms, WEBHOOK_DB_STATEMENT_TIMEOUT_MS=statement_ms
        ),
        table_locked_for(UserSubscription, 2),
    ):
        started = time.monotonic()
        response = post_alert(client, secret)
        elapsed = time.monotonic() - started
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert elapsed < 1.0, elapsed
    event = WebhookEvent.objects.get()
    assert event.code == "temporarily_unavailable" and message in event.error
    # The next request on this connection runs under the server's own settings again.
    assert (session_setting("lock_timeout"), session_setting("statement_timeout")) == ("0", "0")
    assert post_alert(client, secret).json()["status"] == "executed"


def test_the_receiver_puts_a_sessions_own_timeouts_back(client, secret):
    with lock_timeout(4321):
        assert post_alert(client, secret).json()["status"] == "executed"
        assert session_setting("lock_timeout") == "4321ms"


@pytest.mark.parametrize("execution", ["inline", "celery"])
def test_an_order_table_locked_during_the_trade_is_a_503_and_the_retry_trades_once(
    client, secret, execution
):
    if execution == "celery":  # with the broker down: traded inline, answered as inline
        make_app("redis://127.0.0.1:1/0", f"torgovo-test-{uuid.uuid4().hex[:12]}")
    timeouts = receiver_settings(WEBHOOK_DB_LOCK_TIMEOUT_MS=200, WEBHOOK_EXECUTION=execution)
    with timeouts, table_locked(Order):
        response = post_alert(client, secret)
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert (response.json()["status"], response.json()["code"]) == ("failed", "order_not_saved")
    failed = WebhookEvent.objects.get()
    # Nothing was filled (the example engine's paper fill is its Order row), so the
    # event gives its dedupe key up: TradingView's retry trades.
    assert (failed.status_code, failed.dedupe_key) == (503, None)
    assert "lock timeout" in failed.error and not Order.objects.exists()
    with timeouts:
        retry = post_alert(client, secret)
    assert retry.status_code == 200 and retry.json()["status"] == "executed"
    again = post_alert(client, secret).json()
    assert again["status"] == "duplicate"
    assert Order.objects.count() == 1 and str(Order.objects.get().pk) == retry.json()["order_id"]
