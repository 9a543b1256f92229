"""
Custom-bot webhooks: the secret URL a TradingView alert is sent to, and the log
of every request that URL received (``WebhookEvent``).

A webhook's ``purpose`` says what an accepted alert does: a custom-bot webhook
places one trade for its user; a managed-signal webhook belongs to the operator
of a managed bot (it has no subscription) and fans the signal out to the bot's
investors.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_torgovo_subscriptions.conf import pair_config_model_reference


class WebhookPurpose(models.TextChoices):
    CUSTOM_BOT = "custom_bot", _("Custom bot: one trade for its user")
    MANAGED_SIGNAL = "managed_signal", _("Managed bot: a signal for every investor")


class CustomBotWebhook(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="torgovo_webhooks",
        verbose_name=_("user"),
    )
    subscription = models.ForeignKey(
        "subscriptions.UserSubscription",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhooks",
        verbose_name=_("subscription"),
        help_text=_("The custom-bot subscription; empty for a managed-signal webhook."),
    )
    purpose = models.CharField(
        _("purpose"),
        max_length=20,
        choices=WebhookPurpose.choices,
        default=WebhookPurpose.CUSTOM_BOT,
    )
    pair_config = models.ForeignKey(
        pair_config_model_reference(),
        on_delete=models.CASCADE,
        related_name="torgovo_webhooks",
        verbose_name=_("pair config"),
    )
    secret_hash = models.CharField(
        _("secret hash"),
        max_length=64,
        unique=True,
        editable=False,
        help_text=_("SHA-256 of the secret. The secret itself is shown once and never stored."),
    )
    tradingview_config = models.JSONField(
        _("TradingView config"),
        default=dict,
        blank=True,
        help_text=_("The alert message template given to the user, with the secret removed."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    rotated_at = models.DateTimeField(_("secret rotated at"), null=True, blank=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    class Meta:
        app_label = "subscriptions"
        ordering = ("-created_at", "-id")
        verbose_name = _("custom bot webhook")
        verbose_name_plural = _("custom bot webhooks")

    def __str__(self) -> str:
        return f"Webhook #{self.pk} for {self.user}"


class WebhookOutcome(models.TextChoices):
    """What became of one request to the receive endpoint."""

    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")
    QUEUED = "queued", _("Queued")
    PROCESSING = "processing", _("Processing")
    EXECUTED = "executed", _("Executed")
    FAILED = "failed", _("Failed")


class WebhookEventQuerySet(models.QuerySet):
    def older_than(self, moment) -> WebhookEventQuerySet:
        return self.filter(received_at__lt=moment)

    def prunable(self, moment) -> WebhookEventQuerySet:
        """Received before ``moment`` and placed no Order. An event that placed one is
        kept: it is how ``orders/`` knows the Order came from an alert (services.orders)."""
        return self.older_than(moment).filter(order_id="")


class WebhookEvent(models.Model):
    """
    One request to the receive endpoint, whatever became of it.

    Secrets are never stored: the body's ``secret`` and secret-looking headers
    are replaced by ``[redacted]`` before the row is written, and the URL (which
    holds the secret) is not kept at all.
    """

    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    webhook = models.ForeignKey(
        CustomBotWebhook,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,  # Meta.indexes leads with it
        related_name="events",
        verbose_name=_("webhook"),
        help_text=_("Empty when the URL's secret matched no webhook."),
    )
    source_ip = models.GenericIPAddressField(_("source IP"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=WebhookOutcome.choices)
    code = models.CharField(
        _("code"),
        max_length=40,
        blank=True,
        help_text=_("The stable code of a rejection or a failed trade; empty when executed."),
    )
    error = models.TextField(_("error"), blank=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    headers = models.JSONField(_("headers (redacted)"), default=dict, blank=True)
    body = models.TextField(_("body (redacted)"), blank=True)
    signal = models.JSONField(
        _("trade signal"),
        null=True,
        blank=True,
        help_text=_("The validated alert handed to the trading manager (decimals as strings)."),
    )
    # NULL, not "": rows that hold no key must not collide in the unique index.
    dedupe_key = models.CharField(  # noqa: DJ001
        _("dedupe key"),
        max_length=64,
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Held by an accepted alert so that the same alert, or the same order id, "
            "is executed once within the dedupe window."
        ),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,  # a partial index in Meta: most events are no duplicate
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    order_id = models.CharField(
        _("host order id"),
        max_length=64,
        blank=True,
        help_text=_("Primary key of the host Order the alert produced."),
    )
    execution = models.JSONField(
        _("execution result"),
        default=dict,
        blank=True,
        help_text=_("What the trading manager reported (status, fill, exchange id, error)."),
    )
    duration_ms = models.PositiveIntegerField(
        _("duration (ms)"),
        null=True,
        blank=True,
        help_text=_("Time from receiving the request to the end of processing."),
    )
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    objects = WebhookEventQuerySet.as_manager()

    class Meta:
        app_label = "subscriptions"
        ordering = ("-received_at", "-id")
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        # Few indexes, each partial where most rows have no value: every accepted
        # alert inserts a row, and its result is written by an UPDATE that
        # changes no indexed column, so PostgreSQL can keep it on the page (HOT).
        indexes = [
            models.Index(fields=("webhook", "-received_at"), name="subscriptions_whevent_hook"),
            models.Index(
                fields=("duplicate_of",),
                condition=models.Q(duplicate_of__isnull=False),
                name="subscriptions_whevent_dup",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("dedupe_key",),
                condition=models.Q(dedupe_key__isnull=False),
                name="subscriptions_whevent_dedupe",
            ),
        ]

    def __str__(self) -> str:
        label = self.code or self.outcome
        return f"Webhook event #{self.pk} ({label})"


class WebhookRefusalCount(models.Model):
    """
    Requests from one address in one minute that were refused without a
    ``WebhookEvent`` each: the address had already been refused more than
    ``WEBHOOK_RATE_LIMIT_PER_IP`` times in the limit's window, so its further
    requests were answered 429 before any lookup, and only counted here. A flood
    of guessed secrets from one address grows this table by one row a minute.
    """

    # "" when the client's address could not be told (a garbled X-Forwarded-For).
    source_ip = models.CharField(_("source IP"), max_length=45, blank=True)
    minute = models.DateTimeField(_("minute"), help_text=_("The minute the requests came in."))
    count = models.PositiveIntegerField(_("requests"), default=0)
    last_at = models.DateTimeField(_("last request at"))

    class Meta:
        app_label = "subscriptions"
        ordering = ("-minute", "source_ip")
        verbose_name = _("refused webhook requests (per address and minute)")
        verbose_name_plural = _("refused webhook requests (per address and minute)")
        constraints = [
            models.UniqueConstraint(
                fields=("source_ip", "minute"), name="subscriptions_whrefusal_minute"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.count} refused from {self.source_ip or 'an unknown address'} at {self.minute}"
        )
