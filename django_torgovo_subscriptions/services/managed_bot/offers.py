"""
Investing in a managed bot: the offers on sale and subscribing with an investment.

The profit calculation itself lives in ``services.managed_bot.profit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, DecimalField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from django_torgovo_subscriptions.exceptions import (
    AlreadySubscribed,
    InvestmentTooSmall,
    OfferUnavailable,
)
from django_torgovo_subscriptions.models import (
    ManagedBotOffer,
    ManagedBotPerformance,
    PaymentKind,
    UserSubscription,
)
from django_torgovo_subscriptions.models.payments import PaymentStatus
from django_torgovo_subscriptions.models.subscriptions import ACCESS_STATUSES
from django_torgovo_subscriptions.services import subscriptions as subscription_service
from django_torgovo_subscriptions.services.managed_bot import profit
from django_torgovo_subscriptions.services.managed_bot.profit.guarantee import guarantee_at
from django_torgovo_subscriptions.services.quota import check_pair_quota

INVESTORS = "managed_bot__torgovo_managed_performance"
ZERO_MONEY = Decimal("0.00")
# Withdrawn investors (closed_at set) are not current, whatever their subscription.
CURRENT_INVESTORS = Q(
    **{
        f"{INVESTORS}__subscription__status__in": [s.value for s in ACCESS_STATUSES],
        f"{INVESTORS}__closed_at__isnull": True,
    }
)


def _sum(field: str) -> Coalesce:
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=18, decimal_places=2))
    return Coalesce(Sum(f"{INVESTORS}__{field}", filter=CURRENT_INVESTORS), zero)


def available_offers() -> QuerySet[ManagedBotOffer]:
    """Offers open to investors, with figures over their current investors (one query)."""
    return (
        ManagedBotOffer.objects.available()
        .select_related("plan")
        .annotate(
            investors=Count(f"{INVESTORS}__user", filter=CURRENT_INVESTORS, distinct=True),
            total_invested=_sum("initial_investment"),
            total_profit=_sum("total_profit"),
            total_loss=_sum("total_loss"),
        )
        .order_by("name", "id")
    )


def return_percentage(net: Decimal, invested: Decimal) -> Decimal | None:
    """Net profit as a percentage of the investment, to 0.01; None with nothing invested."""
    if not invested:
        return None
    return (net * 100 / invested).quantize(Decimal("0.01"))


@transaction.atomic
def invest(user: Any, offer: ManagedBotOffer, initial_investment: Decimal) -> ManagedBotPerformance:
    """
    Subscribe ``user`` to ``offer``'s plan with an investment in its bot.

    A user holds one managed-bot subscription; investing in a second bot of
    the same plan adds it to that subscription within the plan's pair quota.
    The subscription is pending_payment when a payment gateway is configured.
    """
    offer = ManagedBotOffer.objects.select_related("plan").get(pk=offer.pk)
    if not (offer.is_active and offer.plan.is_active):
        raise OfferUnavailable()
    if initial_investment < offer.minimum_investment:
        raise InvestmentTooSmall(
            f"The minimum investment in {offer.name} is {offer.minimum_investment} "
            f"{offer.plan.currency}.",
            fields={"initial_investment": [f"At least {offer.minimum_investment}."]},
        )
    subscription = (
        UserSubscription.objects.open()
        .select_for_update()
        .filter(user=user, plan_type=offer.plan.plan_type)
        .select_related("plan")
        .first()
    )
    if subscription is None:
        subscription = subscription_service.subscribe(user, offer.plan)
    elif subscription.plan_id != offer.plan_id:
        raise AlreadySubscribed(
            f"You already have a managed-bot subscription on the {subscription.plan.name} "
            "plan; this bot belongs to another plan."
        )
    elif ManagedBotPerformance.objects.filter(
        subscription=subscription, managed_bot_id=offer.managed_bot_id, closed_at__isnull=True
    ).exists():
        raise AlreadySubscribed(f"You are already invested in {offer.name}.")
    else:
        check_pair_quota(subscription, offer.managed_bot)
    # Only orders from now on count: a position the bot held before the user
    # invested is not theirs to profit from or pay a share on.
    return profit.open_performance(
        user,
        subscription,
        offer.managed_bot,
        initial_investment=initial_investment,
        orders_since=timezone.now(),
    )


@dataclass(frozen=True)
class PerformanceReport:
    """What the investor sees for one bot: the profit summary plus the plan's promise."""

    performance: ManagedBotPerformance
    summary: profit.PerformanceSummary
    net_profit: Decimal
    return_percentage: Decimal | None
    guaranteed_return: Decimal | None
    guaranteed_shortfall: Decimal | None
    profit_share_invoiced: Decimal
    profit_share_overdue: Decimal
    profit_share_payment_id: int | None


def _charges(status: str, field: str = "amount", function: Any = Sum) -> Any:
    """An aggregate over the row's profit-share payments in ``status`` (None: all)."""
    condition = Q(profit_share_payments__kind=PaymentKind.PROFIT_SHARE)
    if status:
        condition &= Q(profit_share_payments__status=status)
    return function(f"profit_share_payments__{field}", filter=condition)


def performance_rows(user: Any) -> QuerySet[ManagedBotPerformance]:
    """The user's managed-bot performance rows, newest first, ready for reports, with
    their profit-share charges summed: invoiced (at the gateway, unpaid), overdue
    (its charge failed) and the latest charge's id (one query for the lot)."""
    return (
        ManagedBotPerformance.objects.filter(user=user)
        .select_related("subscription__plan", "managed_bot__torgovo_managed_offer")
        .annotate(
            share_pending=_charges(PaymentStatus.PENDING),
            share_overdue=_charges(PaymentStatus.FAILED),
            share_payment_id=_charges("", "pk", Max),
        )
        .order_by("-created_at", "-pk")
    )


def performance_report(
    row: ManagedBotPerformance, now: datetime | None = None
) -> PerformanceReport:
    """
    Figures for one row, with the plan's guarantee up to ``now``
    (``profit.guarantee``: simple, per whole calendar month since investing).
    """
    summary = profit.performance_summary(row)
    net = summary.realized_pnl
    guarantee = guarantee_at(row, now or timezone.now(), net)
    guaranteed = guarantee.guaranteed if guarantee else None
    shortfall = guarantee.shortfall if guarantee else None
    return PerformanceReport(
        performance=row,
        summary=summary,
        net_profit=net,
        return_percentage=return_percentage(net, row.initial_investment),
        guaranteed_return=guaranteed,
        guaranteed_shortfall=shortfall,
        # Charges not yet paid: at the gateway (pending or failed) and the failed ones.
        profit_share_invoiced=(getattr(row, "share_pending", None) or ZERO_MONEY)
        + (getattr(row, "share_overdue", None) or ZERO_MONEY),
        profit_share_overdue=getattr(row, "share_overdue", None) or ZERO_MONEY,
        profit_share_payment_id=getattr(row, "share_payment_id", None),
    )
