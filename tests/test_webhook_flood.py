"""
The receiver's per-address limit, through HTTP: it counts only refused
requests, runs before the webhook lookup and before anything is written, and
counts an address's requests above it in one WebhookRefusalCount row per
minute instead of one WebhookEvent each. Valid alerts are limited per webhook
only; TradingView's and allowlisted addresses are never limited per address.
"""

import secrets
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_torgovo_subscriptions.models import (
    CustomBotWebhook,
    WebhookEvent,
    WebhookRefusalCount,
)
from example_project import settings as example
from tests.webhook_support import (
    RECEIVE,
    alert_body,
    btc_pair_config,
    issue,
    post_alert,
    unreachable_redis,
)
from trading.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

FLOODER = "198.51.100.9"  # neither TradingView's nor in the example host's allowlist


def webhook_settings(**overrides):
    return override_settings(TORGOVO_SUBSCRIPTIONS={**example.TORGOVO_SUBSCRIPTIONS, **overrides})


def guess(client, address=FLOODER):
    """A request with a random secret from ``address`` (through the example's proxy)."""
    guessed = secrets.token_urlsafe(32)
    return post_alert(client, guessed, HTTP_X_FORWARDED_FOR=address)


def codes(responses):
    return [(r.status_code, r.json()["code"]) for r in responses]


@pytest.fixture
def start():
    """Early in the next minute, so that a test's requests stay inside one window."""
    return timezone.now().replace(second=5, microsecond=0) + timedelta(minutes=1)


@pytest.fixture
def clock(start):
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "flood"}


@pytest.mark.parametrize("cache", ["redis", "locmem"])
def test_a_flood_of_guessed_secrets_is_cut_off_before_any_lookup(
    client, clock, start, settings, cache
):
    if cache == "locmem":  # the fallback for caches that are not Redis
        settings.CACHES = {**settings.CACHES, "ratelimit": LOCMEM}
    with webhook_settings(WEBHOOK_RATE_LIMIT_PER_IP="3/m"):
        first = [guess(client) for _ in range(3)]
        with CaptureQueriesContext(connection) as queries:
            flood = [guess(client) for _ in range(5)]
    assert codes(first) == [(403, "invalid_secret")] * 3
    assert codes(flood) == [(429, "rate_limited")] * 5
    assert "refused requests per minute from this IP address" in flood[0].json()["detail"]
    assert 1 <= int(flood[0]["Retry-After"]) <= 55
    # Below the limit each refusal has its row; above it, only the minute's count.
    assert WebhookEvent.objects.filter(source_ip=FLOODER, code="invalid_secret").count() == 3
    assert WebhookEvent.objects.count() == 3
    row = WebhookRefusalCount.objects.get()
    assert (row.source_ip, row.minute, row.count) == (FLOODER, start.replace(second=0), 5)
    # No webhook lookup, no event: one UPDATE of the minute's row per request
    # (the first one of the minute inserts it, in a savepoint inside a test), under
    # the receiver's database timeouts on PostgreSQL (set LOCAL in the test's
    # transaction: one statement per request).
    statements = [q["sql"] for q in queries.captured_queries]
    updates = [s for s in statements if s.startswith("UPDATE")]
    assert len(updates) == 5
    timeouts = [s for s in statements if "set_config('lock_timeout'" in s]
    assert len(timeouts) == (5 if connection.vendor == "postgresql" else 0)
    for sql in set(statements) - set(timeouts):
        assert WebhookRefusalCount._meta.db_table in sql or sql.split()[0] in (
            "SAVEPOINT",
            "RELEASE",
        ), sql
    assert not any(CustomBotWebhook._meta.db_table in sql for sql in statements)


def test_valid_alerts_are_not_counted_per_address(client, webhook, secret, clock):
    with webhook_settings(WEBHOOK_RATE_LIMIT_PER_IP="2/m", WEBHOOK_IP_ALLOWLIST=None):
        accepted = [
            post_alert(client, secret, alert_body(secret, price=str(p))) for p in range(1, 6)
        ]
        refused = [guess(client, "127.0.0.1") for _ in range(2)]
        # Once the address is over its refusals, even a valid alert from it waits.
        cut_off = post_alert(client, secret, alert_body(secret, price="9"))
    assert [r.status_code for r in accepted] == [200] * 5
    assert codes(refused) == [(403, "invalid_secret")] * 2
    assert codes([cut_off]) == [(429, "rate_limited")]
    assert Order.objects.count() == 5
    assert WebhookRefusalCount.objects.get().count == 1


@pytest.mark.parametrize(
    ("address", "allowlist"),
    [
        ("52.89.214.238", None),  # TradingView's, with no allowlist at all
        ("34.212.75.30", ["tradingview"]),
        ("203.0.113.40", ["tradingview", "203.0.113.0/24"]),  # the operator's own network
    ],
)
def test_tradingview_and_allowlisted_addresses_are_never_limited_per_address(
    client, webhook, secret, clock, address, allowlist
):
    with webhook_settings(WEBHOOK_RATE_LIMIT_PER_IP="2/m", WEBHOOK_IP_ALLOWLIST=allowlist):
        refused = [guess(client, address) for _ in range(6)]
        valid = post_alert(client, secret, HTTP_X_FORWARDED_FOR=address)
    assert codes(refused) == [(403, "invalid_secret")] * 6
    assert valid.status_code == 200
    assert WebhookEvent.objects.filter(code="invalid_secret").count() == 6
    assert not WebhookRefusalCount.objects.exists()


def test_requests_from_a_disallowed_address_are_refusals_that_count(client, webhook, secret, clock):
    with webhook_settings(WEBHOOK_RATE_LIMIT_PER_IP="2/m"):
        responses = [post_alert(client, secret, HTTP_X_FORWARDED_FOR=FLOODER) for _ in range(4)]
    assert codes(responses) == [(403, "ip_not_allowed")] * 2 + [(429, "rate_limited")] * 2
    # The refusals below the limit are on the webhook's own log.
    assert WebhookEvent.objects.filter(webhook=webhook, code="ip_not_allowed").count() == 2
    assert WebhookRefusalCount.objects.get().count == 2


def test_one_row_per_address_and_minute_and_a_new_window_starts_afresh(client, clock, start):
    with webhook_settings(WEBHOOK_RATE_LIMIT_PER_IP="2/m"):
        first_minute = [guess(client) for _ in range(5)] + [guess(client, "198.51.100.10")]
        clock.shift(timedelta(seconds=60))
        second_minute = [guess(client) for _ in range(4)]
    assert codes(first_minute) == (
        [(403, "invalid_secret")] * 2 + [(429, "rate_limited")] * 3 + [(403, "invalid_secret")]
    )
    assert codes(second_minute) == [(403, "invalid_secret")] * 2 + [(429, "rate_limited")] * 2
    rows = list(WebhookRefusalCount.objects.order_by("minute").values_list("minute", "count"))
    minute = start.replace(second=0)
    assert rows == [(minute, 3), (minute + timedelta(minutes=1), 2)]
    assert WebhookEvent.objects.count() == 2 + 1 + 2


def test_other_methods_are_cut_off_too(client, clock):
    with webhook_settings(WEBHOOK_RATE_LIMIT_PER_IP="1/m"):
        responses = [
            client.get(RECEIVE.format(secrets.token_urlsafe(32)), HTTP_X_FORWARDED_FOR=FLOODER)
            for _ in range(3)
        ]
    assert [r.status_code for r in responses] == [405, 429, 429]
    assert WebhookEvent.objects.count() == 1
    assert WebhookRefusalCount.objects.get().count == 2


def test_the_webhook_limit_is_per_webhook_not_per_address(client, user, subscription, clock):
    subscription.plan.max_trading_pairs = 2
    subscription.plan.save()
    hooks = [issue(user, btc_pair_config(user))[1] for _ in range(2)]
    with webhook_settings(WEBHOOK_RATE_LIMIT_PER_WEBHOOK="1/m"):
        answers = [
            post_alert(client, s, alert_body(s, price=str(i + 1)), HTTP_X_FORWARDED_FOR=address)
            for i, (s, address) in enumerate(
                [(hooks[0], "52.89.214.238"), (hooks[1], "52.89.214.238"), (hooks[0], "127.0.0.1")]
            )
        ]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert answers[2].json()["detail"].startswith("More than 1 alerts per minute from this webhook")
    assert Order.objects.count() == 2


def test_with_the_cache_down_refusals_are_each_recorded(client, settings, caplog):
    settings.CACHES = {**settings.CACHES, "ratelimit": unreachable_redis()}
    with webhook_settings(WEBHOOK_RATE_LIMIT_PER_IP="1/m"):
        responses = [guess(client) for _ in range(3)]
    assert codes(responses) == [(403, "invalid_secret")] * 3
    assert WebhookEvent.objects.count() == 3 and not WebhookRefusalCount.objects.exists()
    # One attempt in all: the first request's refusal is not counted on the cache that
    # just failed it, and the process skips that cache for the next requests.
    failures = [r for r in caplog.records if "the cache is unreachable" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None


def test_the_counts_are_in_the_admin_read_only_and_pruned_with_the_events(
    client, admin_client, clock
):
    with webhook_settings(WEBHOOK_RATE_LIMIT_PER_IP="1/m"):
        for _ in range(3):
            guess(client)
    row = WebhookRefusalCount.objects.get()
    listing = admin_client.get("/admin/subscriptions/webhookrefusalcount/")
    assert listing.status_code == 200 and FLOODER in listing.content.decode()
    page = admin_client.get(f"/admin/subscriptions/webhookrefusalcount/{row.pk}/change/")
    assert page.status_code == 200 and b'name="count"' not in page.content  # read-only
    assert admin_client.get("/admin/subscriptions/webhookrefusalcount/add/").status_code == 403

    clock.shift(timedelta(days=31))
    out = StringIO()
    call_command("prune_webhook_events", "--older-than", "30", stdout=out)
    assert "Deleted 1 webhook event" in out.getvalue()
    assert "and 1 per-minute flood count." in out.getvalue()
    assert not WebhookRefusalCount.objects.exists()
