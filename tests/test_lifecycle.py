"""Periods by calendar month in the host's time zone, and expiry."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from django_torgovo_subscriptions import signals
from django_torgovo_subscriptions.models import SubscriptionStatus, UserSubscription
from django_torgovo_subscriptions.periods import add_months, next_period_end
from django_torgovo_subscriptions.services import subscriptions as service
from tests.factories import make_plan, make_subscription

KARACHI = ZoneInfo("Asia/Karachi")
UTC = ZoneInfo("UTC")


def karachi(*args):
    return datetime(*args, tzinfo=KARACHI)


@pytest.mark.parametrize(
    "start, end",
    [
        (karachi(2027, 1, 31, 9), karachi(2027, 2, 28, 9)),
        (karachi(2028, 1, 31, 9), karachi(2028, 2, 29, 9)),  # leap year
        (karachi(2027, 12, 15, 23, 59), karachi(2028, 1, 15, 23, 59)),
        (karachi(2027, 3, 31), karachi(2027, 4, 30)),
    ],
)
def test_one_calendar_month(start, end):
    assert add_months(start, 1) == end


def test_the_month_is_counted_in_the_host_time_zone_not_utc():
    # 20:00 UTC on 30 Jan is already 31 Jan in Karachi: the period ends at the
    # end of February there, not on 28 Feb 20:00 UTC (= 1 March in Karachi).
    start = datetime(2027, 1, 30, 20, 0, tzinfo=UTC)
    assert add_months(start, 1) == karachi(2027, 2, 28, 1, 0)
    assert add_months(start, 1) != datetime(2027, 2, 28, 20, 0, tzinfo=UTC)


def test_renewals_stay_anchored_to_the_start_day():
    anchor = karachi(2027, 1, 31, 12)
    ends = [add_months(anchor, 1)]
    for _ in range(3):
        ends.append(next_period_end(anchor, ends[-1]))
    assert [e.date().isoformat() for e in ends] == [
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
        "2027-05-31",
    ]


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1)),
    st.integers(min_value=0, max_value=40),
)
def test_next_period_end_is_always_one_month_further(naive, months):
    anchor = timezone.make_aware(naive, KARACHI)
    current = add_months(anchor, months)
    following = next_period_end(anchor, current)
    assert following == add_months(anchor, months + 1)
    assert following > current


@pytest.mark.django_db
def test_a_lapsed_row_stops_granting_access_before_any_sweep(user, settings):
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": None,
    }
    plan = make_plan()
    with time_machine.travel(karachi(2027, 1, 10, 12), tick=False):
        subscription = service.subscribe(user, plan)
        assert service.require_access(user) == subscription
    with time_machine.travel(karachi(2027, 2, 10, 11, 59), tick=False):
        assert subscription.is_live()
    with time_machine.travel(karachi(2027, 2, 10, 12, 0), tick=False):
        subscription.refresh_from_db()
        assert subscription.status == SubscriptionStatus.ACTIVE  # not swept yet
        assert not subscription.is_live()
        assert service.live_subscriptions(user)["custom_bot"] is None


@pytest.mark.django_db
def test_expire_subscriptions_command_is_idempotent_and_signals_once(user, other_user):
    lapsed = make_subscription(user, days_left=-1)
    cancelled = make_subscription(other_user, status=SubscriptionStatus.CANCELLED, days_left=-1)
    running = make_subscription(user, make_plan("managed_bot"), days_left=5)
    expired = []
    signals.subscription_expired.connect(
        lambda subscription, **kw: expired.append(subscription.pk),
        weak=False,
        dispatch_uid="test-expired",
    )
    try:
        first, second = StringIO(), StringIO()
        call_command("expire_subscriptions", stdout=first)
        call_command("expire_subscriptions", stdout=second)
    finally:
        signals.subscription_expired.disconnect(dispatch_uid="test-expired")
    assert first.getvalue().strip() == "Expired 2 subscriptions."
    assert second.getvalue().strip() == "Expired 0 subscriptions."
    assert sorted(expired) == sorted([lapsed.pk, cancelled.pk])
    statuses = dict(UserSubscription.objects.values_list("pk", "status"))
    assert statuses == {lapsed.pk: "expired", cancelled.pk: "expired", running.pk: "active"}


@pytest.mark.django_db
def test_activate_and_renew(user, settings):
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": "tests.test_api_subscriptions.ConfiguredGateway",
    }
    subscription = service.subscribe(user, make_plan())
    assert subscription.status == SubscriptionStatus.PENDING_PAYMENT
    now = karachi(2027, 1, 31, 8)
    service.activate(subscription, now=now)
    assert (subscription.start_date, subscription.end_date) == (now, karachi(2027, 2, 28, 8))
    service.renew(subscription)
    subscription.refresh_from_db()
    assert subscription.end_date == karachi(2027, 3, 31, 8)
    with pytest.raises(Exception) as info:
        service.activate(subscription)
    assert info.value.code == "invalid_status"
    assert subscription.end_date - subscription.start_date == timedelta(days=59)


@pytest.mark.django_db
def test_a_renewal_in_flight_keeps_access_for_the_grace_period_then_lapses(user):
    renewing = make_subscription(
        user, days_left=0, gateway_subscription_id="sub_123", payment_method="stripe"
    )
    renewing.end_date = timezone.now() - timedelta(minutes=30)  # Stripe has not reported yet
    renewing.save()
    assert renewing.is_live()
    assert list(UserSubscription.objects.live()) == [renewing]
    assert service.expire_lapsed() == 0

    later = timezone.now() + timedelta(days=1)
    assert not renewing.is_live(later)
    assert service.expire_lapsed(now=later) == 1


@pytest.mark.django_db
def test_no_grace_without_renewal_at_the_gateway(user, other_user):
    not_renewing = make_subscription(user, gateway_subscription_id="sub_1", auto_renew=False)
    free = make_subscription(other_user)
    for subscription in (not_renewing, free):
        subscription.end_date = timezone.now() - timedelta(minutes=1)
        subscription.save()
        assert not subscription.is_live()
    assert not UserSubscription.objects.live().exists()
