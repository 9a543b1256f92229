"""
FIFO lots and realized P&L in plain ``Decimal`` arithmetic (no Django).

A buy opens a lot costing ``quantity * price + fee``. A sell closes the oldest
lots first; its realized P&L is ``quantity * price - fee - cost of the closed
quantity``. A partly closed lot gives up cost in proportion to the quantity
taken (the one division in the ledger). Fees are in the quote currency, the
currency the profit share is charged in; a negative fee is a rebate.

Sells larger than the open position: the excess has no cost basis here (it
closes a position bought before tracking started or outside this bot), so
the excess quantity and its pro-rata part of the sell's proceeds and fee are
left out, and the excess is added to ``excess_sell_quantity`` for the record.
The position never goes short.

All arithmetic runs in ``CONTEXT`` (50 significant digits). Nothing is rounded
to money here: the ledger keeps full precision and its state round-trips
exactly through strings, so replaying orders in two runs gives the very same
numbers as replaying them in one.
"""

from __future__ import annotations

import decimal
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CONTEXT = decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN)
ZERO = Decimal(0)
BUY = "buy"
SELL = "sell"
STATE_VERSION = 1


@dataclass(frozen=True)
class Fill:
    """One executed order in logical terms."""

    side: str  # BUY or SELL
    quantity: Decimal
    price: Decimal
    fee: Decimal = ZERO
    month: str = ""  # "YYYY-MM" the realized P&L of a sell is booked to


@dataclass
class ProfitLedger:
    """Open lots plus running totals. ``apply`` one fill at a time, oldest first."""

    lots: deque[list[Decimal]] = field(default_factory=deque)  # [quantity, cost]
    profit: Decimal = ZERO  # sum of positive realized P&L per sell
    loss: Decimal = ZERO  # sum of negative realized P&L per sell, as a positive amount
    fees: Decimal = ZERO  # trading fees counted
    excess_sell_quantity: Decimal = ZERO
    months: dict[str, Decimal] = field(default_factory=dict)  # realized net per month
    orders: int = 0  # fills applied
    skipped: int = 0  # executed orders that could not be used (unknown side, no quantity)

    # --- applying fills ---------------------------------------------------

    def apply(self, fill: Fill) -> Decimal | None:
        """Apply one fill; returns the realized P&L of a sell, None for a buy."""
        with decimal.localcontext(CONTEXT):
            return self._apply(fill.side, fill.quantity, fill.price, fill.fee, fill.month)

    def apply_all(self, fills: Iterable[Fill]) -> None:
        with decimal.localcontext(CONTEXT):
            for fill in fills:
                self._apply(fill.side, fill.quantity, fill.price, fill.fee, fill.month)

    def apply_rows(self, rows: Iterable[tuple[str, Decimal, Decimal, Decimal | None, str]]) -> None:
        """Apply (side, quantity, price, fee, month) tuples of Decimals, oldest first.

        The fast path for streamed database rows: no Fill objects, one context.
        """
        apply = self._apply
        with decimal.localcontext(CONTEXT):
            for side, quantity, price, fee, month in rows:
                apply(side, quantity, price, fee, month)

    def _apply(
        self, side: str, quantity: Decimal, price: Decimal, fee: Decimal | None, month: str
    ) -> Decimal | None:
        """The hot loop; the caller holds CONTEXT."""
        if quantity is None or price is None or quantity <= 0 or price < 0:
            self.skipped += 1
            return None
        fee = fee or ZERO
        if side == BUY:
            self.orders += 1
            self.fees += fee
            self.lots.append([quantity, quantity * price + fee])
            return None
        if side != SELL:
            self.skipped += 1
            return None
        self.orders += 1
        remaining = quantity
        cost = ZERO
        lots = self.lots
        while remaining and lots:
            lot = lots[0]
            lot_quantity, lot_cost = lot
            if lot_quantity <= remaining:
                remaining -= lot_quantity
                cost += lot_cost
                lots.popleft()
            else:
                taken = lot_cost * remaining / lot_quantity
                cost += taken
                lot[0] = lot_quantity - remaining
                lot[1] = lot_cost - taken
                remaining = ZERO
        if remaining:
            # Oversized sell: leave out the excess and its share of the fee.
            self.excess_sell_quantity += remaining
            matched = quantity - remaining
            fee = fee * matched / quantity if matched else ZERO
            quantity = matched
        self.fees += fee
        realized = quantity * price - fee - cost
        if realized >= 0:
            self.profit += realized
        else:
            self.loss -= realized
        self.months[month] = self.months.get(month, ZERO) + realized
        return realized

    # --- reading ----------------------------------------------------------

    @property
    def net(self) -> Decimal:
        """Cumulative realized net P&L: the monthly figures summed in month order."""
        return self.net_before(None)

    def net_before(self, month: str | None) -> Decimal:
        """Realized net P&L of the months before ``month`` ("YYYY-MM"), all when None."""
        total = ZERO
        with decimal.localcontext(CONTEXT):
            for key in sorted(self.months):
                if month is not None and key >= month:
                    break
                total += self.months[key]
        return total

    @property
    def open_quantity(self) -> Decimal:
        with decimal.localcontext(CONTEXT):
            return sum((lot[0] for lot in self.lots), ZERO)

    @property
    def open_cost(self) -> Decimal:
        with decimal.localcontext(CONTEXT):
            return sum((lot[1] for lot in self.lots), ZERO)

    # --- persistence: exact, as strings -------------------------------------

    def lots_state(self) -> list[list[str]]:
        return [[str(quantity), str(cost)] for quantity, cost in self.lots]

    def totals_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "profit": str(self.profit),
            "loss": str(self.loss),
            "fees": str(self.fees),
            "excess_sell_quantity": str(self.excess_sell_quantity),
            "months": {key: str(value) for key, value in sorted(self.months.items())},
            "orders": self.orders,
            "skipped": self.skipped,
        }

    @classmethod
    def from_state(cls, lots: list[Any] | None, totals: dict[str, Any] | None) -> ProfitLedger:
        totals = totals or {}
        version = totals.get("version", STATE_VERSION)
        if version != STATE_VERSION:
            raise ValueError(f"Unknown profit ledger state version {version!r}; rebuild it.")
        return cls(
            lots=deque([Decimal(quantity), Decimal(cost)] for quantity, cost in lots or ()),
            profit=Decimal(totals.get("profit", "0")),
            loss=Decimal(totals.get("loss", "0")),
            fees=Decimal(totals.get("fees", "0")),
            excess_sell_quantity=Decimal(totals.get("excess_sell_quantity", "0")),
            months={key: Decimal(value) for key, value in totals.get("months", {}).items()},
            orders=int(totals.get("orders", 0)),
            skipped=int(totals.get("skipped", 0)),
        )


def replay(fills: Iterable[Fill]) -> ProfitLedger:
    """A fresh ledger with ``fills`` applied, oldest first."""
    ledger = ProfitLedger()
    ledger.apply_all(fills)
    return ledger
