"""The example host's own API: the user's bot configurations and bot creation."""

from django.db import transaction
from rest_framework import generics, permissions, serializers, status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from django_torgovo_subscriptions.api.permissions import HasActiveSubscription
from django_torgovo_subscriptions.decorators import subscription_required
from django_torgovo_subscriptions.services.quota import guard_bot_creation
from trading.bot_manager import TradingManager
from trading.models import Bot, PairConfig


class PairConfigSerializer(serializers.ModelSerializer):
    class Meta:
        model = PairConfig
        fields = (
            "id",
            "name",
            "exchange",
            "symbol",
            "timeframe",
            "order_size",
            "is_managed",
            "is_active",
        )


class PairConfigListView(generics.ListAPIView):
    serializer_class = PairConfigSerializer

    def get_queryset(self):
        return PairConfig.objects.filter(user=self.request.user).order_by("id")


class CreateBotSerializer(serializers.Serializer):
    pair_config = serializers.PrimaryKeyRelatedField(queryset=PairConfig.objects.all())

    def validate_pair_config(self, pair_config):
        if pair_config.user_id != self.context["request"].user.pk:
            raise serializers.ValidationError("Not one of your pair configs.")
        return pair_config


@api_view(["POST"])
def create_bot(request):
    """Torgovo's bot creation, guarded: a live subscription of the right type
    and room in the plan's pair quota come before TradingManager.create_bot().
    The bot is recorded (and so counted) in the transaction that holds the
    guard's lock on the subscription."""
    data = CreateBotSerializer(data=request.data, context={"request": request})
    data.is_valid(raise_exception=True)
    pair_config = data.validated_data["pair_config"]
    with transaction.atomic():
        guard_bot_creation(request.user, pair_config)
        bot, _ = Bot.objects.get_or_create(user=request.user, pair_config=pair_config)
        created = TradingManager().create_bot(request.user, pair_config)
    return Response({"id": bot.pk, **created}, status=status.HTTP_201_CREATED)


@api_view(["GET"])
@subscription_required(plan_type="custom_bot")
def custom_bot_dashboard(request):
    """A host view gated by the decorator."""
    return Response({"plan": request.subscription.plan.slug, "ends": request.subscription.end_date})


@api_view(["GET"])
def managed_report(request):
    """A host view gated by the middleware (see PROTECTED_PATHS in settings)."""
    return Response({"plan": request.subscription.plan.slug})


class LiveTradingStatusView(generics.GenericAPIView):
    """A host API view gated by the DRF permission, with a plan feature."""

    permission_classes = [
        permissions.IsAuthenticated,
        HasActiveSubscription.of(plan_type="custom_bot", feature="live_trading"),
    ]

    def get(self, request):
        return Response({"live_trading": True, "plan": request.subscription.plan.slug})
