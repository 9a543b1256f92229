"""
GET orders/ on the example host: the Orders custom-bot alerts and managed bots
placed for the user, read through the field map, with their source and the
webhook event that placed each; filters, pagination, and nobody else's orders.
"""

import datetime as dt
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from model_bakery import baker

from django_torgovo_subscriptions.models import UserSubscription, WebhookEvent
from django_torgovo_subscriptions.services.managed_bot.fanout import fan_out
from tests.factories import one_page
from tests.fanout_support import invest, make_offer
from tests.profit_support import make_trader
from tests.webhook_support import alert_body, post_alert, subscribed_webhook
from trading.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]
ORDERS = "/api/orders/"
OUT_OF_RANGE = "Enter a time between the years 1 and 9999."
LIVE_TRADING_UNAVAILABLE = "Live trading is not configured in the example project."


def local(moment):
    return timezone.localtime(moment).isoformat()


@pytest.fixture
def traded(user, hook, anon):
    """The user's webhook executed one alert and failed another (live trading is
    unavailable in the example host); a managed bot traded once for them."""
    webhook, secret = hook
    assert post_alert(anon, secret).status_code == 200
    user.Demo = False
    user.save(update_fields=["Demo"])
    assert post_alert(anon, secret, alert_body(secret, action="sell")).status_code == 200
    user.Demo = True
    user.save(update_fields=["Demo"])
    offer = make_offer(make_trader(is_staff=True))
    invest(offer, "1000", user=user)
    fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")
    executed, failed = WebhookEvent.objects.filter(webhook=webhook).order_by("pk")
    return {
        "executed": (Order.objects.get(pk=executed.order_id), executed),
        "failed": (Order.objects.get(pk=failed.order_id), failed),
        "managed": Order.objects.get(pair_config=offer.managed_bot),
    }


def test_lists_alert_and_managed_orders_newest_first_with_their_event(api, traded):
    (executed, executed_event), (failed, failed_event) = traded["executed"], traded["failed"]
    managed = traded["managed"]

    response = api.get(ORDERS)

    assert response.status_code == 200
    assert response.json() == one_page(
        [
            {
                "id": str(managed.pk),
                "pair_config": managed.pair_config_id,
                "side": "buy",
                "quantity": "0.01000000",
                "price": "50000.00000000",
                "fee": "0.50000000",
                "status": "executed",
                "source": "managed_bot",
                "error": None,
                "time": local(managed.created_at),
                "webhook_event": None,
            },
            {
                "id": str(failed.pk),
                "pair_config": failed.pair_config_id,
                "side": "sell",
                "quantity": "0.01000000",
                "price": "64250.50000000",
                "fee": "0.00000000",
                "status": "failed",
                "source": "custom_bot",
                "error": f"LiveTradingUnavailable: {LIVE_TRADING_UNAVAILABLE}",
                "time": local(failed.created_at),
                "webhook_event": failed_event.pk,
            },
            {
                "id": str(executed.pk),
                "pair_config": executed.pair_config_id,
                "side": "buy",
                "quantity": "0.01000000",
                "price": "64250.50000000",
                "fee": "0.64250500",
                "status": "executed",
                "source": "custom_bot",
                "error": None,
                "time": local(executed.created_at),
                "webhook_event": executed_event.pk,
            },
        ],
    )


def test_the_hosts_own_orders_and_other_users_orders_are_not_listed(
    api, user, other_user, traded, anon, webhook
):
    baker.make(Order, user=user, symbol="BTCUSDT", quantity=1, price=1, source="MANAGED")
    their_webhook, secret = subscribed_webhook(other_user)
    for order_id in ("a", "b", "c"):
        assert post_alert(anon, secret, alert_body(secret, order_id=order_id)).status_code == 200
    kept, moved, spoofed = WebhookEvent.objects.filter(webhook=their_webhook).order_by("pk")
    # An event of the user's webhook naming their order, and one of theirs naming ours.
    WebhookEvent.objects.filter(pk=moved.pk).update(webhook=webhook)
    WebhookEvent.objects.filter(pk=spoofed.pk).update(order_id=str(traded["managed"].pk))

    body = api.get(ORDERS).json()

    assert body["count"] == 3
    assert [(o["id"], o["source"], o["webhook_event"]) for o in body["results"]] == [
        (str(traded["managed"].pk), "managed_bot", None),
        (str(traded["failed"][0].pk), "custom_bot", traded["failed"][1].pk),
        (str(traded["executed"][0].pk), "custom_bot", traded["executed"][1].pk),
    ]
    assert kept.order_id and moved.order_id not in {o["id"] for o in body["results"]}


def test_needs_a_token_but_no_subscription(api, anon, user, traded):
    response = anon.get(ORDERS)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    UserSubscription.objects.filter(user=user).update(end_date=timezone.now() - timedelta(days=1))
    assert api.get(ORDERS).json()["count"] == 3


def ids(api, query):
    response = api.get(ORDERS + query)
    assert response.status_code == 200, response.content
    return [o["id"] for o in response.json()["results"]]


def test_filters_by_source_pair_config_status_and_time(api, traded):
    executed, failed, managed = (
        str(traded["executed"][0].pk),
        str(traded["failed"][0].pk),
        str(traded["managed"].pk),
    )
    alert_pair = traded["executed"][0].pair_config_id
    assert ids(api, "?source=custom_bot") == [failed, executed]
    assert ids(api, "?source=managed_bot") == [managed]
    assert ids(api, f"?pair_config={alert_pair}") == [failed, executed]
    assert ids(api, "?pair_config=999999") == []
    assert ids(api, "?status=failed") == [failed]
    assert ids(api, "?status=executed&source=custom_bot") == [executed]
    Order.objects.filter(pk=executed).update(created_at=timezone.now() - timedelta(days=2))
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(api, f"?created_before={yesterday.replace('+', '%2B')}") == [executed]
    assert ids(api, f"?created_after={yesterday.replace('+', '%2B')}") == [managed, failed]


def test_a_time_with_an_offset_postgresql_does_not_take_filters_as_its_utc_time(api, traded):
    executed = traded["executed"][0]
    placed = dt.datetime(2026, 6, 7, 12, 0, tzinfo=dt.UTC)
    Order.objects.filter(pk=executed.pk).update(created_at=placed)
    far_east = dt.timezone(timedelta(hours=23, minutes=11))  # ISO 8601 allows it, PostgreSQL not

    def query(name, moment):
        return f"?{name}={moment.astimezone(far_east).isoformat().replace('+', '%2B')}"

    second = timedelta(seconds=1)
    assert str(executed.pk) in ids(api, query("created_after", placed - second))
    assert str(executed.pk) not in ids(api, query("created_after", placed + second))
    assert ids(api, query("created_before", placed + second)) == [str(executed.pk)]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("source=gold", "source", "Unknown source 'gold'. Allowed: custom_bot, managed_bot."),
        ("status=FILLED", "status", "Unknown status 'FILLED'. Allowed: executed, failed."),
        ("pair_config=abc", "pair_config", "Enter a whole number."),
        ("pair_config=1.5", "pair_config", "Enter a whole number."),
        (
            "pair_config=99999999999999999999",
            "pair_config",
            "Ensure this value is less than or equal to 9223372036854775807.",
        ),
        ("pair_config=0", "pair_config", "Ensure this value is greater than or equal to 1."),
        ("created_after=yesterday", "created_after", "Enter a valid date/time."),
        ("status=%00", "status", "Unknown status '\x00'. Allowed: executed, failed."),
        # Times that exist nowhere in UTC: never handed to the database.
        ("created_after=9999-12-31T23:59:59-23:00", "created_after", OUT_OF_RANGE),
        ("created_before=0001-01-01T00:00:00%2B05:00", "created_before", OUT_OF_RANGE),
        ("created_after=0001-01-01T00:00:00", "created_after", OUT_OF_RANGE),  # Karachi
        (
            "created_after=2026-12-02T00:00:00Z&created_before=2026-12-01T00:00:00Z",
            "created_after",
            "Must be before created_before.",
        ),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(api, user, query, field, message):
    response = api.get(f"{ORDERS}?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["fields"] == {field: [message]}


def test_pages_with_a_constant_query_count(api, user, hook, anon, django_assert_num_queries):
    _webhook, secret = hook
    post_alert(anon, secret)
    with django_assert_num_queries(4):
        assert api.get(ORDERS).json()["count"] == 1
    for i in range(6):
        post_alert(anon, secret, alert_body(secret, order_id=f"o-{i}"))
    with django_assert_num_queries(4):
        body = api.get(ORDERS + "?page_size=5").json()
    assert body["count"] == 7 and len(body["results"]) == 5
    assert body["next"].endswith("/api/orders/?page=2&page_size=5")
    assert all(o["webhook_event"] is not None for o in body["results"])


def test_a_host_orders_without_a_time_are_listed_newest_key_first(api, traded, settings):
    fields = {**settings.TORGOVO_SUBSCRIPTIONS["ORDER_FIELDS"], "created_at": None}
    settings.TORGOVO_SUBSCRIPTIONS = {**settings.TORGOVO_SUBSCRIPTIONS, "ORDER_FIELDS": fields}

    body = api.get(ORDERS).json()
    assert [(o["id"], o["time"]) for o in body["results"]] == [
        (str(traded[name].pk if name == "managed" else traded[name][0].pk), None)
        for name in ("managed", "failed", "executed")
    ]
    response = api.get(ORDERS + "?created_after=2026-01-01T00:00:00Z")
    assert response.status_code == 400
    assert response.json() == {
        "code": "order_time_unknown",
        "detail": "This server's orders have no time to filter by.",
    }


def test_pruning_the_webhook_log_keeps_the_orders_history(api, traded):
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(days=400))
    call_command("prune_webhook_events", stdout=StringIO())
    assert [o["source"] for o in api.get(ORDERS).json()["results"]] == [
        "managed_bot",
        "custom_bot",
        "custom_bot",
    ]
