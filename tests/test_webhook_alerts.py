"""Alert parsing and validation, client addresses, redaction: no database, no HTTP."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import RequestFactory, override_settings

from django_torgovo_subscriptions.exceptions import InvalidAlert
from django_torgovo_subscriptions.services.custom_bot import alerts, client_ip, redaction
from example_project import settings as example

SECRET = "s3cr3t-Value_0123456789abcdefghijklmnopq"


def parse(text):
    parsed = alerts.parse_body(text.encode() if isinstance(text, str) else text)
    if parsed.error:
        raise parsed.error
    return parsed.data


def code_of(data):
    with pytest.raises(InvalidAlert) as caught:
        alerts.validate_alert(data)
    return caught.value.code


def valid(**overrides):
    data = {"action": "buy", "ticker": "BTCUSDT", "price": "64250.5", "quantity": "0.01"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- parsing ------------------------------------------------------------------


def test_the_generated_message_parses_and_validates_with_decimals_not_floats():
    data = parse(
        '{"action": "sell", "ticker": "ETHUSDT", "price": 3012.4, "quantity": 1.25, "secret": "x"}'
    )
    alert = alerts.validate_alert(data)
    assert alert.side == "sell" and alert.ticker == "ETHUSDT"
    assert alert.price == Decimal("3012.4") and isinstance(alert.price, Decimal)
    assert alert.quantity == Decimal("1.25")
    assert "secret" not in alert.extra


def test_parsing_is_lenient_about_the_envelope():
    data = parse(
        '\ufeff\n  {"Action": "BUY", "TICKER": " btcusdt ", "Quantity": 2, "price": "1e2"}  \n'
    )
    alert = alerts.validate_alert(data)
    assert (alert.side, alert.ticker, alert.quantity, alert.price) == ("buy", "btcusdt", 2, 100)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("buy BTCUSDT 0.01", "not valid JSON"),
        ('{"action": "buy",}', "not valid JSON (line 1"),
        ('["buy"]', "must be a JSON object"),
        ('{"quantity": NaN}', "not valid JSON"),
        ('{"action": "buy", "ACTION": "sell"}', "appears more than once"),
        (b"\xff\xfe{", "not UTF-8"),
    ],
)
def test_malformed_bodies_are_invalid_json(text, message):
    with pytest.raises(InvalidAlert, match=message.replace("(", r"\(")) as caught:
        parse(text)
    assert caught.value.code == "invalid_json"


def test_an_unquoted_unreplaced_placeholder_is_reported_as_such_not_as_bad_json():
    with pytest.raises(InvalidAlert, match=r"\{\{strategy.order.contracts\}\}") as caught:
        parse('{"action": "buy", "ticker": "BTCUSDT", "quantity": {{strategy.order.contracts}}}')
    assert caught.value.code == "unreplaced_placeholder"


# --- validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "data, code",
    [
        (valid(action="{{strategy.order.action}}"), "unreplaced_placeholder"),
        (valid(quantity="{{strategy.order.contracts}}"), "unreplaced_placeholder"),
        (valid(comment={"note": "at {{close}}"}), "unreplaced_placeholder"),
        (valid(action=None), "invalid_action"),
        (valid(action="long"), "invalid_action"),
        (valid(action=1), "invalid_action"),
        (valid(ticker=None), "missing_ticker"),
        (valid(ticker="  "), "missing_ticker"),
        (valid(ticker="BTC USDT"), "invalid_ticker"),
        (valid(ticker=5), "invalid_ticker"),
        (valid(quantity=None), "invalid_quantity"),
        (valid(quantity="0"), "invalid_quantity"),
        (valid(quantity=0), "invalid_quantity"),
        (valid(quantity="-1"), "invalid_quantity"),
        (valid(quantity="abc"), "invalid_quantity"),
        (valid(quantity=""), "invalid_quantity"),
        (valid(quantity="Infinity"), "invalid_quantity"),
        (valid(quantity="NaN"), "invalid_quantity"),
        (valid(quantity=True), "invalid_quantity"),
        (valid(quantity="1e20"), "invalid_quantity"),
        (valid(quantity="0.0000000000000000001"), "invalid_quantity"),
        (valid(quantity=[1]), "invalid_quantity"),
        (valid(price="0"), "invalid_price"),
        (valid(price="-3"), "invalid_price"),
        (valid(price=""), "invalid_price"),
        (valid(order_id=True), "invalid_order_id"),
        (valid(order_id="x" * 101), "invalid_order_id"),
        (valid(time="yesterday"), "invalid_time"),
        (valid(time=True), "invalid_time"),
        (valid(time="\u00b2"), "invalid_time"),  # isdigit(), yet no int
        (valid(time="9" * 5000), "invalid_time"),  # past Python's int-string limit
        (valid(time=Decimal("1e1000005")), "invalid_time"),  # overflows the decimal context
        (valid(time=10**400), "invalid_time"),
    ],
)
def test_every_invalid_field_has_its_stable_code(data, code):
    assert code_of(data) == code


def test_price_is_optional_and_extra_keys_travel_with_the_signal():
    alert = alerts.validate_alert(
        valid(price=None, order_id="Long", comment="entry", size=Decimal("2"))
    )
    assert alert.price is None
    signal = alert.as_signal(client_order_id="tv-1")
    assert signal.extra == {"comment": "entry", "size": "2", "order_id": "Long"}
    assert (signal.source, signal.client_order_id, signal.symbol) == ("webhook", "tv-1", "BTCUSDT")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-11-25T10:15:30Z", datetime(2026, 11, 25, 10, 15, 30, tzinfo=UTC)),
        ("2026-11-25T10:15:30", datetime(2026, 11, 25, 10, 15, 30, tzinfo=UTC)),
        ("2026-11-25T15:15:30+05:00", datetime(2026, 11, 25, 10, 15, 30, tzinfo=UTC)),
        (1795601730, datetime(2026, 11, 25, 10, 15, 30, tzinfo=UTC)),
        ("1795601730000", datetime(2026, 11, 25, 10, 15, 30, tzinfo=UTC)),
    ],
)
def test_alert_times_in_iso_8601_or_epoch(value, expected):
    assert alerts.validate_alert(valid(time=value)).sent_at == expected


def test_an_alert_round_trips_through_its_stored_json():
    alert = alerts.validate_alert(valid(order_id="Long", time="2026-11-25T10:15:30Z", note="x"))
    assert alerts.Alert.from_json(alert.to_json()) == alert


# --- tickers and duplicates ----------------------------------------------------


@pytest.mark.parametrize(
    "ticker, symbol, matches",
    [
        ("BTCUSDT", "BTC/USDT", True),
        ("BINANCE:BTCUSDT", "BTC/USDT", True),
        ("btcusdt", "BTC-USDT", True),
        ("BTCUSDT.P", "BTC/USDT:USDT", True),
        ("BYBIT:ETHUSDT.P", "ETH/USDT:USDT", True),
        ("XBTUSD", "BTC/USD", True),
        ("ETHUSDT", "BTC/USDT", False),
        ("BTCUSD", "BTC/USDT", False),
        ("BTCUSDT", None, True),
    ],
)
def test_ticker_matching_ignores_exchange_prefix_separators_case_and_perpetual_suffix(
    ticker, symbol, matches
):
    assert alerts.ticker_matches(ticker, symbol) is matches


def test_dedupe_identity_is_the_order_id_and_action_or_else_the_whole_message():
    with_id = alerts.validate_alert(valid(order_id="Long"))
    assert alerts.dedupe_identity(with_id, valid(order_id="Long", price="1")) == "order|Long|buy"
    plain = valid()
    one = alerts.dedupe_identity(alerts.validate_alert(plain), {**plain, "secret": "a"})
    two = alerts.dedupe_identity(alerts.validate_alert(plain), {**plain, "secret": "b"})
    assert one == two and "secret" not in one
    assert one != alerts.dedupe_identity(alerts.validate_alert(valid(price="2")), valid(price="2"))


# --- client address and allowlist ---------------------------------------------


def webhook_settings(**overrides):
    return override_settings(TORGOVO_SUBSCRIPTIONS={**example.TORGOVO_SUBSCRIPTIONS, **overrides})


def request(remote="203.0.113.5", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/", **extra)


def test_x_forwarded_for_is_ignored_unless_the_request_comes_from_a_trusted_proxy():
    with webhook_settings(WEBHOOK_TRUSTED_PROXIES=[]):
        assert client_ip.client_ip(request("203.0.113.5", "52.89.214.238")) == "203.0.113.5"
    with webhook_settings(WEBHOOK_TRUSTED_PROXIES=["10.0.0.0/8"]):
        assert client_ip.client_ip(request("203.0.113.5", "52.89.214.238")) == "203.0.113.5"
        # From the proxy: the rightmost address that is not a proxy is the client;
        # what the client wrote further left is not believed.
        assert (
            client_ip.client_ip(request("10.0.0.2", "1.1.1.1, 52.89.214.238, 10.0.0.9"))
            == "52.89.214.238"
        )
        assert client_ip.client_ip(request("10.0.0.2", "52.89.214.238:4711")) == "52.89.214.238"
        assert client_ip.client_ip(request("10.0.0.2")) == "10.0.0.2"
        assert client_ip.client_ip(request("10.0.0.2", "garbage")) is None
        assert client_ip.client_ip(request("::ffff:10.0.0.2", "[2001:db8::1]:443")) == "2001:db8::1"


def test_the_allowlist_with_the_tradingview_preset():
    with webhook_settings(WEBHOOK_IP_ALLOWLIST=None):
        assert client_ip.ip_allowed("198.51.100.1") and client_ip.ip_allowed(None)
    with webhook_settings(WEBHOOK_IP_ALLOWLIST=["tradingview", "198.51.100.0/24"]):
        for address in (
            "52.89.214.238",
            "34.212.75.30",
            "54.218.53.128",
            "52.32.178.7",
            "198.51.100.77",
            "::ffff:52.32.178.7",
        ):
            assert client_ip.ip_allowed(address), address
        assert not client_ip.ip_allowed("52.89.214.239")
        assert not client_ip.ip_allowed(None)


# --- redaction ---------------------------------------------------------------


def test_redaction_of_json_text_and_headers():
    parsed = {"action": "buy", "secret": SECRET, "nested": {"api_key": "k"}, "note": f"x{SECRET}y"}
    stored = redaction.redact_body(b"", parsed, [SECRET])
    assert (
        SECRET not in stored
        and '"secret": "[redacted]"' in stored
        and '"api_key": "[redacted]"' in stored
    )
    broken = f'{{"action": "buy", "secret": "{SECRET}", "other": {{{{close}}}}, secret={SECRET}'
    stored = redaction.redact_body(broken.encode(), None, [])
    assert SECRET not in stored and stored.count("[redacted]") == 2
    unquoted = f'{{"secret": {SECRET}}}'
    assert SECRET not in redaction.redact_body(unquoted.encode(), None, [])
    headers = redaction.redact_headers(
        {
            "Authorization": "Token abc",
            "Cookie": "sessionid=1",
            "X-Api-Key": "k",
            "Referer": f"https://x/receive/{SECRET}/",
            "User-Agent": "Go-http-client/1.1",
        },
        [SECRET],
    )
    assert headers == {
        "Authorization": "[redacted]",
        "Cookie": "[redacted]",
        "X-Api-Key": "[redacted]",
        "Referer": "https://x/receive/[redacted]/",
        "User-Agent": "Go-http-client/1.1",
    }
    assert redaction.redact_body(b"", {"a": "x" * 50}, [], limit=20).endswith("[truncated]")
