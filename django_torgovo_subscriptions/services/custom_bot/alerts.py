"""
TradingView alert messages: lenient parsing, strict validation.

An alert message is the JSON the user pasted into TradingView's "Message" box,
after TradingView has replaced its placeholders::

    {"action": "buy", "ticker": "BTCUSDT", "price": "64250.5",
     "quantity": "0.01", "secret": "..."}

Lenient about the envelope: any content type (TradingView posts ``text/plain``
when the message is not valid JSON, and some users paste JSON it does not
recognise), a UTF-8 byte order mark, surrounding whitespace, upper-case keys
and actions, numbers either as JSON numbers or as strings. Strict about the
content, because the result is a trade: the action is buy or sell, the ticker
is present, quantity and price are positive finite decimals (never floats),
no ``{{placeholder}}`` is left unreplaced, and no key appears twice.

Optional keys: ``order_id`` (``{{strategy.order.id}}``, used to drop duplicate
alerts), ``time`` (``{{timenow}}``, used to refuse stale alerts). Any other key
is passed to the trading manager in ``TradeSignal.extra``.

An operator's managed signal (``validate_managed_signal``) is checked the same
way, but carries ``fraction`` (0 < fraction <= 1 of each investor's
allocation) instead of ``quantity``, and its ``price`` is required.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime

from django_torgovo_subscriptions.exceptions import InvalidAlert
from django_torgovo_subscriptions.trading.base import TradeSignal
from django_torgovo_subscriptions.trading.orders import order_decimal_limit

PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")
TICKER = re.compile(r"^[A-Za-z0-9._:/!\-]{1,50}$")
ACTIONS = ("buy", "sell")
RESERVED_KEYS = ("action", "ticker", "quantity", "price", "order_id", "time", "secret")
MANAGED_RESERVED_KEYS = (*RESERVED_KEYS, "fraction")
# Figures beyond these bounds are typing accidents, not trades, and would not
# fit the host's DecimalFields anyway.
MAX_FIGURE = Decimal("1e15")
MAX_DECIMAL_PLACES = 18
MAX_ORDER_ID_LENGTH = 100


@dataclass(frozen=True)
class ParsedBody:
    """The alert body as a dict of lower-case keys, or the reason it is not one."""

    data: dict[str, Any] | None
    error: InvalidAlert | None = None

    @property
    def secret(self) -> Any:
        return None if self.data is None else self.data.get("secret")


@dataclass(frozen=True)
class Alert:
    """A validated alert: what to trade, plus what dedupe and max-age need."""

    side: str
    ticker: str
    quantity: Decimal
    price: Decimal | None = None
    order_id: str = ""
    sent_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_signal(self, client_order_id: str = "") -> TradeSignal:
        extra = dict(self.extra)
        if self.order_id:
            extra["order_id"] = self.order_id
        return TradeSignal(
            side=self.side,  # type: ignore[arg-type]
            symbol=self.ticker,
            quantity=self.quantity,
            price=self.price,
            client_order_id=client_order_id,
            source="webhook",
            extra=extra,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form stored on the WebhookEvent (decimals as strings)."""
        return {
            "side": self.side,
            "ticker": self.ticker,
            "quantity": str(self.quantity),
            "price": None if self.price is None else str(self.price),
            "order_id": self.order_id,
            "time": self.sent_at.isoformat() if self.sent_at else None,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alert:
        return cls(
            side=data["side"],
            ticker=data["ticker"],
            quantity=Decimal(data["quantity"]),
            price=None if data.get("price") is None else Decimal(data["price"]),
            order_id=data.get("order_id") or "",
            sent_at=datetime.fromisoformat(data["time"]) if data.get("time") else None,
            extra=data.get("extra") or {},
        )


@dataclass(frozen=True)
class ManagedSignalAlert:
    """A validated operator signal for a managed bot: a fraction of each investor's allocation."""

    side: str
    ticker: str
    fraction: Decimal
    price: Decimal | None = None
    order_id: str = ""
    sent_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form stored on the WebhookEvent (decimals as strings)."""
        return {
            "side": self.side,
            "ticker": self.ticker,
            "fraction": str(self.fraction),
            "price": None if self.price is None else str(self.price),
            "order_id": self.order_id,
            "time": self.sent_at.isoformat() if self.sent_at else None,
            "extra": self.extra,
        }


# --- parsing ---------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _unique_lower_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        normalised = key.strip().lower()
        if normalised in result:
            raise InvalidAlert(
                f"The key '{normalised}' appears more than once in the alert message.",
                code="invalid_json",
            )
        result[normalised] = value
    return result


def parse_body(raw: bytes) -> ParsedBody:
    """Read the request body as a JSON object. Never raises: errors are returned."""
    try:
        text = raw.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return ParsedBody(
            None, InvalidAlert("The alert message is not UTF-8 text.", code="invalid_json")
        )
    if not text:
        return ParsedBody(None, InvalidAlert("The alert message is empty.", code="invalid_json"))
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_lower_keys,
        )
    except InvalidAlert as exc:
        return ParsedBody(None, exc)
    except (ValueError, RecursionError) as exc:
        placeholder = PLACEHOLDER.search(text)
        if placeholder:
            return ParsedBody(None, unreplaced(placeholder.group(0)))
        where = (
            f" (line {exc.lineno}, column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        return ParsedBody(
            None,
            InvalidAlert(
                f"The alert message is not valid JSON{where}. Paste the JSON from "
                "webhook/generate/ into the alert's Message box unchanged.",
                code="invalid_json",
            ),
        )
    if not isinstance(data, dict):
        return ParsedBody(
            None, InvalidAlert("The alert message must be a JSON object.", code="invalid_json")
        )
    return ParsedBody(data)


def unreplaced(placeholder: str, key: str | None = None) -> InvalidAlert:
    where = f" in '{key}'" if key else ""
    return InvalidAlert(
        f"TradingView did not replace the placeholder {placeholder}{where}. Check its spelling, "
        "and use {{strategy.order.*}} placeholders only in strategy alerts.",
        code="unreplaced_placeholder",
    )


# --- validation ------------------------------------------------------------


def _find_placeholder(value: Any, key: str) -> InvalidAlert | None:
    if isinstance(value, str):
        match = PLACEHOLDER.search(value)
        return unreplaced(match.group(0), key) if match else None
    if isinstance(value, dict):
        for child_key, child in value.items():
            found = _find_placeholder(child_key, key) or _find_placeholder(
                child, f"{key}.{child_key}"
            )
            if found:
                return found
    if isinstance(value, list):
        for child in value:
            found = _find_placeholder(child, key)
            if found:
                return found
    return None


def positive_decimal(value: Any, name: str, code: str) -> Decimal:
    """A positive, finite Decimal from a JSON number or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InvalidAlert(f"'{name}' must be a number such as \"0.5\".", code=code)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise InvalidAlert(
            f"'{name}' must be a number such as \"0.5\", not {value!r}.", code=code
        ) from None
    if not number.is_finite() or number <= 0:
        raise InvalidAlert(f"'{name}' must be greater than zero, not {value!r}.", code=code)
    if number >= MAX_FIGURE or -number.normalize().as_tuple().exponent > MAX_DECIMAL_PLACES:
        raise InvalidAlert(f"'{name}' is out of range: {value!r}.", code=code)
    return number


def parse_time(value: Any) -> datetime:
    """An aware datetime from ISO 8601 ({{timenow}}) or epoch seconds/milliseconds."""
    if isinstance(value, bool):
        raise InvalidAlert(
            "'time' must be an ISO 8601 time such as {{timenow}}.", code="invalid_time"
        )
    # isdigit() is also true of "²" and other non-ASCII digits, which int() refuses.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = value.strip()
    if isinstance(value, int | Decimal) or (isinstance(value, str) and value.isdigit()):
        # Every conversion inside the try: a 5,000-digit string passes Python's
        # int-string limit, a 1e1000005 overflows the decimal context.
        try:
            seconds = Decimal(value)
            if seconds > Decimal("1e11"):  # milliseconds
                seconds /= 1000
            return datetime.fromtimestamp(float(seconds), tz=UTC)
        except (ArithmeticError, OSError, ValueError):
            raise InvalidAlert(
                f"'time' is out of range: {str(value)[:40]!r}.", code="invalid_time"
            ) from None
    parsed = None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise InvalidAlert(
            f"'time' must be an ISO 8601 time such as {{{{timenow}}}}, not {value!r}.",
            code="invalid_time",
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def validate_alert(data: dict[str, Any]) -> Alert:
    """Turn a parsed alert into an ``Alert`` or raise ``InvalidAlert`` with a stable code."""
    fields, quantity = _validated_fields(data, _read_quantity, RESERVED_KEYS)
    return Alert(quantity=quantity, **fields)


def validate_managed_signal(data: dict[str, Any]) -> ManagedSignalAlert:
    """The same checks for an operator's managed signal, sized by ``fraction`` (0 < f <= 1)
    of each investor's allocation instead of a quantity, at a required ``price``."""
    fields, fraction = _validated_fields(data, _read_fraction, MANAGED_RESERVED_KEYS)
    if fields["price"] is None:
        raise InvalidAlert(
            "'price' is missing; use {{close}}: investors' quantities are sized at it.",
            code="invalid_price",
        )
    return ManagedSignalAlert(fraction=fraction, **fields)


def check_order_limits(alert: Alert | ManagedSignalAlert) -> None:
    """The alert's quantity and price must fit the host Order's fields they are saved in
    (their max_digits and decimal_places, e.g. numeric(20,8)): ``quantity_out_of_range``,
    ``price_out_of_range``. Checked before the trade, so a trade is never placed that its
    Order cannot record."""
    for name, value in (("quantity", getattr(alert, "quantity", None)), ("price", alert.price)):
        limit = None if value is None else order_decimal_limit(name)
        if limit is not None and not limit.fits(value):
            raise InvalidAlert(
                f"'{name}' {value} is beyond what this platform's orders hold: {limit.describe()}.",
                code=f"{name}_out_of_range",
            )


def _read_quantity(data: dict[str, Any]) -> Decimal:
    if data.get("quantity") is None:
        raise InvalidAlert(
            "'quantity' is missing; use {{strategy.order.contracts}}.", code="invalid_quantity"
        )
    return positive_decimal(data["quantity"], "quantity", "invalid_quantity")


def _read_fraction(data: dict[str, Any]) -> Decimal:
    if data.get("quantity") is not None:
        raise InvalidAlert(
            "A managed signal is sized by 'fraction' of each investor's allocation; "
            "remove 'quantity'.",
            code="invalid_fraction",
        )
    if data.get("fraction") is None:
        raise InvalidAlert(
            "'fraction' is missing: the share of each investor's allocation to trade, "
            'such as "0.5".',
            code="invalid_fraction",
        )
    fraction = positive_decimal(data["fraction"], "fraction", "invalid_fraction")
    if fraction > 1:
        raise InvalidAlert(
            f"'fraction' must be at most 1, not {data['fraction']!r}.", code="invalid_fraction"
        )
    return fraction


def _validated_fields(
    data: dict[str, Any], read_size: Any, reserved: tuple[str, ...]
) -> tuple[dict[str, Any], Decimal]:
    """The fields every alert has, checked in order, with the size ``read_size`` reads
    (checked after the ticker, before the price)."""
    for key, value in data.items():
        if key == "secret":
            continue
        found = _find_placeholder(key, key) or _find_placeholder(value, key)
        if found:
            raise found

    action = data.get("action")
    if not isinstance(action, str) or action.strip().lower() not in ACTIONS:
        shown = "missing" if action is None else repr(action)
        raise InvalidAlert(f'\'action\' must be "buy" or "sell" ({shown}).', code="invalid_action")

    ticker = data.get("ticker")
    if ticker is None or (isinstance(ticker, str) and not ticker.strip()):
        raise InvalidAlert("'ticker' is missing; use {{ticker}}.", code="missing_ticker")
    if not isinstance(ticker, str) or not TICKER.match(ticker.strip()):
        raise InvalidAlert(f"'ticker' is not a symbol: {ticker!r}.", code="invalid_ticker")

    size = read_size(data)
    price = None
    if data.get("price") is not None:
        price = positive_decimal(data["price"], "price", "invalid_price")

    order_id = data.get("order_id")
    if order_id is None:
        order_id = ""
    elif isinstance(order_id, bool) or not isinstance(order_id, str | int | Decimal):
        raise InvalidAlert(
            "'order_id' must be text such as {{strategy.order.id}}.", code="invalid_order_id"
        )
    order_id = str(order_id).strip()
    if len(order_id) > MAX_ORDER_ID_LENGTH:
        raise InvalidAlert(
            f"'order_id' is longer than {MAX_ORDER_ID_LENGTH} characters.", code="invalid_order_id"
        )

    sent_at = parse_time(data["time"]) if data.get("time") is not None else None
    extra = {k: _json_safe(v) for k, v in data.items() if k not in reserved}
    fields = {
        "side": action.strip().lower(),
        "ticker": ticker.strip(),
        "price": price,
        "order_id": order_id,
        "sent_at": sent_at,
        "extra": extra,
    }
    return fields, size


def _json_safe(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


# --- ticker and duplicates ---------------------------------------------------

# TradingView names some coins differently from the exchanges' unified symbols.
TICKER_ALIASES = {"XBT": "BTC"}
PERPETUAL_SUFFIXES = (".P", "PERP")


def normalise_ticker(ticker: str) -> str:
    """BINANCE:BTCUSDT.P, btc-usdt and BTC/USDT all become BTCUSDT."""
    ticker = ticker.rsplit(":", 1)[-1].upper()
    for suffix in PERPETUAL_SUFFIXES:
        if ticker.endswith(suffix) and len(ticker) > len(suffix):
            ticker = ticker[: -len(suffix)]
            break
    return _alnum(ticker)


def normalise_symbol(symbol: str) -> str:
    """A host/ccxt symbol: BTC/USDT and BTC/USDT:USDT (a perpetual) become BTCUSDT."""
    return _alnum(symbol.split(":", 1)[0].upper())


def _alnum(value: str) -> str:
    value = re.sub(r"[^A-Z0-9]", "", value)
    for alias, name in TICKER_ALIASES.items():
        if value.startswith(alias):
            value = name + value[len(alias) :]
    return value


def ticker_matches(ticker: str, symbol: str | None) -> bool:
    """True when the alert's ticker names the PairConfig's symbol (or it has none)."""
    if not symbol:
        return True
    return normalise_ticker(ticker) == normalise_symbol(str(symbol))


def dedupe_identity(alert: Alert, data: dict[str, Any]) -> str:
    """
    What makes two alerts the same: the order id and action when the alert
    carries ``order_id``, else the whole message (without the secret).
    """
    if alert.order_id:
        return f"order|{alert.order_id}|{alert.side}"
    payload = {k: v for k, v in data.items() if k != "secret"}
    return "payload|" + json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
