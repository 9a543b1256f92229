"""
The profit share on cumulative net profit above the high-water mark (pure Decimal).

At each settlement point (a month end, or the day a subscriber leaves):

    net   = cumulative realized net profit up to that point, rounded to 0.01
    share = rate * max(0, net - hwm)          (accrued exactly)
    hwm   = max(hwm, net)

Losses never produce a negative share: after a drawdown nothing is charged
until the cumulative net profit climbs back above the previous peak.

Rounding rule (the only one): money is quantized to 0.01 ROUND_HALF_UP at
settlement points only -- the cumulative net profit snapshot (so the
high-water mark is a whole-cent amount) and the amount charged. The amount
charged at a settlement is ``round(accrued_total) - charged_before``, so the
rounding never accumulates: with one rate throughout, the total ever charged
is exactly ``round(rate * peak)``, peak being the highest cumulative net
profit seen at a settlement point (0 if it never rose above zero).
Between settlements, the ledger keeps full precision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)
# A rate has at most this many decimal places (a percentage with 4 places).
RATE_MAX_PLACES = 6


def quantize_money(amount: Decimal) -> Decimal:
    """Round to 0.01, halves away from zero: the package's one money rounding."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def rate_from_percentage(percentage: Decimal | int | str) -> Decimal:
    """20 (or "20.00") -> Decimal("0.2")."""
    return check_rate(Decimal(percentage) / 100)


def check_rate(rate: Decimal) -> Decimal:
    rate = Decimal(rate)
    if not ZERO <= rate <= 1:
        raise ValueError(f"A profit share rate must be between 0 and 1, not {rate}.")
    exponent = rate.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -RATE_MAX_PLACES:
        raise ValueError(f"A profit share rate has at most {RATE_MAX_PLACES} decimal places.")
    return rate


@dataclass(frozen=True)
class ShareStep:
    """One settlement of the high-water-mark rule."""

    net_profit: Decimal  # cumulative net profit at the settlement point (0.01)
    rate: Decimal
    high_water_mark_before: Decimal
    high_water_mark: Decimal
    accrued: Decimal  # exact running total of rate * hwm increments
    charged_before: Decimal
    amount: Decimal  # charged at this settlement (0.01, never negative)

    @property
    def charged(self) -> Decimal:
        return self.charged_before + self.amount


def settle_share(
    net_profit: Decimal,
    *,
    rate: Decimal,
    high_water_mark: Decimal = ZERO,
    accrued: Decimal = ZERO,
    charged: Decimal = ZERO,
) -> ShareStep:
    """Apply the high-water-mark rule at one settlement point.

    ``net_profit`` is the exact cumulative realized net profit; it is rounded
    here. ``accrued`` and ``charged`` are the running totals before this step.
    """
    rate = check_rate(rate)
    net = quantize_money(net_profit)
    new_hwm = max(high_water_mark, net)
    new_accrued = accrued + rate * (new_hwm - high_water_mark)
    amount = max(ZERO, quantize_money(new_accrued) - charged)
    return ShareStep(
        net_profit=net,
        rate=rate,
        high_water_mark_before=high_water_mark,
        high_water_mark=new_hwm,
        accrued=new_accrued,
        charged_before=charged,
        amount=amount,
    )


def share_schedule(period_nets: Iterable[Decimal], rate: Decimal) -> list[ShareStep]:
    """The settlements of consecutive periods, given each period's own net P&L.

    DESIGN §7 at 20%: [544.96, -123.60, 387.80] -> amounts 108.99, 0.00, 52.84.
    """
    steps: list[ShareStep] = []
    cumulative = ZERO
    hwm = accrued = charged = ZERO
    for period_net in period_nets:
        cumulative += Decimal(period_net)
        step = settle_share(
            cumulative, rate=rate, high_water_mark=hwm, accrued=accrued, charged=charged
        )
        steps.append(step)
        hwm, accrued, charged = step.high_water_mark, step.accrued, step.charged
    return steps
