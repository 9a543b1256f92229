from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from django_torgovo_subscriptions.models import PlanType, SubscriptionStatus, UserSubscription
from tests.factories import make_plan, make_subscription

pytestmark = pytest.mark.django_db


def test_plan_type_is_copied_from_the_plan(user):
    subscription = make_subscription(user, make_plan(PlanType.MANAGED_BOT))
    subscription.refresh_from_db()
    assert subscription.plan_type == PlanType.MANAGED_BOT


def test_the_database_allows_one_open_subscription_per_user_and_plan_type(user):
    make_subscription(user, make_plan(PlanType.CUSTOM_BOT))
    make_subscription(user, make_plan(PlanType.MANAGED_BOT))  # other type: fine
    make_subscription(user, make_plan(), status=SubscriptionStatus.EXPIRED)  # closed: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        make_subscription(user, make_plan(), status=SubscriptionStatus.PENDING_PAYMENT)
    assert UserSubscription.objects.filter(user=user).count() == 3


def test_a_lapsed_row_is_not_live_even_with_an_active_status(user):
    lapsed = make_subscription(user, status=SubscriptionStatus.ACTIVE, days_left=-1)
    assert lapsed.is_live() is False
    assert not UserSubscription.objects.live().exists()
    assert list(UserSubscription.objects.lapsed()) == [lapsed]

    lapsed.end_date = timezone.now() + timedelta(minutes=1)
    lapsed.save()
    assert lapsed.is_live()
    assert list(UserSubscription.objects.live()) == [lapsed]


def test_pending_and_past_due_rows_do_not_grant_access(user):
    pending = make_subscription(user, status=SubscriptionStatus.PENDING_PAYMENT)
    assert not pending.is_live()
    assert not UserSubscription.objects.live().exists()


def test_negative_price_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_plan(monthly_price=-1)
