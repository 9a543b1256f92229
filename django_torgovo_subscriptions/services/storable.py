"""
Text every database can store: what comes from outside (a webhook body, its
headers, a field of an alert) may hold NUL, which PostgreSQL's text and jsonb
refuse, or lone surrogates, which are no UTF-8 and fail any encoder. Both are
written as backslash escapes, so the request is still recorded (the answer to
a hostile byte is a 4xx with its row, never a 5xx without one).
"""

from __future__ import annotations

from typing import Any


def storable(value: Any) -> Any:
    """``value`` (text, or a JSON value: its strings and keys) with NUL and lone
    surrogates written as backslash escapes, so every database can store it."""
    if isinstance(value, str):
        if value.isascii() and "\x00" not in value:
            return value
        return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value
