"""
Errors of the package, all rendered as one JSON shape::

    {"code": "subscription_required", "detail": "A human sentence.", "fields": {...}}

``code`` is stable and meant for programs; ``detail`` is for people; ``fields``
appears on validation errors only. ``SubscriptionsError`` subclasses are raised
by services and views alike: they are DRF ``APIException``s whose ``detail`` is
already that shape, so they render the same even under a host's own DRF
exception handler, and ``error_response`` renders them for plain Django views.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from rest_framework import status
from rest_framework.exceptions import APIException


def error_payload(code: str, detail: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": code, "detail": str(detail)}
    if fields:
        payload["fields"] = fields
    return payload


class SubscriptionsError(APIException):
    """Base class: an error with a stable code, an HTTP status and a message."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "error"
    default_detail = "The request could not be completed."

    def __init__(
        self, detail: str | None = None, code: str | None = None, fields: dict | None = None
    ) -> None:
        self.code = code or self.default_code
        self.message = str(detail or self.default_detail)
        self.fields = fields
        super().__init__(error_payload(self.code, self.message, fields), self.code)

    def __str__(self) -> str:
        # APIException's is str(detail): the payload dict with its ErrorDetails,
        # which is what billing's report and logged tracebacks would show.
        return f"{self.code}: {self.message}"

    def as_response(self) -> JsonResponse:
        return JsonResponse(
            error_payload(self.code, self.message, self.fields), status=self.status_code
        )


class NotAuthenticated(SubscriptionsError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "not_authenticated"
    default_detail = "Authentication credentials were not provided or are invalid."


class SubscriptionRequired(SubscriptionsError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "subscription_required"
    default_detail = "This needs an active subscription. Subscribe to a plan to continue."


class SubscriptionExpired(SubscriptionsError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "subscription_expired"
    default_detail = "Your subscription has ended. Renew it or subscribe again to continue."


class FeatureNotIncluded(SubscriptionsError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "feature_not_included"
    default_detail = "Your plan does not include this feature. Upgrade to a plan that does."


class PairLimitReached(SubscriptionsError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "pair_limit_reached"
    default_detail = "Your plan's trading pair limit is reached. Upgrade or free a pair first."


class AlreadySubscribed(SubscriptionsError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "already_subscribed"
    default_detail = "You already have a subscription of this plan type."


class PlanUnavailable(SubscriptionsError):
    default_code = "plan_unavailable"
    default_detail = "This plan is not offered any more."


class InvalidTransition(SubscriptionsError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "invalid_status"
    default_detail = "The subscription cannot make this change in its current status."


class SubscriptionChanged(InvalidTransition):
    """Another change of the subscription's status came first (a lost race); nothing was done."""

    default_code = "status_changed"
    default_detail = "The subscription changed meanwhile. Reload it and try again."


class StatusNotSettable(SubscriptionsError):
    """A PATCH sent a ``status`` other than "cancelled", the one status a client may set."""

    default_code = "unsupported_status"
    default_detail = (
        'status can only be set to "cancelled", which cancels the subscription as DELETE does. '
        "To stop or resume renewal send auto_renew instead."
    )


class NoLiveSubscription(SubscriptionsError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "no_subscription"
    default_detail = "You have no active subscription. See subscription-plans/ to subscribe."


class OfferUnavailable(SubscriptionsError):
    default_code = "offer_unavailable"
    default_detail = "This managed bot is not open to new investors."


class InvestmentTooSmall(SubscriptionsError):
    default_code = "investment_too_small"
    default_detail = "The investment is below the bot's minimum."


class InvalidDateRange(SubscriptionsError):
    """``?from=`` / ``?to=`` of a history are not dates, or ``from`` is after ``to``."""

    default_code = "invalid_date_range"
    default_detail = "from and to must be dates (YYYY-MM-DD), from not after to."


class OrderTimeUnknown(SubscriptionsError):
    """``orders/?created_after=`` on a host whose Orders have no time (``ORDER_FIELDS``)."""

    default_code = "order_time_unknown"
    default_detail = "This server's orders have no time to filter by."


class InvalidPageSize(SubscriptionsError):
    """``?page_size=`` is not a whole number from 1 to ``MAX_PAGE_SIZE``."""

    default_code = "invalid_page_size"
    default_detail = "page_size must be a whole number from 1 to the largest page size."


# --- Payments (docs/PAYMENTS.md) ----------------------------------------------


class PaymentsDisabled(SubscriptionsError):
    """No payment gateway is configured, so there is nothing to check out."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "payments_disabled"
    default_detail = (
        "This server takes no payments: subscriptions are active as soon as they are created."
    )


class NotPendingPayment(SubscriptionsError):
    """Checkout is only for a subscription that waits for its first payment."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "not_pending_payment"
    default_detail = "This subscription is not waiting for a payment."


class PriceNotConfigured(SubscriptionsError):
    """The plan has no price at the configured gateway."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "price_not_configured"
    default_detail = "This plan cannot be bought online yet. Contact support."


class GatewayError(SubscriptionsError):
    """The payment gateway refused a request or could not be reached."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "gateway_error"
    default_detail = "The payment provider could not be reached. Nothing was charged; try again."


class GatewayUnavailable(GatewayError):
    """The payment gateway did not answer in time or answered 5xx: try again later."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "gateway_unavailable"
    default_detail = (
        "The payment provider is not answering right now. Nothing was charged; try again."
    )


class UnknownGateway(SubscriptionsError):
    """The webhook URL names a gateway this server does not use."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "unknown_gateway"
    default_detail = "No payment gateway of that name is configured on this server."


class UnknownGatewayChoice(UnknownGateway):
    """A checkout asked for a gateway this server does not offer."""

    status_code = status.HTTP_400_BAD_REQUEST


class GatewayNotConfigured(SubscriptionsError):
    """A subscription pays through a gateway that is no longer configured (an operator's fix)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "gateway_not_configured"
    default_detail = (
        "This subscription pays through a payment gateway this server no longer offers. "
        "Nothing was changed; try again later."
    )


class WebhookRejected(SubscriptionsError):
    """Base of the reasons a gateway webhook delivery is refused (always 400)."""

    default_code = "webhook_rejected"
    default_detail = "The webhook delivery was rejected."


class MissingSignature(WebhookRejected):
    default_code = "missing_signature"
    default_detail = "The request has no signature header."


class InvalidSignature(WebhookRejected):
    default_code = "invalid_signature"
    default_detail = "The signature does not match the body and the endpoint secret."


class StaleSignature(WebhookRejected):
    default_code = "stale_signature"
    default_detail = "The signature timestamp is outside the accepted tolerance."


class MalformedEvent(WebhookRejected):
    default_code = "malformed_event"
    default_detail = "The body is signed but is not a gateway event (JSON with an id and a type)."


class PaymentProcessingError(SubscriptionsError):
    """A verified event could not be processed; it is stored and the gateway retries."""

    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_code = "processing_error"
    default_detail = "The event was stored but could not be processed; it will be retried."


class CardDeclined(SubscriptionsError):
    """The dummy gateway's checkout declined the test card."""

    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_code = "card_declined"
    default_detail = "Your card was declined."


class CheckoutClosed(SubscriptionsError):
    """The checkout session was completed or has expired."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "checkout_closed"
    default_detail = "This checkout is closed. Start a new one from create-checkout/."


# --- Custom-bot webhooks (docs/TRADINGVIEW.md) --------------------------------
# TradingView retries an alert only on a 5xx answer, so every reason to refuse
# one is a 4xx: the alert is not sent again. Only WebhookUnavailable is a 5xx.


class AlertRejected(SubscriptionsError):
    """Base of the reasons a TradingView alert is refused (400 unless stated)."""

    default_code = "invalid_alert"
    default_detail = "The alert was rejected."


class InvalidWebhookSecret(AlertRejected):
    """The URL's secret matches no webhook, or the body's secret differs from it."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "invalid_secret"
    default_detail = "The webhook URL or the secret in the alert message is wrong."


class WebhookInactive(AlertRejected):
    """The webhook was deactivated."""

    status_code = status.HTTP_410_GONE
    default_code = "webhook_inactive"
    default_detail = "This webhook has been deactivated. Generate a new one."


class AlertRateLimited(AlertRejected):
    """Too many alerts from this webhook or this IP address.

    ``retry_after`` is the number of seconds until the limit's window ends (the
    answer's ``Retry-After`` header), or None when unknown, like DRF's
    ``Throttled.wait``.
    """

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"
    default_detail = "Too many alerts in a short time; this one was not executed."

    def __init__(
        self,
        detail: str | None = None,
        code: str | None = None,
        fields: dict | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail, code, fields)
        self.retry_after = retry_after


class IPNotAllowed(AlertRejected):
    """The client address is not in WEBHOOK_IP_ALLOWLIST."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "ip_not_allowed"
    default_detail = "Alerts are not accepted from this IP address."


class InvalidAlert(AlertRejected):
    """The alert body is malformed; ``code`` says how (invalid_json, invalid_quantity...)."""


class AlertTooLarge(AlertRejected):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The alert message is too large."


class PairConfigUnavailable(AlertRejected):
    """The webhook's PairConfig is no longer active or no longer the user's."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "pair_config_unavailable"
    default_detail = "The bot configuration of this webhook is inactive or no longer yours."


class WebhookUnavailable(SubscriptionsError):
    """The alert could not be processed (e.g. the database is down): TradingView retries it."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "temporarily_unavailable"
    default_detail = "The alert could not be processed right now. Send it again."


# --- Managed signals (docs/MANAGED_BOTS.md, "Trading for investors") ----------


class InvalidManagedSignal(SubscriptionsError):
    """A managed signal that cannot be sized: a bad side, fraction or price."""

    default_code = "invalid_signal"
    default_detail = "The managed signal is not valid."


class ManagedSignalConflict(SubscriptionsError):
    """A signal id already used for a different trade on the same bot."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "signal_conflict"
    default_detail = "This signal id was already used for a different trade."


class NotAnOperator(AlertRejected):
    """The operator webhook's user may no longer send signals for its managed bot."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "not_an_operator"
    default_detail = (
        "Only staff or the bot's owner may send signals for a managed bot that is on offer."
    )
