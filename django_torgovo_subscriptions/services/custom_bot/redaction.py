"""
Redaction of webhook requests before they are stored or logged.

A webhook URL *is* its secret, and the alert body repeats it, so nothing of a
request is written anywhere before it passes through here: secret-looking
headers and JSON keys (``secret``, ``api_key``, ``apiKey``, ``password``,
``token``, ``private_key``..., in any case, at any depth) are replaced with
``[redacted]``, and every known secret (the one in the URL) is cut out of
whatever text remains: other fields' values (a ``note`` repeating it, inside a
longer string, in nested objects and lists), keys, and bodies that are not
valid JSON. ``redact_log_record`` does the same for log records that name a
receive URL, whose path holds the secret (see ``ReceiveURLFilter``).
``services.storable`` then escapes what a database cannot hold (NUL, which
PostgreSQL's text and jsonb refuse, and lone surrogates, which are no UTF-8), so
a hostile body is still recorded instead of failing its own row.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any

from django_torgovo_subscriptions.services.storable import storable

REDACTED = "[redacted]"
CREDENTIAL_WORDS = (
    r"secret|passw|pwd|token|api[-_]?key|access[-_]?key|private[-_]?key|passphrase|credential"
)
SENSITIVE_NAME = re.compile(rf"{CREDENTIAL_WORDS}|auth|cookie|session|signature|csrf", re.I)
# "secret": "value" / "secret": value in text that is not valid JSON.
SENSITIVE_TEXT = re.compile(
    rf"""(["']?[\w-]*(?:{CREDENTIAL_WORDS})[\w-]*["']?\s*[:=]\s*)"""
    r"""("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,}\]]+)""",
    re.I,
)
MAX_HEADER_VALUE = 500
TRUNCATED = "…[truncated]"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Cut every occurrence of the given secrets out of ``text``, in any case (alert keys
    are read lower-cased, and a lower-cased secret is most of the secret)."""
    for secret in secrets:
        if secret and secret.lower() in text.lower():
            text = re.sub(re.escape(secret), REDACTED, text, flags=re.I)
    return text


def redact_json(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a parsed JSON value with the values of secret-looking keys replaced,
    and the given secrets cut out of every string in it (keys too), at any depth."""
    secrets = tuple(secrets)
    if isinstance(value, dict):
        return {
            redact_json(key, secrets): (
                REDACTED if SENSITIVE_NAME.search(str(key)) else redact_json(item, secrets)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_json(item, secrets) for item in value]
    if isinstance(value, str):
        return scrub(value, secrets)
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
        text = json.dumps(redact_json(parsed, secrets), ensure_ascii=False, default=str)
    else:
        text = raw.decode("utf-8", errors="replace")
        text = SENSITIVE_TEXT.sub(lambda m: m.group(1) + f'"{REDACTED}"', text)
    text = storable(scrub(text, secrets))
    if len(text) > limit:
        text = text[:limit] + TRUNCATED
    return text


# The secret segment of a receive URL (``.../webhook/receive/<secret>...``),
# wherever the host mounts the package's URLs, in a path or a full URL.
RECEIVE_PATH = re.compile(r"(/webhook/receive/)[^/\s?#\"']+")


def redact_receive_urls(text: str) -> str:
    """``text`` with the secret of every receive URL in it replaced."""
    return RECEIVE_PATH.sub(rf"\1{REDACTED}", text)


def redact_log_record(record: logging.LogRecord) -> None:
    """Cut receive URLs' secrets out of a log record: its message, its exception's text
    (Django's DEBUG APPEND_SLASH error quotes the URL), and its ``request``, which
    django.request attaches for handlers such as AdminEmailHandler to show."""
    message = record.getMessage()
    redacted = redact_receive_urls(message)
    if redacted != message:
        record.msg, record.args = redacted, ()
    if record.exc_info:
        text = record.exc_text or logging.Formatter().formatException(record.exc_info)
        if RECEIVE_PATH.search(text):
            # Formatters print exc_text as it is; without exc_info nothing re-renders it.
            record.exc_text, record.exc_info = redact_receive_urls(text), None
    request = getattr(record, "request", None)
    if request is not None and RECEIVE_PATH.search(str(getattr(request, "path", ""))):
        del record.request


class ReceiveURLFilter(logging.Filter):
    """
    A logging filter that keeps webhook secrets out of logs: it rewrites every
    record naming a receive URL (and never drops one). The package attaches it
    to the ``REQUEST_LOGGERS`` when it starts (``apps.SubscriptionsConfig.ready``),
    so Django's "Not Found: <path>" of a mistyped receive URL, and a gunicorn or
    uvicorn worker's access log line, show ``[redacted]`` in place of the secret.
    Attach it to your own handlers of other loggers in ``LOGGING``::

        "filters": {"webhook_secrets": {
            "()": "django_torgovo_subscriptions.services.custom_bot.redaction.ReceiveURLFilter"
        }},
    """

    def filter(self, record: logging.LogRecord) -> bool:
        redact_log_record(record)
        return True


# Django's request logs, runserver's, and the access logs of gunicorn and uvicorn
# workers (their records are made in the process this package runs in).
REQUEST_LOGGERS = ("django.request", "django.server", "gunicorn.access", "uvicorn.access")


def install_log_filter() -> None:
    """Attach ``ReceiveURLFilter`` to Django's request loggers (once)."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ReceiveURLFilter) for f in logger.filters):
            logger.addFilter(ReceiveURLFilter())
