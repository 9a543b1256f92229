"""
The receiver when the database fails under it, on a real PostgreSQL: a lookup
that cannot get its lock in time, a connection the server drops before the
alert is recorded, and one it drops in the middle of the trade. Nothing of the
package is patched; a second connection does to Django's what an outage would.
"""

import contextlib
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from django_torgovo_subscriptions.models import UserSubscription, WebhookEvent
from django_torgovo_subscriptions.trading import TradeResult
from example_project import settings as example
from tests.webhook_support import post_alert
from trading.models import Order

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_rate_limits"),
]


@contextlib.contextmanager
def other_connection():
    """A connection to the test database of its own, outside Django's."""
    import psycopg  # installed where the tests run on PostgreSQL

    settings = connection.settings_dict
    params = {
        "dbname": settings["NAME"],
        "host": settings["HOST"],
        "port": settings["PORT"],
        "user": settings["USER"],
        "password": settings["PASSWORD"],
    }
    with psycopg.connect(autocommit=True, **{k: v for k, v in params.items() if v}) as other:
        yield other


@contextlib.contextmanager
def table_locked(model):
    with other_connection() as other, other.transaction():
        other.execute(f'LOCK TABLE "{model._meta.db_table}" IN ACCESS EXCLUSIVE MODE')
        yield


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
