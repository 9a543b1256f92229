"""Models of the subscriptions app (label ``subscriptions``)."""

from django_torgovo_subscriptions.models.custom_bot import (
    CustomBotWebhook,
    WebhookEvent,
    WebhookOutcome,
    WebhookPurpose,
    WebhookRefusalCount,
)
from django_torgovo_subscriptions.models.managed_bot import (
    ManagedBotOffer,
    ManagedBotPerformance,
    ManagedSignal,
    ManagedSignalSource,
    ManagedTrade,
    ManagedTradeOutcome,
)
from django_torgovo_subscriptions.models.managed_bot_history import (
    ManagedBotDailyPoint,
    ManagedBotSettledPeriod,
)
from django_torgovo_subscriptions.models.payments import (
    CheckoutSession,
    GatewayCustomer,
    Payment,
    PaymentEvent,
    PaymentKind,
)
from django_torgovo_subscriptions.models.plans import PlanType, SubscriptionPlan
from django_torgovo_subscriptions.models.subscriptions import (
    SubscriptionStatus,
    UserSubscription,
)

__all__ = [
    "CheckoutSession",
    "CustomBotWebhook",
    "GatewayCustomer",
    "ManagedBotDailyPoint",
    "ManagedBotOffer",
    "ManagedBotPerformance",
    "ManagedBotSettledPeriod",
    "ManagedSignal",
    "ManagedSignalSource",
    "ManagedTrade",
    "ManagedTradeOutcome",
    "Payment",
    "PaymentEvent",
    "PaymentKind",
    "PlanType",
    "SubscriptionPlan",
    "SubscriptionStatus",
    "UserSubscription",
    "WebhookEvent",
    "WebhookOutcome",
    "WebhookPurpose",
    "WebhookRefusalCount",
]
