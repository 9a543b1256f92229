"""
Custom-bot endpoints: the user's TradingView webhooks, and the receiver
TradingView posts alerts to.

The receiver has no token authentication (the URL's secret is the credential),
no CSRF check, and runs outside ``ATOMIC_REQUESTS`` so that its event row is
kept whatever happens. Its path holds the secret, so its responses are marked
as logged: Django's ``django.request`` logger would otherwise write the path of
every 4xx answer into the host's logs.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from rest_framework import generics, permissions, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from django_torgovo_subscriptions.api.base import PackageAPIViewMixin, SubscriptionsPagination
from django_torgovo_subscriptions.api.fields import BlankAsNullCharField, PairConfigValueField
from django_torgovo_subscriptions.api.permissions import HasActiveSubscription
from django_torgovo_subscriptions.api.schema import AUTH_ERRORS, ID_PATH, error
from django_torgovo_subscriptions.compat import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from django_torgovo_subscriptions.exceptions import SubscriptionsError
from django_torgovo_subscriptions.host import get_host_adapter
from django_torgovo_subscriptions.models import (
    CustomBotWebhook,
    PlanType,
    WebhookEvent,
    WebhookOutcome,
    WebhookPurpose,
)
from django_torgovo_subscriptions.services.custom_bot import issuing, pairs, receiver

# --- serializers -------------------------------------------------------------


@extend_schema_field({"type": "integer"})
class TradablePairConfigField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        "does_not_exist": "You have no PairConfig with id {pk_value} that a custom bot may trade.",
        "incorrect_type": "A PairConfig id is a number, not {data_type}.",
    }

    def get_queryset(self):
        return get_host_adapter().tradable_pair_configs(
            self.context["request"].user, exclude_managed=True
        )


class GenerateWebhookSerializer(serializers.Serializer):
    pair_config = TradablePairConfigField(
        help_text="The id of a PairConfig you may trade (your own, or any active one when "
        "the host's configurations are platform-wide)."
    )


class WebhookSerializer(serializers.ModelSerializer):
    """A webhook as its owner sees it. The secret is never shown again."""

    symbol = PairConfigValueField("symbol", source="pair_config")

    class Meta:
        model = CustomBotWebhook
        fields = (
            "id",
            "pair_config",
            "symbol",
            "is_active",
            "created_at",
            "last_used_at",
            "rotated_at",
            "deactivated_at",
        )
        read_only_fields = fields


class IssuedWebhookSerializer(WebhookSerializer):
    """
    The answer of generate and rotate: the webhook as the list shows it, with
    its URL and alert message, which hold the secret in clear (shown this once).
    """

    webhook_url = serializers.URLField(
        read_only=True, help_text="Paste into the alert's Webhook URL box."
    )
    tradingview_json = serializers.DictField(
        read_only=True, help_text="Paste into the alert's Message box, unchanged."
    )

    class Meta(WebhookSerializer.Meta):
        fields = (*WebhookSerializer.Meta.fields, "webhook_url", "tradingview_json")
        read_only_fields = fields

    def to_representation(self, issued: issuing.IssuedSecret) -> dict[str, Any]:
        webhook = WebhookSerializer(issued.webhook, context=self.context).data
        return {**webhook, **issued.as_json(self.context.get("request"))}


class WebhookEventSerializer(serializers.ModelSerializer):
    """One request to the webhook, as its owner sees it (no headers, no body)."""

    # null rather than "" when empty, as in the receiver's answers.
    code = BlankAsNullCharField(
        help_text="The stable code of a rejection or a failed trade; null when there is none "
        "(e.g. executed)."
    )
    error = BlankAsNullCharField(
        help_text="What went wrong, for people; null when there is none (e.g. executed)."
    )
    order_id = BlankAsNullCharField(help_text="Primary key of the host Order the alert produced.")

    class Meta:
        model = WebhookEvent
        fields = (
            "id",
            "received_at",
            "outcome",
            "code",
            "error",
            "status_code",
            "signal",
            "order_id",
            "source_ip",
            "duration_ms",
            "processed_at",
        )
        read_only_fields = fields


class TradablePairSerializer(serializers.Serializer):
    """A PairConfig a custom bot may trade, with the user's webhook on it."""

    id = serializers.IntegerField(
        source="pk", read_only=True, help_text="The pair_config to generate with."
    )
    name = serializers.SerializerMethodField()
    symbol = PairConfigValueField("symbol", source="*")
    exchange = PairConfigValueField("exchange", source="*")
    webhook_active = serializers.SerializerMethodField(
        help_text="Whether one of your webhooks is active on it."
    )
    webhook_id = serializers.SerializerMethodField(help_text="That webhook's id, or null.")
    in_use = serializers.SerializerMethodField(
        help_text="Whether it counts against your plan's pair quota."
    )

    def get_name(self, pair_config: Any) -> str:
        return get_host_adapter().pair_config_name(pair_config)

    def get_webhook_active(self, pair_config: Any) -> bool:
        return pairs.active_webhook_id(pair_config) is not None

    def get_webhook_id(self, pair_config: Any) -> int | None:
        return pairs.active_webhook_id(pair_config)

    def get_in_use(self, pair_config: Any) -> bool:
        return pair_config.pk in self.context["pair_quota"].in_use


class PairQuotaSerializer(serializers.Serializer):
    max_trading_pairs = serializers.IntegerField(help_text="What your plan allows.")
    used = serializers.IntegerField(help_text="Pairs in use: with an active bot or webhook.")
    left = serializers.IntegerField(help_text="Pairs you may still add a webhook on.")


class TradablePairsPagination(SubscriptionsPagination):
    """A page of pairs, with the plan's ``pair_quota`` beside it."""

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        fields = PairQuotaSerializer().fields
        paginated["properties"]["pair_quota"] = {
            "type": "object",
            "properties": {
                name: {"type": "integer", "description": field.help_text}
                for name, field in fields.items()
            },
            "required": list(fields),
        }
        paginated.setdefault("required", []).append("pair_quota")
        return paginated


# --- owner endpoints -----------------------------------------------------------


@extend_schema(
    tags=["custom bots"],
    responses={
        200: TradablePairSerializer(many=True),
        403: error("subscription_required or subscription_expired."),
        **AUTH_ERRORS,
    },
)
class TradablePairListView(PackageAPIViewMixin, generics.ListAPIView):
    """The PairConfigs you may put a custom bot on, and what your plan's pair quota has left."""

    serializer_class = TradablePairSerializer
    pagination_class = TradablePairsPagination
    subscriptions_throttle_scope = "custom_bot"
    permission_classes = [
        permissions.IsAuthenticated,
        HasActiveSubscription.of(plan_type=PlanType.CUSTOM_BOT),
    ]

    def get_queryset(self):
        return pairs.tradable_pairs(self.request.user)

    def list(self, request, *args, **kwargs):
        # request.subscription: the live subscription HasActiveSubscription found.
        self.quota = pairs.pair_quota(request.user, request.subscription)
        return super().list(request, *args, **kwargs)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "pair_quota": getattr(self, "quota", None)}

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["pair_quota"] = PairQuotaSerializer(self.quota).data
        return response


class WebhookGenerateView(PackageAPIViewMixin, generics.GenericAPIView):
    """Create a webhook for a PairConfig: the URL and the alert JSON, shown this once."""

    serializer_class = GenerateWebhookSerializer
    subscriptions_throttle_scope = "custom_bot"
    permission_classes = [
        permissions.IsAuthenticated,
        HasActiveSubscription.of(plan_type=PlanType.CUSTOM_BOT),
    ]

    @extend_schema(
        tags=["custom bots"],
        request=GenerateWebhookSerializer,
        responses={
            201: IssuedWebhookSerializer,
            400: error("validation_error: no such PairConfig you may trade."),
            403: error("subscription_required, subscription_expired or pair_limit_reached."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = issuing.generate_webhook(request.user, data.validated_data["pair_config"])
        return secret_response(issued, request, status.HTTP_201_CREATED)


def secret_response(issued: issuing.IssuedSecret, request: Any, code: int) -> Response:
    data = IssuedWebhookSerializer(issued, context={"request": request}).data
    response = Response(data, status=code)
    response["Cache-Control"] = "no-store"
    return response


class OwnWebhooksMixin(PackageAPIViewMixin):
    serializer_class = WebhookSerializer
    subscriptions_throttle_scope = "custom_bot"

    def get_queryset(self):
        queryset = CustomBotWebhook.objects.filter(
            user=self.request.user, purpose=WebhookPurpose.CUSTOM_BOT
        ).select_related("pair_config")
        is_active = self.request.query_params.get("is_active")
        if is_active in ("true", "false"):
            queryset = queryset.filter(is_active=is_active == "true")
        return queryset


@extend_schema(tags=["custom bots"], responses={200: WebhookSerializer(many=True), **AUTH_ERRORS})
class WebhookListView(OwnWebhooksMixin, generics.ListAPIView):
    """The user's webhooks, newest first (``?is_active=true|false``)."""


@extend_schema(
    tags=["custom bots"],
    parameters=[ID_PATH],
    responses={200: WebhookSerializer, 404: error("not_found."), **AUTH_ERRORS},
)
class WebhookDetailView(OwnWebhooksMixin, generics.RetrieveAPIView):
    """GET one webhook; DELETE deactivates it (kept, with its events, but refusing alerts)."""

    def delete(self, request, *args, **kwargs):
        webhook = issuing.deactivate(self.get_object())
        return Response(WebhookSerializer(webhook).data)


class WebhookRotateView(OwnWebhooksMixin, generics.GenericAPIView):
    """Replace the secret: the old URL stops working at once; the new one is shown once."""

    @extend_schema(
        tags=["custom bots"],
        request=None,
        parameters=[ID_PATH],
        responses={
            200: IssuedWebhookSerializer,
            404: error("not_found."),
            409: error("webhook_inactive."),
            **AUTH_ERRORS,
        },
    )
    def post(self, request, *args, **kwargs):
        issued = issuing.rotate_secret(self.get_object())
        return secret_response(issued, request, status.HTTP_200_OK)


@extend_schema(
    tags=["custom bots"],
    parameters=[ID_PATH],
    responses={200: WebhookEventSerializer(many=True), 404: error("not_found."), **AUTH_ERRORS},
)
class WebhookEventListView(OwnWebhooksMixin, generics.ListAPIView):
    """Every request one of the user's webhooks received, newest first."""

    def get_serializer_class(self):
        return WebhookEventSerializer

    def get_queryset(self):
        webhook = generics.get_object_or_404(super().get_queryset(), pk=self.kwargs["pk"])
        return WebhookEvent.objects.filter(webhook=webhook)


# --- the receiver --------------------------------------------------------------


class AlwaysJSON(BaseContentNegotiation):
    """TradingView's Accept header is no reason to refuse an alert."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


RECEIPT_RENDERER = JSONRenderer()
RECEIVE_ALLOW = "POST"


class ReceiveRefused(SubscriptionsError):
    status_code = status.HTTP_405_METHOD_NOT_ALLOWED
    default_code = "method_not_allowed"
    default_detail = "Alerts are sent with POST."


# What the receiver answers an accepted alert with (every outcome but "rejected",
# whose answer is an error).
ACCEPTED_OUTCOMES = [value for value in WebhookOutcome.values if value != WebhookOutcome.REJECTED]
ALERT_RECEIPT = inline_serializer(
    "AlertReceipt",
    {
        "status": serializers.ChoiceField(
            choices=ACCEPTED_OUTCOMES,
            help_text="executed, failed or duplicate; queued with Celery (202); processing "
            "while an operator signal's investors are still being traded.",
        ),
        "event_id": serializers.IntegerField(),
        "order_id": serializers.CharField(allow_null=True),
        "code": serializers.CharField(allow_null=True),
        "detail": serializers.CharField(),
        "managed_signal": inline_serializer(
            "ManagedSignalReceipt",
            {
                "managed_signal_id": serializers.IntegerField(),
                "queued": serializers.BooleanField(),
                "pending": serializers.IntegerField(),
                "executed": serializers.IntegerField(),
                "failed": serializers.IntegerField(),
                "skipped": serializers.IntegerField(),
            },
            required=False,
            help_text="Operator signal webhooks only: the investors' trades.",
        ),
    },
)


class WebhookReceiveView(PackageAPIViewMixin, generics.GenericAPIView):
    """TradingView posts alerts here. No token: the secret in the URL is the credential."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes: list = []
    renderer_classes = [JSONRenderer]
    parser_classes: list = []
    content_negotiation_class = AlwaysJSON
    # POST only: OPTIONS metadata would describe a serializer this view has
    # not, and TradingView never asks. Every other method is a logged 405.
    http_method_names = ["post"]

    @classmethod
    def as_view(cls, **initkwargs):
        drf_view = super().as_view(**initkwargs)

        # POST, the only method TradingView uses, skips DRF's request wrapping,
        # negotiation and response finalising, none of which it needs: the same
        # renderer makes the same bytes, with the same headers. Every other
        # method (a 405, OPTIONS) goes through DRF as before.
        @functools.wraps(drf_view)  # keeps cls, initkwargs, csrf_exempt
        def view(request, *args, **kwargs):
            if request.method != "POST":
                return drf_view(request, *args, **kwargs)
            return cls.receive_post(request, kwargs["secret"])

        # dj-stripe does the same: the event row must survive ATOMIC_REQUESTS.
        return transaction.non_atomic_requests(view)

    @classmethod
    def receive_post(cls, request, secret: str) -> HttpResponse:
        receipt = receiver.receive_bounded(request, secret)
        response = HttpResponse(
            RECEIPT_RENDERER.render(receipt.body),
            status=receipt.status_code,
            content_type=RECEIPT_RENDERER.media_type,
        )
        response["Allow"] = RECEIVE_ALLOW
        if receipt.retry_after:
            response["Retry-After"] = str(receipt.retry_after)
        response._has_been_logged = True  # the path holds the secret
        return response

    @extend_schema(
        tags=["custom bots"],
        auth=[],
        request={"application/json": dict, "text/plain": str},
        responses={
            200: ALERT_RECEIPT,
            202: OpenApiResponse(
                response=ALERT_RECEIPT,
                description="Stored; executed in the background (Celery): status queued.",
            ),
            400: error(
                "invalid_json, unreplaced_placeholder, invalid_action, missing_ticker, "
                "invalid_ticker, invalid_quantity, invalid_fraction, invalid_price, "
                "quantity_out_of_range, price_out_of_range, invalid_order_id, invalid_time, "
                "ticker_mismatch or alert_too_old."
            ),
            403: error(
                "invalid_secret, ip_not_allowed, subscription_required, "
                "subscription_expired, pair_limit_reached, pair_config_unavailable or "
                "not_an_operator."
            ),
            410: error("webhook_inactive."),
            413: error("payload_too_large."),
            429: error("rate_limited."),
            503: error(
                "temporarily_unavailable: TradingView sends the alert again. A trade whose "
                "Order could not be written yet answers the 200 receipt's fields with "
                "status failed and code order_pending (executed: the retry writes the "
                "Order) or order_not_saved (nothing traded: the retry trades)."
            ),
        },
    )
    def post(self, request, secret: str, *args, **kwargs):
        # Reached only when the view is called without as_view()'s POST path.
        receipt = receiver.receive_bounded(request._request, secret)
        response = Response(receipt.body, status=receipt.status_code)
        if receipt.retry_after:
            response["Retry-After"] = str(receipt.retry_after)
        return response

    def http_method_not_allowed(self, request, *args, **kwargs):
        receipt = receiver.reject_request(
            request._request, kwargs.get("secret", ""), ReceiveRefused()
        )
        return Response(receipt.body, status=receipt.status_code, headers={"Allow": RECEIVE_ALLOW})

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response._has_been_logged = True  # the path holds the secret
        return response
