"""Scenarios for the plans and subscriptions examples."""

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from django_torgovo_subscriptions.services import subscriptions as service
from tests.docs_scenarios import Context, scenario


@scenario("default")
def default(ctx: Context) -> dict:
    return {
        "PLAN_ID": ctx.plans["custom-bot-basic"].id,
        "MANAGED_PLAN_ID": ctx.plans["managed-growth"].id,
    }


@scenario("subscribed")
def subscribed(ctx: Context) -> dict:
    """The demo user holds an active Custom Bot Basic subscription, paid through
    the example host's dummy gateway (a signed event through the webhook receiver)."""
    from tests.docs_scenarios.payments import pay_with_dummy

    subscription = pay_with_dummy(service.subscribe(ctx.user, ctx.plans["custom-bot-basic"]))
    return {
        **default(ctx),
        "SUBSCRIPTION_ID": subscription.id,
        "PRO_PLAN_ID": ctx.plans["custom-bot-pro"].id,
    }


@scenario("someone_elses_subscription")
def someone_elses_subscription(ctx: Context) -> dict:
    other = get_user_model().objects.create_user(username="someone-else")
    Token.objects.create(user=other)
    subscription = service.subscribe(other, ctx.plans["custom-bot-basic"])
    return {**default(ctx), "SUBSCRIPTION_ID": subscription.id}


@scenario("cancelled")
def cancelled(ctx: Context) -> dict:
    """The demo user cancelled their subscription (it still runs to end_date)."""
    variables = subscribed(ctx)
    service.cancel(service.UserSubscription.objects.get(pk=variables["SUBSCRIPTION_ID"]))
    return variables
