"""
Payment gateways (issue 6; docs/PAYMENTS.md "Several gateways").

The gateway registry: ``TORGOVO_SUBSCRIPTIONS["PAYMENT_GATEWAY_CLASSES"]``
names the gateways a user may choose among, the first being the default;
``PAYMENT_GATEWAY_CLASS`` is the shorthand for a list of one. None configured:
payments are off.

* ``get_gateways()``: every configured gateway, in order (instances are cached
  until the setting changes);
* ``get_gateway()``: the default one, or None;
* ``gateway_named(name)``: the one called ``name`` (webhook URLs, stored rows),
  or ``UnknownGateway``.

Shipped gateways:

* ``django_torgovo_subscriptions.payments.stripe.StripeGateway``
* ``django_torgovo_subscriptions.payments.btcpay.BtcPayGateway`` (BTCPay Server, crypto)
* ``django_torgovo_subscriptions.payments.dummy.DummyGateway`` (demo and tests)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

from django_torgovo_subscriptions.conf import import_from_string, subscriptions_settings
from django_torgovo_subscriptions.exceptions import UnknownGateway

if TYPE_CHECKING:
    from django_torgovo_subscriptions.payments.base import BaseGateway

STRIPE_GATEWAY = "django_torgovo_subscriptions.payments.stripe.StripeGateway"
BTCPAY_GATEWAY = "django_torgovo_subscriptions.payments.btcpay.BtcPayGateway"
DUMMY_GATEWAY = "django_torgovo_subscriptions.payments.dummy.DummyGateway"


class GatewaySettingsError(ImproperlyConfigured):
    """The gateway settings are unusable; ``check_id`` is the system check that reports it."""

    def __init__(self, message: str, check_id: str) -> None:
        super().__init__(message)
        self.check_id = check_id


def get_gateway_classes() -> tuple[type[BaseGateway], ...]:
    """
    The configured gateway classes, the default first; () when payments are
    off. Raises ``GatewaySettingsError`` (or ``ImportError`` for a bad
    ``PAYMENT_GATEWAY_CLASS``, reported as subscriptions.E005).
    """
    from django_torgovo_subscriptions.payments.base import BaseGateway

    single = subscriptions_settings.PAYMENT_GATEWAY_CLASS
    paths = subscriptions_settings.raw("PAYMENT_GATEWAY_CLASSES")
    if not isinstance(paths, list | tuple) or not all(isinstance(p, str) for p in paths):
        raise GatewaySettingsError(
            f"PAYMENT_GATEWAY_CLASSES must be a list of dotted paths, not {paths!r}.",
            "subscriptions.E081",
        )
    if paths and single is not None:
        raise GatewaySettingsError(
            "PAYMENT_GATEWAY_CLASS and PAYMENT_GATEWAY_CLASSES are both set; the server "
            "cannot tell which gateways are offered.",
            "subscriptions.E080",
        )
    try:
        classes = [import_from_string(path, "PAYMENT_GATEWAY_CLASSES") for path in paths]
    except ImportError as exc:
        raise GatewaySettingsError(str(exc), "subscriptions.E081") from exc
    if not paths:
        classes = [single] if single is not None else []
    for gateway_class in classes:
        if not (isinstance(gateway_class, type) and issubclass(gateway_class, BaseGateway)):
            raise GatewaySettingsError(
                f"{gateway_class!r} is not a payment gateway: PAYMENT_GATEWAY_CLASS(ES) must "
                "name subclasses of django_torgovo_subscriptions.payments.base.BaseGateway.",
                "subscriptions.E036",
            )
    names = [gateway_class.name for gateway_class in classes]
    repeated = sorted({name for name in names if names.count(name) > 1 or not name})
    if repeated:
        raise GatewaySettingsError(
            "Every configured payment gateway needs a name of its own; "
            f"{', '.join(repr(n) for n in repeated)} is empty or used twice.",
            "subscriptions.E082",
        )
    return tuple(classes)


_instances: tuple[tuple[type[BaseGateway], ...], tuple[BaseGateway, ...]] = ((), ())


def get_gateways() -> tuple[BaseGateway, ...]:
    """Every configured gateway, the default first; () when payments are off."""
    global _instances
    classes = get_gateway_classes()
    if _instances[0] != classes:
        _instances = (classes, tuple(gateway_class() for gateway_class in classes))
    return _instances[1]


def get_gateway() -> BaseGateway | None:
    """The default gateway (the first configured), or None when the server takes no payments."""
    gateways = get_gateways()
    return gateways[0] if gateways else None


def gateway_named(name: str) -> BaseGateway:
    """The configured gateway called ``name``; ``UnknownGateway`` when there is none."""
    for gateway in get_gateways():
        if gateway.name == name:
            return gateway
    raise UnknownGateway(f"No payment gateway called {name!r} is configured on this server.")


def gateway_names() -> list[str]:
    """The configured gateways' names, the default first."""
    return [gateway.name for gateway in get_gateways()]
