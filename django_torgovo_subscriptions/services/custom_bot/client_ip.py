"""
Who is calling the webhook receiver: the client address and the IP allowlist.

The client address is ``REMOTE_ADDR`` unless the request comes from one of
``WEBHOOK_TRUSTED_PROXIES``; only then is ``X-Forwarded-For`` read, right to
left, skipping the trusted proxies, so a client cannot pick its own address by
sending the header itself.

``WEBHOOK_IP_ALLOWLIST`` lists addresses and networks; the entry
``"tradingview"`` stands for ``TRADINGVIEW_IPS``, the addresses TradingView
publishes for its webhook requests. Those addresses, and the allowlist's, are
never limited per address (services.custom_bot.ratelimit).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from typing import Any

from django_torgovo_subscriptions.conf import subscriptions_settings

# Published in TradingView's help article "About webhooks" (the only sources
# of its webhook requests).
TRADINGVIEW_IPS = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")
TRADINGVIEW_PRESET = "tradingview"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(value: str) -> IPAddress | None:
    """An address from a header hop: tolerates an IPv4 port and IPv4-mapped IPv6."""
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1 and "." in value:  # 1.2.3.4:5678
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def parse_network(entry: str) -> list[Network]:
    """Networks for one allowlist or proxy entry; raises ValueError when invalid."""
    if entry.strip().lower() == TRADINGVIEW_PRESET:
        return [ipaddress.ip_network(ip) for ip in TRADINGVIEW_IPS]
    return [ipaddress.ip_network(entry.strip(), strict=False)]


@functools.lru_cache(maxsize=32)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks: list[Network] = []
    for entry in entries:
        networks += parse_network(entry)
    return tuple(networks)


def networks(entries: Iterable[str] | None) -> tuple[Network, ...]:
    return _networks(tuple(entries or ()))


def in_networks(address: IPAddress | None, nets: tuple[Network, ...]) -> bool:
    return address is not None and any(address in net for net in nets)


def client_ip(request: Any) -> str | None:
    """The caller's address as a string, or None when it cannot be told."""
    remote = parse_ip(request.META.get("REMOTE_ADDR", "") or "")
    proxies = networks(subscriptions_settings.WEBHOOK_TRUSTED_PROXIES)
    if not proxies or not in_networks(remote, proxies):
        return None if remote is None else str(remote)
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    address = remote
    for hop in reversed(hops):
        address = parse_ip(hop)
        if address is None:
            return None  # a garbled chain: the client cannot be told
        if not in_networks(address, proxies):
            return str(address)
    return None if address is None else str(address)


def ip_allowed(address: str | None) -> bool:
    """True when no allowlist is set or ``address`` is in it."""
    allowlist = subscriptions_settings.WEBHOOK_IP_ALLOWLIST
    if allowlist is None:
        return True
    return in_networks(parse_ip(address or ""), networks(allowlist))


def never_limited(address: str | None) -> bool:
    """True for TradingView's addresses and the allowlist's: they carry every user's alerts."""
    parsed = parse_ip(address or "")
    allowlist = subscriptions_settings.WEBHOOK_IP_ALLOWLIST or ()
    return in_networks(parsed, networks((TRADINGVIEW_PRESET, *allowlist)))
