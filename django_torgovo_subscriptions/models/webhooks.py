"""Custom-bot webhooks: the secret URL a TradingView alert is sent to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from django_torgovo_subscriptions.conf import pair_config_model_reference


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
        related_name="webhooks",
        verbose_name=_("subscription"),
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

    class Meta:
        app_label = "subscriptions"
        ordering = ("-created_at", "-id")
        verbose_name = _("custom bot webhook")
        verbose_name_plural = _("custom bot webhooks")

    def __str__(self) -> str:
        return f"Webhook #{self.pk} for {self.user}"
