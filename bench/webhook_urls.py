"""
URLs of the bench server: the example host's, plus two views the webhook
receiver is measured against:

    baseline  a minimal DRF view doing 1 SELECT + 1 INSERT (the yardstick of the
              target receive/baseline >= 0.6 that bench/webhook.py checks)
    floor     the receiver's I/O and nothing else, in a plain Django view: the
              same rate-limit round trip (one Redis pipeline), the same webhook
              query (with the plan, as this host counts its own pairs), the
              database timeouts (DESIGN.md §6: every wait bounded; one statement
              sets both and reads the connection's values, one puts them back
              after, services.transactions.postgres_timeouts, the cheapest form
              that gives a persistent connection its own values back), the host's
              pair count (PAIRS_IN_USE_FUNCTION: the example host counts its own
              bots, one UNION), the event row, the Order and the event's result.
              No check, no redaction, no dedupe handling, no error path. No
              receiver that makes these statements can be faster, so
              floor/baseline bounds the ratio.
"""

import hashlib
import json
from decimal import Decimal

from django.http import JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.host import get_host_adapter
from django_torgovo_subscriptions.models import WebhookEvent
from django_torgovo_subscriptions.services.custom_bot import ratelimit
from django_torgovo_subscriptions.services.custom_bot.issuing import hash_secret
from django_torgovo_subscriptions.services.custom_bot.receiver import RECEIVER_WEBHOOKS_WITH_PLAN
from django_torgovo_subscriptions.services.transactions import postgres_timeouts
from trading.models import Indicator, Order, PairConfig


class Baseline(APIView):
    """Parse the JSON body, read one PairConfig, insert one row, answer 201."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def post(self, request, pk):
        pair_config = PairConfig.objects.only("id").get(pk=pk)
        row = Indicator.objects.create(pair_config=pair_config, name="bench", params=request.data)
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)


@csrf_exempt
@require_POST
def receiver_floor(request, secret):
    """The receiver's statements in the receiver's order, and nothing else (no DRF either:
    the receiver does not go through it for a POST)."""
    with postgres_timeouts(
        subscriptions_settings.WEBHOOK_DB_LOCK_TIMEOUT_MS,
        subscriptions_settings.WEBHOOK_DB_STATEMENT_TIMEOUT_MS,
    ):
        return floor_statements(request, secret)


def floor_statements(request, secret):
    data = json.loads(request.body)
    client_ip = request.META["REMOTE_ADDR"]
    ratelimit.count_request(client_ip, f"floor-{hash_secret(secret)}")
    webhook = RECEIVER_WEBHOOKS_WITH_PLAN.get(secret_hash=hash_secret(secret))
    in_use = get_host_adapter().pairs_in_use(webhook.user, webhook.subscription.plan_type)
    assert len(in_use) <= webhook.subscription.plan.max_trading_pairs
    event = WebhookEvent.objects.create(
        webhook=webhook,
        source_ip=client_ip,
        outcome="processing",
        headers=dict(request.headers),
        body=request.body.decode(),
        signal=data,
        dedupe_key=hashlib.sha256(f"{webhook.pk}|{data['order_id']}".encode()).hexdigest(),
    )
    order = Order.objects.create(
        user=webhook.user,
        pair_config=webhook.pair_config,
        symbol=webhook.pair_config.symbol,
        side="BUY",
        quantity=Decimal(data["quantity"]),
        price=Decimal(data["price"]),
        status="FILLED",
        source="WEBHOOK",
    )
    WebhookEvent.objects.filter(pk=event.pk).update(
        outcome="executed", order_id=str(order.pk), processed_at=timezone.now()
    )
    return JsonResponse({"status": "executed", "event_id": event.pk, "order_id": str(order.pk)})


urlpatterns = [
    path("bench/baseline/<int:pk>/", Baseline.as_view()),
    path("bench/floor/<str:secret>/", receiver_floor),
    path("", include("example_project.urls")),
]
