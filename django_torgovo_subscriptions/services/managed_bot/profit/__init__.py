"""
Managed-bot profit: realized FIFO P&L from the host's Orders, and the profit
share on cumulative net profit above the high-water mark.

The API the rest of the package (HTTP views, billing, commands) calls:

    open_performance(user, subscription, managed_bot, *, initial_investment, orders_since=None)
    recalculate(performance, *, full=False, until=None) -> Recalculation
    recalculate_all(queryset=None, *, full=False, include_closed=False, progress=None)
    settle_period(performance, year, month, *, rate=None) -> Settlement
    settle_on_exit(performance, *, at=None, rate=None) -> Settlement
    record_profit_share_payment(performance, amount) -> performance
    performance_summary(performance, *, rate=None) -> PerformanceSummary

Modules: ``recalculation`` (the ledger from host Orders), ``settlement`` (the
share at month ends and on exit, its payment, the summary), ``results`` (what
those return and raise), ``locking`` (how they change a performance row),
``config`` (the PROFIT_* settings), ``orders`` (reading the host's Order
model), ``daily`` (the ledger's closing figures per day, for charts),
``settled`` (the record of each settlement point) and ``guarantee`` (the
plan's guaranteed return and its shortfall). The pure parts (no database)
are ``fifo.ProfitLedger`` and ``share.settle_share``; calendar months come
from ``periods``.
See docs/MANAGED_BOTS.md.
"""

from django_torgovo_subscriptions.periods import month_bounds
from django_torgovo_subscriptions.services.managed_bot.profit.fifo import Fill, ProfitLedger, replay
from django_torgovo_subscriptions.services.managed_bot.profit.recalculation import (
    ledger_of,
    open_performance,
    recalculate,
    recalculate_all,
)
from django_torgovo_subscriptions.services.managed_bot.profit.results import (
    PerformanceSummary,
    PeriodNotOver,
    ProfitError,
    Recalculation,
    RecalculationSummary,
    Settlement,
)
from django_torgovo_subscriptions.services.managed_bot.profit.settlement import (
    performance_summary,
    plan_rate,
    record_profit_share_payment,
    settle_on_exit,
    settle_period,
)
from django_torgovo_subscriptions.services.managed_bot.profit.share import (
    ShareStep,
    quantize_money,
    rate_from_percentage,
    settle_share,
    share_schedule,
)

__all__ = [
    "Fill",
    "PerformanceSummary",
    "PeriodNotOver",
    "ProfitError",
    "ProfitLedger",
    "Recalculation",
    "RecalculationSummary",
    "Settlement",
    "ShareStep",
    "ledger_of",
    "month_bounds",
    "open_performance",
    "performance_summary",
    "plan_rate",
    "quantize_money",
    "rate_from_percentage",
    "recalculate",
    "recalculate_all",
    "record_profit_share_payment",
    "replay",
    "settle_on_exit",
    "settle_period",
    "settle_share",
    "share_schedule",
]
