"""
Who a managed signal trades for: the one decision of whether an investor is skipped.

``investor_skip_reason(performance, now)`` is None when the investor trades,
else a stable reason code, checked in this order:

``withdrawn``
    the investor left: their performance row is closed, or their subscription
    was cancelled (withdrawing settles the share and stops new trades);
``paused``
    their trading on the bot is paused (``paused_at`` is set, e.g. after an
    unpaid profit share outlived its grace period);
``past_due``
    their subscription's payment failed and is not yet settled;
``subscription_not_live``
    their subscription grants no access now (pending payment, expired, or
    past its end date).

It reads only the performance row and its subscription (load them together),
so it answers without a query.
"""

from __future__ import annotations

from datetime import datetime

from django_torgovo_subscriptions.models import ManagedBotPerformance, SubscriptionStatus

WITHDRAWN = "withdrawn"
PAUSED = "paused"
PAST_DUE = "past_due"
SUBSCRIPTION_NOT_LIVE = "subscription_not_live"


def investor_skip_reason(performance: ManagedBotPerformance, now: datetime) -> str | None:
    """None when a signal trades for this investor now, else why not (see above)."""
    subscription = performance.subscription
    if performance.closed_at is not None or subscription.status == SubscriptionStatus.CANCELLED:
        return WITHDRAWN
    if performance.paused_at is not None:
        return PAUSED
    if subscription.status == SubscriptionStatus.PAST_DUE:
        return PAST_DUE
    if not subscription.is_live(now):
        return SUBSCRIPTION_NOT_LIVE
    return None
