"""Managed-bot endpoints: offers, investing, and the investor's performance."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response

from django_torgovo_subscriptions import host
from django_torgovo_subscriptions.api.base import PackageAPIViewMixin
from django_torgovo_subscriptions.api.fields import StringDecimalField
from django_torgovo_subscriptions.api.schema import AUTH_ERRORS, error
from django_torgovo_subscriptions.api.serializers import (
    SubscriptionPlanSerializer,
    UserSubscriptionSerializer,
)
from django_torgovo_subscriptions.compat import (
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from django_torgovo_subscriptions.models import ManagedBotOffer
from django_torgovo_subscriptions.models.fields import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from django_torgovo_subscriptions.services import managed


def money(**kwargs) -> StringDecimalField:
    return StringDecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES,
                              **kwargs)


class OfferPerformanceSerializer(serializers.Serializer):
    investors = serializers.IntegerField(help_text="Investors currently in this bot.")
    total_invested = money(help_text="Sum of their initial investments.")
    net_profit = money(help_text="Their realized profit minus loss, after fees.")
    return_percentage = StringDecimalField(
        max_digits=12, decimal_places=2, allow_null=True,
        help_text="net_profit / total_invested in percent; null with no investors.")


class ManagedBotOfferSerializer(serializers.ModelSerializer):
    exchange = serializers.SerializerMethodField()
    symbol = serializers.SerializerMethodField()
    plan = SubscriptionPlanSerializer(read_only=True)
    minimum_investment = money()
    performance = serializers.SerializerMethodField()

    class Meta:
        model = ManagedBotOffer
        fields = ("id", "name", "description", "exchange", "symbol", "minimum_investment",
                  "plan", "performance")

    def get_exchange(self, offer) -> str | None:
        return host.pair_config_value(offer.managed_bot, "exchange")

    def get_symbol(self, offer) -> str | None:
        return host.pair_config_value(offer.managed_bot, "symbol")

    @extend_schema_field(OfferPerformanceSerializer)
    def get_performance(self, offer) -> dict:
        net = offer.total_profit - offer.total_loss
        return OfferPerformanceSerializer({
            "investors": offer.investors,
            "total_invested": offer.total_invested,
            "net_profit": net,
            "return_percentage": managed.return_percentage(net, offer.total_invested),
        }).data


class InvestSerializer(serializers.Serializer):
    offer_id = serializers.PrimaryKeyRelatedField(
        queryset=ManagedBotOffer.objects.all(),
        error_messages={"does_not_exist": "No managed bot offer has id {pk_value}.",
                        "incorrect_type": "An offer id is a number, not {data_type}."},
        help_text="The id of an offer from managed-bot/available/.")
    initial_investment = money(min_value=Decimal("0.01"),
                               help_text="Decimal string in the plan's currency, at least the "
                                         "offer's minimum_investment.")


@extend_schema(tags=["managed bots"])
class ManagedBotAvailableView(PackageAPIViewMixin, generics.ListAPIView):
    """Managed bots open to investors, with plan, terms and current figures."""

    serializer_class = ManagedBotOfferSerializer
    permission_classes = [permissions.AllowAny]

    def get_queryset(self):
        return managed.available_offers().select_related("managed_bot")


class ManagedBotSubscribeView(PackageAPIViewMixin, generics.GenericAPIView):
    """Invest in a managed bot: creates (or extends) the managed-bot subscription."""

    serializer_class = InvestSerializer

    @extend_schema(
        tags=["managed bots"],
        request=InvestSerializer,
        responses={
            201: inline_serializer("ManagedBotInvestment", {
                "subscription": UserSubscriptionSerializer(),
                "performance_id": serializers.IntegerField(),
                "initial_investment": StringDecimalField(max_digits=18, decimal_places=2),
            }),
            400: error("validation_error, investment_too_small or offer_unavailable."),
            403: error("pair_limit_reached."),
            409: error("already_subscribed."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request, *args, **kwargs):
        data = InvestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        performance = managed.invest(
            request.user, data.validated_data["offer_id"], data.validated_data["initial_investment"]
        )
        return Response(
            {
                "subscription": UserSubscriptionSerializer(performance.subscription).data,
                "performance_id": performance.pk,
                "initial_investment": str(performance.initial_investment),
            },
            status=status.HTTP_201_CREATED,
        )
