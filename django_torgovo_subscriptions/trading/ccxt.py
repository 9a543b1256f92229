"""
Real exchanges through ccxt.

``CcxtTradingManager`` places each signal as a spot order on the exchange that
the PairConfig names (a ccxt id such as "binance"), with the user's API key and
secret read through the host contract; in the exchange's sandbox when the
user's Demo flag is set. Enable it with::

    TORGOVO_SUBSCRIPTIONS = {
        "TRADING_MANAGER_CLASS": "django_torgovo_subscriptions.trading.ccxt.CcxtTradingManager",
    }

What it guarantees:

- Markets are loaded once per (exchange, sandbox) per process, without any
  user's credentials, and shared by every user's exchange instance.
- The amount (and a limit price) is rounded to the market's precision and
  checked against its minimum amount and minimum order value before sending.
- Every order carries a client order id (the signal's, or a generated one).
- ``create_order`` is never retried. When its outcome is unknown (a timeout, a
  dropped connection, a 5xx) the order is looked up by its client order id and
  reported if found; otherwise the result is ``order_status_unknown``.
- ccxt's exceptions become failed results with stable codes (``FAILURE_CODES``);
  messages never contain the API key or secret.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.host import ExchangeCredentials, get_host_adapter
from django_torgovo_subscriptions.trading.base import (
    EXECUTED,
    BaseTradingManager,
    TradeResult,
    TradeSignal,
)

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install django-torgovo-subscriptions[ccxt]"

# ccxt exception class name -> failure code, most specific first.
FAILURE_CODES = (
    ("InsufficientFunds", "insufficient_funds"),
    ("BadSymbol", "unknown_symbol"),
    ("InvalidOrder", "invalid_order"),
    ("AuthenticationError", "authentication_failed"),  # includes PermissionDenied
    ("RateLimitExceeded", "exchange_rate_limited"),
    ("DDoSProtection", "exchange_rate_limited"),
    ("ExchangeNotAvailable", "exchange_unavailable"),  # includes OnMaintenance
    ("InvalidNonce", "exchange_error"),  # a clock or nonce problem, not an outage
    ("NetworkError", "exchange_unavailable"),
    ("BaseError", "exchange_error"),
)

DESCRIPTIONS = {
    "insufficient_funds": "Insufficient balance on the exchange for this order.",
    "unknown_symbol": "The exchange does not know this symbol.",
    "invalid_order": "The exchange rejected the order as invalid.",
    "authentication_failed": "The exchange refused the API key (invalid, or lacks trading "
    "permission).",
    "exchange_rate_limited": "The exchange is rate-limiting requests; the order was not placed.",
    "exchange_unavailable": "The exchange could not be reached or is under maintenance; "
    "no order was placed.",
    "exchange_error": "The exchange returned an error.",
}

# Exceptions from create_order that are definite refusals even though ccxt
# files them under OperationFailed: the order was certainly not placed.
CERTAIN_REFUSALS = ("RateLimitExceeded", "DDoSProtection", "OnMaintenance", "InvalidNonce")

# ccxt constructor config every exchange starts from; CCXT_EXCHANGE_CONFIG[id]
# is deep-merged over it.
BASE_CONFIG: dict[str, Any] = {"enableRateLimit": True, "timeout": 10_000}

MAX_MESSAGE = 500


def import_ccxt() -> Any:
    """The ccxt module, or ImproperlyConfigured naming the extra to install."""
    try:
        import ccxt
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"CcxtTradingManager needs the ccxt library: {INSTALL_HINT}"
        ) from exc
    return ccxt


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def to_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 5.00000000 -> "5"."""
    return f"{value.normalize():f}"


def compact(text: str) -> str:
    """Upper-case letters and digits only: "btc-usdt" and "BTC/USDT" -> "BTCUSDT"."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


# --- the market cache -----------------------------------------------------


@dataclass
class _MarketSource:
    """An exchange instance, without credentials, whose markets are loaded."""

    exchange: Any
    loaded_at: float


_market_sources: dict[tuple[str, bool], _MarketSource] = {}
_market_locks: dict[tuple[str, bool], threading.Lock] = {}
_cache_lock = threading.Lock()


def clear_market_cache() -> None:
    """Forget every loaded market list (tests; or to pick up new listings now)."""
    with _cache_lock:
        _market_sources.clear()
        _market_locks.clear()


def market_source(key: tuple[str, bool], load: Any) -> Any:
    """The cached market source for (exchange id, sandbox), loading it if needed."""
    ttl = subscriptions_settings.CCXT_MARKETS_TTL
    with _cache_lock:
        lock = _market_locks.setdefault(key, threading.Lock())
    with lock:  # one load per key at a time; other exchanges are not blocked
        source = _market_sources.get(key)
        if source is None or (ttl is not None and time.monotonic() - source.loaded_at > ttl):
            source = _MarketSource(exchange=load(), loaded_at=time.monotonic())
            _market_sources[key] = source
            logger.info("Loaded %d %s markets (sandbox=%s)", len(source.exchange.markets), *key)
        return source.exchange


def share_markets(exchange: Any, source: Any) -> None:
    """Give ``exchange`` the markets ``source`` loaded, without a request."""
    if hasattr(exchange, "set_markets_from_exchange"):
        exchange.set_markets_from_exchange(source)
    else:  # older ccxt
        exchange.set_markets(source.markets, source.currencies)


# --- symbols --------------------------------------------------------------


def candidate_markets(exchange: Any, text: str) -> list[dict[str, Any]]:
    """Markets a ticker may mean: a unified symbol, an exchange id, or base+quote."""
    text = text.strip()
    prefix, sep, rest = text.partition(":")
    if sep and "/" not in prefix:  # TradingView's "BINANCE:BTCUSDT"
        text = rest
    if text in exchange.markets:
        return [exchange.markets[text]]
    for market_id in (text, text.upper(), text.lower()):
        if market_id in exchange.markets_by_id:
            return list(exchange.markets_by_id[market_id])
    wanted = compact(text)
    return [
        market
        for market in exchange.markets.values()
        if wanted in (compact(market["id"]), compact(f"{market['base']}{market['quote']}"))
    ]


def resolve_symbol(exchange: Any, ticker: str, configured: str | None) -> str | None:
    """
    The ccxt unified symbol ("BTC/USDT") for a signal's ticker, or None.

    When the ticker matches several markets (a spot and a perpetual share the id
    "BTCUSDT" on some exchanges), the PairConfig's symbol decides; failing that,
    the spot market wins.
    """
    candidates = candidate_markets(exchange, ticker)
    if not candidates:
        return None
    if configured and len(candidates) > 1:
        preferred = {m["symbol"] for m in candidate_markets(exchange, configured)}
        chosen = [m for m in candidates if m["symbol"] in preferred]
        if chosen:
            return chosen[0]["symbol"]
    spot = [m for m in candidates if m.get("spot")]
    return (spot or candidates)[0]["symbol"]


# --- the manager ----------------------------------------------------------


class OrderRefused(Exception):
    """A check before sending failed; carries the failure code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class CcxtTradingManager(BaseTradingManager):
    """Places signals on real exchanges through ccxt (see the module docstring)."""

    def start_bot(self, user: Any, pair_config: Any, *, signal: TradeSignal) -> TradeResult:
        ccxt = import_ccxt()
        adapter = get_host_adapter()
        exchange_id = str(adapter.pair_config_value(pair_config, "exchange") or "").strip().lower()
        if exchange_id not in ccxt.exchanges:
            return TradeResult.failure(
                "unsupported_exchange",
                f"The PairConfig's exchange {exchange_id!r} is not an exchange id ccxt knows.",
            )
        credentials = adapter.get_credentials(user)
        if not credentials.is_complete:
            return TradeResult.failure(
                "credentials_missing",
                f"No {exchange_id} API key and secret are set for this user.",
            )
        try:
            exchange = self.build_exchange(exchange_id, credentials)
        except ccxt.NotSupported:
            return TradeResult.failure(
                "sandbox_unavailable",
                f"{exchange_id} has no sandbox, so a Demo user cannot trade on it.",
            )
        try:
            if not exchange.check_required_credentials(False):
                return TradeResult.failure(
                    "credentials_missing",
                    f"{exchange_id} needs credentials beyond an API key and secret.",
                )
            share_markets(exchange, self.markets_for(exchange_id, credentials.demo))
            return self.place(exchange, pair_config, signal, credentials)
        except OrderRefused as refused:
            return TradeResult.failure(refused.code, str(refused))
        except ccxt.BaseError as exc:
            return self.failure_from_error(exc, credentials)
        finally:
            exchange.close()

    # --- building blocks (override points) -------------------------------

    def exchange_config(self, exchange_id: str) -> dict[str, Any]:
        """ccxt constructor config: BASE_CONFIG + CCXT_EXCHANGE_CONFIG[exchange_id]."""
        extra = subscriptions_settings.CCXT_EXCHANGE_CONFIG.get(exchange_id, {})
        return deep_merge(BASE_CONFIG, extra)

    def new_exchange(self, exchange_id: str, *, sandbox: bool, config: dict[str, Any]) -> Any:
        """A ccxt exchange instance; sandbox URLs when ``sandbox``."""
        ccxt = import_ccxt()
        exchange = getattr(ccxt, exchange_id)(config)
        # Never let ccxt retry a request by itself: a retried create_order
        # could place the order twice.
        exchange.options["maxRetriesOnFailure"] = 0
        if sandbox:
            # Checked here: ccxt's own check lets urls["test"] = None through.
            if not exchange.urls.get("test"):
                raise ccxt.NotSupported(f"{exchange_id} has no sandbox")
            exchange.set_sandbox_mode(True)
        return exchange

    def build_exchange(self, exchange_id: str, credentials: ExchangeCredentials) -> Any:
        """The user's exchange instance (markets not yet attached)."""
        config = self.exchange_config(exchange_id)
        config.update(apiKey=credentials.api_key, secret=credentials.api_secret)
        return self.new_exchange(exchange_id, sandbox=credentials.demo, config=config)

    def markets_for(self, exchange_id: str, sandbox: bool) -> Any:
        """The process-wide market source for the exchange, loaded on first use."""

        def load() -> Any:
            source = self.new_exchange(
                exchange_id, sandbox=sandbox, config=self.exchange_config(exchange_id)
            )
            try:
                source.load_markets()
            finally:
                source.close()
            return source

        return market_source((exchange_id, sandbox), load)

    def new_client_order_id(self) -> str:
        """32 letters and digits: accepted by Binance, Bybit, OKX, KuCoin and most others."""
        return uuid.uuid4().hex

    # --- placing the order ---------------------------------------------------

    def place(
        self, exchange: Any, pair_config: Any, signal: TradeSignal, credentials: ExchangeCredentials
    ) -> TradeResult:
        configured = get_host_adapter().pair_config_value(pair_config, "symbol")
        symbol = resolve_symbol(exchange, signal.symbol, configured)
        if symbol is None:
            raise OrderRefused(
                "unknown_symbol", f"{exchange.id} has no market for {signal.symbol!r}."
            )
        order_type = "limit" if signal.extra.get("order_type") == "limit" else "market"
        amount, price = self.checked_amount_and_price(exchange, symbol, order_type, signal)
        client_order_id = signal.client_order_id or self.new_client_order_id()
        since = exchange.milliseconds() - 60_000
        try:
            order = exchange.create_order(
                symbol,
                order_type,
                signal.side,
                float(amount),
                None if price is None else float(price),
                {"clientOrderId": client_order_id},
            )
        except import_ccxt().BaseError as exc:
            if not self.outcome_unknown(exc):
                raise
            order = self.find_unknown_order(exchange, symbol, client_order_id, since, exc)
            if order is None:
                return TradeResult.failure(
                    "order_status_unknown",
                    self.redact(
                        f"{exchange.id} did not confirm the order ({exc.__class__.__name__}) "
                        f"and no order with client id {client_order_id} was found. It was not "
                        "re-sent: check the exchange before trading again.",
                        credentials,
                    ),
                    client_order_id=client_order_id,
                    raw={"client_order_id": client_order_id, "symbol": symbol},
                )
        order = self.complete(exchange, symbol, order)
        result = self.result_from_order(exchange.market(symbol), order, amount, price)
        return replace(result, client_order_id=client_order_id)

    def checked_amount_and_price(
        self, exchange: Any, symbol: str, order_type: str, signal: TradeSignal
    ) -> tuple[Decimal, Decimal | None]:
        """Round to the market's precision and enforce its minimums."""
        ccxt = import_ccxt()
        market = exchange.market(symbol)
        price = None
        if order_type == "limit":
            if signal.price is None:
                raise OrderRefused("price_required", "A limit order needs a price.")
            price = Decimal(exchange.price_to_precision(symbol, f"{signal.price:f}"))
        try:
            amount = Decimal(exchange.amount_to_precision(symbol, f"{signal.quantity:f}"))
        except ccxt.InvalidOrder:  # rounds to zero
            amount = Decimal("0")
        limits = market.get("limits") or {}
        min_amount = to_decimal((limits.get("amount") or {}).get("min"))
        if amount <= 0 or (min_amount and amount < min_amount):
            minimum = f"{plain(min_amount)} {market['base']}" if min_amount else "the amount step"
            raise OrderRefused(
                "below_minimum",
                f"Amount {plain(signal.quantity)} {market['base']} is below the minimum "
                f"{minimum} for {symbol} on {exchange.id}.",
            )
        min_cost = to_decimal((limits.get("cost") or {}).get("min"))
        if min_cost:
            estimate = price or signal.price or self.last_price(exchange, symbol)
            if estimate is not None and amount * estimate < min_cost:
                raise OrderRefused(
                    "below_minimum",
                    f"Order value {plain(amount * estimate)} {market['quote']} is below the "
                    f"minimum {plain(min_cost)} {market['quote']} for {symbol} on {exchange.id}.",
                )
        return amount, price

    def last_price(self, exchange: Any, symbol: str) -> Decimal | None:
        """The last traded price, to estimate a market order's value."""
        return to_decimal(exchange.fetch_ticker(symbol).get("last"))

    # --- an order whose outcome is unknown -----------------------------------

    def outcome_unknown(self, exc: Exception) -> bool:
        """True when create_order failed in a way that may still have placed the order."""
        ccxt = import_ccxt()
        if not isinstance(exc, ccxt.OperationFailed):
            return False  # the exchange answered with a refusal
        return not any(isinstance(exc, getattr(ccxt, name)) for name in CERTAIN_REFUSALS)

    def find_unknown_order(
        self, exchange: Any, symbol: str, client_order_id: str, since: int, exc: Exception
    ) -> dict[str, Any] | None:
        """Look the order up by client id, a few times; never re-send it."""
        logger.warning(
            "create_order on %s failed with %s; looking up client order id %s",
            exchange.id,
            exc.__class__.__name__,
            client_order_id,
        )
        for delay in subscriptions_settings.CCXT_ORDER_LOOKUP_DELAYS or (0,):
            time.sleep(delay)
            try:
                order = self.lookup_order(exchange, symbol, client_order_id, since)
            except import_ccxt().BaseError as lookup_exc:
                logger.warning("Order lookup on %s failed: %s", exchange.id, lookup_exc)
                continue
            if order is not None:
                return order
        return None

    def lookup_order(
        self, exchange: Any, symbol: str, client_order_id: str, since: int
    ) -> dict[str, Any] | None:
        """The order with this client id, or None when the exchange has none."""
        ccxt = import_ccxt()
        try:
            order = exchange.fetch_order(None, symbol, {"clientOrderId": client_order_id})
        except ccxt.OrderNotFound:
            return None
        except (ccxt.NotSupported, ccxt.ArgumentsRequired, ccxt.BadRequest):
            # No lookup by client id on this exchange: scan its recent orders.
            return self.scan_recent_orders(exchange, symbol, client_order_id, since)
        # Trust the answer only if it is the order asked for.
        return order if order.get("clientOrderId") in (client_order_id, None) else None

    def scan_recent_orders(
        self, exchange: Any, symbol: str, client_order_id: str, since: int
    ) -> dict[str, Any] | None:
        if exchange.has.get("fetchOrders") is True:
            methods = ("fetch_orders",)
        else:
            methods = ("fetch_open_orders", "fetch_closed_orders")
        for method in methods:
            for order in getattr(exchange, method)(symbol, since):
                if order.get("clientOrderId") == client_order_id:
                    return order
        return None

    # --- results ---------------------------------------------------------------

    def complete(self, exchange: Any, symbol: str, order: dict[str, Any]) -> dict[str, Any]:
        """
        Fill in what the response lacked: the fill (fetch the order) and, for a
        filled order without fees (an order found by lookup), the fees of its trades.
        Best effort: the order is placed either way, so errors are only logged.
        """
        try:
            if order.get("filled") is None and exchange.has.get("fetchOrder"):
                order = exchange.fetch_order(order["id"], symbol)
            has_fees = order.get("fees") or order.get("fee")
            if order.get("filled") and not has_fees and exchange.has.get("fetchOrderTrades"):
                trades = exchange.fetch_order_trades(order["id"], symbol)
                fees = [trade["fee"] for trade in trades if trade.get("fee")]
                order = {**order, "trades": trades, "fees": fees}
        except import_ccxt().BaseError as exc:
            logger.warning("Could not complete %s order %s: %s", exchange.id, order["id"], exc)
        return order

    def result_from_order(
        self, market: dict[str, Any], order: dict[str, Any], amount: Decimal, price: Decimal | None
    ) -> TradeResult:
        filled = to_decimal(order.get("filled")) or Decimal("0")
        average = to_decimal(order.get("average")) or to_decimal(order.get("price")) or price
        status = order.get("status")
        if status in ("canceled", "expired", "rejected") and not filled:
            return TradeResult.failure(
                "order_not_filled",
                f"The exchange {status} the order without filling it.",
                external_id=str(order.get("id") or ""),
                raw=order,
            )
        if not filled:
            # Accepted but not (yet) filled, e.g. a resting limit order: recorded
            # at the requested figures, as for a host manager that reports no fill.
            filled, average = amount, price or average
        return TradeResult(
            status=EXECUTED,
            quantity=filled,
            price=average,
            fee=self.fee_in_quote(market, order, average),
            external_id=str(order.get("id") or ""),
            raw=order,
        )

    def fee_in_quote(
        self, market: dict[str, Any], order: dict[str, Any], average: Decimal | None
    ) -> Decimal:
        """Sum of the order's fees in the quote currency (base-currency fees converted)."""
        fees = order.get("fees") or ([order["fee"]] if order.get("fee") else [])
        total = Decimal("0")
        for fee in fees:
            cost = to_decimal(fee.get("cost"))
            if not cost:
                continue
            if fee.get("currency") == market["quote"]:
                total += cost
            elif fee.get("currency") == market["base"] and average:
                total += cost * average
            else:
                logger.warning(
                    "Fee of %s %s on order %s is not in %s and is left out of the fee",
                    cost,
                    fee.get("currency"),
                    order.get("id"),
                    market["symbol"],
                )
        return total

    def failure_from_error(self, exc: Exception, credentials: ExchangeCredentials) -> TradeResult:
        ccxt = import_ccxt()
        code = next(code for name, code in FAILURE_CODES if isinstance(exc, getattr(ccxt, name)))
        logger.info("Exchange refused a trade (%s): %s", code, exc.__class__.__name__)
        detail = self.redact(str(exc), credentials)
        return TradeResult.failure(code, f"{DESCRIPTIONS[code]} ({detail})")

    @staticmethod
    def redact(text: str, credentials: ExchangeCredentials) -> str:
        """Strip the key and secret from a message and keep it short."""
        for value in (credentials.api_secret, credentials.api_key):
            if value:
                text = text.replace(value, "***")
        return text[:MAX_MESSAGE]
