"""
System checks of the payment settings (ids subscriptions.E030-E039, E080-E084,
W030-W039).

Each configured gateway class contributes its own through ``BaseGateway.check()``: the
Stripe gateway reports a missing SDK or missing environment variables.
``check --deploy`` also warns when the dummy gateway is configured.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning
from django.core.exceptions import ImproperlyConfigured

from django_torgovo_subscriptions.conf import subscriptions_settings

DURATIONS = (
    "PAYMENT_WEBHOOK_TOLERANCE_SECONDS",
    "PAST_DUE_GRACE_SECONDS",
    "RENEWAL_GRACE_SECONDS",
    "RENEWAL_LEAD_SECONDS",
    "REJECTED_PAYMENT_EVENT_RETENTION_SECONDS",
)
NULLABLE = ("REJECTED_PAYMENT_EVENT_RETENTION_SECONDS",)
URLS = ("CHECKOUT_SUCCESS_URL", "CHECKOUT_CANCEL_URL")


def check_payment_settings() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name in DURATIONS:
        value = subscriptions_settings.raw(name)
        if value is None and name in NULLABLE:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.append(
                Error(
                    f"{name} must be a whole number of seconds, 0 or more, not {value!r}.",
                    hint="For example 3600 for an hour."
                    + (" None disables it." if name in NULLABLE else ""),
                    id="subscriptions.E030",
                )
            )
    for name in URLS:
        value = subscriptions_settings.raw(name)
        if value is None:
            continue
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(
                Error(
                    f"{name} must be an absolute http(s) URL or None, not {value!r}.",
                    hint='For example "https://app.example.com/billing/done?subscription={SUBSCRIPTION_ID}".',
                    id="subscriptions.E035",
                )
            )
    from django_torgovo_subscriptions.payments import GatewaySettingsError, get_gateway_classes

    try:
        gateway_classes = get_gateway_classes()
    except ImportError:
        return errors  # reported as subscriptions.E005
    except GatewaySettingsError as exc:
        return [*errors, Error(str(exc), hint=GATEWAY_HINTS[exc.check_id], id=exc.check_id)]
    for gateway_class in gateway_classes:
        errors += gateway_class.check()
    return errors


GATEWAY_HINTS = {
    "subscriptions.E036": "Use django_torgovo_subscriptions.payments.stripe.StripeGateway, "
    "...payments.dummy.DummyGateway, or your own BaseGateway subclass.",
    "subscriptions.E080": "Keep PAYMENT_GATEWAY_CLASSES (the first entry is the default) and "
    "remove PAYMENT_GATEWAY_CLASS, or set PAYMENT_GATEWAY_CLASSES to [].",
    "subscriptions.E081": 'For example ["django_torgovo_subscriptions.payments.stripe.'
    'StripeGateway"]; make sure every module imports.',
    "subscriptions.E082": "Webhook URLs and stored payments tell gateways apart by name: give "
    "each class its own `name`.",
}


@register(Tags.security, deploy=True)
def check_payment_deploy(app_configs=None, **kwargs) -> list[CheckMessage]:
    from django_torgovo_subscriptions.payments import get_gateway_classes
    from django_torgovo_subscriptions.payments.dummy import DummyGateway

    try:
        gateway_classes = get_gateway_classes()
    except (ImportError, ImproperlyConfigured):
        return []  # reported by the regular checks
    return [
        CheckWarning(
            f"The payment gateway {gateway_class.name!r} is the dummy gateway, which activates "
            "subscriptions without taking any money.",
            hint="Use django_torgovo_subscriptions.payments.stripe.StripeGateway in production.",
            id="subscriptions.W030",
        )
        for gateway_class in gateway_classes
        if issubclass(gateway_class, DummyGateway)
    ]
