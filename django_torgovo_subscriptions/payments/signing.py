"""
Webhook signatures: Stripe's documented scheme (shared by the Stripe and the dummy
gateway) and BTCPay Server's (below).

    Stripe-Signature: t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff...

``v1`` is HMAC-SHA256 over ``f"{t}.{body}"`` keyed with the endpoint secret,
hex encoded; a header may carry several ``v1`` values (during a secret roll)
and other schemes, which are ignored. One implementation serves the Stripe and
the dummy gateway, so the demo exercises exactly the verification production
uses; tests check it against the stripe SDK's own signer and verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django_torgovo_subscriptions.exceptions import InvalidSignature, StaleSignature

SCHEME = "v1"


def compute_signature(body: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value for ``body``: ``t=<unix time>,v1=<hex HMAC>``."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},{SCHEME}={compute_signature(body, secret, timestamp)}"


def parse_header(header: str) -> tuple[int | None, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                timestamp = None
        elif key == SCHEME and value:
            signatures.append(value)
    return timestamp, signatures


def verify(body: bytes, header: str, secret: str, tolerance: int, now: float | None = None) -> int:
    """
    Check ``header`` against ``body``; return the signed timestamp.

    The HMAC is checked first (in constant time), then the age: a correctly
    signed but old (or far future) delivery raises ``StaleSignature``, any
    other mismatch ``InvalidSignature``. ``tolerance`` is in seconds.
    """
    timestamp, signatures = parse_header(header)
    if timestamp is None or not signatures:
        raise InvalidSignature(
            "The signature header is malformed: expected t=<timestamp>,v1=<signature>."
        )
    expected = compute_signature(body, secret, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature()
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise StaleSignature(
            f"The signature timestamp is {int(now - timestamp)} seconds away from the server's "
            f"clock; at most {tolerance} are accepted."
        )
    return timestamp


# --- BTCPay Server ------------------------------------------------------------------
#
#     BTCPay-Sig: sha256=b438519edde5c8144a4f9bcec51a9d346eca6506887c2ceeae1c0092884a97b9
#
# HMAC-SHA256 of the raw body keyed with the webhook's secret (UTF-8), hex encoded.
# There is no timestamp: replays are caught by the delivery id, and the state acted on
# is re-read from BTCPay's API, never taken from the body.

BTCPAY_PREFIX = "sha256="


def btcpay_sign(body: bytes, secret: str) -> str:
    """The ``BTCPay-Sig`` header value for ``body``."""
    return BTCPAY_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def btcpay_verify(body: bytes, header: str, secret: str) -> None:
    """Raise ``InvalidSignature`` unless ``header`` is ``body``'s BTCPay signature."""
    if not header.startswith(BTCPAY_PREFIX):
        raise InvalidSignature("The signature header is malformed: expected sha256=<hex HMAC>.")
    # Bytes: compare_digest refuses str with non-ASCII characters (a hostile header).
    given = header.strip().encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(btcpay_sign(body, secret).encode(), given):
        raise InvalidSignature()
