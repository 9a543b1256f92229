"""The subscriptions endpoints through HTTP, bodies asserted."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_torgovo_subscriptions.models import PlanType, SubscriptionStatus, UserSubscription
from django_torgovo_subscriptions.payments.base import BaseGateway
from tests.factories import make_plan, make_subscription

pytestmark = pytest.mark.django_db
KARACHI = ZoneInfo("Asia/Karachi")


class ConfiguredGateway(BaseGateway):
    """Stands for a payment gateway: its presence makes subscriptions wait for payment."""

    name = "configured"


@pytest.fixture
def with_gateway(settings):
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": "tests.test_api_subscriptions.ConfiguredGateway",
    }


def test_anonymous_requests_get_401_in_the_error_shape(anon):
    response = anon.get("/api/subscriptions/")
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }
    response = anon.get("/api/subscriptions/", HTTP_AUTHORIZATION="Token nope")
    assert (response.status_code, response.json()["code"]) == (401, "authentication_failed")


@time_machine.travel(datetime(2027, 1, 31, 10, 0, tzinfo=KARACHI), tick=False)
def test_subscribing_without_a_gateway_is_active_for_one_calendar_month(
    api, user, plan, without_gateway
):
    response = api.post("/api/subscriptions/", {"plan_id": plan.id}, format="json")

    assert response.status_code == 201
    body = response.json()
    row = UserSubscription.objects.get(user=user)
    assert body["id"] == row.id
    assert body["status"] == "active" and body["is_live"] is True
    assert body["plan"]["slug"] == "basic" and body["plan_type"] == "custom_bot"
    assert body["start_date"] == "2027-01-31T10:00:00+05:00"
    assert body["end_date"] == "2027-02-28T10:00:00+05:00"  # clamped to February's end
    assert body["auto_renew"] is True and body["cancelled_at"] is None


def test_with_a_gateway_a_new_subscription_waits_for_payment(api, plan, with_gateway):
    body = api.post("/api/subscriptions/", {"plan_id": plan.id}, format="json").json()
    assert (body["status"], body["is_live"], body["start_date"], body["end_date"]) == (
        "pending_payment",
        False,
        None,
        None,
    )


def test_a_second_subscription_of_the_same_type_is_a_409(api, user, plan):
    assert api.post("/api/subscriptions/", {"plan_id": plan.id}, format="json").status_code == 201
    other = make_plan(PlanType.CUSTOM_BOT, slug="pro")
    response = api.post("/api/subscriptions/", {"plan_id": other.id}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "already_subscribed"
    assert "Custom bot" in response.json()["detail"]
    managed = make_plan(PlanType.MANAGED_BOT, slug="managed")
    assert (
        api.post("/api/subscriptions/", {"plan_id": managed.id}, format="json").status_code == 201
    )
    assert UserSubscription.objects.filter(user=user).count() == 2


@pytest.mark.parametrize(
    "payload, message",
    [
        ({}, "This field is required."),
        ({"plan_id": "abc"}, "A plan id is a number, not str."),
        ({"plan_id": 999999}, "No active plan has id 999999. See subscription-plans/."),
        ({"plan_id": None}, "This field may not be null."),
    ],
)
def test_a_bad_plan_id_is_a_400_with_the_field_named(api, payload, message):
    response = api.post("/api/subscriptions/", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "detail": "The request has invalid fields; see 'fields'.",
        "fields": {"plan_id": [message]},
    }
    assert not UserSubscription.objects.exists()


def test_an_inactive_plan_cannot_be_subscribed(api):
    plan = make_plan(is_active=False)
    response = api.post("/api/subscriptions/", {"plan_id": plan.id}, format="json")
    assert response.status_code == 400 and "No active plan" in str(response.json()["fields"])


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("plan_id=1", "text/plain"),
    ],
)
def test_malformed_bodies_are_4xx_never_500(api, body, content_type):
    response = api.post("/api/subscriptions/", body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert response.json()["code"] in ("parse_error", "validation_error", "unsupported_media_type")


def test_the_list_shows_only_own_subscriptions_paginated(api, user, other_user, plan):
    mine = make_subscription(user, plan)
    make_subscription(other_user, plan)
    body = api.get("/api/subscriptions/").json()
    assert body["count"] == 1
    assert [s["id"] for s in body["results"]] == [mine.id]


def test_list_query_count_does_not_grow_with_rows(api, user):
    make_subscription(user, make_plan(slug="first"), status=SubscriptionStatus.EXPIRED)
    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/subscriptions/").status_code == 200
    for i in range(12):
        make_subscription(user, make_plan(slug=f"p{i}"), status=SubscriptionStatus.EXPIRED)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/subscriptions/").json()["results"]) == 13
    assert len(many) == len(few)


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_subscription_answers_404_and_is_unchanged(api, other_user, plan, method):
    theirs = make_subscription(other_user, plan)
    before = UserSubscription.objects.filter(pk=theirs.pk).values().get()
    response = getattr(api, method)(
        f"/api/subscriptions/{theirs.pk}/", {"auto_renew": False}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert UserSubscription.objects.filter(pk=theirs.pk).values().get() == before


def test_detail_and_patch_auto_renew(api, user, plan):
    subscription = make_subscription(user, plan)
    assert api.get(f"/api/subscriptions/{subscription.pk}/").json()["id"] == subscription.pk
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"auto_renew": False}, format="json"
    )
    assert response.status_code == 200 and response.json()["auto_renew"] is False
    subscription.refresh_from_db()
    assert subscription.auto_renew is False


def test_an_empty_patch_is_a_400(api, user, plan):
    subscription = make_subscription(user, plan)
    response = api.patch(f"/api/subscriptions/{subscription.pk}/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "non_field_errors": ["Send status, auto_renew or plan_id."]
    }


def test_plan_change_within_the_same_type(api, user, plan, without_gateway):
    subscription = make_subscription(user, plan)
    pro = make_plan(PlanType.CUSTOM_BOT, slug="pro", max_trading_pairs=5)
    body = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"plan_id": pro.id}, format="json"
    ).json()
    assert body["plan"]["slug"] == "pro"
    assert body["end_date"] == subscription.end_date.astimezone(KARACHI).isoformat()

    managed = make_plan(PlanType.MANAGED_BOT, slug="managed")
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"plan_id": managed.id}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "plan_type_mismatch")


def test_a_paid_subscription_cannot_switch_plan_with_a_gateway(api, user, plan, with_gateway):
    subscription = make_subscription(user, plan)
    pro = make_plan(PlanType.CUSTOM_BOT, slug="pro")
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"plan_id": pro.id}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "plan_change_unavailable")
    subscription.refresh_from_db()
    assert subscription.plan == plan


def test_downgrading_below_the_pairs_in_use_is_refused(api, user, plan, without_gateway):
    from model_bakery import baker

    pro = make_plan(PlanType.CUSTOM_BOT, slug="pro", max_trading_pairs=5)
    subscription = make_subscription(user, pro)
    for _ in range(2):
        baker.make(
            "subscriptions.CustomBotWebhook",
            user=user,
            subscription=subscription,
            pair_config=baker.make("trading.PairConfig", user=user),
        )
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"plan_id": plan.id}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "pair_limit_reached")
    assert response.json()["detail"] == (
        f"You trade 2 pairs and {plan.name} allows 1. "
        "Deactivate some webhooks or stop some bots first."
    )


def bots_the_host_runs(user, plan_type):
    """A PAIRS_IN_USE_FUNCTION counting the host's own bots (no webhook of ours)."""
    return {"bot-btc-usdt", "bot-eth-usdt", "bot-sol-usdt"}


def test_downgrading_below_the_pairs_the_hosts_bots_use_is_refused(
    api, user, plan, without_gateway, settings
):
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAIRS_IN_USE_FUNCTION": "tests.test_api_subscriptions.bots_the_host_runs",
    }
    pro = make_plan(PlanType.CUSTOM_BOT, slug="pro", max_trading_pairs=5)
    subscription = make_subscription(user, pro)

    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"plan_id": plan.id}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (403, "pair_limit_reached")
    assert "stop some bots" in response.json()["detail"]
    subscription.refresh_from_db()
    assert subscription.plan == pro


def test_cancel_keeps_the_row_and_access_until_the_end_date_then_resume(api, user, plan):
    subscription = make_subscription(user, plan, days_left=10)
    response = api.delete(f"/api/subscriptions/{subscription.pk}/")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "cancelled" and body["auto_renew"] is False
    assert body["cancelled_at"] is not None and body["is_live"] is True
    assert (
        api.get("/api/subscriptions/my-subscription/").json()["custom_bot"]["id"] == subscription.pk
    )

    again = api.delete(f"/api/subscriptions/{subscription.pk}/")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_status")

    resumed = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"auto_renew": True}, format="json"
    )
    assert resumed.json()["status"] == "active" and resumed.json()["cancelled_at"] is None


# --- PATCH {"status": "cancelled"}: the same cancellation as DELETE ---------------

UNSUPPORTED_STATUS = {
    "code": "unsupported_status",
    "detail": 'status can only be set to "cancelled", which cancels the subscription as '
    "DELETE does. To stop or resume renewal send auto_renew instead.",
}


def row(subscription):
    return (
        UserSubscription.objects.filter(pk=subscription.pk)
        .values("status", "cancelled_at", "auto_renew", "end_date", "plan_id")
        .get()
    )


@time_machine.travel(datetime(2026, 11, 26, 9, 30, tzinfo=KARACHI), tick=False)
def test_patch_status_cancelled_answers_and_changes_exactly_what_delete_does(
    api, user, other_user, plan
):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from django_torgovo_subscriptions import signals

    patched = make_subscription(user, plan, days_left=10)
    deleted = make_subscription(other_user, plan, days_left=10)
    other_api = APIClient()
    other_api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other_user).key}")
    cancelled = []

    def record(sender, subscription, **kwargs):
        cancelled.append(subscription.pk)

    signals.subscription_cancelled.connect(record)
    try:
        by_patch = api.patch(
            f"/api/subscriptions/{patched.pk}/", {"status": "cancelled"}, format="json"
        )
        by_delete = other_api.delete(f"/api/subscriptions/{deleted.pk}/")
    finally:
        signals.subscription_cancelled.disconnect(record)

    assert (by_patch.status_code, by_delete.status_code) == (200, 200)
    assert by_patch.json() == {**by_delete.json(), "id": patched.pk}
    body = by_patch.json()
    assert (body["status"], body["auto_renew"], body["is_live"]) == ("cancelled", False, True)
    assert body["cancelled_at"] == "2026-11-26T09:30:00+05:00"
    assert row(patched) == row(deleted)
    assert cancelled == [patched.pk, deleted.pk]


def test_patch_status_cancelled_on_an_unpaid_subscription_frees_the_slot(
    api, user, plan, with_gateway
):
    pending = api.post("/api/subscriptions/", {"plan_id": plan.id}, format="json").json()
    response = api.patch(
        f"/api/subscriptions/{pending['id']}/", {"status": "cancelled"}, format="json"
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["end_date"], body["is_live"]) == ("cancelled", None, False)
    assert api.post("/api/subscriptions/", {"plan_id": plan.id}, format="json").status_code == 201


def test_patch_status_cancelled_twice_is_the_same_409_as_delete(api, user, plan):
    subscription = make_subscription(user, plan)
    assert api.delete(f"/api/subscriptions/{subscription.pk}/").status_code == 200
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"status": "cancelled"}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "invalid_status",
        "detail": "The subscription is already cancelled.",
    }


@pytest.mark.parametrize(
    "status",
    ["active", "expired", "past_due", "trial", "pending_payment", "Cancelled", "", None, 1, []],
)
def test_patch_with_any_other_status_is_a_400_naming_what_may_be_sent(api, user, plan, status):
    subscription = make_subscription(user, plan)
    before = row(subscription)
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"status": status}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == UNSUPPORTED_STATUS
    assert row(subscription) == before


def test_patch_status_with_other_fields_is_a_400_and_changes_nothing(api, user, plan):
    subscription = make_subscription(user, plan)
    before = row(subscription)
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/",
        {"status": "cancelled", "auto_renew": False},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "detail": "The request has invalid fields; see 'fields'.",
        "fields": {
            "non_field_errors": [
                "Send status alone: cancelling also stops renewal and keeps the plan."
            ]
        },
    }
    assert row(subscription) == before


def test_patch_status_of_another_users_subscription_is_404_and_changes_nothing(
    api, other_user, plan
):
    theirs = make_subscription(other_user, plan)
    before = row(theirs)
    response = api.patch(f"/api/subscriptions/{theirs.pk}/", {"status": "cancelled"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}
    assert row(theirs) == before


def test_cancelling_an_unpaid_subscription_frees_the_slot(api, user, plan, with_gateway):
    pending = api.post("/api/subscriptions/", {"plan_id": plan.id}, format="json").json()
    body = api.delete(f"/api/subscriptions/{pending['id']}/").json()
    assert (body["status"], body["end_date"], body["is_live"]) == ("cancelled", None, False)
    assert api.post("/api/subscriptions/", {"plan_id": plan.id}, format="json").status_code == 201


def test_a_lapsed_subscription_does_not_block_subscribing_again(api, user, plan):
    lapsed = make_subscription(user, plan, days_left=-2)
    response = api.post("/api/subscriptions/", {"plan_id": plan.id}, format="json")
    assert response.status_code == 201
    lapsed.refresh_from_db()
    assert lapsed.status == SubscriptionStatus.EXPIRED


def test_my_subscription_is_404_with_a_code_when_there_is_none(api, user, plan):
    make_subscription(user, plan, days_left=-1)  # lapsed: not live
    response = api.get("/api/subscriptions/my-subscription/")
    assert response.status_code == 404
    assert response.json()["code"] == "no_subscription"


def test_my_subscription_lists_the_live_one_per_plan_type(api, user, plan):
    live = make_subscription(user, plan)
    body = api.get("/api/subscriptions/my-subscription/").json()
    assert body["managed_bot"] is None
    assert body["custom_bot"]["id"] == live.id
    assert body["custom_bot"]["end_date"] == timezone.localtime(live.end_date).isoformat()


def test_an_ended_subscription_cannot_be_changed(api, user, plan):
    subscription = make_subscription(user, plan, status=SubscriptionStatus.EXPIRED, days_left=-3)
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"auto_renew": True}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "invalid_status")
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.EXPIRED


def test_cancel_of_a_lapsed_subscription_gives_no_access(api, user, plan):
    subscription = make_subscription(user, plan, days_left=-1)
    body = api.delete(f"/api/subscriptions/{subscription.pk}/").json()
    assert body["status"] == "cancelled" and body["is_live"] is False
    subscription.refresh_from_db()
    assert subscription.end_date is None


def test_a_session_request_without_its_csrf_token_is_the_documented_403(user, plan):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(
        "/api/subscriptions/", {"plan_id": plan.pk}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert response.json()["detail"].startswith("CSRF Failed")
    assert not UserSubscription.objects.filter(user=user).exists()
