"""
A fake Binance spot REST API on a local port, for testing CcxtTradingManager
at ccxt's HTTP boundary.

ccxt talks to it over real HTTP (requests), so everything between the manager
and the socket (ccxt's request signing, response parsing and error mapping)
runs for real. The JSON shapes follow Binance's spot API documentation
(GET /api/v3/exchangeInfo, POST/GET /api/v3/order, GET /api/v3/openOrders,
GET /api/v3/allOrders, GET /api/v3/ticker/24hr, GET /api/v3/time).

The server checks the HMAC-SHA256 signature of signed requests against the
secrets it knows, fills market orders at a configured price (two fills, 0.1%
commission in the asset received) and records every request so tests can
count them. Behaviour is switched per test: ``reject_orders(...)`` answers
order placement with a Binance error, ``stall_orders(...)`` makes placement
slower than the client's timeout.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
API_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

INSUFFICIENT_BALANCE = {
    "code": -2010,
    "msg": "Account has insufficient balance for requested action.",
}
INVALID_API_KEY = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
INVALID_SIGNATURE = {"code": -1022, "msg": "Signature for this request is not valid."}
ORDER_DOES_NOT_EXIST = {"code": -2013, "msg": "Order does not exist."}


def _symbol(
    symbol: str, base: str, quote: str, tick: str, step: str, min_qty: str, min_notional: str
) -> dict[str, Any]:
    """One entry of exchangeInfo["symbols"], as Binance documents it."""
    return {
        "symbol": symbol,
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": True,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick,
                "maxPrice": "1000000.00000000",
                "tickSize": tick,
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": min_qty,
                "maxQty": "9000.00000000",
                "stepSize": step,
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": "0.00000000",
                "maxQty": "83.47069318",
                "stepSize": "0.00000000",
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": 10,
                "maxTrailingAboveDelta": 2000,
                "minTrailingBelowDelta": 10,
                "maxTrailingBelowDelta": 2000,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": "5",
                "bidMultiplierDown": "0.2",
                "askMultiplierUp": "5",
                "askMultiplierDown": "0.2",
                "avgPriceMins": 5,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": min_notional,
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": [],
        "permissionSets": [["SPOT", "MARGIN"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


EXCHANGE_INFO = {
    "timezone": "UTC",
    "serverTime": 0,  # replaced per request
    "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ],
    "exchangeFilters": [],
    "symbols": [
        _symbol("BTCUSDT", "BTC", "USDT", "0.01000000", "0.00001000", "0.00001000", "5.00000000"),
        _symbol("ETHUSDT", "ETH", "USDT", "0.01000000", "0.00010000", "0.00010000", "5.00000000"),
        _symbol("ETHBTC", "ETH", "BTC", "0.00001000", "0.00010000", "0.00010000", "0.00010000"),
    ],
}


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Request:
    """One request the fake server received."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeBinance:
    """State and behaviour of one fake Binance host (live or testnet)."""

    name: str = "live"
    prices: dict[str, Decimal] = field(
        default_factory=lambda: {
            "BTCUSDT": Decimal("64000.00"),
            "ETHUSDT": Decimal("3150.00"),
            "ETHBTC": Decimal("0.04920"),
        }
    )
    secrets: dict[str, str] = field(default_factory=lambda: {API_KEY: API_SECRET})
    requests: list[Request] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    order_error: tuple[int, dict[str, Any]] | None = None
    order_stall: float = 0.0
    keep_stalled_orders: bool = True
    lookup_error: tuple[int, dict[str, Any]] | None = None
    next_order_id: int = 28457
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    server: ThreadingHTTPServer | None = field(default=None, repr=False)

    # --- test controls -------------------------------------------------

    def reject_orders(self, status: int, body: dict[str, Any]) -> None:
        """Answer POST /api/v3/order with a Binance error."""
        self.order_error = (status, body)

    def stall_orders(self, seconds: float, *, keep: bool = True) -> None:
        """Make POST /api/v3/order take ``seconds``; ``keep`` False drops the order."""
        self.order_stall = seconds
        self.keep_stalled_orders = keep

    def hits(self, method: str, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def ccxt_urls(self) -> dict[str, str]:
        """ccxt's binance ``urls['api']`` map with every host pointed at this server."""
        import ccxt

        return {
            name: re.sub(r"^https://[^/]+", self.url, value)
            for name, value in ccxt.binance().urls["api"].items()
        }

    def start(self) -> FakeBinance:
        handler = type("Handler", (BinanceHandler,), {"exchange": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- the API -----------------------------------------------------------

    def handle(
        self, method: str, path: str, params: dict[str, str], query: str, headers: dict[str, str]
    ) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(Request(method, path, params, headers))
        public = {
            ("GET", "/api/v3/ping"): dict,
            ("GET", "/api/v3/time"): lambda: {"serverTime": now_ms()},
            ("GET", "/api/v3/exchangeInfo"): lambda: {**EXCHANGE_INFO, "serverTime": now_ms()},
            ("GET", "/api/v3/ticker/24hr"): lambda: self.ticker(params["symbol"]),
        }
        if (method, path) in public:
            return 200, public[(method, path)]()
        problem = self.authenticate(query, params, headers)
        if problem:
            return problem
        private = {
            ("POST", "/api/v3/order"): self.create_order,
            ("GET", "/api/v3/order"): self.query_order,
            ("GET", "/api/v3/openOrders"): lambda p: self.list_orders(p, open_only=True),
            ("GET", "/api/v3/allOrders"): lambda p: self.list_orders(p, open_only=False),
            ("GET", "/api/v3/myTrades"): self.my_trades,
        }
        if (method, path) in private:
            return private[(method, path)](params)
        return 404, {"code": -1000, "msg": f"Unknown endpoint {method} {path}"}

    def authenticate(
        self, query: str, params: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, Any] | None:
        secret = self.secrets.get(headers.get("x-mbx-apikey", ""))
        if secret is None:
            return 401, INVALID_API_KEY
        signed, _, signature = query.rpartition("&signature=")
        expected = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return 400, INVALID_SIGNATURE
        return None

    def ticker(self, symbol: str) -> dict[str, Any]:
        price = str(self.prices[symbol])
        return {
            "symbol": symbol,
            "priceChange": "0.00",
            "priceChangePercent": "0.000",
            "weightedAvgPrice": price,
            "prevClosePrice": price,
            "lastPrice": price,
            "lastQty": "0.01000000",
            "bidPrice": price,
            "bidQty": "1.00000000",
            "askPrice": price,
            "askQty": "1.00000000",
            "openPrice": price,
            "highPrice": price,
            "lowPrice": price,
            "volume": "1000.00000000",
            "quoteVolume": "64000000.00000000",
            "openTime": now_ms() - 86_400_000,
            "closeTime": now_ms(),
            "firstId": 1,
            "lastId": 1000,
            "count": 1000,
        }

    def create_order(self, params: dict[str, str]) -> tuple[int, Any]:
        if self.order_error:
            return self.order_error
        order = self.new_order(params)
        if self.order_stall:
            if self.keep_stalled_orders:
                with self.lock:
                    self.orders.append(order)
            time.sleep(self.order_stall)  # the client has given up by now
            return 200, order
        with self.lock:
            self.orders.append(order)
        return 200, order

    def new_order(self, params: dict[str, str]) -> dict[str, Any]:
        """A FULL order response: market orders fill at once in two fills."""
        symbol = params["symbol"]
        market = next(s for s in EXCHANGE_INFO["symbols"] if s["symbol"] == symbol)
        quantity = Decimal(params["quantity"])
        with self.lock:
            self.next_order_id += 1
            order_id = self.next_order_id
        is_market = params["type"] == "MARKET"
        price = self.prices[symbol]
        fills = []
        if is_market:
            first = (quantity * Decimal("0.6")).quantize(Decimal("0.00001"))
            for qty, fill_price in ((first, price), (quantity - first, price + Decimal("1.00"))):
                received = qty if params["side"] == "BUY" else qty * fill_price
                fills.append(
                    {
                        "price": f"{fill_price:.8f}",
                        "qty": f"{qty:.8f}",
                        "commission": f"{received * Decimal('0.001'):.8f}",
                        "commissionAsset": market["baseAsset"]
                        if params["side"] == "BUY"
                        else market["quoteAsset"],
                        "tradeId": 3140000 + order_id * 2 + len(fills),
                    }
                )
        executed = sum((Decimal(f["qty"]) for f in fills), Decimal("0"))
        quote = sum((Decimal(f["qty"]) * Decimal(f["price"]) for f in fills), Decimal("0"))
        stamp = now_ms()
        return {
            "symbol": symbol,
            "orderId": order_id,
            "orderListId": -1,
            "clientOrderId": params.get("newClientOrderId", f"web_{order_id}"),
            "transactTime": stamp,
            "price": "0.00000000" if is_market else params["price"],
            "origQty": f"{quantity:.8f}",
            "executedQty": f"{executed:.8f}",
            "origQuoteOrderQty": "0.00000000",
            "cummulativeQuoteQty": f"{quote:.8f}",
            "status": "FILLED" if is_market else "NEW",
            "timeInForce": params.get("timeInForce", "GTC"),
            "type": params["type"],
            "side": params["side"],
            "workingTime": stamp,
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "fills": fills,
        }

    def as_queried(self, order: dict[str, Any]) -> dict[str, Any]:
        """GET /api/v3/order's shape: no fills, time/updateTime/isWorking instead."""
        queried = {k: v for k, v in order.items() if k not in ("fills", "transactTime")}
        queried.update(
            stopPrice="0.00000000",
            icebergQty="0.00000000",
            time=order["transactTime"],
            updateTime=order["transactTime"],
            isWorking=order["status"] == "NEW",
        )
        return queried

    def query_order(self, params: dict[str, str]) -> tuple[int, Any]:
        if self.lookup_error:
            return self.lookup_error
        with self.lock:
            for order in self.orders:
                if order["symbol"] == params["symbol"] and (
                    order["clientOrderId"] == params.get("origClientOrderId")
                    or str(order["orderId"]) == params.get("orderId")
                ):
                    return 200, self.as_queried(order)
        return 400, ORDER_DOES_NOT_EXIST

    def list_orders(self, params: dict[str, str], *, open_only: bool) -> tuple[int, Any]:
        with self.lock:
            found = [
                self.as_queried(o)
                for o in self.orders
                if o["symbol"] == params.get("symbol") and (o["status"] == "NEW" or not open_only)
            ]
        return 200, found

    def my_trades(self, params: dict[str, str]) -> tuple[int, Any]:
        """GET /api/v3/myTrades?symbol=...&orderId=...: the order's fills as trades."""
        with self.lock:
            orders = [
                o
                for o in self.orders
                if o["symbol"] == params["symbol"]
                and str(o["orderId"]) == params.get("orderId", str(o["orderId"]))
            ]
        trades = [
            {
                "symbol": o["symbol"],
                "id": fill["tradeId"],
                "orderId": o["orderId"],
                "orderListId": -1,
                "price": fill["price"],
                "qty": fill["qty"],
                "quoteQty": f"{Decimal(fill['price']) * Decimal(fill['qty']):.8f}",
                "commission": fill["commission"],
                "commissionAsset": fill["commissionAsset"],
                "time": o["transactTime"],
                "isBuyer": o["side"] == "BUY",
                "isMaker": False,
                "isBestMatch": True,
            }
            for o in orders
            for fill in o["fills"]
        ]
        return 200, trades


class BinanceHandler(BaseHTTPRequestHandler):
    """Routes HTTP requests to the ``FakeBinance`` set as the class attribute."""

    exchange: FakeBinance
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def do_DELETE(self) -> None:
        self.dispatch()

    def dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        query = body if self.command == "POST" else url.query
        params = dict(parse_qsl(query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload = self.exchange.handle(self.command, url.path, params, query, headers)
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and closed the connection

    def log_message(self, format: str, *args: Any) -> None:
        pass
