"""
A payment gateway that takes no money: for the demo, development and tests.

It behaves like Stripe from the package's side. ``create_checkout`` returns the
URL of a checkout page served by the package
(``payments/dummy/checkout/<id>/``); paying there makes the dummy gateway
*send a signed webhook*, exactly as Stripe would: Stripe-shaped events
(``checkout.session.completed``, ``invoice.paid``) signed with the Stripe
scheme under the ``Dummy-Signature`` header, POSTed over HTTP to this server's
``payments/webhook/dummy/``. Verification, storage, deduplication and
processing are the ones Stripe events go through.

It has no recurring billing of its own (``native_recurring = False``): the
``billing`` command asks it to ``charge_renewal`` as a period ends, and the
renewal event is delivered in-process, since a cron job has no server to call
(``post_in_process``): to the view the URLconf routes
``payments/webhook/dummy/`` to, with the same verification, storage and
processing as over HTTP. Like Stripe, the gateway knows the webhook only by
its address; it never imports the service layer, which calls it.

Test cards, after Stripe's (https://docs.stripe.com/testing):

    4242424242424242  pays, and so do its renewals (the default)
    4000000000000341  pays at checkout; every renewal and profit share is declined
    4000000000000002  declined at checkout (generic decline)
    4000000000009995  declined at checkout (insufficient funds)

The signing secret is derived from ``SECRET_KEY``, so nothing needs
configuring. Never use this gateway in production: ``manage.py check
--deploy`` warns about it (``subscriptions.W030``).
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.handlers.wsgi import WSGIRequest
from django.urls import get_script_prefix, resolve, reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import (
    CardDeclined,
    GatewayError,
    MissingSignature,
)
from django_torgovo_subscriptions.payments import signing
from django_torgovo_subscriptions.payments.base import BaseGateway, CheckoutResult, load_event
from django_torgovo_subscriptions.payments.events import (
    PROFIT_SHARE_KEY,
    PROFIT_SHARE_MONTH_KEY,
    REFERENCE_KEY,
    BillingEvent,
    parse_stripe_event,
    to_minor_units,
)
from django_torgovo_subscriptions.periods import months_between

if TYPE_CHECKING:
    from django_torgovo_subscriptions.models import CheckoutSession, Payment, UserSubscription

logger = logging.getLogger(__name__)

SUCCEEDS = "4242424242424242"
RENEWALS_DECLINED = "4000000000000341"
DECLINED = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
CARDS = {
    SUCCEEDS: "Pays at checkout and on every renewal.",
    RENEWALS_DECLINED: "Pays at checkout; every renewal is declined.",
    DECLINED: "Declined at checkout.",
    INSUFFICIENT_FUNDS: "Declined at checkout: insufficient funds.",
}
CHECKOUT_DECLINES = {
    DECLINED: ("generic_decline", "Your card was declined."),
    INSUFFICIENT_FUNDS: ("insufficient_funds", "Your card has insufficient funds."),
}
# Not a Stripe invoice field: Stripe keeps the decline on the PaymentIntent,
# which StripeGateway.describe_failure looks up.
DECLINE = {
    "code": "card_declined",
    "decline_code": "generic_decline",
    "message": "Your card was declined.",
}
CHECKOUT_LIFETIME = timedelta(hours=24)
DELIVERY_TIMEOUT_SECONDS = 15


def webhook_secret() -> str:
    """The dummy gateway's signing secret, derived from SECRET_KEY."""
    return salted_hmac(
        "django_torgovo_subscriptions.payments.dummy", "webhook-secret", algorithm="sha256"
    ).hexdigest()


def post_json(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """POST ``body`` to ``url``; return the status and the JSON answer (HTTP errors included)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise GatewayError(f"The dummy gateway could not reach {url}: {exc}.") from exc
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        answer = {"body": raw[:500].decode(errors="replace")}
    return status, answer if isinstance(answer, dict) else {"body": answer}


def post_in_process(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """
    POST ``body`` to the view that the URLconf routes ``path`` (from
    ``reverse``) to, in this process and without middleware; return the status
    and the JSON answer, as ``post_json`` does over HTTP. The request has no
    client address, as no client sent it.
    """
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": headers.get("Content-Type", "application/json"),
        **{
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in headers.items()
            if name.lower() != "content-type"
        },
    }
    match = resolve("/" + path.removeprefix(get_script_prefix()))
    response = match.func(WSGIRequest(environ), *match.args, **match.kwargs)
    answer = getattr(response, "data", None)
    if answer is None:
        answer = json.loads(response.content or b"{}")
    return response.status_code, answer if isinstance(answer, dict) else {"body": answer}


class DummyGateway(BaseGateway):
    """Stripe's behaviour without Stripe: signed events, test cards, no money."""

    name = "dummy"
    display_name = "Test card (dummy, no money)"
    signature_header = "Dummy-Signature"
    native_recurring = False

    # -- checkout ---------------------------------------------------------------

    def create_checkout(
        self,
        subscription: UserSubscription,
        *,
        success_url: str,
        cancel_url: str,
        request: Any = None,
    ) -> CheckoutResult:
        self.customer(subscription.user)
        session_id = f"cs_dummy_{secrets.token_hex(12)}"
        path = reverse("subscriptions:dummy-checkout", kwargs={"session_id": session_id})
        url = request.build_absolute_uri(path) if request is not None else path
        return CheckoutResult(
            session_id=session_id, url=url, expires_at=timezone.now() + CHECKOUT_LIFETIME
        )

    def customer(self, user: Any) -> Any:
        from django_torgovo_subscriptions.models import GatewayCustomer

        customer, _ = GatewayCustomer.objects.get_or_create(
            user=user,
            gateway=self.name,
            defaults={
                "customer_id": f"cus_dummy_{secrets.token_hex(8)}",
                "data": {"card": SUCCEEDS},
            },
        )
        return customer

    def pay(
        self, session: CheckoutSession, card: str = SUCCEEDS, webhook_url: str | None = None
    ) -> list[dict[str, Any]]:
        """
        Pay ``session`` with a test card: decline (``CardDeclined``) or send the
        signed ``checkout.session.completed`` and ``invoice.paid`` events to
        ``webhook_url`` (None: in-process to the same receiver, for scripts and
        tests). Returns one ``{"id", "type", "webhook_status"}`` per event.

        Event and invoice ids derive from the session, so paying twice
        delivers the same events again, which the receiver drops as replays.
        """
        if card in CHECKOUT_DECLINES:
            _decline_code, message = CHECKOUT_DECLINES[card]
            raise CardDeclined(message, code="card_declined")
        subscription = session.subscription
        customer = self.customer(subscription.user)
        customer.data = {**customer.data, "card": card}
        customer.save(update_fields=["data"])
        token = session.session_id.removeprefix("cs_dummy_")
        now = int(time.time())
        invoice = self._invoice(subscription, customer.customer_id, token, 1, now, paid=True)
        completed = {
            "id": session.session_id,
            "object": "checkout.session",
            "amount_subtotal": invoice["amount_due"],
            "amount_total": invoice["amount_due"],
            "cancel_url": session.cancel_url or None,
            "client_reference_id": str(subscription.pk),
            "created": int(session.created_at.timestamp()),
            "currency": invoice["currency"],
            "customer": customer.customer_id,
            "expires_at": int(session.expires_at.timestamp()) if session.expires_at else None,
            "invoice": invoice["id"],
            "livemode": False,
            "metadata": self._metadata(subscription),
            "mode": "subscription",
            "payment_status": "paid",
            "status": "complete",
            "subscription": f"sub_dummy_{token}",
            "success_url": session.success_url or None,
            "url": None,
        }
        events = [
            self._event(
                f"evt_dummy_{token}_checkout", "checkout.session.completed", completed, now
            ),
            self._event(f"evt_dummy_{token}_1_paid", "invoice.paid", invoice, now),
        ]
        results = []
        for event in events:
            status, answer = self.deliver(event, webhook_url)
            results.append({"id": event["id"], "type": event["type"], "webhook_status": status})
            if status >= 300:
                raise GatewayError(
                    f"The dummy gateway delivered {event['type']} to "
                    f"{webhook_url or 'the receiver'} and got "
                    f"{status}: {answer.get('code', '')} {answer.get('detail', '')}".strip()
                )
        return results

    # -- renewals -----------------------------------------------------------------

    def charge_renewal(self, subscription: UserSubscription, now: datetime) -> str:
        """Charge the period after ``subscription.end_date`` with the customer's card."""
        from django_torgovo_subscriptions.models import Payment

        number = months_between(subscription.start_date, subscription.end_date) + 1
        token = subscription.gateway_subscription_id.removeprefix("sub_dummy_")
        invoice_id = f"in_dummy_{token}_{number}"
        if Payment.objects.filter(gateway=self.name, gateway_invoice_id=invoice_id).exists():
            return invoice_id  # charged before (paid or declined): never charge twice
        customer = self.customer(subscription.user)
        paid = customer.data.get("card", SUCCEEDS) != RENEWALS_DECLINED
        stamp = int(now.timestamp())
        invoice = self._invoice(subscription, customer.customer_id, token, number, stamp, paid=paid)
        kind = "invoice.paid" if paid else "invoice.payment_failed"
        event = self._event(
            f"evt_dummy_{token}_{number}_{'paid' if paid else 'failed'}", kind, invoice, stamp
        )
        status, answer = self.deliver(event)
        if status >= 300:
            raise GatewayError(f"The renewal event {event['id']} was not accepted: {answer}")
        return invoice_id

    # -- profit shares ------------------------------------------------------------

    def charge_profit_share(self, payment: Payment, *, idempotency_key: str) -> str:
        """
        Charge the share with the customer's card, as Stripe charges an invoice
        to a saved payment method: ``invoice.paid`` or, with the card whose
        renewals are declined, ``invoice.payment_failed``, delivered in-process.
        The invoice id derives from the payment, the event id from the attempt,
        so a repeated call delivers a replay the receiver drops.
        """
        customer = self.customer(payment.user)
        paid = customer.data.get("card", SUCCEEDS) != RENEWALS_DECLINED
        attempt = payment.attempt_count + 1
        stamp = int(time.time())
        invoice = self._profit_share_invoice(payment, customer.customer_id, attempt, stamp, paid)
        kind = "invoice.paid" if paid else "invoice.payment_failed"
        outcome = "paid" if paid else "failed"
        event = self._event(f"evt_dummy_ps_{payment.pk}_{attempt}_{outcome}", kind, invoice, stamp)
        status, answer = self.deliver(event)
        if status >= 300:
            raise GatewayError(f"The profit share event {event['id']} was not accepted: {answer}")
        return invoice["id"]

    def _profit_share_invoice(
        self, payment: Payment, customer_id: str, attempt: int, now: int, paid: bool
    ) -> dict[str, Any]:
        return stripe_invoice(
            id=payment.gateway_invoice_id or f"in_dummy_ps_{payment.pk}",
            amount=to_minor_units(payment.amount, payment.currency),
            currency=payment.currency,
            customer_id=customer_id,
            now=now,
            paid=paid,
            attempt_count=attempt,
            auto_advance=True,
            billing_reason="manual",
            description=f"Profit share {payment.profit_share_month}",
            metadata={
                REFERENCE_KEY: str(payment.subscription_id or ""),
                PROFIT_SHARE_KEY: str(payment.pk),
                PROFIT_SHARE_MONTH_KEY: payment.profit_share_month,
            },
            number=f"DUMMY-PS-{payment.pk:06d}",
            parent=None,
        )

    # -- webhooks -----------------------------------------------------------------

    def sign(self, body: bytes, timestamp: int | None = None) -> str:
        return signing.sign(body, webhook_secret(), timestamp)

    def verify_event(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        header = headers.get(self.signature_header, "")
        if not header:
            raise MissingSignature(f"The request has no {self.signature_header} header.")
        signing.verify(
            body, header, webhook_secret(), subscriptions_settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS
        )
        return load_event(body)

    def parse_event(self, payload: dict[str, Any]) -> BillingEvent:
        return parse_stripe_event(payload)

    def deliver(self, event: dict[str, Any], url: str | None = None) -> tuple[int, dict[str, Any]]:
        """Send a signed event: over HTTP to ``url``, or in-process to this server's webhook."""
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", self.signature_header: self.sign(body)}
        if url:
            return post_json(url, body, headers)
        webhook = reverse("subscriptions:payment-webhook-gateway", kwargs={"gateway": self.name})
        return post_in_process(webhook, body, headers)

    def set_auto_renew(self, subscription: UserSubscription, auto_renew: bool) -> None:
        """Nothing to tell: renewals are charged by the billing command, which reads auto_renew."""

    def cancel_subscription(self, gateway_subscription_id: str) -> None:
        """Nothing to stop: the dummy gateway only charges when the billing command asks."""

    def list_events(self, since: datetime) -> list[dict[str, Any]]:
        return []  # every dummy event was delivered synchronously; there is no log to replay

    # -- Stripe-shaped objects ----------------------------------------------------

    @staticmethod
    def _metadata(subscription: UserSubscription) -> dict[str, str]:
        return {REFERENCE_KEY: str(subscription.pk), "user_id": str(subscription.user_id)}

    def _invoice(
        self,
        subscription: UserSubscription,
        customer_id: str,
        token: str,
        number: int,
        now: int,
        *,
        paid: bool,
    ) -> dict[str, Any]:
        plan = subscription.plan
        return stripe_invoice(
            id=f"in_dummy_{token}_{number}",
            amount=to_minor_units(plan.monthly_price, plan.currency),
            currency=plan.currency,
            customer_id=customer_id,
            now=now,
            paid=paid,
            attempt_count=1,
            billing_reason="subscription_create" if number == 1 else "subscription_cycle",
            metadata={},
            number=f"DUMMY-{token[:8].upper()}-{number:04d}",
            parent={
                "quote_details": None,
                "subscription_details": {
                    "metadata": self._metadata(subscription),
                    "subscription": f"sub_dummy_{token}",
                },
                "type": "subscription_details",
            },
        )

    @staticmethod
    def _event(event_id: str, event_type: str, obj: dict[str, Any], now: int) -> dict[str, Any]:
        return {
            "id": event_id,
            "object": "event",
            "api_version": "dummy",
            "created": now,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }


def stripe_invoice(
    *, amount: int, currency: str, customer_id: str, now: int, paid: bool, **fields: Any
) -> dict[str, Any]:
    """A finalized Stripe invoice object charged at once, paid or declined (its
    amounts, status and timestamps), with the caller's own ``fields``."""
    invoice: dict[str, Any] = {
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "attempted": True,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": currency.lower(),
        "customer": customer_id,
        "livemode": False,
        "status": "paid" if paid else "open",
        "status_transitions": {
            "finalized_at": now,
            "marked_uncollectible_at": None,
            "paid_at": now if paid else None,
            "voided_at": None,
        },
        "subtotal": amount,
        "total": amount,
        **fields,
    }
    if not paid:
        invoice["last_payment_error"] = DECLINE
    return invoice
