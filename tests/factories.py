"""Small factories for the example host and the package's models."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from model_bakery import baker

from django_torgovo_subscriptions.models import PlanType, SubscriptionStatus


def make_plan(plan_type=PlanType.CUSTOM_BOT, **kwargs):
    kwargs.setdefault("monthly_price", Decimal("29.00"))
    kwargs.setdefault("currency", "USD")
    kwargs.setdefault("is_active", True)
    return baker.make("subscriptions.SubscriptionPlan", plan_type=plan_type, **kwargs)


def make_subscription(user, plan=None, status=SubscriptionStatus.ACTIVE, days_left=30, **kwargs):
    now = timezone.now()
    kwargs.setdefault("start_date", now - timedelta(days=1))
    kwargs.setdefault("end_date", now + timedelta(days=days_left))
    return baker.make(
        "subscriptions.UserSubscription",
        user=user,
        plan=plan or make_plan(),
        status=status,
        **kwargs,
    )


def one_page(results, **extra):
    """A list endpoint's whole answer when ``results`` fit on its first page."""
    return {"count": len(results), "next": None, "previous": None, "results": results, **extra}
