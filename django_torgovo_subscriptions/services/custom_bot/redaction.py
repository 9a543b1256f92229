"""
Redaction of webhook requests before they are stored or logged.

A webhook URL *is* its secret, and the alert body repeats it, so nothing of a
request is written anywhere before it passes through here: secret-looking
headers and JSON keys are replaced with ``[redacted]``, and every known secret
(the one in the URL) is cut out of whatever text remains, including bodies
that are not valid JSON. ``services.storable`` then escapes what a database cannot hold
(NUL, which PostgreSQL's text and jsonb refuse, and lone surrogates, which are
no UTF-8), so a hostile body is still recorded instead of failing its own row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django_torgovo_subscriptions.services.storable import storable

REDACTED = "[redacted]"
SENSITIVE_NAME = re.compile(
    r"secret|passw|token|auth|cookie|session|signature|api[-_]?key|passphrase|csrf", re.I
)
# "secret": "value" / "secret": value in text that is not valid JSON.
SENSITIVE_TEXT = re.compile(
    r"""(["']?[\w-]*(?:secret|passw|token|api[-_]?key|passphrase)[\w-]*["']?\s*[:=]\s*)"""
    r"""("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,}\]]+)""",
    re.I,
)
MAX_HEADER_VALUE = 500
TRUNCATED = "…[truncated]"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Cut every occurrence of the given secrets out of ``text``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def redact_json(value: Any) -> Any:
    """A copy of a parsed JSON value with the values of secret-looking keys replaced."""
    if isinstance(value, dict):
        return {
            key: REDACTED if SENSITIVE_NAME.search(str(key)) else redact_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value


def redact_headers(headers: Any, secrets: Iterable[str] = ()) -> dict[str, str]:
    """Request headers (``request.headers``) safe to store."""
    secrets = tuple(secrets)
    safe = {}
    for name, value in headers.items():
        if SENSITIVE_NAME.search(name):
            safe[name] = REDACTED
        else:
            safe[name] = scrub(str(value), secrets)[:MAX_HEADER_VALUE]
    return storable(safe)


def redact_body(
    raw: bytes, parsed: dict[str, Any] | None, secrets: Iterable[str] = (), limit: int = 10000
) -> str:
    """The request body safe to store: parsed JSON re-serialised, else scrubbed text."""
    secrets = tuple(secrets)
    if parsed is not None:
        text = json.dumps(redact_json(parsed), ensure_ascii=False, default=str)
    else:
        text = raw.decode("utf-8", errors="replace")
        text = SENSITIVE_TEXT.sub(lambda m: m.group(1) + f'"{REDACTED}"', text)
    text = storable(scrub(text, secrets))
    if len(text) > limit:
        text = text[:limit] + TRUNCATED
    return text
