"""
Admin for custom-bot webhooks, their event log, and the secret rotation action.

Nothing here shows a secret: events are stored redacted, and a secret
rotated from the admin is not displayed (a message stored in the session
would keep it); the owner fetches a new URL through the API.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_torgovo_subscriptions.models import CustomBotWebhook, WebhookEvent, WebhookRefusalCount
from django_torgovo_subscriptions.services.custom_bot.issuing import rotate_secret


@admin.action(
    description=_("Rotate the secret (the old URL stops working)"), permissions=["change"]
)
def rotate_secrets(modeladmin, request, queryset) -> None:
    rotated = skipped = 0
    for webhook in queryset:
        if not webhook.is_active:
            skipped += 1
            continue
        rotate_secret(webhook)  # the new secret is deliberately discarded
        rotated += 1
    modeladmin.message_user(
        request,
        ngettext(
            "Rotated %(count)d webhook secret. Its old URL no longer works; the owner gets a "
            "new one with POST custom-bot/webhooks/<id>/rotate/.",
            "Rotated %(count)d webhook secrets. Their old URLs no longer work; each owner gets "
            "a new one with POST custom-bot/webhooks/<id>/rotate/.",
            rotated,
        )
        % {"count": rotated},
        messages.SUCCESS,
    )
    if skipped:
        modeladmin.message_user(
            request,
            ngettext(
                "Skipped %(count)d inactive webhook.",
                "Skipped %(count)d inactive webhooks.",
                skipped,
            )
            % {"count": skipped},
            messages.WARNING,
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """The log of every request to the receive endpoint: read-only."""

    list_display = (
        "id",
        "received_at",
        "webhook",
        "outcome",
        "code",
        "status_code",
        "source_ip",
        "order_id",
        "duration_ms",
    )
    list_filter = ("outcome", "code", "status_code", "received_at")
    search_fields = ("=source_ip", "=order_id", "code", "webhook__user__username", "=webhook__id")
    list_select_related = ("webhook__user",)
    date_hierarchy = "received_at"
    raw_id_fields = ("webhook", "duplicate_of")
    fields = (
        "received_at",
        "webhook",
        "source_ip",
        "outcome",
        "code",
        "error",
        "status_code",
        "duration_ms",
        "processed_at",
        "signal",
        "execution",
        "order_id",
        "duplicate_of",
        "dedupe_key",
        "headers",
        "body",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookRefusalCount)
class WebhookRefusalCountAdmin(admin.ModelAdmin):
    """Floods: refused requests of an address over its limit, counted per minute. Read-only."""

    list_display = ("minute", "source_ip", "count", "last_at")
    list_filter = ("minute",)
    search_fields = ("=source_ip",)
    date_hierarchy = "minute"
    fields = list_display
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CustomBotWebhook)
class CustomBotWebhookAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "pair_config",
        "purpose",
        "is_active",
        "created_at",
        "last_used_at",
    )
    list_filter = ("is_active", "purpose")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user", "pair_config")
    raw_id_fields = ("user", "subscription", "pair_config")
    # The hash is no secret, but there is nothing useful to do with it here.
    exclude = ("secret_hash",)
    readonly_fields = ("created_at", "last_used_at", "rotated_at", "deactivated_at")
    actions = [rotate_secrets]

    def has_add_permission(self, request):
        # A webhook is born with a secret shown once to its owner: only the
        # API's generate endpoint can do that.
        return False

    def get_readonly_fields(self, request, obj=None):
        # Who owns a webhook and what it trades is fixed at generation; staff
        # may only (de)activate it or rotate its secret.
        return (
            *self.readonly_fields,
            "user",
            "subscription",
            "pair_config",
            "purpose",
            "tradingview_config",
        )
