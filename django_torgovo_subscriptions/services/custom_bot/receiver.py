"""
Receiving TradingView alerts on a custom-bot webhook's secret URL.

``receive`` runs these checks in order; the first that fails decides the
answer:

0. the client IP's refusals, before anything     rate_limited (429): no event,
   is looked up or written (ratelimit)            counted in WebhookRefusalCount
1. the URL's secret, looked up by its hash        invalid_secret (403)
2. the body's ``secret``, compared in constant    invalid_secret (403)
   time; then the webhook must be active          webhook_inactive (410)
3. the rate limit per webhook                     rate_limited (429)
4. the IP allowlist                               ip_not_allowed (403)
5. the body (services.custom_bot.alerts) and its ticker     invalid_json, unreplaced_placeholder,
                                                  invalid_action, missing_ticker,
                                                  invalid_quantity, ... (400),
                                                  payload_too_large (413)
6. a live custom_bot subscription, the pair       subscription_required,
   quota, the PairConfig still tradable           subscription_expired, pair_limit_reached,
                                                  pair_config_unavailable (403)
   (a managed-signal webhook: its user still      not_an_operator,
   operates the managed bot on offer)             pair_config_unavailable (403)
7. the alert's age, then duplicates               alert_too_old (400), duplicate_alert (200)

An accepted alert is stored first (its row claims the dedupe key, so of many
concurrent copies exactly one gets through), then executed inline, or handed
to Celery and answered 202 (services.custom_bot.event_runner). Every request
leaves exactly one ``WebhookEvent``, except those of an address cut off at
step 0, which are only counted. Every refusal counts against its client
IP, unless the address is TradingView's or allowlisted. Every refusal is a
4xx, which TradingView does not retry; a failed trade is a 200 with
``status: failed``; only an alert that could not be recorded at all
(database down), or whose Order could not be written for now (event_runner:
``order_pending``, ``order_not_saved``), answers 503, which TradingView
retries (``receive_bounded`` adds the database timeouts and ``Retry-After``).

A managed-signal webhook (the operator's, services.managed_bot.signal_webhooks)
runs the same steps with its own body (``fraction`` instead of ``quantity``)
and entitlement, and its accepted alert is fanned out to the bot's investors
(inline, or queued with MANAGED_EXECUTION "celery") instead of traded once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import (
    AlertRateLimited,
    AlertTooLarge,
    InvalidAlert,
    InvalidWebhookSecret,
    IPNotAllowed,
    PairConfigUnavailable,
    SubscriptionsError,
    WebhookInactive,
    WebhookUnavailable,
    error_payload,
)
from django_torgovo_subscriptions.host import get_host_adapter
from django_torgovo_subscriptions.models import (
    CustomBotWebhook,
    PlanType,
    WebhookEvent,
    WebhookOutcome,
    WebhookPurpose,
    WebhookRefusalCount,
)
from django_torgovo_subscriptions.services.custom_bot import alerts, client_ip, ratelimit, redaction
from django_torgovo_subscriptions.services.custom_bot.event_runner import (
    ORDER_PENDING,
    RETRY_AFTER_SECONDS,
    enqueue,
    execute_event,
    retry_after,
    write_pending_order,
)
from django_torgovo_subscriptions.services.custom_bot.issuing import hash_secret
from django_torgovo_subscriptions.services.managed_bot import signal_webhooks
from django_torgovo_subscriptions.services.quota import check_pair_quota, counts_only_package_pairs
from django_torgovo_subscriptions.services.storable import storable
from django_torgovo_subscriptions.services.subscriptions import require_access
from django_torgovo_subscriptions.services.transactions import (
    postgres_timeouts,
    savepoint_if_in_transaction,
)

logger = logging.getLogger(__name__)

MAX_SECRET_LENGTH = 128
CLOCK_SKEW_SECONDS = 60


@dataclass
class Receipt:
    """What the receive endpoint answers, and the event it recorded."""

    status_code: int
    body: dict[str, Any]
    event: WebhookEvent | None = None
    retry_after: int | None = None


@dataclass
class Intake:
    """One request to the receive endpoint, read once and redacted for storage."""

    request: Any
    secret: str = field(repr=False)
    received_at: datetime = field(default_factory=timezone.now)
    started: float = 0.0
    client_ip: str | None = None
    raw: bytes = field(default=b"", repr=False)
    parsed: alerts.ParsedBody = field(default_factory=lambda: alerts.ParsedBody(None))
    # The accepted alert's event once stored: from then on this request has its row.
    stored: WebhookEvent | None = None
    # The rate limits' counts, read before the webhook is looked up.
    limits: ratelimit.Usage = field(default_factory=lambda: ratelimit.Usage(now=0.0))

    @classmethod
    def read(cls, request: Any, secret: str) -> Intake:
        started = time.monotonic()
        limit = subscriptions_settings.WEBHOOK_MAX_BODY_BYTES
        raw, parsed = b"", None
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        try:
            if declared <= limit:
                raw = request.body
        except RequestDataTooBig:
            declared = limit + 1
        if declared > limit or len(raw) > limit:
            raw = b""
            parsed = alerts.ParsedBody(
                None, AlertTooLarge(f"The alert message is larger than {limit} bytes.")
            )
        return cls(
            request=request,
            secret=secret,
            received_at=timezone.now(),
            started=started,
            client_ip=client_ip.client_ip(request),
            raw=raw,
            parsed=parsed or alerts.parse_body(raw),
        )

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    def event(self, webhook: CustomBotWebhook | None, **fields: Any) -> WebhookEvent:
        known = (self.secret,)
        limit = subscriptions_settings.WEBHOOK_MAX_BODY_BYTES
        return WebhookEvent(
            received_at=self.received_at,
            webhook=webhook,
            source_ip=self.client_ip,
            headers=redaction.redact_headers(self.request.headers, known),
            body=redaction.redact_body(self.raw, self.parsed.data, known, limit),
            **fields,
        )


# What the receiver reads, in one query: the webhook with its user and
# PairConfig (whole: the trading manager may read any of their fields, and in
# Celery mode so may the host adapter's can_trade; a deferred field would cost a
# query of its own) and the subscription's entitlement fields, so the usual case
# checks entitlement without another query. Its plan only when the host counts
# the pairs in use (then the quota is checked per alert, against the plan's
# max_trading_pairs). Nothing is read for a request cut off per address
# (services.custom_bot.ratelimit).
RECEIVER_FIELDS = (
    "user_id",
    "pair_config_id",
    "subscription_id",
    "purpose",
    "is_active",
    "last_used_at",
    "subscription__user_id",
    "subscription__plan_id",
    "subscription__plan_type",
    "subscription__status",
    "subscription__end_date",
    "subscription__auto_renew",
    "subscription__gateway_subscription_id",
)
RECEIVER_WEBHOOKS = CustomBotWebhook.objects.select_related(
    "user", "pair_config", "subscription"
).only(*RECEIVER_FIELDS)
RECEIVER_WEBHOOKS_WITH_PLAN = CustomBotWebhook.objects.select_related(
    "user", "pair_config", "subscription__plan"
).only(*RECEIVER_FIELDS, "subscription__plan__name", "subscription__plan__max_trading_pairs")


def plausible(secret: str) -> bool:
    return bool(secret) and len(secret) <= MAX_SECRET_LENGTH


def find_webhook(secret: str) -> CustomBotWebhook:
    if not plausible(secret):
        raise InvalidWebhookSecret()
    try:
        webhooks = RECEIVER_WEBHOOKS if counts_only_package_pairs() else RECEIVER_WEBHOOKS_WITH_PLAN
        return webhooks.get(secret_hash=hash_secret(secret))
    except CustomBotWebhook.DoesNotExist:
        raise InvalidWebhookSecret() from None


def check_body_secret(intake: Intake) -> None:
    """The body's secret must equal the URL's (an unreadable body fails at step 5)."""
    if intake.parsed.data is None:
        return
    given = intake.parsed.secret
    if not isinstance(given, str) or not hmac.compare_digest(
        given.encode(), intake.secret.encode()
    ):
        raise InvalidWebhookSecret()


def is_managed_signal(webhook: CustomBotWebhook) -> bool:
    return webhook.purpose == WebhookPurpose.MANAGED_SIGNAL


def read_alert(intake: Intake, webhook: CustomBotWebhook) -> Any:
    """The validated ``alerts.Alert`` (a ``ManagedSignalAlert`` for an operator's webhook)."""
    if intake.parsed.error is not None:
        raise intake.parsed.error
    if is_managed_signal(webhook):
        alert = alerts.validate_managed_signal(intake.parsed.data or {})
    else:
        alert = alerts.validate_alert(intake.parsed.data or {})
    alerts.check_order_limits(alert)
    symbol = get_host_adapter().pair_config_value(webhook.pair_config, "symbol")
    if subscriptions_settings.WEBHOOK_CHECK_TICKER and not alerts.ticker_matches(
        alert.ticker, symbol
    ):
        raise InvalidAlert(
            f"The alert's ticker {alert.ticker!r} is not this webhook's pair ({symbol}). "
            "Create the alert on that pair's chart, or generate a webhook for this pair.",
            code="ticker_mismatch",
        )
    return alert


def check_entitlement(webhook: CustomBotWebhook, now: datetime) -> None:
    """A live custom_bot subscription, room in its pair quota, a PairConfig still tradable
    (for a managed-signal webhook: an operator of an active managed bot on offer)."""
    if is_managed_signal(webhook):
        if not get_host_adapter().pair_config_value(webhook.pair_config, "is_active", True):
            raise PairConfigUnavailable()
        signal_webhooks.check_operator(webhook.user, webhook.pair_config)
        return
    subscription = webhook.subscription  # loaded with the webhook: usually the live one
    if not (
        subscription.user_id == webhook.user_id
        and subscription.plan_type == PlanType.CUSTOM_BOT
        and subscription.is_live(now)
    ):
        subscription = require_access(webhook.user, PlanType.CUSTOM_BOT, now=now)
    subscription.user = webhook.user  # already loaded
    # With the package's own count, an active webhook's pair is always among the
    # pairs in use, so the quota holds by definition; a host's count is asked.
    if not counts_only_package_pairs():
        check_pair_quota(subscription, webhook.pair_config)
    if not get_host_adapter().can_trade(webhook.user, webhook.pair_config, exclude_managed=True):
        raise PairConfigUnavailable()


def check_age(alert: alerts.Alert, now: datetime) -> None:
    if alert.sent_at is None:
        return
    age = (now - alert.sent_at).total_seconds()
    if age < -CLOCK_SKEW_SECONDS:
        raise InvalidAlert(
            "The alert's 'time' is in the future; use {{timenow}}.", code="invalid_time"
        )
    max_age = subscriptions_settings.WEBHOOK_MAX_AGE_SECONDS
    if max_age is not None and age > max_age:
        raise InvalidAlert(
            f"The alert was sent {int(age)} seconds ago; alerts older than {max_age} seconds "
            "are not executed.",
            code="alert_too_old",
        )


def receive(request: Any, secret: str) -> Receipt:
    """Handle one request to the receive endpoint (see the module docstring)."""
    intake = Intake.read(request, secret)
    cut_off = flood_gate(intake, hash_secret(secret) if plausible(secret) else None)
    if cut_off is not None:
        return cut_off
    webhook = None
    try:
        webhook = find_webhook(secret)
        check_body_secret(intake)
        if not webhook.is_active:
            raise WebhookInactive()
        intake.limits.check_webhook()
        if not client_ip.ip_allowed(intake.client_ip):
            raise IPNotAllowed()
        alert = read_alert(intake, webhook)
        check_entitlement(webhook, intake.received_at)
        check_age(alert, intake.received_at)
        return accept(intake, webhook, alert)
    except SubscriptionsError as exc:
        return reject(intake, webhook, exc)
    except Exception as exc:
        logger.exception("Webhook request failed (event %s).", getattr(intake.stored, "pk", None))
        if intake.stored is not None:
            # The alert is on record (and holds its dedupe key): a retry is a duplicate.
            unavailable = WebhookUnavailable()
            return Receipt(503, error_payload(unavailable.code, unavailable.message), intake.stored)
        return reject(
            intake, webhook, WebhookUnavailable(), error=f"{exc.__class__.__name__}: {exc}"
        )


def flood_gate(intake: Intake, webhook_key: str | None) -> Receipt | None:
    """Count the request (one cache round trip); the answer when its address is cut off."""
    intake.limits = ratelimit.count_request(intake.client_ip, webhook_key)
    exc = intake.limits.address_cut_off()
    if exc is None:
        return None
    count_cut_off(intake)
    return Receipt(429, error_payload(exc.code, exc.message), None, retry_after=exc.retry_after)


def count_cut_off(intake: Intake) -> None:
    """Add the request to its address's row for the minute (one UPDATE, once a minute an INSERT)."""
    key = {
        "source_ip": intake.client_ip or "",
        "minute": intake.received_at.replace(second=0, microsecond=0),
    }
    rows = WebhookRefusalCount.objects.filter(**key)
    try:
        if rows.update(count=F("count") + 1, last_at=intake.received_at):
            return
        try:
            with savepoint_if_in_transaction():
                WebhookRefusalCount.objects.create(**key, count=1, last_at=intake.received_at)
        except IntegrityError:  # a concurrent request of the flood created it
            rows.update(count=F("count") + 1, last_at=intake.received_at)
            return
        logger.warning(
            "Webhook requests from %s are refused until the rate limit's window ends (too many "
            "refusals); they are counted per minute, without events.",
            intake.client_ip or "an unknown address",
        )
    except Exception:  # the answer is a refusal either way
        logger.exception("Refused webhook requests could not be counted.")


def reject(
    intake: Intake, webhook: CustomBotWebhook | None, exc: SubscriptionsError, error: str = ""
) -> Receipt:
    """Record a refused request and build its answer (503 if even that fails)."""
    if exc.status_code < 500:
        ratelimit.count_refusal(intake.limits)
    event = intake.event(
        webhook,
        outcome=WebhookOutcome.REJECTED,
        code=exc.code,
        error=storable(redaction.scrub(error or exc.message, (intake.secret,)))[:2000],
        status_code=exc.status_code,
        duration_ms=intake.elapsed_ms(),
    )
    try:
        event.save(force_insert=True)
    except Exception:
        logger.exception("Webhook request (%s) could not be recorded.", exc.code)
        exc, event = WebhookUnavailable(), None
    logger.info(
        "Webhook alert refused: %s (webhook %s, event %s)",
        exc.code,
        getattr(webhook, "pk", None),
        getattr(event, "pk", None),
    )
    return Receipt(
        exc.status_code,
        error_payload(exc.code, exc.message),
        event,
        retry_after=exc.retry_after if isinstance(exc, AlertRateLimited) else None,
    )


def reject_request(request: Any, secret: str, exc: SubscriptionsError) -> Receipt:
    """Record a request refused before the pipeline (e.g. a GET), on its webhook if known."""
    intake = Intake.read(request, secret)
    cut_off = flood_gate(intake, None)
    if cut_off is not None:
        return cut_off
    with contextlib.suppress(InvalidWebhookSecret):
        return reject(intake, find_webhook(secret), exc)
    return reject(intake, None, exc)


def dedupe_key(webhook: CustomBotWebhook, alert: alerts.Alert, data: dict[str, Any]) -> str:
    return hashlib.sha256(
        f"{webhook.pk}|{alerts.dedupe_identity(alert, data)}".encode()
    ).hexdigest()


def claim(event: WebhookEvent) -> WebhookEvent | None:
    """
    Insert ``event``, which carries a dedupe key. Returns None when it was
    stored, or the earlier event holding the key within the window. A holder
    older than the window gives the key up, then the insert is tried again.
    """
    window = timedelta(seconds=subscriptions_settings.WEBHOOK_DEDUPE_SECONDS)
    for _attempt in range(3):
        try:
            with savepoint_if_in_transaction():
                event.save(force_insert=True)
            return None
        except IntegrityError:
            holder = (
                WebhookEvent.objects.filter(dedupe_key=event.dedupe_key)
                .only("received_at", "code", "order_id")
                .first()
            )
            if holder is None:
                continue
            # A trade whose Order is pending keeps its key: its retry must never trade.
            if holder.received_at > event.received_at - window or holder.code == ORDER_PENDING:
                return holder
            WebhookEvent.objects.filter(pk=holder.pk, dedupe_key=event.dedupe_key).update(
                dedupe_key=None
            )
    raise RuntimeError("Could not claim the dedupe key of a webhook event.")


def in_background(webhook: CustomBotWebhook) -> bool:
    if is_managed_signal(webhook):
        return subscriptions_settings.MANAGED_EXECUTION == "celery"
    return subscriptions_settings.WEBHOOK_EXECUTION == "celery"


def accept(intake: Intake, webhook: CustomBotWebhook, alert: Any) -> Receipt:
    celery = in_background(webhook)
    known = (intake.secret,)
    # Traded as stored (a Celery worker reads the signal back): no secret reaches the
    # trading manager, its error messages or the host's Order either.
    alert = dataclasses.replace(alert, extra=redaction.redact_json(alert.extra, known))
    signal = storable(
        redaction.redact_json(
            {**alert.to_json(), "client_order_id": f"tv-{uuid.uuid4().hex[:24]}"}, known
        )
    )
    event = intake.event(
        webhook,
        outcome=WebhookOutcome.QUEUED if celery else WebhookOutcome.PROCESSING,
        signal=signal,
        dedupe_key=dedupe_key(webhook, alert, intake.parsed.data or {}),
        status_code=202 if celery else None,
    )
    holder = claim(event)
    if holder is not None:
        window = subscriptions_settings.WEBHOOK_DEDUPE_SECONDS
        order_id = ""
        if holder.code == ORDER_PENDING:  # traded: its Order is written now, not traded again
            holder = write_pending_order(holder, webhook.user, webhook.pair_config)
            order_id = holder.order_id
        pending = holder.code == ORDER_PENDING
        duplicate = intake.event(
            webhook,
            outcome=WebhookOutcome.DUPLICATE,
            code="duplicate_alert",
            error=f"Repeats event {holder.pk}, received within {window} seconds.",
            status_code=503 if pending else 200,
            duplicate_of=holder,
            order_id=order_id,
            signal=signal,
            duration_ms=intake.elapsed_ms(),
        )
        duplicate.save(force_insert=True)
        detail = (
            f"This alert repeats one received within the last {window} seconds "
            f"(event {holder.pk}); it was not executed again."
        )
        receipt = Receipt(duplicate.status_code, accepted_body(duplicate, detail), duplicate)
        receipt.retry_after = retry_after(duplicate)
        return receipt
    intake.stored = event
    touch(webhook, intake.received_at)
    if is_managed_signal(webhook):
        return fan_out(event, webhook, alert)
    if celery:
        if enqueue(event):
            return Receipt(
                202,
                accepted_body(event, "The alert was accepted and is executed in the background."),
                event,
            )
        if not WebhookEvent.objects.filter(pk=event.pk, outcome=WebhookOutcome.QUEUED).update(
            outcome=WebhookOutcome.PROCESSING
        ):
            return Receipt(
                202,
                accepted_body(event, "The alert was accepted and is executed in the background."),
                event,
            )
        event.outcome = WebhookOutcome.PROCESSING
        event.status_code = None  # answered inline after all: a transient failure is a 503
    execute_event(event, webhook.user, webhook.pair_config, alert, intake.started)
    return Receipt(event.status_code, accepted_body(event), event, retry_after(event))


def fan_out(event: WebhookEvent, webhook: CustomBotWebhook, alert: Any) -> Receipt:
    """Hand an operator's accepted signal to the managed-bot fan-out."""
    fanned = signal_webhooks.fan_out_event(event, webhook, alert)
    if fanned.queued:
        detail = "The signal was accepted and is traded for the investors in the background."
    else:
        detail = (
            f"The signal was traded for the investors: {fanned.counts['executed']} executed, "
            f"{fanned.counts['failed']} failed, {fanned.counts['skipped']} skipped."
        )
    body = {**accepted_body(event, detail), "managed_signal": fanned.as_json()}
    return Receipt(202 if fanned.queued else 200, body, event)


LAST_USED_PRECISION = timedelta(seconds=60)


def touch(webhook: CustomBotWebhook, now: datetime) -> None:
    """Record the webhook's use, to the minute: a busy webhook is not rewritten per alert."""
    if webhook.last_used_at is None or now - webhook.last_used_at >= LAST_USED_PRECISION:
        CustomBotWebhook.objects.filter(pk=webhook.pk).update(last_used_at=now)
        webhook.last_used_at = now


def accepted_body(event: WebhookEvent, detail: str = "") -> dict[str, Any]:
    if not detail:
        detail = (
            "The alert was executed." if event.outcome == WebhookOutcome.EXECUTED else event.error
        )
    return {
        "status": event.outcome,
        "event_id": event.pk,
        "order_id": event.order_id or None,
        "code": event.code or None,
        "detail": detail or "The trade failed.",
    }


def receive_bounded(request: Any, secret: str) -> Receipt:
    """``receive`` under the receiver's database timeouts (``WEBHOOK_DB_LOCK_TIMEOUT_MS``,
    ``WEBHOOK_DB_STATEMENT_TIMEOUT_MS``, PostgreSQL only): a lock held elsewhere or a
    slow query is a 503 inside TradingView's 3 seconds, not a worker killed by its
    own timeout. Every 503 asks for a retry after ``RETRY_AFTER_SECONDS``."""
    with postgres_timeouts(
        subscriptions_settings.WEBHOOK_DB_LOCK_TIMEOUT_MS,
        subscriptions_settings.WEBHOOK_DB_STATEMENT_TIMEOUT_MS,
    ):
        receipt = receive(request, secret)
    if receipt.status_code == 503 and receipt.retry_after is None:
        receipt.retry_after = RETRY_AFTER_SECONDS
    return receipt
