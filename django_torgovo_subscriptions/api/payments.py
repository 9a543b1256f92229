"""
Payment endpoints: the gateways on offer, start a checkout, receive gateway
events, payment history, and the dummy gateway's checkout page.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from rest_framework import generics, permissions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer, TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from django_torgovo_subscriptions.api.base import PackageAPIViewMixin
from django_torgovo_subscriptions.api.fields import PackageModelSerializer, shortfall
from django_torgovo_subscriptions.api.schema import (
    AUTH_ERRORS,
    PUBLIC_AUTH_ERRORS,
    error,
)
from django_torgovo_subscriptions.compat import (
    OpenApiResponse,
    OpenApiTypes,
    extend_schema,
    inline_serializer,
)
from django_torgovo_subscriptions.exceptions import (
    CheckoutClosed,
    NotPendingPayment,
    UnknownGateway,
)
from django_torgovo_subscriptions.models import SubscriptionStatus, UserSubscription
from django_torgovo_subscriptions.models.payments import CheckoutSession, CheckoutStatus, Payment
from django_torgovo_subscriptions.payments import dummy as dummy_gateway
from django_torgovo_subscriptions.payments import gateway_named, get_gateway, get_gateways
from django_torgovo_subscriptions.services import payments as billing

# --- serializers ---------------------------------------------------------------------


class CreateCheckoutSerializer(serializers.Serializer):
    subscription_id = serializers.IntegerField(
        help_text="Your subscription waiting for payment (status pending_payment)."
    )
    gateway = serializers.CharField(
        required=False,
        max_length=30,
        help_text="The name of one of the gateways of GET payments/gateways/; "
        "default: the default one.",
    )


class GatewaySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="What create-checkout's `gateway` takes.")
    display_name = serializers.CharField(help_text="What to show the user.")
    native_recurring = serializers.BooleanField(
        help_text="True: the gateway charges renewals itself (cards on file); false: the server "
        "asks it to charge each period."
    )
    default = serializers.BooleanField(help_text="Used when create-checkout names no gateway.")


class CheckoutSessionSerializer(serializers.ModelSerializer):
    checkout_id = serializers.CharField(source="session_id")
    checkout_url = serializers.CharField(source="url", help_text="Send the user here to pay.")
    subscription_id = serializers.IntegerField()

    class Meta:
        model = CheckoutSession
        fields = (
            "gateway",
            "checkout_id",
            "checkout_url",
            "subscription_id",
            "status",
            "expires_at",
        )
        read_only_fields = fields


class PaymentSerializer(PackageModelSerializer):
    subscription_id = serializers.IntegerField(allow_null=True)
    plan = serializers.SerializerMethodField(
        help_text="The plan's name, null if the subscription is gone."
    )
    invoice_id = serializers.CharField(source="gateway_invoice_id")
    managed_bot_performance_id = serializers.IntegerField(
        allow_null=True, help_text="Profit share only: the investment (performance id)."
    )
    amount_missing = serializers.SerializerMethodField(
        help_text="What is left to pay (amount less amount_received); null when the gateway "
        "reports no received amount (cards)."
    )
    amount_overpaid = serializers.SerializerMethodField(
        help_text="What was paid above amount (refunded or credited by a person); null as "
        "for amount_missing."
    )

    class Meta:
        model = Payment
        fields = (
            "id",
            "subscription_id",
            "plan",
            "gateway",
            "kind",
            "profit_share_month",
            "managed_bot_performance_id",
            "status",
            "amount",
            "currency",
            "amount_received",
            "amount_missing",
            "amount_overpaid",
            "payment_url",
            "expires_at",
            "billing_reason",
            "period_start",
            "period_end",
            "failure_reason",
            "attempt_count",
            "invoice_id",
            "paid_at",
            "failed_at",
            "created_at",
        )
        read_only_fields = fields

    def get_plan(self, payment: Payment) -> str | None:
        return payment.subscription.plan.name if payment.subscription else None

    def get_amount_missing(self, payment: Payment) -> str | None:
        return shortfall(payment.amount, payment.amount_received)

    def get_amount_overpaid(self, payment: Payment) -> str | None:
        return shortfall(payment.amount_received, payment.amount)


class WebhookAnswerSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    event_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["processed", "ignored", "duplicate"])


class DeliveredEventSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.CharField(help_text="checkout.session.completed or invoice.paid.")
    webhook_status = serializers.IntegerField(help_text="The payment webhook's HTTP status.")


class DummyCheckoutSerializer(serializers.Serializer):
    """The dummy checkout page's data (GET), and after paying (POST) what was delivered."""

    checkout_id = serializers.CharField()
    status = serializers.ChoiceField(choices=CheckoutStatus.choices)
    subscription_id = serializers.IntegerField()
    plan = serializers.CharField(help_text="The plan's name.")
    amount = serializers.CharField(help_text="The monthly price, a decimal string.")
    currency = serializers.CharField()
    cards = serializers.DictField(
        child=serializers.CharField(), help_text="Test card number -> what paying with it does."
    )
    events = DeliveredEventSerializer(
        many=True, required=False, help_text="POST only: the events sent to the payment webhook."
    )
    subscription_status = serializers.ChoiceField(
        choices=SubscriptionStatus.choices,
        required=False,
        help_text="POST only: the subscription's status after paying.",
    )


class DummyPaySerializer(serializers.Serializer):
    card = serializers.ChoiceField(
        choices=list(dummy_gateway.CARDS),
        default=dummy_gateway.SUCCEEDS,
        help_text="A test card number (see the checkout page).",
    )


# --- views ---------------------------------------------------------------------------


@extend_schema(
    tags=["payments"],
    request=CreateCheckoutSerializer,
    responses={
        201: CheckoutSessionSerializer,
        200: CheckoutSessionSerializer,
        400: error("validation_error, or unknown_gateway: not one of the configured gateways."),
        404: error("not_found: no such subscription of yours."),
        409: error("not_pending_payment, payments_disabled or price_not_configured."),
        502: error("gateway_error: the payment provider refused the request."),
        503: error("gateway_unavailable: the payment provider did not answer; try again."),
        **AUTH_ERRORS,
    },
)
class CreateCheckoutView(PackageAPIViewMixin, generics.GenericAPIView):
    """Start (or resume) paying for one of your pending subscriptions."""

    serializer_class = CreateCheckoutSerializer
    subscriptions_throttle_scope = "payments"

    def post(self, request, *args, **kwargs):
        data = CreateCheckoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = get_object_or_404(
            UserSubscription.objects.filter(user=request.user),
            pk=data.validated_data["subscription_id"],
        )
        session, created = billing.create_checkout(
            subscription, request=request, gateway_name=data.validated_data.get("gateway")
        )
        return Response(
            CheckoutSessionSerializer(session).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema(
    tags=["payments"],
    auth=[],
    responses={200: GatewaySerializer(many=True), **PUBLIC_AUTH_ERRORS},
)
class GatewayListView(PackageAPIViewMixin, APIView):
    """
    The payment gateways a user may choose among, the default first; [] when
    the server takes no payments. Open to anonymous visitors: it shows only
    names, as a pricing page needs them before sign-up.
    """

    permission_classes = [permissions.AllowAny]
    pagination_class = None  # a handful of names: a plain list
    subscriptions_throttle_scope = "payments"

    def get(self, request, *args, **kwargs):
        gateways = get_gateways()
        rows = [
            {
                "name": gateway.name,
                "display_name": gateway.display_name or gateway.name,
                "native_recurring": gateway.native_recurring,
                "default": index == 0,
            }
            for index, gateway in enumerate(gateways)
        ]
        return Response(GatewaySerializer(rows, many=True).data)


@extend_schema(tags=["payments"], responses={200: PaymentSerializer(many=True), **AUTH_ERRORS})
class PaymentHistoryView(PackageAPIViewMixin, generics.ListAPIView):
    """Your payments, newest first: paid, failed (with the reason) and pending."""

    serializer_class = PaymentSerializer
    subscriptions_throttle_scope = "payments"

    def get_queryset(self):
        return Payment.objects.filter(user=self.request.user).select_related("subscription__plan")


@extend_schema(
    tags=["payments"],
    auth=[],
    request={"application/json": inline_serializer("GatewayEvent", fields={})},
    responses={
        200: WebhookAnswerSerializer,
        400: error("missing_signature, invalid_signature, stale_signature or malformed_event."),
        404: error("unknown_gateway."),
        500: error("processing_error: stored; the gateway retries."),
        502: error(
            "gateway_error: the gateway refused the re-read of the event, or its webhook"
            " secret is not configured here."
        ),
        503: error("gateway_unavailable: the gateway did not answer the re-read; retried."),
    },
)
class PaymentWebhookView(PackageAPIViewMixin, APIView):
    """
    Gateway events in. No token: the signature header authenticates the body.
    Reads the raw body (the signature covers its exact bytes).
    """

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    # A gateway's deliveries must not count against the host's anonymous rates.
    throttle_classes: list[Any] = []

    def post(self, request, gateway: str | None = None, *args, **kwargs):
        selected = get_gateway() if gateway is None else gateway_named(gateway)
        if selected is None:
            raise UnknownGateway()  # no gateway at all: payments/webhook/ has no owner
        result = billing.receive_webhook(
            selected, request.body, request.headers, remote_ip=request.META.get("REMOTE_ADDR")
        )
        return Response(result.as_body())


class NamedGatewayWebhookView(PaymentWebhookView):
    """``payments/webhook/<gateway>/``: the same, for the gateway named in the URL."""

    @extend_schema(operation_id="payments_webhook_gateway_create")
    def post(self, request, gateway: str | None = None, *args, **kwargs):
        return super().post(request, gateway, *args, **kwargs)


# Not wrapped in the host's ATOMIC_REQUESTS transaction: the delivery log row
# of a rejected or failed event must survive the error response (R11).
payment_webhook = transaction.non_atomic_requests(PaymentWebhookView.as_view())
named_gateway_webhook = transaction.non_atomic_requests(NamedGatewayWebhookView.as_view())


def page_or_json(errors: dict[int, str]) -> dict[tuple[int, str], Any]:
    """The checkout's data as JSON, or the page (HTML, showing any error) a browser asks for."""
    responses: dict[tuple[int, str], Any] = {
        (200, "application/json"): DummyCheckoutSerializer,
        (200, "text/html"): OpenApiTypes.STR,
    }
    for code, description in errors.items():
        responses[(code, "application/json")] = error(description)
        responses[(code, "text/html")] = OpenApiResponse(
            response=OpenApiTypes.STR, description=description
        )
    return responses


CHECKOUT_NOT_FOUND = {404: "not_found: no such checkout, or the dummy gateway is not in use."}


@extend_schema(tags=["payments"], auth=[])
class DummyCheckoutView(PackageAPIViewMixin, APIView):
    """
    The dummy gateway's hosted checkout page (HTML for browsers, JSON for
    everyone else). The checkout id in the URL is the credential, as on Stripe.
    """

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes: list[Any] = []
    renderer_classes = [JSONRenderer, TemplateHTMLRenderer]
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    template_name = "subscriptions/dummy_checkout.html"

    def get_session(self, session_id: str) -> tuple[dummy_gateway.DummyGateway, CheckoutSession]:
        """The session and its gateway, which must be a configured dummy gateway."""
        dummies = {g.name: g for g in get_gateways() if isinstance(g, dummy_gateway.DummyGateway)}
        session = (
            CheckoutSession.objects.select_related("subscription__plan", "subscription__user")
            .filter(gateway__in=list(dummies), session_id=session_id)
            .first()
        )
        if session is None:
            raise Http404("No checkout of the dummy gateway matches the given query.")
        return dummies[session.gateway], session

    def describe(self, session: CheckoutSession, **extra: Any) -> dict[str, Any]:
        plan = session.subscription.plan
        expired = session.status == CheckoutStatus.OPEN and not session.is_open()
        return {
            "checkout_id": session.session_id,
            "status": CheckoutStatus.EXPIRED.value if expired else session.status,
            "subscription_id": session.subscription_id,
            "plan": plan.name,
            "amount": str(plan.monthly_price),
            "currency": plan.currency,
            "cards": dummy_gateway.CARDS,
            **extra,
        }

    @extend_schema(responses=page_or_json(CHECKOUT_NOT_FOUND))
    def get(self, request, session_id: str, *args, **kwargs):
        _, session = self.get_session(session_id)
        return Response(self.describe(session))

    @extend_schema(
        request=DummyPaySerializer,
        responses=page_or_json(
            {
                400: "validation_error: unknown test card.",
                402: "card_declined.",
                **CHECKOUT_NOT_FOUND,
                409: "checkout_closed or not_pending_payment.",
                502: "gateway_error: the event could not be delivered to the webhook.",
            }
        ),
    )
    def post(self, request, session_id: str, *args, **kwargs):
        gateway, session = self.get_session(session_id)
        data = DummyPaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not session.is_open():
            raise CheckoutClosed()
        if session.subscription.status != SubscriptionStatus.PENDING_PAYMENT:
            raise NotPendingPayment(
                f"The subscription is {session.subscription.status}: there is nothing to pay."
            )
        webhook_url = request.build_absolute_uri(
            reverse("subscriptions:payment-webhook-gateway", kwargs={"gateway": gateway.name})
        )
        events = gateway.pay(session, data.validated_data["card"], webhook_url)
        session.refresh_from_db()
        session.subscription.refresh_from_db()
        return Response(
            self.describe(session, events=events, subscription_status=session.subscription.status)
        )

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(getattr(self.request, "accepted_renderer", None), TemplateHTMLRenderer):
            # Show the error on the page rather than DRF's bare exception text.
            response.exception = False
            response.template_name = self.template_name
            session = (
                CheckoutSession.objects.filter(session_id=self.kwargs.get("session_id", ""))
                .select_related("subscription__plan")
                .first()
            )
            context = self.describe(session) if session else {}
            response.data = {**context, "error": response.data}
        return response


# The page delivers the gateway's events to this server over HTTP while its own
# request is running: it must not hold a transaction (and SQLite's write lock)
# meanwhile, even under ATOMIC_REQUESTS.
dummy_checkout = transaction.non_atomic_requests(DummyCheckoutView.as_view())
