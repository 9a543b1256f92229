"""Serializers. Decimals are strings in JSON; times are ISO 8601 with offset."""

from __future__ import annotations

from rest_framework import serializers

from django_torgovo_subscriptions.api.fields import PackageModelSerializer, shortfall
from django_torgovo_subscriptions.compat import OpenApiTypes, extend_schema_field
from django_torgovo_subscriptions.exceptions import StatusNotSettable
from django_torgovo_subscriptions.models import (
    SubscriptionPlan,
    SubscriptionStatus,
    UserSubscription,
)
from django_torgovo_subscriptions.models.payments import Payment, pending_renewal


class SubscriptionPlanSerializer(PackageModelSerializer):
    class Meta:
        model = SubscriptionPlan
        fields = (
            "id",
            "plan_type",
            "name",
            "slug",
            "description",
            "monthly_price",
            "currency",
            "features",
            "guaranteed_monthly_return",
            "profit_share_percentage",
            "max_trading_pairs",
        )
        read_only_fields = fields


class PendingRenewalSerializer(PackageModelSerializer):
    """The open invoice of a subscription's next period, which the user pays by following
    ``payment_url`` (BTCPay: crypto has no pull payments)."""

    amount_missing = serializers.SerializerMethodField(
        help_text="What is left to pay after a partial payment (amount less what arrived); "
        "null while nothing has arrived."
    )

    class Meta:
        model = Payment
        fields = ("amount", "currency", "payment_url", "expires_at", "amount_missing")
        read_only_fields = fields

    def get_amount_missing(self, payment: Payment) -> str | None:
        return shortfall(payment.amount, payment.amount_received)


class UserSubscriptionSerializer(PackageModelSerializer):
    plan = SubscriptionPlanSerializer(read_only=True)
    is_live = serializers.SerializerMethodField(
        help_text="True while the subscription grants access (status and end_date both count)."
    )
    pending_renewal = serializers.SerializerMethodField(
        help_text="The next period's invoice waiting to be paid (BTCPay renewals), with its "
        "link; null when there is none (card gateways renew on their own)."
    )

    class Meta:
        model = UserSubscription
        fields = (
            "id",
            "plan",
            "plan_type",
            "status",
            "is_live",
            "start_date",
            "end_date",
            "auto_renew",
            "payment_method",
            "cancelled_at",
            "created_at",
            "pending_renewal",
        )
        read_only_fields = fields

    def get_is_live(self, subscription: UserSubscription) -> bool:
        return subscription.is_live()

    @extend_schema_field(PendingRenewalSerializer(allow_null=True))
    def get_pending_renewal(self, subscription: UserSubscription) -> dict | None:
        payment = pending_renewal(subscription)
        return PendingRenewalSerializer(payment).data if payment is not None else None


@extend_schema_field(OpenApiTypes.INT)
class ActivePlanField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        "does_not_exist": "No active plan has id {pk_value}. See subscription-plans/.",
        "incorrect_type": "A plan id is a number, not {data_type}.",
    }

    def get_queryset(self):
        return SubscriptionPlan.objects.active()


class SubscribeSerializer(serializers.Serializer):
    plan_id = ActivePlanField(help_text="The id of an active plan from subscription-plans/.")


class CancelStatusField(serializers.ChoiceField):
    """
    ``status`` as a client may send it: only "cancelled", which cancels.

    Any other value, of any type, is ``StatusNotSettable`` (400
    ``unsupported_status``) rather than a field error, so a client can tell
    "that status cannot be set here" from a malformed body.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=[SubscriptionStatus.CANCELLED.value], **kwargs)

    def run_validation(self, data=serializers.empty):
        if data is serializers.empty:
            return super().run_validation(data)
        if data != SubscriptionStatus.CANCELLED.value:
            raise StatusNotSettable()
        return data


class SubscriptionUpdateSerializer(serializers.Serializer):
    status = CancelStatusField(
        required=False, help_text='"cancelled" cancels the subscription, exactly as DELETE does.'
    )
    auto_renew = serializers.BooleanField(required=False)
    plan_id = ActivePlanField(required=False, help_text="Another plan of the same plan type.")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send status, auto_renew or plan_id.", code="empty")
        if "status" in attrs and len(attrs) > 1:
            raise serializers.ValidationError(
                "Send status alone: cancelling also stops renewal and keeps the plan.",
                code="status_not_alone",
            )
        return attrs


class MySubscriptionsSerializer(serializers.Serializer):
    custom_bot = UserSubscriptionSerializer(allow_null=True)
    managed_bot = UserSubscriptionSerializer(allow_null=True)
