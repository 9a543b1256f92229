"""
A local fake of BTCPay Server's Greenfield API, for the BtcPayGateway tests.

The gateway talks to it over real HTTP (``BTCPAY_URL`` points here) with
``Authorization: token <key>``. The shapes follow BTCPay's published API
description (../shared/btcpay/swagger.template.invoices.json and
...webhooks.json): ``InvoiceData`` (amounts as decimal strings, unix
timestamps, ``status`` and ``additionalStatus``), ``InvoicePaymentMethodDataModel``
with its ``Payment`` list, ``ProblemDetails`` errors, and webhook deliveries
(``deliveryId``, ``webhookId``, ``originalDeliveryId``, ``isRedelivery``,
``type``, ``timestamp``, ``storeId``, ``invoiceId``, ``metadata`` and each type's
own fields) signed ``BTCPay-Sig: sha256=<hex HMAC-SHA256(secret, body)>``,
computed here independently of the package.

Besides the API it plays the payer's and BTCPay's part: ``pay`` (a payment
seen, unconfirmed), ``confirm`` (settled), ``expire``, ``invalidate``. Each
returns the deliveries BTCPay would send; tests sign and POST them.
``down``/``delay``/``fail_status`` make it unreachable, slow or failing.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import SplitResult, parse_qs

from tests.fake_http import LocalHTTPFake

RATE = Decimal("50000.00")  # the invoice currency per BTC
SATS = Decimal("0.00000001")


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeBtcPay(LocalHTTPFake):
    """State and behaviour of one BTCPay store."""

    def __init__(
        self,
        api_key: str = "fake-greenfield-key",
        store_id: str = "9CiNzKoANXxmk5ayZngSXrHTiVvvgCrwrpFQd4m2K776",
        webhook_secret: str = "fake-webhook-secret",
    ) -> None:
        self.api_key = api_key
        self.store_id = store_id
        self.webhook_secret = webhook_secret
        self.webhook_id = "WhK7uqYw6AJxFv3WmUoH6t"
        self.invoices: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[dict[str, Any]] = []
        # Deliveries caused by API calls (an invoice marked invalid), for tests to POST.
        self.outbox: list[dict[str, Any]] = []
        self.delay = 0.0  # seconds before every answer
        self.fail_status: int | None = None  # answer every request with this status
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def respond(
        self, method: str, url: SplitResult, raw: bytes, headers: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if self.delay:
            time.sleep(self.delay)
        status, body = self.handle(method, url.path, url.query, raw, headers)
        return status, body, {}

    def handle(
        self, method: str, path: str, query: str, raw: bytes, headers: Any
    ) -> tuple[int, Any]:
        with self._lock:
            self.requests.append({"method": method, "path": path, "query": query, "raw": raw})
            if self.fail_status is not None:
                return self.fail_status, {"code": "server-error", "message": "Boom."}
            if headers.get("Authorization") != f"token {self.api_key}":
                return 401, {"code": "unauthenticated", "message": "Authentication is required."}
            store = re.fullmatch(r"/api/v1/stores/([^/]+)/invoices", path)
            if store:
                if store[1] != self.store_id:
                    return 403, {"code": "forbidden", "message": "Not your store."}
                if method == "POST":
                    return self.create_invoice(json.loads(raw))
                query_params = parse_qs(query)
                orders = query_params.get("orderId")
                since = int(query_params.get("startDate", ["0"])[0])
                return 200, [
                    self.invoice_data(i)
                    for i in self.invoices.values()
                    if (orders is None or i["metadata"].get("orderId") in orders)
                    and i["createdTime"] >= since
                ]
            marking = re.fullmatch(r"/api/v1/invoices/([^/]+)/status", path)
            if marking and method == "POST":
                return self.mark_status(marking[1], json.loads(raw).get("status"))
            match = re.fullmatch(r"/api/v1/invoices/([^/]+)(/payment-methods)?", path)
            if match and method == "GET":
                if match[1] not in self.invoices:
                    return 404, {"code": "invoice-not-found", "message": "Invoice not found."}
                if match[2]:
                    return 200, self.payment_methods(match[1])
                return 200, self.invoice_data(self.invoices[match[1]])
            return 404, {"code": "not-found", "message": f"No route {method} {path}."}

    # -- API objects -------------------------------------------------------------------

    def create_invoice(self, body: dict[str, Any]) -> tuple[int, Any]:
        try:
            amount = Decimal(body["amount"])
        except (KeyError, ArithmeticError, TypeError):
            return 400, [{"path": "amount", "message": "Amount should be a decimal."}]
        now = int(time.time())
        checkout = body.get("checkout") or {}
        minutes = checkout.get("expirationMinutes") or 15
        invoice_id = f"LJ8Zt3uMGuxwFaRv{next(self._ids):06d}"
        self.invoices[invoice_id] = {
            "id": invoice_id,
            "storeId": self.store_id,
            "amount": amount,
            "currency": body.get("currency") or "USD",
            "type": "Standard",
            "checkoutLink": f"{self.url}/i/{invoice_id}",
            "createdTime": now,
            "expirationTime": now + int(minutes * 60),
            "monitoringExpiration": now + int(minutes * 60) + 86400,
            "status": "New",
            "additionalStatus": "None",
            "archived": False,
            "metadata": body.get("metadata") or {},
            "checkout": {
                "speedPolicy": "MediumSpeed",
                "paymentMethods": ["BTC-CHAIN"],
                "defaultPaymentMethod": "BTC-CHAIN",
                "expirationMinutes": minutes,
                "monitoringMinutes": 1440,
                "paymentTolerance": 0,
                "redirectURL": checkout.get("redirectURL"),
                "redirectAutomatically": False,
                "defaultLanguage": None,
            },
            "receipt": {"enabled": True, "showQR": None, "showPayments": None},
        }
        self.payments[invoice_id] = []
        return 200, self.invoice_data(self.invoices[invoice_id])

    def mark_status(self, invoice_id: str, status: Any) -> tuple[int, Any]:
        """``POST /invoices/{id}/status``: the merchant marks the invoice."""
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            return 404, {"code": "invoice-not-found", "message": "Invoice not found."}
        if status not in self.invoice_data(invoice)["availableStatusesForManualMarking"]:
            return 400, [{"path": "status", "message": f"Cannot mark the invoice {status}."}]
        invoice["status"], invoice["additionalStatus"] = status, "Marked"
        event = "InvoiceInvalid" if status == "Invalid" else "InvoiceSettled"
        self.outbox.append(self.delivery(event, invoice_id, manuallyMarked=True))
        return 200, self.invoice_data(invoice)

    def paid(self, invoice_id: str) -> Decimal:
        return sum((p["fiat"] for p in self.payments[invoice_id]), Decimal("0"))

    def invoice_data(self, invoice: dict[str, Any]) -> dict[str, Any]:
        marking = {"New": ["Settled", "Invalid"], "Settled": ["Invalid"]}
        return {
            **invoice,
            "amount": f"{invoice['amount']:.2f}",
            "paidAmount": f"{self.paid(invoice['id']):.2f}",
            "availableStatusesForManualMarking": marking.get(invoice["status"], ["Settled"]),
        }

    def payment_methods(self, invoice_id: str) -> list[dict[str, Any]]:
        invoice = self.invoices[invoice_id]
        due_btc = _btc(invoice["amount"])
        paid_btc = sum((p["btc"] for p in self.payments[invoice_id]), Decimal("0"))
        return [
            {
                "paymentMethodId": "BTC-CHAIN",
                "currency": "BTC",
                "destination": "bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw",
                "paymentLink": "bitcoin:bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw",
                "rate": f"{RATE:.2f}",
                "paymentMethodPaid": f"{paid_btc:.8f}",
                "totalPaid": f"{paid_btc:.8f}",
                "due": f"{due_btc - paid_btc:.8f}",
                "amount": f"{due_btc:.8f}",
                "paymentMethodFee": "0.00000000",
                "payments": [
                    {
                        "id": p["id"],
                        "receivedDate": p["received"],
                        "value": f"{p['btc']:.8f}",
                        "fee": "0.00000000",
                        "status": p["status"],
                        "destination": "bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw",
                    }
                    for p in self.payments[invoice_id]
                ],
                "activated": True,
                "additionalData": {"keyPath": "0/1", "payjoinEnabled": False},
            }
        ]

    # -- BTCPay's part -----------------------------------------------------------------

    def delivery(self, event_type: str, invoice_id: str, **fields: Any) -> dict[str, Any]:
        delivery_id = f"Dlv{next(self._ids):08d}"
        return {
            "deliveryId": delivery_id,
            "webhookId": self.webhook_id,
            "originalDeliveryId": delivery_id,
            "isRedelivery": False,
            "type": event_type,
            "timestamp": int(time.time()),
            "storeId": self.store_id,
            "invoiceId": invoice_id,
            "metadata": self.invoices[invoice_id]["metadata"],
            **fields,
        }

    def redeliver(self, delivery: dict[str, Any]) -> dict[str, Any]:
        """The store's "Redeliver" button: a new delivery id naming the original."""
        return {**delivery, "deliveryId": f"Dlv{next(self._ids):08d}", "isRedelivery": True}

    def pay(self, invoice_id: str, fiat: Decimal | str | None = None) -> list[dict[str, Any]]:
        """A payment seen on chain, unconfirmed (the whole price unless ``fiat``)."""
        invoice = self.invoices[invoice_id]
        fiat = invoice["amount"] if fiat is None else Decimal(fiat)
        late = invoice["status"] == "Expired" or time.time() > invoice["expirationTime"]
        payment = {
            "id": f"{next(self._ids):064x}-0",
            "received": int(time.time()),
            "fiat": fiat,
            "btc": _btc(fiat),
            "status": "Processing",
        }
        self.payments[invoice_id].append(payment)
        events = [
            self.delivery(
                "InvoiceReceivedPayment",
                invoice_id,
                afterExpiration=late,
                paymentMethodId="BTC-CHAIN",
                payment=self.payment_methods(invoice_id)[0]["payments"][-1],
            )
        ]
        total = self.paid(invoice_id)
        if total >= invoice["amount"]:
            invoice["status"] = "Processing"
            invoice["additionalStatus"] = (
                "PaidLate" if late else "PaidOver" if total > invoice["amount"] else "None"
            )
            events.append(
                self.delivery("InvoiceProcessing", invoice_id, overPaid=total > invoice["amount"])
            )
        elif late:
            invoice["additionalStatus"] = "PaidPartial"
        return events

    def confirm(self, invoice_id: str) -> list[dict[str, Any]]:
        """The payments confirm; a fully paid invoice settles."""
        invoice = self.invoices[invoice_id]
        events = []
        for payment in self.payments[invoice_id]:
            if payment["status"] == "Processing":
                payment["status"] = "Settled"
                method = self.payment_methods(invoice_id)[0]
                events.append(
                    self.delivery(
                        "InvoicePaymentSettled",
                        invoice_id,
                        afterExpiration=False,
                        paymentMethodId="BTC-CHAIN",
                        payment=next(p for p in method["payments"] if p["id"] == payment["id"]),
                    )
                )
        total = self.paid(invoice_id)
        if total >= invoice["amount"]:
            invoice["status"] = "Settled"
            events.append(
                self.delivery(
                    "InvoiceSettled",
                    invoice_id,
                    manuallyMarked=False,
                    overPaid=total > invoice["amount"],
                )
            )
        return events

    def expire(self, invoice_id: str) -> list[dict[str, Any]]:
        invoice = self.invoices[invoice_id]
        partial = self.paid(invoice_id) > 0
        invoice["status"] = "Expired"
        invoice["additionalStatus"] = "PaidPartial" if partial else "None"
        invoice["expirationTime"] = int(time.time()) - 1
        return [self.delivery("InvoiceExpired", invoice_id, partiallyPaid=partial)]

    def invalidate(self, invoice_id: str) -> list[dict[str, Any]]:
        invoice = self.invoices[invoice_id]
        invoice["status"] = "Invalid"
        invoice["additionalStatus"] = "Invalid"
        for payment in self.payments[invoice_id]:
            payment["status"] = "Invalid"
        return [self.delivery("InvoiceInvalid", invoice_id, manuallyMarked=False)]

    def requests_to(self, method: str, pattern: str) -> list[dict[str, Any]]:
        return [
            r for r in self.requests if r["method"] == method and re.fullmatch(pattern, r["path"])
        ]


def _btc(fiat: Decimal) -> Decimal:
    return (Decimal(fiat) / RATE).quantize(SATS, rounding=ROUND_HALF_UP)
