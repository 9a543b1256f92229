"""Managed-bot endpoints: offers, investing, and the investor's performance."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response

from django_torgovo_subscriptions.api.base import PackageAPIViewMixin
from django_torgovo_subscriptions.api.fields import PairConfigValueField, StringDecimalField
from django_torgovo_subscriptions.api.schema import (
    AUTH_ERRORS,
    ID_PATH,
    PUBLIC_AUTH_ERRORS,
    error,
)
from django_torgovo_subscriptions.api.serializers import (
    SubscriptionPlanSerializer,
    UserSubscriptionSerializer,
)
from django_torgovo_subscriptions.compat import (
    OpenApiParameter,
    OpenApiTypes,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from django_torgovo_subscriptions.exceptions import InvalidDateRange
from django_torgovo_subscriptions.host import get_host_adapter
from django_torgovo_subscriptions.models import ManagedBotOffer, SubscriptionStatus
from django_torgovo_subscriptions.models.fields import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from django_torgovo_subscriptions.services.managed_bot import history
from django_torgovo_subscriptions.services.managed_bot import offers as managed


def money(**kwargs) -> StringDecimalField:
    return StringDecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


class OfferPerformanceSerializer(serializers.Serializer):
    investors = serializers.IntegerField(help_text="Investors currently in this bot.")
    total_invested = money(help_text="Sum of their initial investments.")
    net_profit = money(help_text="Their realized profit minus loss, after fees.")
    return_percentage = StringDecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="net_profit / total_invested in percent; null with no investors.",
    )


class SparklinePointSerializer(serializers.Serializer):
    date = serializers.DateField()
    return_percentage = StringDecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="The current investors' cumulative net profit over their investments.",
    )


class ManagedBotOfferSerializer(serializers.ModelSerializer):
    exchange = PairConfigValueField("exchange", source="managed_bot")
    symbol = PairConfigValueField("symbol", source="managed_bot")
    plan = SubscriptionPlanSerializer(read_only=True)
    minimum_investment = money()
    performance = serializers.SerializerMethodField()
    sparkline = serializers.SerializerMethodField()

    class Meta:
        model = ManagedBotOffer
        fields = (
            "id",
            "name",
            "description",
            "exchange",
            "symbol",
            "minimum_investment",
            "plan",
            "performance",
            "sparkline",
        )

    @extend_schema_field(SparklinePointSerializer(many=True))
    def get_sparkline(self, offer) -> list:
        series = self.context.get("sparklines", {}).get(offer.managed_bot_id, [])
        return SparklinePointSerializer(series, many=True).data

    @extend_schema_field(OfferPerformanceSerializer)
    def get_performance(self, offer) -> dict:
        net = offer.total_profit - offer.total_loss
        return OfferPerformanceSerializer(
            {
                "investors": offer.investors,
                "total_invested": offer.total_invested,
                "net_profit": net,
                "return_percentage": managed.return_percentage(net, offer.total_invested),
            }
        ).data


class InvestSerializer(serializers.Serializer):
    offer_id = serializers.PrimaryKeyRelatedField(
        queryset=ManagedBotOffer.objects.all(),
        error_messages={
            "does_not_exist": "No managed bot offer has id {pk_value}.",
            "incorrect_type": "An offer id is a number, not {data_type}.",
        },
        help_text="The id of an offer from managed-bot/available/.",
    )
    initial_investment = money(
        min_value=Decimal("0.01"),
        help_text="Decimal string in the plan's currency, at least the offer's minimum_investment.",
    )


@extend_schema(
    tags=["managed bots"],
    auth=[],
    responses={200: ManagedBotOfferSerializer(many=True), **PUBLIC_AUTH_ERRORS},
)
class ManagedBotAvailableView(PackageAPIViewMixin, generics.ListAPIView):
    """Managed bots open to investors, with plan, terms and current figures."""

    serializer_class = ManagedBotOfferSerializer
    permission_classes = [permissions.AllowAny]
    subscriptions_throttle_scope = "managed_bot"

    def get_queryset(self):
        return managed.available_offers().select_related("managed_bot")

    def get_serializer_context(self):
        # The sparklines of the page's bots, in one query (set by list()).
        return {**super().get_serializer_context(), "sparklines": getattr(self, "_sparklines", {})}

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        self._sparklines = history.sparklines(offer.managed_bot_id for offer in page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ManagedBotSubscribeView(PackageAPIViewMixin, generics.GenericAPIView):
    """Invest in a managed bot: creates (or extends) the managed-bot subscription."""

    serializer_class = InvestSerializer
    subscriptions_throttle_scope = "managed_bot"

    @extend_schema(
        tags=["managed bots"],
        request=InvestSerializer,
        responses={
            201: inline_serializer(
                "ManagedBotInvestment",
                {
                    "subscription": UserSubscriptionSerializer(),
                    "performance_id": serializers.IntegerField(),
                    "initial_investment": StringDecimalField(max_digits=18, decimal_places=2),
                },
            ),
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


def offer_id_of(bot) -> int | None:
    """The id of a managed bot's offer (loaded with the row), None if it has none."""
    offer = getattr(bot, "torgovo_managed_offer", None)
    return offer.pk if offer else None


class PerformanceBotSerializer(serializers.Serializer):
    """The host PairConfig the investment is in (not the offer: see ``offer_id``)."""

    id = serializers.IntegerField(
        source="pk", help_text="The host PairConfig's id; the offer's id is offer_id."
    )
    name = serializers.SerializerMethodField()
    exchange = PairConfigValueField("exchange", source="*")
    symbol = PairConfigValueField("symbol", source="*")

    def get_name(self, bot) -> str:
        offer = getattr(bot, "torgovo_managed_offer", None)
        return offer.name if offer else get_host_adapter().pair_config_name(bot)


class PerformanceSubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices)
    is_live = serializers.BooleanField()
    end_date = serializers.DateTimeField(allow_null=True)


class PerformanceReportSerializer(serializers.Serializer):
    """One investment: money is decimal strings in the plan's currency."""

    id = serializers.IntegerField(source="performance.pk")
    offer_id = serializers.SerializerMethodField(
        help_text="The id of the bot's offer in managed-bot/available/ (null if it has none)."
    )
    managed_bot = PerformanceBotSerializer(source="performance.managed_bot")
    subscription = PerformanceSubscriptionSerializer(source="performance.subscription")
    currency = serializers.CharField(source="performance.subscription.plan.currency")
    initial_investment = money(source="summary.initial_investment")
    current_balance = money(
        source="summary.current_balance", help_text="Initial investment plus realized net profit."
    )
    total_profit = money(source="summary.total_profit", help_text="Realized gains, after fees.")
    total_loss = money(source="summary.total_loss", help_text="Realized losses, a positive amount.")
    fees_paid = money(source="summary.fees_paid", help_text="Exchange fees on the bot's orders.")
    net_profit = money(help_text="total_profit - total_loss.")
    return_percentage = StringDecimalField(max_digits=12, decimal_places=2, allow_null=True)
    high_water_mark = money(source="summary.high_water_mark")
    profit_share_percentage = serializers.SerializerMethodField()
    profit_share_accruing = money(
        source="summary.profit_share_accruing",
        help_text="Accrued and not settled yet: what settling the share now would charge.",
    )
    profit_share_due = money(
        source="summary.profit_share_due", help_text="Settled and not yet paid."
    )
    profit_share_paid = money(
        source="summary.profit_share_paid", help_text="Paid, as verified gateway events said."
    )
    profit_share_invoiced = money(
        help_text="Part of profit_share_due charged at the gateway and not paid yet."
    )
    profit_share_overdue = money(
        help_text="Part of profit_share_invoiced whose charge failed (the subscription is "
        "past_due; trading pauses after the grace period)."
    )
    profit_share_payment_id = serializers.IntegerField(
        allow_null=True, help_text="The latest profit-share payment (payments/history/)."
    )
    paused_at = serializers.DateTimeField(
        source="performance.paused_at",
        allow_null=True,
        help_text="Set while new signals skip this investment.",
    )
    pause_reason = serializers.CharField(
        source="performance.pause_reason", help_text="profit_share_unpaid or operator."
    )
    guaranteed_monthly_return = StringDecimalField(
        source="performance.subscription.plan.guaranteed_monthly_return",
        max_digits=5,
        decimal_places=2,
        allow_null=True,
    )
    guaranteed_return = money(
        allow_null=True, help_text="What the guarantee promises so far; null without one."
    )
    guaranteed_shortfall = money(
        allow_null=True, help_text="How much net profit lacks of the guarantee."
    )
    last_calculated = serializers.DateTimeField(source="summary.last_calculated", allow_null=True)
    closed_at = serializers.DateTimeField(source="summary.closed_at", allow_null=True)

    def get_offer_id(self, report) -> int | None:
        return offer_id_of(report.performance.managed_bot)

    def get_profit_share_percentage(self, report) -> str:
        return f"{report.summary.profit_share_rate * 100:.2f}"


@extend_schema(
    tags=["managed bots"], responses={200: PerformanceReportSerializer(many=True), **AUTH_ERRORS}
)
class ManagedBotPerformanceView(PackageAPIViewMixin, generics.ListAPIView):
    """The user's own managed-bot investments with profit and profit share."""

    serializer_class = PerformanceReportSerializer
    subscriptions_throttle_scope = "managed_bot"

    def get_queryset(self):
        return managed.performance_rows(self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        reports = [managed.performance_report(row) for row in page]
        return self.get_paginated_response(PerformanceReportSerializer(reports, many=True).data)


class FromFieldMixin:
    """Names the ``from_`` field "from" (a Python keyword) in the data."""

    def get_fields(self):
        return {
            ("from" if name == "from_" else name): f for name, f in super().get_fields().items()
        }


class HistoryQuerySerializer(FromFieldMixin, serializers.Serializer):
    from_ = serializers.DateField(required=False, input_formats=["iso-8601"])
    to = serializers.DateField(required=False, input_formats=["iso-8601"])

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": ["Must not be after to."]})
        return attrs


class HistoryPointSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A calendar day (the platform's time zone).")
    balance = money(help_text="initial_investment + cumulative_net at the day's close.")
    cumulative_net = money(help_text="Realized net profit since investing, at the close.")
    high_water_mark = money(help_text="The high-water mark in force at the close.")
    share_accrued = money(
        help_text="The profit share the profit up to the close accounts for (charged or not)."
    )


class PerformanceHistorySerializer(FromFieldMixin, serializers.Serializer):
    performance_id = serializers.IntegerField(source="performance.pk")
    offer_id = serializers.SerializerMethodField()
    currency = serializers.CharField(source="performance.subscription.plan.currency")
    initial_investment = money(source="performance.initial_investment")
    from_ = serializers.DateField(allow_null=True, source="start")
    to = serializers.DateField(allow_null=True, source="end")
    points = HistoryPointSerializer(many=True)

    def get_offer_id(self, data) -> int | None:
        return offer_id_of(data["performance"].managed_bot)


@extend_schema(
    tags=["managed bots"],
    parameters=[
        ID_PATH,
        OpenApiParameter("from", OpenApiTypes.DATE, description="First day (YYYY-MM-DD)."),
        OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (YYYY-MM-DD)."),
    ],
    responses={
        200: PerformanceHistorySerializer,
        400: error("invalid_date_range."),
        404: error("not_found: no investment of yours has this id."),
        **AUTH_ERRORS,
    },
)
class ManagedBotPerformanceHistoryView(PackageAPIViewMixin, generics.GenericAPIView):
    """One of the user's investments, day by day: balance, net, high-water mark, share."""

    serializer_class = PerformanceHistorySerializer
    subscriptions_throttle_scope = "managed_bot"

    def get_queryset(self):
        return managed.performance_rows(self.request.user)

    def get(self, request, *args, **kwargs):
        query = HistoryQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise InvalidDateRange(fields=query.errors)
        row = self.get_object()
        start, end = query.validated_data.get("from"), query.validated_data.get("to")
        points = history.performance_history(row, start=start, end=end)
        data = {"performance": row, "start": start, "end": end, "points": points}
        return Response(PerformanceHistorySerializer(data).data)
