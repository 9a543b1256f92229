"""Operating the webhooks: admin, prune_webhook_events, system checks, no secret in clear."""

import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone
from model_bakery import baker

from django_torgovo_subscriptions.checks.custom_bot import check_webhook_settings
from django_torgovo_subscriptions.models import CustomBotWebhook, WebhookEvent
from django_torgovo_subscriptions.services.custom_bot import issuing
from example_project import settings as example
from tests.webhook_support import RECEIVE, alert_body, issue, post_alert, subscribe

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")

# The example host as deployed: its PUBLIC_BASE_URL environment variable set
# (unset, a server without DEBUG warns W040).
BASE = {**example.TORGOVO_SUBSCRIPTIONS, "PUBLIC_BASE_URL": "https://torgovo.example"}


# --- nothing shows a secret in clear -------------------------------------------------


@pytest.mark.django_db
def test_no_secret_in_the_database_the_logs_or_the_admin(
    api, client, admin_client, user, pair_config, caplog
):
    caplog.set_level(logging.DEBUG)
    subscribe(user, max_pairs=2)
    first = api.post(
        "/api/custom-bot/webhook/generate/", {"pair_config": pair_config.pk}, format="json"
    ).json()["tradingview_json"]["secret"]
    webhook = CustomBotWebhook.objects.get()
    near_miss = first[:-2] + "xx"
    requests = [
        lambda: post_alert(client, first),
        lambda: post_alert(client, first),  # duplicate
        lambda: post_alert(client, first, alert_body(first, quantity="-1", note=f"key {first}")),
        lambda: post_alert(
            client,
            first,
            raw=f"buy now secret={first} {{{{close}}}}",
            content_type="text/plain",
            HTTP_REFERER=f"https://x{RECEIVE.format(first)}",
            HTTP_AUTHORIZATION=f"Bearer {first}",
            HTTP_X_WEBHOOK_SECRET=first,
        ),
        lambda: post_alert(
            client, first, {"secret": first, "action": "buy", "ticker": "{{ticker}}"}
        ),
        lambda: post_alert(client, near_miss, alert_body(first)),
        lambda: post_alert(client, first, alert_body(near_miss)),
        lambda: client.get(RECEIVE.format(first)),
        lambda: post_alert(client, first, alert_body(first, comment="x" * 20000)),
    ]
    for send in requests:
        assert send().status_code < 500
    second = api.post(f"/api/custom-bot/webhooks/{webhook.pk}/rotate/").json()["tradingview_json"][
        "secret"
    ]
    post_alert(client, second, alert_body(second, price="7"))
    post_alert(client, first)  # the old secret, after rotation
    admin_client.post(
        "/admin/subscriptions/custombotwebhook/",
        {"action": "rotate_secrets", "_selected_action": [webhook.pk]},
    )

    pages = "".join(
        admin_client.get(path).content.decode()
        for path in [
            "/admin/subscriptions/webhookevent/",
            "/admin/subscriptions/custombotwebhook/",
            f"/admin/subscriptions/custombotwebhook/{webhook.pk}/change/",
            *[
                f"/admin/subscriptions/webhookevent/{pk}/change/"
                for pk in WebhookEvent.objects.values_list("pk", flat=True)
            ],
        ]
    )
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert WebhookEvent.objects.count() == len(requests) + 2
    for secret in (first, second, near_miss):
        assert secret not in dump.getvalue()
        assert secret not in caplog.text
        assert secret not in pages
    assert "[redacted]" in dump.getvalue()


# --- admin --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_event_admin_is_a_read_only_log_with_filters(admin_client, client, user, pair_config):
    subscribe(user)
    _, secret = issue(user, pair_config)
    post_alert(client, secret)
    post_alert(client, secret, alert_body(secret, quantity="0"))
    event = WebhookEvent.objects.get(outcome="rejected")
    assert admin_client.get("/admin/subscriptions/webhookevent/").status_code == 200
    for query in (
        "outcome__exact=rejected",
        "code=invalid_quantity",
        "status_code__exact=400",
        f"q={event.source_ip}",
        "q=alice",
    ):
        page = admin_client.get(f"/admin/subscriptions/webhookevent/?{query}")
        assert page.status_code == 200 and "invalid_quantity" in page.content.decode(), query
    assert (
        admin_client.get(f"/admin/subscriptions/webhookevent/{event.pk}/change/").status_code == 200
    )
    assert admin_client.get("/admin/subscriptions/webhookevent/add/").status_code == 403
    response = admin_client.post(
        f"/admin/subscriptions/webhookevent/{event.pk}/change/", {"code": "x"}
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_rotate_action_invalidates_urls_and_skips_inactive_webhooks(
    admin_client, client, user, pair_config
):
    subscribe(user, max_pairs=2)
    (active, secret), (inactive, _) = issue(user, pair_config), issue(user, pair_config)
    issuing.deactivate(inactive)
    hashes = dict(CustomBotWebhook.objects.values_list("pk", "secret_hash"))
    response = admin_client.post(
        "/admin/subscriptions/custombotwebhook/",
        {"action": "rotate_secrets", "_selected_action": [active.pk, inactive.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert "Rotated 1 webhook secret" in text and "Skipped 1 inactive webhook" in text
    active.refresh_from_db()
    inactive.refresh_from_db()
    assert active.secret_hash != hashes[active.pk] and active.rotated_at
    assert inactive.secret_hash == hashes[inactive.pk]
    assert post_alert(client, secret).json()["code"] == "invalid_secret"


# --- prune_webhook_events --------------------------------------------------------------


@pytest.mark.django_db
def test_prune_deletes_only_older_events_in_batches(user, pair_config):
    now = timezone.now()
    subscribe(user)
    webhook, _ = issue(user, pair_config)
    ages = [1, 29, 31, 45, 100, 200]
    events = {
        age: WebhookEvent.objects.create(
            webhook=webhook, outcome="rejected", code="x", received_at=now - timedelta(days=age)
        )
        for age in ages
    }
    WebhookEvent.objects.create(outcome="duplicate", duplicate_of=events[45])
    # An event that placed an Order is how orders/ knows the Order: it stays.
    placed = WebhookEvent.objects.create(
        webhook=webhook, outcome="executed", order_id="7", received_at=now - timedelta(days=400)
    )

    out = StringIO()
    call_command("prune_webhook_events", "--older-than", "30", "--dry-run", stdout=out)
    assert "Would delete 4 webhook events" in out.getvalue()
    assert WebhookEvent.objects.count() == 8

    call_command("prune_webhook_events", "--older-than", "30", "--batch-size", "3", stdout=out)
    assert "Deleted 4 webhook events" in out.getvalue()
    assert sorted(WebhookEvent.objects.exclude(code="").values_list("pk", flat=True)) == [
        events[1].pk,
        events[29].pk,
    ]
    assert WebhookEvent.objects.get(outcome="duplicate").duplicate_of is None
    assert WebhookEvent.objects.filter(pk=placed.pk).exists()

    call_command("prune_webhook_events", stdout=out)  # default: 90 days; nothing that old is left
    assert "Deleted 0 webhook events" in out.getvalue()
    with pytest.raises(CommandError, match="at least 1 day"):
        call_command("prune_webhook_events", "--older-than", "0")


@pytest.mark.django_db
def test_prune_default_retention_comes_from_the_setting():
    WebhookEvent.objects.create(outcome="rejected", received_at=timezone.now() - timedelta(days=8))
    with override_settings(TORGOVO_SUBSCRIPTIONS={**BASE, "WEBHOOK_EVENT_RETENTION_DAYS": 7}):
        call_command("prune_webhook_events", stdout=StringIO())
    assert not WebhookEvent.objects.exists()


# --- system checks -------------------------------------------------------------------


def webhook_ids(**overrides):
    with override_settings(TORGOVO_SUBSCRIPTIONS={**BASE, **overrides}):
        return [m.id for m in check_webhook_settings()]


def test_the_webhook_settings_of_the_example_host_are_clean(settings):
    settings.DEBUG = example.DEBUG  # as the demo runs; without DEBUG, W040 (below)
    assert webhook_ids() == []


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"PUBLIC_BASE_URL": "torgovo.example"}, ["subscriptions.E040"]),
        ({"PUBLIC_BASE_URL": "ftp://torgovo.example"}, ["subscriptions.E040"]),
        ({"PUBLIC_BASE_URL": 5}, ["subscriptions.E040"]),
        ({"PUBLIC_BASE_URL": "https://torgovo.example/trading"}, []),
        ({"WEBHOOK_EXECUTION": "thread"}, ["subscriptions.E041"]),
        ({"WEBHOOK_EXECUTION": "celery"}, []),
        ({"WEBHOOK_CELERY_QUEUE": ""}, ["subscriptions.E047"]),
        ({"WEBHOOK_CELERY_QUEUE": "alerts"}, []),
        ({"WEBHOOK_RATE_LIMIT_PER_WEBHOOK": "60 per minute"}, ["subscriptions.E043"]),
        ({"WEBHOOK_RATE_LIMIT_PER_IP": 600}, ["subscriptions.E043"]),
        ({"WEBHOOK_RATE_LIMIT_PER_IP": "10/0"}, ["subscriptions.E043"]),
        ({"WEBHOOK_RATE_LIMIT_PER_IP": "500/h", "WEBHOOK_RATE_LIMIT_PER_WEBHOOK": "10/5s"}, []),
        ({"WEBHOOK_IP_ALLOWLIST": "tradingview"}, ["subscriptions.E045"]),
        ({"WEBHOOK_IP_ALLOWLIST": ["tradingview", "1.2.3.400"]}, ["subscriptions.E045"]),
        ({"WEBHOOK_TRUSTED_PROXIES": None}, ["subscriptions.E045"]),
        ({"WEBHOOK_TRUSTED_PROXIES": ["10.0.0.0/8", "::1"], "WEBHOOK_IP_ALLOWLIST": None}, []),
        ({"WEBHOOK_DEDUPE_SECONDS": 0}, ["subscriptions.E046"]),
        ({"WEBHOOK_MAX_AGE_SECONDS": "120"}, ["subscriptions.E046"]),
        ({"WEBHOOK_MAX_AGE_SECONDS": None}, []),
        ({"WEBHOOK_MAX_BODY_BYTES": True}, ["subscriptions.E046"]),
        ({"WEBHOOK_EVENT_RETENTION_DAYS": -1}, ["subscriptions.E046"]),
        ({"WEBHOOK_CHECK_TICKER": "yes"}, ["subscriptions.E047"]),
    ],
)
def test_each_webhook_check(overrides, expected):
    assert webhook_ids(**overrides) == expected


def test_e042_celery_mode_without_celery(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "celery", None)  # what a missing package looks like
    assert webhook_ids(WEBHOOK_EXECUTION="celery") == ["subscriptions.E042"]


def test_w040_public_base_url_missing_in_production(settings):
    settings.DEBUG = False
    assert webhook_ids(PUBLIC_BASE_URL=None) == ["subscriptions.W040"]
    settings.DEBUG = True
    assert webhook_ids(PUBLIC_BASE_URL=None) == []


def test_e044_and_w041_the_rate_limit_cache(settings):
    settings.DEBUG = False
    settings.RATELIMIT_USE_CACHE = "nope"
    assert webhook_ids() == ["subscriptions.E044"]
    settings.RATELIMIT_USE_CACHE = "default"  # LocMem in the test settings
    message = {m.id: m for m in check_webhook_settings()}["subscriptions.W041"]
    assert "keeps counts per process" in message.msg
    # Without rate limits there is nothing to count.
    assert webhook_ids(WEBHOOK_RATE_LIMIT_PER_WEBHOOK=None, WEBHOOK_RATE_LIMIT_PER_IP=None) == []
    settings.DEBUG = True
    assert webhook_ids() == []


REDIS = "django.core.cache.backends.redis.RedisCache"


@pytest.mark.parametrize(
    ("cache", "warned"),
    [
        ({"BACKEND": REDIS, "LOCATION": "redis://r:6379/0"}, True),
        ({"BACKEND": REDIS, "LOCATION": "redis://r/0", "OPTIONS": {"socket_timeout": 0.25}}, False),
        ({"BACKEND": REDIS, "LOCATION": "redis://r/0?socket_timeout=0.25"}, False),
        ({"BACKEND": REDIS, "LOCATION": ["redis://a/0?socket_timeout=1", "redis://b/0"]}, True),
        ({"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://r/0"}, True),
        (
            {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": "redis://r/0",
                "OPTIONS": {"SOCKET_TIMEOUT": 0.25},
            },
            False,
        ),
        ({"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"}, True),
    ],
)
def test_w070_a_rate_limit_cache_without_a_socket_timeout(settings, cache, warned):
    settings.DEBUG = False
    settings.CACHES = {**settings.CACHES, "limits": cache}
    settings.RATELIMIT_USE_CACHE = "limits"
    assert webhook_ids() == (["subscriptions.W070"] if warned else [])
    assert webhook_ids(WEBHOOK_RATE_LIMIT_PER_WEBHOOK=None, WEBHOOK_RATE_LIMIT_PER_IP=None) == []


def test_e046_database_timeouts_are_milliseconds_or_none():
    assert webhook_ids(WEBHOOK_DB_LOCK_TIMEOUT_MS=None, WEBHOOK_DB_STATEMENT_TIMEOUT_MS=None) == []
    assert webhook_ids(WEBHOOK_DB_LOCK_TIMEOUT_MS="1s") == ["subscriptions.E046"]
    assert webhook_ids(WEBHOOK_DB_STATEMENT_TIMEOUT_MS=0) == ["subscriptions.E046"]


@pytest.mark.django_db
def test_admin_cannot_add_webhooks_or_move_them_to_another_owner(admin_client, user):
    from tests.factories import make_subscription

    pair = baker.make("trading.PairConfig", user=user)
    webhook = baker.make(
        "subscriptions.CustomBotWebhook",
        user=user,
        pair_config=pair,
        subscription=make_subscription(user),
        secret_hash="a" * 64,
    )
    assert admin_client.get("/admin/subscriptions/custombotwebhook/add/").status_code == 403
    page = admin_client.get(f"/admin/subscriptions/custombotwebhook/{webhook.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="is_active"' in html
    assert 'name="user"' not in html and 'name="pair_config"' not in html
