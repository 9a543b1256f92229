"""
The TradingManager contract.

The package asks a trading manager to run one trade for one user on one host
PairConfig, the same two calls Torgovo's own TradingManager exposes::

    manager.create_bot(user, pair_config)
    result = manager.start_bot(user, pair_config, signal=signal)

``signal`` is a ``TradeSignal``; ``start_bot`` returns a ``TradeResult``. It
must not raise for an exchange refusal: that is a failed result with an
``error_code``. Exceptions it does raise are turned into failed results by the
execution service, so an alert is never lost.

Subclass ``BaseTradingManager`` and point ``TRADING_MANAGER_CLASS`` at the
subclass, or name the host's own TradingManager class there: any class that is
not a ``BaseTradingManager`` is wrapped in ``HostTradingManagerAdapter``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django_torgovo_subscriptions.conf import subscriptions_settings

Side = Literal["buy", "sell"]
EXECUTED = "executed"
FAILED = "failed"


@dataclass(frozen=True)
class TradeSignal:
    """One trade to place: what an alert or a managed bot asks for."""

    side: Side
    symbol: str
    quantity: Decimal
    price: Decimal | None = None
    client_order_id: str = ""
    source: str = "webhook"
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form handed to host managers (Decimals stay Decimals)."""
        return asdict(self)


@dataclass(frozen=True)
class TradeResult:
    """What happened to a signal. ``status`` is "executed" or "failed"."""

    status: str
    quantity: Decimal = Decimal("0")
    price: Decimal | None = None
    fee: Decimal = Decimal("0")
    external_id: str = ""
    # The client order id the manager sent, when it made one up itself (the
    # signal's own is used otherwise): kept so the order can be reconciled.
    client_order_id: str = ""
    error_code: str = ""
    error_message: str = ""
    # An Order row the manager already saved in the host's table, if any; the
    # package then does not write a second one.
    host_order: Any = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def executed(self) -> bool:
        return self.status == EXECUTED

    @classmethod
    def failure(cls, code: str, message: str, **kwargs: Any) -> TradeResult:
        return cls(status=FAILED, error_code=code, error_message=message, **kwargs)


class BaseTradingManager:
    """Base for the package's trading managers. Override ``start_bot``."""

    def create_bot(self, user: Any, pair_config: Any) -> Any:
        """Prepare a bot for the user and PairConfig. Optional; returns anything."""
        return None

    def start_bot(self, user: Any, pair_config: Any, *, signal: TradeSignal) -> TradeResult:
        """Place the trade described by ``signal`` and report the outcome."""
        raise NotImplementedError(".start_bot() must be overridden")


def get_trading_manager() -> BaseTradingManager:
    """An instance of the configured manager, adapted when it is the host's own."""
    from django_torgovo_subscriptions.trading.host_manager import HostTradingManagerAdapter

    manager_class = subscriptions_settings.TRADING_MANAGER_CLASS
    if isinstance(manager_class, type) and issubclass(manager_class, BaseTradingManager):
        return manager_class()
    return HostTradingManagerAdapter(manager_class())
