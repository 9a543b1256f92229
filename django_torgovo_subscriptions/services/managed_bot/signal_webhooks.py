"""
The operator's TradingView webhook for a managed bot.

A managed-signal webhook is a ``CustomBotWebhook`` with purpose
``managed_signal``, owned by the operator and attached to the managed bot's
PairConfig, with no subscription. Its alerts go through the custom-bot
receiver's pipeline (secret, rate limits, IP allowlist, body, age, duplicates,
one ``WebhookEvent`` per request); only two steps differ:

* entitlement: the webhook's user must still be an operator of the bot (active,
  and staff or the PairConfig's owner where the host has owners) and the bot
  must be on offer (``NotAnOperator``, 403);
* the accepted alert is recorded as a ``ManagedSignal`` (its signal id is the
  event's, ``tv-<event id>``) and fanned out to the investors
  (``services.managed_bot.fanout``) instead of placing one trade.

Only an operator can create one (``generate_signal_webhook``): through the
admin's action on managed bot offers, or by calling the function.
"""

from __future__ import annotations

from typing import Any

from django_torgovo_subscriptions.exceptions import NotAnOperator
from django_torgovo_subscriptions.host import get_host_adapter
from django_torgovo_subscriptions.models import (
    CustomBotWebhook,
    ManagedBotOffer,
    ManagedSignalSource,
    WebhookEvent,
    WebhookPurpose,
)
from django_torgovo_subscriptions.services.custom_bot import alerts
from django_torgovo_subscriptions.services.custom_bot.issuing import IssuedSecret, new_secret
from django_torgovo_subscriptions.services.managed_bot import fanout

# The alert message the operator pastes into TradingView; "secret" is added.
# "fraction" is the operator's choice: the share of each investor's allocation.
SIGNAL_TEMPLATE = {
    "action": "{{strategy.order.action}}",
    "ticker": "{{ticker}}",
    "price": "{{close}}",
    "fraction": "0.5",
    "time": "{{timenow}}",
}


def is_operator(user: Any, managed_bot: Any) -> bool:
    """True when ``user`` may send signals for ``managed_bot``: an active staff member, or
    the PairConfig's owner where the host's PairConfigs have one."""
    if not getattr(user, "is_active", False):
        return False
    if getattr(user, "is_staff", False):
        return True
    owner_field = get_host_adapter().pair_config_field("owner")
    if not owner_field:
        return False
    attname = type(managed_bot)._meta.get_field(owner_field).attname
    return getattr(managed_bot, attname) == user.pk


def check_operator(user: Any, managed_bot: Any) -> None:
    """Raise ``NotAnOperator`` unless ``user`` operates ``managed_bot`` and it is on offer."""
    if not is_operator(user, managed_bot):
        raise NotAnOperator()
    if not ManagedBotOffer.objects.filter(managed_bot=managed_bot).exists():
        raise NotAnOperator(
            "This bot configuration is not a managed bot on offer; it has no investors to "
            "trade for.",
        )


def generate_signal_webhook(operator: Any, managed_bot: Any) -> IssuedSecret:
    """A new operator webhook for ``managed_bot``; its secret is returned once."""
    check_operator(operator, managed_bot)
    secret, secret_hash = new_secret()
    webhook = CustomBotWebhook.objects.create(
        user=operator,
        subscription=None,
        pair_config=managed_bot,
        purpose=WebhookPurpose.MANAGED_SIGNAL,
        secret_hash=secret_hash,
        tradingview_config=dict(SIGNAL_TEMPLATE),
    )
    return IssuedSecret(webhook, secret)


def fan_out_event(
    event: WebhookEvent, webhook: CustomBotWebhook, alert: alerts.ManagedSignalAlert
) -> fanout.FanOut:
    """Record the accepted alert as the bot's signal and fan it out; the event is marked
    executed (with the counts) when every investor has a record."""
    signal = fanout.record_signal(
        webhook.pair_config,
        side=alert.side,
        fraction=alert.fraction,
        price=alert.price,
        signal_id=f"tv-{event.pk}",
        symbol=alert.ticker,
        source=ManagedSignalSource.WEBHOOK,
        webhook_event=event,
    )
    fanned = fanout.dispatch(signal)
    if fanned.queued:  # answered as queued, whatever the workers have done meanwhile
        return fanned
    if event.status_code == 202:  # Celery was asked for, but the broker was down: traded inline
        WebhookEvent.objects.filter(pk=event.pk).update(status_code=200)
    event.refresh_from_db(fields=["outcome", "execution", "processed_at", "status_code"])
    return fanned
