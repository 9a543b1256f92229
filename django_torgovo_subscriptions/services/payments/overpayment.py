"""Payments above the price (BTCPay: a payer may send more than the invoice asks)."""

from __future__ import annotations

from django_torgovo_subscriptions.models import Payment


def overpaid_note(payment: Payment) -> str:
    """A note asking a person to refund or credit what was paid above the price."""
    received = payment.amount_received
    if received is None or received <= payment.amount:
        return ""
    excess = received - payment.amount
    return f"Overpaid by {excess} {payment.currency}: refund or credit the excess."
