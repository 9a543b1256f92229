"""
A small typed client of BTCPay Server's Greenfield API (``/api/v1``), over ``requests``.

Only what the gateway needs: create an invoice, read one and its payment
methods, list the store's invoices (by ``orderId``, or created since a time),
mark one invalid. Every request carries
``Authorization: token <API key>`` and connect/read timeouts. Failures map to
the package's errors with stable codes:

* no answer (connection refused, DNS, timeout) or a 5xx: ``GatewayUnavailable``
  (503 ``gateway_unavailable``), since a retry can succeed;
* any other refusal (401/403/404/400 with BTCPay's problem details) or an
  answer that is not the JSON expected: ``GatewayError`` (502 ``gateway_error``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django_torgovo_subscriptions.exceptions import GatewayError, GatewayUnavailable

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15


def decimal(value: Any) -> Decimal | None:
    """A Greenfield decimal (a JSON string such as "5.00"), or None."""
    if value in (None, ""):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def timestamp(value: Any) -> datetime | None:
    """A Greenfield UnixTimestamp (seconds), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class Invoice:
    """The fields of a Greenfield ``InvoiceData`` the gateway acts on."""

    id: str
    status: str  # New | Processing | Expired | Invalid | Settled
    additional_status: str  # None | PaidLate | PaidPartial | Marked | Invalid | PaidOver
    amount: Decimal
    paid_amount: Decimal
    currency: str
    checkout_link: str
    created: datetime | None
    expires_at: datetime | None
    metadata: dict[str, Any]
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, data: Any) -> Invoice:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
            raise GatewayError("BTCPay answered with something that is not an invoice.")
        amount = decimal(data.get("amount"))
        if amount is None:
            raise GatewayError(f"BTCPay's invoice {data['id']} has no amount.")
        metadata = data.get("metadata")
        return cls(
            id=data["id"],
            status=str(data.get("status") or ""),
            additional_status=str(data.get("additionalStatus") or "None"),
            amount=amount,
            paid_amount=decimal(data.get("paidAmount")) or Decimal("0"),
            currency=str(data.get("currency") or "").upper(),
            checkout_link=str(data.get("checkoutLink") or ""),
            created=timestamp(data.get("createdTime")),
            expires_at=timestamp(data.get("expirationTime")),
            metadata=metadata if isinstance(metadata, dict) else {},
            raw=data,
        )


class BtcPayClient:
    """Greenfield over HTTP for one store."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        store_id: str,
        *,
        read_timeout: float = READ_TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.store_id = store_id
        self.read_timeout = read_timeout

    def request(self, method: str, path: str, action: str, **kwargs: Any) -> Any:
        import requests

        url = f"{self.base_url}/api/v1{path}"
        try:
            response = requests.request(
                method,
                url,
                headers={"Authorization": f"token {self.api_key}", "Accept": "application/json"},
                timeout=(CONNECT_TIMEOUT_SECONDS, self.read_timeout),
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            logger.warning("BTCPay %s %s: %r", method, path, exc)
            raise GatewayUnavailable(f"BTCPay could not {action}: it did not answer.") from exc
        if response.status_code >= 500:
            logger.warning("BTCPay %s %s: %s", method, path, response.status_code)
            raise GatewayUnavailable(
                f"BTCPay could not {action}: it answered {response.status_code}."
            )
        if response.status_code >= 300:
            logger.warning(
                "BTCPay %s %s: %s %s", method, path, response.status_code, response.text[:500]
            )
            raise GatewayError(
                f"BTCPay refused to {action} ({response.status_code}{_problem(response)})."
            )
        try:
            return response.json()
        except ValueError as exc:
            raise GatewayError(f"BTCPay could not {action}: the answer is not JSON.") from exc

    def create_invoice(self, body: dict[str, Any]) -> Invoice:
        data = self.request(
            "POST", f"/stores/{self.store_id}/invoices", "create the invoice", json=body
        )
        return Invoice.from_json(data)

    def get_invoice(self, invoice_id: str) -> Invoice:
        return Invoice.from_json(
            self.request("GET", f"/invoices/{_segment(invoice_id)}", "read the invoice")
        )

    def get_payment_methods(self, invoice_id: str) -> list[dict[str, Any]]:
        data = self.request(
            "GET",
            f"/invoices/{_segment(invoice_id)}/payment-methods",
            "read the invoice's payments",
        )
        if not isinstance(data, list):
            raise GatewayError("BTCPay's payment methods answer is not a list.")
        return [method for method in data if isinstance(method, dict)]

    def mark_invoice_status(self, invoice_id: str, status: str) -> Invoice:
        """Mark an invoice ``Invalid`` (or ``Settled``); the store follows from the invoice."""
        return Invoice.from_json(
            self.request(
                "POST",
                f"/invoices/{_segment(invoice_id)}/status",
                "mark the invoice " + status.lower(),
                json={"status": status},
            )
        )

    def list_invoices(self, **params: Any) -> list[Invoice]:
        """The store's invoices, filtered by Greenfield's query (``orderId``, ``startDate``...)."""
        data = self.request(
            "GET", f"/stores/{self.store_id}/invoices", "list the invoices", params=params
        )
        if not isinstance(data, list):
            raise GatewayError("BTCPay's invoice list is not a list.")
        return [Invoice.from_json(item) for item in data]


def _segment(value: str) -> str:
    """An id as one URL path segment (an id from a webhook body is hostile)."""
    from urllib.parse import quote

    return quote(value, safe="")


def _problem(response: Any) -> str:
    """BTCPay's ProblemDetails message, or its first validation error, if any."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict) and data.get("message"):
        return f": {str(data['message'])[:200]}"
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return f": {data[0].get('path', '')!s} {str(data[0].get('message', ''))[:200]}"
    return ""
