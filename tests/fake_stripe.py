"""
A local fake of Stripe's HTTP API, for the StripeGateway tests.

The official SDK talks to it over real HTTP (``STRIPE_API_BASE`` points the
client's ``base_addresses["api"]`` here): form-encoded requests with bracketed
keys, bearer auth, the ``Stripe-Version`` header, Stripe's error envelope. The
objects follow Stripe's API reference for ``2025-04-30.basil``
(https://docs.stripe.com/api): Customer, Checkout Session, Subscription with
items carrying ``current_period_*``, Invoice with ``parent.subscription_details``
and ``status_transitions``, InvoicePayment with an expandable PaymentIntent,
and one-off invoices: ``POST /v1/invoices`` (draft), ``/v1/invoiceitems``
(onto that draft), ``/v1/invoices/{id}/finalize`` and ``/v1/invoices/{id}/pay``
(off session: ``invoice.paid``, or for a customer in ``declining_customers``
``invoice.payment_failed`` and a 402 ``card_error``, both left in ``events``).
A POST's ``Idempotency-Key`` replays the first answer, as Stripe does.

Besides serving the API it plays Stripe's part in the flows: completing a
checkout, renewing or failing an invoice, changing or deleting a subscription.
Each returns the events Stripe would send, which the tests sign with
``sign()`` (Stripe's scheme, computed here independently of the package) and
POST to the webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import SplitResult, parse_qsl

from dateutil.relativedelta import relativedelta

from tests.fake_http import LocalHTTPFake

API_VERSION = "2025-04-30.basil"


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header: ``t=<ts>,v1=HMAC-SHA256(secret, f"{t}.{body}")``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``, ``expand[]=x``) to nested data."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        parts = [p if p != "[]" else "" for p in parts]
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            nxt = None if last else parts[index + 1]
            container: Any = [] if (nxt == "" or (nxt or "").isdigit()) else {}
            if isinstance(node, list):
                if part == "":
                    if last:
                        node.append(value)
                        break
                    node.append(container)
                    node = node[-1]
                    continue
                position = int(part)
                while len(node) <= position:
                    node.append(None)
                if last:
                    node[position] = value
                else:
                    if node[position] is None:
                        node[position] = container
                    node = node[position]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, container)
    return root


class StripeError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type_: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "error": {
                "message": message,
                "type": type_,
                **({"code": code} if code else {}),
                **({"param": param} if param else {}),
            }
        }


class FakeStripe(LocalHTTPFake):
    """State and behaviour of a Stripe test-mode account."""

    def __init__(
        self, secret_key: str = "sk_test_fake_123", webhook_secret: str = "whsec_test_fake"
    ) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.requests: list[dict[str, Any]] = []
        self.prices: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.invoice_items: dict[str, dict[str, Any]] = {}
        # Customers whose saved payment method is declined off session.
        self.declining_customers: set[str] = set()
        # Idempotency-Key -> (status, body) of POSTs, as Stripe replays them.
        self.idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        self.fail_next: StripeError | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- server ----------------------------------------------------------------------

    def respond(
        self, method: str, url: SplitResult, raw: bytes, headers: Any
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        params = decode_form(
            parse_qsl(url.query, keep_blank_values=True)
            + parse_qsl(raw.decode(), keep_blank_values=True)
        )
        status, body = self.handle(method, url.path, params, dict(headers))
        return status, body, {"Request-Id": f"req_fake_{next(self._ids)}"}

    # -- request handling --------------------------------------------------------------

    def handle(
        self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(
                {"method": method, "path": path, "params": params, "headers": headers}
            )
            try:
                if headers.get("Authorization") != f"Bearer {self.secret_key}":
                    raise StripeError(401, "Invalid API Key provided: sk_test_****")
                key = headers.get("Idempotency-Key") if method == "POST" else None
                if key and key in self.idempotent:
                    return self.idempotent[key]
                if self.fail_next is not None:
                    error, self.fail_next = self.fail_next, None
                    raise error
                answer = 200, self.route(method, path, params)
            except StripeError as exc:
                answer = exc.status, exc.body
            if key and answer[0] < 500:
                self.idempotent[key] = answer
            return answer

    def route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        if (method, path) == ("POST", "/v1/customers"):
            return self.create_customer(params)
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            return self.create_session(params)
        if (method, path) == ("GET", "/v1/events"):
            return self.list_events(params)
        if (method, path) == ("GET", "/v1/invoice_payments"):
            return self.list_invoice_payments(params)
        if (method, path) == ("POST", "/v1/invoices"):
            return self.create_draft_invoice(params)
        if (method, path) == ("POST", "/v1/invoiceitems"):
            return self.create_invoice_item(params)
        match = re.fullmatch(r"/v1/invoices/(\w+)/(finalize|pay)", path)
        if match and method == "POST":
            invoice = self._invoice(match[1])
            return self.finalize(invoice) if match[2] == "finalize" else self.pay(invoice)
        match = re.fullmatch(r"/v1/subscriptions/(\w+)", path)
        if match and method == "GET":
            return self._subscription(match[1])
        if match and method == "POST":
            return self.update_subscription(match[1], params)
        if match and method == "DELETE":
            return self.cancel_subscription(match[1])
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):06d}{'x' * 8}"

    # -- API objects -------------------------------------------------------------------

    def add_price(self, price_id: str, unit_amount: int, currency: str = "usd") -> dict[str, Any]:
        self.prices[price_id] = {
            "id": price_id,
            "object": "price",
            "active": True,
            "billing_scheme": "per_unit",
            "created": int(time.time()),
            "currency": currency,
            "livemode": False,
            "product": f"prod_{price_id}",
            "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
            "type": "recurring",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        }
        return self.prices[price_id]

    def create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": self.new_id("cus"),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": int(time.time()),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "email": params.get("email"),
            "invoice_prefix": "ABCD1234",
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "name": params.get("name"),
            "next_invoice_sequence": 1,
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self.customers[customer["id"]] = customer
        return customer

    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("mode") != "subscription":
            raise StripeError(400, "This test fake only does subscription mode.", param="mode")
        if not params.get("success_url"):
            raise StripeError(
                400,
                "Missing required param: success_url.",
                code="parameter_missing",
                param="success_url",
            )
        items = params.get("line_items") or []
        price_id = (items[0] or {}).get("price") if items else None
        if price_id not in self.prices:
            raise StripeError(
                400,
                f"No such price: '{price_id}'",
                code="resource_missing",
                param="line_items[0][price]",
            )
        customer = params.get("customer")
        if customer and customer not in self.customers:
            raise StripeError(
                400, f"No such customer: '{customer}'", code="resource_missing", param="customer"
            )
        price = self.prices[price_id]
        now = int(time.time())
        session_id = f"cs_test_{next(self._ids):06d}a1b2c3d4e5f6"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": price["unit_amount"],
            "amount_total": price["unit_amount"],
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "billing_address_collection": None,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "client_secret": None,
            "consent": None,
            "consent_collection": None,
            "created": now,
            "currency": price["currency"],
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": customer,
            "customer_creation": None,
            "customer_details": None,
            "customer_email": None,
            "expires_at": now + 24 * 3600,
            "invoice": None,
            "invoice_creation": None,
            "livemode": False,
            "locale": None,
            "metadata": params.get("metadata", {}),
            "mode": "subscription",
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "always",
            "payment_method_options": {},
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": None,
            "subscription": None,
            "success_url": params["success_url"],
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}#fidkdWxOYHwnPyd1blpxYHZxWjA0",
            "_line_price": price_id,
            "_subscription_metadata": (params.get("subscription_data") or {}).get("metadata", {}),
        }
        self.sessions[session_id] = session
        return self.public(session)

    @staticmethod
    def public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def update_subscription(self, subscription_id: str, params: dict[str, Any]) -> dict[str, Any]:
        subscription = self._subscription(subscription_id)
        if subscription["status"] == "canceled":
            raise StripeError(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        if "cancel_at_period_end" in params:
            flag = params["cancel_at_period_end"] == "true"
            subscription["cancel_at_period_end"] = flag
            subscription["cancel_at"] = (
                subscription["items"]["data"][0]["current_period_end"] if flag else None
            )
            subscription["canceled_at"] = int(time.time()) if flag else None
        return subscription

    def cancel_subscription(self, subscription_id: str) -> dict[str, Any]:
        subscription = self._subscription(subscription_id)
        if subscription["status"] == "canceled":
            raise StripeError(400, "This subscription is already canceled.")
        subscription.update(
            status="canceled", canceled_at=int(time.time()), ended_at=int(time.time())
        )
        return subscription

    def _subscription(self, subscription_id: str) -> dict[str, Any]:
        if subscription_id not in self.subscriptions:
            raise StripeError(
                404,
                f"No such subscription: '{subscription_id}'",
                code="resource_missing",
                param="id",
            )
        return self.subscriptions[subscription_id]

    def list_events(self, params: dict[str, Any]) -> dict[str, Any]:
        gte = int((params.get("created") or {}).get("gte", 0))
        limit = int(params.get("limit", 10))
        events = sorted(
            (e for e in self.events if e["created"] >= gte),
            key=lambda e: e["created"],
            reverse=True,
        )  # Stripe lists newest first
        if params.get("starting_after"):
            ids = [e["id"] for e in events]
            events = events[ids.index(params["starting_after"]) + 1 :]
        return {
            "object": "list",
            "data": events[:limit],
            "has_more": len(events) > limit,
            "url": "/v1/events",
        }

    def list_invoice_payments(self, params: dict[str, Any]) -> dict[str, Any]:
        invoice = self.invoices.get(params.get("invoice", ""))
        expand = params.get("expand") or []
        data = []
        if invoice is not None:
            intent_id = invoice["_payment_intent"]
            intent = self.payment_intents[intent_id]
            data.append(
                {
                    "id": f"inpay_{intent_id[3:]}",
                    "object": "invoice_payment",
                    "amount_paid": invoice["amount_paid"] or None,
                    "amount_requested": invoice["amount_due"],
                    "created": invoice["created"],
                    "currency": invoice["currency"],
                    "invoice": invoice["id"],
                    "is_default": True,
                    "livemode": False,
                    "payment": {
                        "type": "payment_intent",
                        "payment_intent": intent
                        if "data.payment.payment_intent" in expand
                        else intent_id,
                    },
                    "status": "paid" if invoice["status"] == "paid" else "open",
                    "status_transitions": {
                        "canceled_at": None,
                        "paid_at": invoice["status_transitions"]["paid_at"],
                    },
                }
            )
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/invoice_payments"}

    # -- Stripe's side of the flows -------------------------------------------------------

    def event(
        self,
        event_type: str,
        obj: dict[str, Any],
        previous: dict[str, Any] | None = None,
        created: int | None = None,
    ) -> dict[str, Any]:
        event = {
            "id": f"evt_{next(self._ids):06d}FakeStripeEvt",
            "object": "event",
            "api_version": API_VERSION,
            "created": created or int(time.time()),
            "data": {
                "object": json.loads(json.dumps(self.public(obj))),
                **({"previous_attributes": previous} if previous else {}),
            },
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        self.events.append(event)
        return event

    def complete_checkout(self, session_id: str) -> list[dict[str, Any]]:
        """The customer paid on the hosted page: subscription, first invoice, events."""
        session = self.sessions[session_id]
        now = int(time.time())
        subscription_id = self.new_id("sub")
        price = self.prices[session["_line_price"]]
        period_end = int((datetime.fromtimestamp(now, UTC) + relativedelta(months=1)).timestamp())
        self.subscriptions[subscription_id] = {
            "id": subscription_id,
            "object": "subscription",
            "application": None,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": now,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "created": now,
            "currency": price["currency"],
            "customer": session["customer"],
            "default_payment_method": "pm_card_visa",
            "ended_at": None,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": self.new_id("si"),
                        "object": "subscription_item",
                        "created": now,
                        "current_period_end": period_end,
                        "current_period_start": now,
                        "metadata": {},
                        "price": price,
                        "quantity": 1,
                        "subscription": subscription_id,
                    }
                ],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={subscription_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": session["_subscription_metadata"],
            "start_date": now,
            "status": "active",
            "trial_end": None,
            "trial_start": None,
        }
        invoice = self.create_invoice(subscription_id, "subscription_create", paid=True)
        session.update(
            status="complete",
            payment_status="paid",
            subscription=subscription_id,
            invoice=invoice["id"],
            customer_details={"email": None, "name": None},
        )
        return [
            self.event("checkout.session.completed", session),
            self.event("invoice.paid", invoice),
        ]

    def create_invoice(
        self,
        subscription_id: str,
        billing_reason: str,
        *,
        paid: bool,
        decline: tuple[str, str] = ("card_declined", "Your card was declined."),
    ) -> dict[str, Any]:
        subscription = self.subscriptions[subscription_id]
        item = subscription["items"]["data"][0]
        price = item["price"]
        now = int(time.time())
        invoice_id = self.new_id("in")
        intent_id = self.new_id("pi")
        self.payment_intents[intent_id] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": price["unit_amount"],
            "currency": price["currency"],
            "customer": subscription["customer"],
            "livemode": False,
            "last_payment_error": None
            if paid
            else {
                "code": decline[0],
                "decline_code": "generic_decline",
                "doc_url": f"https://docs.stripe.com/error-codes/{decline[0].replace('_', '-')}",
                "message": decline[1],
                "type": "card_error",
            },
            "status": "succeeded" if paid else "requires_payment_method",
        }
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "account_country": "US",
            "account_name": "Torgovo test",
            "amount_due": price["unit_amount"],
            "amount_overpaid": 0,
            "amount_paid": price["unit_amount"] if paid else 0,
            "amount_remaining": 0 if paid else price["unit_amount"],
            "amount_shipping": 0,
            "attempt_count": 1,
            "attempted": True,
            "auto_advance": not paid,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": False,
                "liability": None,
                "status": None,
            },
            "billing_reason": billing_reason,
            "collection_method": "charge_automatically",
            "created": now,
            "currency": price["currency"],
            "customer": subscription["customer"],
            "customer_email": None,
            "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
            "invoice_pdf": f"https://pay.stripe.com/invoice/{invoice_id}/pdf",
            "last_finalization_error": None,
            "lines": {
                "object": "list",
                "data": [
                    {
                        "id": self.new_id("il"),
                        "object": "line_item",
                        "amount": price["unit_amount"],
                        "currency": price["currency"],
                        "description": "1 \u00d7 Plan (at $29.00 / month)",
                        "invoice": invoice_id,
                        "livemode": False,
                        "metadata": {},
                        "parent": {
                            "invoice_item_details": None,
                            "subscription_item_details": {
                                "invoice_item": None,
                                "proration": False,
                                "proration_details": {"credited_items": None},
                                "subscription": subscription_id,
                                "subscription_item": item["id"],
                            },
                            "type": "subscription_item_details",
                        },
                        "period": {
                            "end": item["current_period_end"],
                            "start": item["current_period_start"],
                        },
                        "pricing": {
                            "price_details": {"price": price["id"], "product": price["product"]},
                            "type": "price_details",
                            "unit_amount_decimal": price["unit_amount_decimal"],
                        },
                        "quantity": 1,
                    }
                ],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None if paid else now + 3 * 86400,
            "number": f"ABCD1234-{len(self.invoices) + 1:04d}",
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": subscription["metadata"],
                    "subscription": subscription_id,
                },
                "type": "subscription_details",
            },
            "period_end": item["current_period_start"],
            "period_start": item["current_period_start"],
            "status": "paid" if paid else "open",
            "status_transitions": {
                "finalized_at": now,
                "marked_uncollectible_at": None,
                "paid_at": now if paid else None,
                "voided_at": None,
            },
            "subtotal": price["unit_amount"],
            "total": price["unit_amount"],
            "_payment_intent": intent_id,
        }
        self.invoices[invoice_id] = invoice
        subscription["latest_invoice"] = invoice_id
        return invoice

    def renew(
        self,
        subscription_id: str,
        *,
        paid: bool = True,
        decline: tuple[str, str] = ("card_declined", "Your card was declined."),
    ) -> list[dict[str, Any]]:
        """A billing cycle: the period advances and the renewal invoice is paid or fails."""
        subscription = self.subscriptions[subscription_id]
        item = subscription["items"]["data"][0]
        start = item["current_period_end"]
        item["current_period_start"] = start
        item["current_period_end"] = int(
            (datetime.fromtimestamp(start, UTC) + relativedelta(months=1)).timestamp()
        )
        invoice = self.create_invoice(
            subscription_id, "subscription_cycle", paid=paid, decline=decline
        )
        events = [self.event("invoice.paid" if paid else "invoice.payment_failed", invoice)]
        if not paid:
            subscription["status"] = "past_due"
            events.append(
                self.event(
                    "customer.subscription.updated", subscription, previous={"status": "active"}
                )
            )
        return events

    def pay_invoice(self, invoice_id: str) -> list[dict[str, Any]]:
        """A retry of a failed invoice succeeds."""
        invoice = self.invoices[invoice_id]
        now = int(time.time())
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            attempt_count=invoice["attempt_count"] + 1,
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = now
        subscription = self.subscriptions[invoice["parent"]["subscription_details"]["subscription"]]
        subscription["status"] = "active"
        return [self.event("invoice.paid", invoice)]

    def set_cancel_at_period_end(self, subscription_id: str, flag: bool) -> list[dict[str, Any]]:
        """The customer changed renewal in Stripe's customer portal."""
        subscription = self.update_subscription(
            subscription_id, {"cancel_at_period_end": "true" if flag else "false"}
        )
        return [
            self.event(
                "customer.subscription.updated",
                subscription,
                previous={"cancel_at_period_end": not flag},
            )
        ]

    def delete(
        self, subscription_id: str, reason: str = "cancellation_requested"
    ) -> list[dict[str, Any]]:
        subscription = self.cancel_subscription(subscription_id)
        subscription["cancellation_details"]["reason"] = reason
        return [self.event("customer.subscription.deleted", subscription)]

    # -- one-off invoices (a managed bot's profit share) -----------------------------------

    def _invoice(self, invoice_id: str) -> dict[str, Any]:
        if invoice_id not in self.invoices:
            raise StripeError(
                404, f"No such invoice: '{invoice_id}'", code="resource_missing", param="id"
            )
        return self.invoices[invoice_id]

    def create_draft_invoice(self, params: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/invoices: a draft one-off invoice (no subscription parent)."""
        customer = params.get("customer", "")
        if customer not in self.customers:
            raise StripeError(400, f"No such customer: '{customer}'", param="customer")
        invoice_id = self.new_id("in")
        now = int(time.time())
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "amount_due": 0,
            "amount_paid": 0,
            "amount_remaining": 0,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": params.get("auto_advance") == "true",
            "billing_reason": "manual",
            "collection_method": params.get("collection_method", "charge_automatically"),
            "created": now,
            "currency": params.get("currency", "usd"),
            "customer": customer,
            "description": params.get("description"),
            "hosted_invoice_url": None,
            "lines": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "next_payment_attempt": None,
            "number": None,
            "parent": None,
            "pending_invoice_items_behavior": params.get("pending_invoice_items_behavior"),
            "status": "draft",
            "status_transitions": {
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subtotal": 0,
            "total": 0,
            "_payment_intent": self.new_id("pi"),
        }
        self.invoices[invoice_id] = invoice
        return invoice

    def create_invoice_item(self, params: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/invoiceitems, added to the draft ``invoice`` named."""
        invoice = self._invoice(params.get("invoice", ""))
        if invoice["status"] != "draft":
            raise StripeError(400, "You can only add invoice items to draft invoices.")
        amount = int(params["amount"])
        item = {
            "id": self.new_id("ii"),
            "object": "invoiceitem",
            "amount": amount,
            "currency": params.get("currency", invoice["currency"]),
            "customer": params.get("customer"),
            "date": int(time.time()),
            "description": params.get("description"),
            "invoice": invoice["id"],
            "livemode": False,
            "metadata": params.get("metadata", {}),
        }
        self.invoice_items[item["id"]] = item
        invoice["lines"]["data"].append(
            {
                "id": self.new_id("il"),
                "object": "line_item",
                "amount": amount,
                "currency": item["currency"],
                "description": item["description"],
                "invoice": invoice["id"],
                "metadata": item["metadata"],
                "parent": {
                    "invoice_item_details": {"invoice_item": item["id"]},
                    "type": "invoice_item_details",
                },
                "quantity": 1,
            }
        )
        invoice["lines"]["total_count"] += 1
        for name in ("amount_due", "amount_remaining", "subtotal", "total"):
            invoice[name] += amount
        return item

    def finalize(self, invoice: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/invoices/{id}/finalize: draft -> open."""
        if invoice["status"] != "draft":
            raise StripeError(400, f"Invoice {invoice['id']} is already finalized.")
        invoice["status"] = "open"
        invoice["number"] = f"ABCD1234-{len(self.invoices):04d}"
        invoice["status_transitions"]["finalized_at"] = int(time.time())
        return self.public(invoice)

    def pay(self, invoice: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/invoices/{id}/pay off session with the customer's saved method:
        invoice.paid, or invoice.payment_failed and a 402 card_error."""
        if invoice["status"] == "paid":
            raise StripeError(400, "Invoice is already paid.", code="invoice_already_paid")
        if invoice["status"] != "open":
            raise StripeError(400, "This invoice can only be paid once finalized.")
        declined = invoice["customer"] in self.declining_customers
        now = int(time.time())
        intent_id = invoice["_payment_intent"]
        self.payment_intents[intent_id] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": invoice["amount_due"],
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "livemode": False,
            "last_payment_error": {
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
                "type": "card_error",
            }
            if declined
            else None,
            "status": "requires_payment_method" if declined else "succeeded",
        }
        invoice.update(attempt_count=invoice["attempt_count"] + 1, attempted=True)
        if declined:
            invoice["next_payment_attempt"] = now + 3 * 86400
            self.event("invoice.payment_failed", invoice)
            raise StripeError(
                402, "Your card was declined.", code="card_declined", type_="card_error"
            )
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = now
        self.event("invoice.paid", invoice)
        return self.public(invoice)

    def requests_to(self, method: str, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]
