"""
URL patterns of the API, mounted by the host under its own prefix (``api/``).

Object ids use the ``torgovo_id`` converter rather than ``int``: a path such as
``subscriptions/abc/`` then reaches the view, whose answer is the package's
JSON 404, instead of falling through to the host's HTML 404 page. For the same
reason a gateway name is any segment (``str``, not ``slug``): an unknown one is
the view's 404 ``unknown_gateway``.
"""

import re

from django.urls import path, register_converter

from django_torgovo_subscriptions.api import custom_bot, managed_bot, orders, payments
from django_torgovo_subscriptions.api import subscriptions as views

app_name = "subscriptions"


class ObjectIdConverter:
    """Any path segment: an id (a whole number a 64-bit key can hold), else None (no row)."""

    regex = "[^/]+"
    ID = re.compile("[0-9]{1,19}")
    LARGEST = 2**63 - 1

    def to_python(self, value: str) -> int | None:
        if self.ID.fullmatch(value) and int(value) <= self.LARGEST:
            return int(value)
        return None

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(ObjectIdConverter, "torgovo_id")

urlpatterns = [
    path("subscription-plans/", views.SubscriptionPlanListView.as_view(), name="plan-list"),
    path("subscriptions/", views.SubscriptionListCreateView.as_view(), name="subscription-list"),
    path(
        "subscriptions/my-subscription/",
        views.MySubscriptionView.as_view(),
        name="my-subscription",
    ),
    path(
        "subscriptions/<torgovo_id:pk>/",
        views.SubscriptionDetailView.as_view(),
        name="subscription-detail",
    ),
    path(
        "custom-bot/webhook/generate/",
        custom_bot.WebhookGenerateView.as_view(),
        name="webhook-generate",
    ),
    path(
        "custom-bot/webhook/receive/<str:secret>/",
        custom_bot.WebhookReceiveView.as_view(),
        name="webhook-receive",
    ),
    path("custom-bot/pairs/", custom_bot.TradablePairListView.as_view(), name="custom-bot-pairs"),
    path("custom-bot/webhooks/", custom_bot.WebhookListView.as_view(), name="webhook-list"),
    path(
        "custom-bot/webhooks/<torgovo_id:pk>/",
        custom_bot.WebhookDetailView.as_view(),
        name="webhook-detail",
    ),
    path(
        "custom-bot/webhooks/<torgovo_id:pk>/rotate/",
        custom_bot.WebhookRotateView.as_view(),
        name="webhook-rotate",
    ),
    path(
        "custom-bot/webhooks/<torgovo_id:pk>/events/",
        custom_bot.WebhookEventListView.as_view(),
        name="webhook-events",
    ),
    path(
        "managed-bot/available/",
        managed_bot.ManagedBotAvailableView.as_view(),
        name="managed-bot-available",
    ),
    path(
        "managed-bot/subscribe/",
        managed_bot.ManagedBotSubscribeView.as_view(),
        name="managed-bot-subscribe",
    ),
    path(
        "managed-bot/performance/",
        managed_bot.ManagedBotPerformanceView.as_view(),
        name="managed-bot-performance",
    ),
    path(
        "managed-bot/performance/<torgovo_id:pk>/history/",
        managed_bot.ManagedBotPerformanceHistoryView.as_view(),
        name="managed-bot-performance-history",
    ),
    path("orders/", orders.OrderListView.as_view(), name="order-list"),
    path("payments/gateways/", payments.GatewayListView.as_view(), name="payment-gateways"),
    path(
        "payments/create-checkout/",
        payments.CreateCheckoutView.as_view(),
        name="payment-create-checkout",
    ),
    path("payments/webhook/", payments.payment_webhook, name="payment-webhook"),
    path(
        "payments/webhook/<str:gateway>/",
        payments.named_gateway_webhook,
        name="payment-webhook-gateway",
    ),
    path("payments/history/", payments.PaymentHistoryView.as_view(), name="payment-history"),
    path(
        "payments/dummy/checkout/<str:session_id>/",
        payments.dummy_checkout,
        name="dummy-checkout",
    ),
]
