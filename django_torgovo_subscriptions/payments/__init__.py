"""
Payment gateways (issue 6; docs/PAYMENTS.md).

``get_gateway()`` returns an instance of the class named by
``TORGOVO_SUBSCRIPTIONS["PAYMENT_GATEWAY_CLASS"]``, or None when payments are
off. Shipped gateways:

* ``django_torgovo_subscriptions.payments.stripe.StripeGateway``
* ``django_torgovo_subscriptions.payments.btcpay.BtcPayGateway`` (BTCPay Server, crypto)
* ``django_torgovo_subscriptions.payments.dummy.DummyGateway`` (demo and tests)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

from django_torgovo_subscriptions.conf import subscriptions_settings

if TYPE_CHECKING:
    from django_torgovo_subscriptions.payments.base import BaseGateway

STRIPE_GATEWAY = "django_torgovo_subscriptions.payments.stripe.StripeGateway"
BTCPAY_GATEWAY = "django_torgovo_subscriptions.payments.btcpay.BtcPayGateway"
DUMMY_GATEWAY = "django_torgovo_subscriptions.payments.dummy.DummyGateway"


def get_gateway_class() -> type[BaseGateway] | None:
    from django_torgovo_subscriptions.payments.base import BaseGateway

    gateway_class = subscriptions_settings.PAYMENT_GATEWAY_CLASS
    if gateway_class is None:
        return None
    if not (isinstance(gateway_class, type) and issubclass(gateway_class, BaseGateway)):
        raise ImproperlyConfigured(
            "PAYMENT_GATEWAY_CLASS must name a subclass of "
            "django_torgovo_subscriptions.payments.base.BaseGateway."
        )
    return gateway_class


def get_gateway() -> BaseGateway | None:
    """The configured gateway, or None when the server takes no payments."""
    gateway_class = get_gateway_class()
    return gateway_class() if gateway_class is not None else None


def gateway_named(name: str) -> BaseGateway | None:
    """The configured gateway if it is called ``name`` (webhook URLs, stored rows)."""
    gateway = get_gateway()
    return gateway if gateway is not None and gateway.name == name else None
