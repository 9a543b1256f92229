"""
``GET orders/``: the user's host Orders placed through the package (custom-bot
alerts and managed-bot trades), read through the Order field map
(services.orders). Needs no live subscription: the history stays readable.
"""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, serializers

from django_torgovo_subscriptions.api.base import PackageAPIViewMixin
from django_torgovo_subscriptions.api.fields import StringDecimalField
from django_torgovo_subscriptions.api.filters import OrderFilter
from django_torgovo_subscriptions.api.schema import AUTH_ERRORS, error
from django_torgovo_subscriptions.compat import extend_schema, extend_schema_field
from django_torgovo_subscriptions.host import get_order_model
from django_torgovo_subscriptions.models import PlanType
from django_torgovo_subscriptions.services import orders

DECIMAL = StringDecimalField(max_digits=None, decimal_places=None)
TIME = serializers.DateTimeField()


class OrderSerializer(serializers.Serializer):
    """One host Order, in the package's terms whatever the host's field names."""

    id = serializers.SerializerMethodField(
        help_text="The host Order's key as text (an integer or a UUID), as in a webhook "
        "event's order_id."
    )
    pair_config = serializers.SerializerMethodField()
    side = serializers.SerializerMethodField(help_text="buy or sell.")
    quantity = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField(
        help_text="null where the host keeps no price (or has none for this order)."
    )
    fee = serializers.SerializerMethodField(help_text="null where the host keeps no fee.")
    status = serializers.SerializerMethodField(
        help_text="executed, failed, or the host's own value for another state."
    )
    source = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField(help_text="Why it failed; null otherwise.")
    time = serializers.SerializerMethodField(help_text="When it was placed.")
    webhook_event = serializers.SerializerMethodField(
        help_text="The id of the webhook event (custom-bot/webhooks/{id}/events/) that "
        "placed it; null for a managed-bot trade."
    )

    def get_id(self, order: Any) -> str:
        return str(order.pk)

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_pair_config(self, order: Any) -> Any:
        return orders.pair_config_id(order)

    def get_side(self, order: Any) -> str:
        return orders.logical_value(order, "side")

    @extend_schema_field({"type": "string", "format": "decimal"})
    def get_quantity(self, order: Any) -> str:
        return decimal_or_none(orders.order_value(order, "quantity"))

    @extend_schema_field({"type": "string", "format": "decimal", "nullable": True})
    def get_price(self, order: Any) -> str | None:
        return decimal_or_none(orders.order_value(order, "price"))

    @extend_schema_field({"type": "string", "format": "decimal", "nullable": True})
    def get_fee(self, order: Any) -> str | None:
        return decimal_or_none(orders.order_value(order, "fee"))

    def get_status(self, order: Any) -> str:
        return orders.logical_value(order, "status")

    @extend_schema_field({"type": "string", "enum": PlanType.values})
    def get_source(self, order: Any) -> str:
        return orders.order_source(order)

    def get_error(self, order: Any) -> str | None:
        return orders.order_value(order, "error") or None

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_time(self, order: Any) -> str | None:
        value = orders.order_value(order, "created_at")
        return None if value is None else TIME.to_representation(value)

    def get_webhook_event(self, order: Any) -> int | None:
        return orders.webhook_event_id(order)


def decimal_or_none(value: Any) -> str | None:
    return None if value is None else DECIMAL.to_representation(value)


@extend_schema(
    tags=["orders"],
    responses={
        200: OrderSerializer(many=True),
        400: error("validation_error: a filter's value; order_time_unknown."),
        **AUTH_ERRORS,
    },
)
class OrderListView(PackageAPIViewMixin, generics.ListAPIView):
    """Your orders placed by custom-bot alerts and managed bots, newest first."""

    serializer_class = OrderSerializer
    subscriptions_throttle_scope = "subscriptions"
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no user
            return get_order_model()._default_manager.none()
        return orders.user_orders(self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return orders.attach_links(page, self.request.user)
