"""Models of the subscriptions app (label ``subscriptions``)."""

from django_torgovo_subscriptions.models.managed import ManagedBotPerformance
from django_torgovo_subscriptions.models.offers import ManagedBotOffer
from django_torgovo_subscriptions.models.payments import (
    CheckoutSession,
    GatewayCustomer,
    Payment,
    PaymentEvent,
)
from django_torgovo_subscriptions.models.plans import PlanType, SubscriptionPlan
from django_torgovo_subscriptions.models.subscriptions import (
    SubscriptionStatus,
    UserSubscription,
)
from django_torgovo_subscriptions.models.webhooks import (
    CustomBotWebhook,
    WebhookEvent,
    WebhookOutcome,
)

__all__ = [
    "CheckoutSession",
    "CustomBotWebhook",
    "GatewayCustomer",
    "ManagedBotOffer",
    "ManagedBotPerformance",
    "Payment",
    "PaymentEvent",
    "PlanType",
    "SubscriptionPlan",
    "SubscriptionStatus",
    "UserSubscription",
    "WebhookEvent",
    "WebhookOutcome",
]
