"""Admin for managed bots: offers (with the operator signal webhook action) and investors'
performance (with recalculation and pause/unpause actions; the profit share paid is
read-only, moved by gateway events)."""

from __future__ import annotations

import json

from django.contrib import admin, messages

from django_torgovo_subscriptions.exceptions import NotAnOperator
from django_torgovo_subscriptions.models import ManagedBotOffer, ManagedBotPerformance
from django_torgovo_subscriptions.services.managed_bot import charges, signal_webhooks
from django_torgovo_subscriptions.services.managed_bot.profit import recalculate_all


@admin.register(ManagedBotPerformance)
class ManagedBotPerformanceAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "managed_bot",
        "initial_investment",
        "current_balance",
        "realized_pnl",
        "total_profit",
        "total_loss",
        "high_water_mark",
        "profit_share_due",
        "profit_share_paid",
        "settled_until",
        "last_calculated",
        "paused_at",
        "pause_reason",
        "closed_at",
    )
    list_filter = (
        ("closed_at", admin.EmptyFieldListFilter),
        ("paused_at", admin.EmptyFieldListFilter),
        "pause_reason",
    )
    search_fields = ("user__username", "user__email")
    list_select_related = ("user", "managed_bot")
    raw_id_fields = ("user", "subscription", "managed_bot")
    actions = ("recalculate_selected", "rebuild_selected", "pause_selected", "unpause_selected")
    # The figures are derived from the host's Orders by services.managed_bot.profit;
    # editing them by hand would only be overwritten (or double charge).
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "user",
                    "subscription",
                    "managed_bot",
                    "initial_investment",
                    "orders_since",
                    "closed_at",
                    "created_at",
                )
            },
        ),
        ("Trading", {"fields": ("paused_at", "pause_reason")}),
        (
            "Realized profit",
            {
                "fields": (
                    "current_balance",
                    "realized_pnl",
                    "total_profit",
                    "total_loss",
                    "fees_paid",
                )
            },
        ),
        (
            "Profit share",
            {
                "fields": (
                    "high_water_mark",
                    "profit_share_accrued",
                    "profit_share_due",
                    "profit_share_paid",
                    "settled_net_profit",
                    "settled_until",
                )
            },
        ),
        (
            "Recalculation state",
            {
                "classes": ("collapse",),
                "fields": (
                    "calculated_until",
                    "last_calculated",
                    "last_order_at",
                    "last_order_pk",
                    "open_lots",
                    "pnl_state",
                ),
            },
        ),
    )
    readonly_fields = (
        "created_at",
        "closed_at",
        "current_balance",
        "realized_pnl",
        "total_profit",
        "total_loss",
        "fees_paid",
        "high_water_mark",
        "profit_share_accrued",
        "profit_share_due",
        # Moved only by a verified gateway event (services.payments).
        "profit_share_paid",
        "settled_net_profit",
        "settled_until",
        # Set by the pause actions and the billing run.
        "paused_at",
        "pause_reason",
        "calculated_until",
        "last_calculated",
        "last_order_at",
        "last_order_pk",
        "open_lots",
        "pnl_state",
    )

    def _recalculate(self, request, queryset, *, full: bool) -> None:
        summary = recalculate_all(queryset, full=full, include_closed=True)
        self.message_user(
            request,
            f"Recalculated {summary.performances} performance(s), {summary.orders_read} "
            f"order(s) read; {len(summary.failed)} failed.",
            level=messages.ERROR if summary.failed else messages.SUCCESS,
        )

    @admin.action(description="Recalculate profit (new orders)")
    def recalculate_selected(self, request, queryset) -> None:
        self._recalculate(request, queryset, full=False)

    @admin.action(description="Rebuild profit from all orders")
    def rebuild_selected(self, request, queryset) -> None:
        self._recalculate(request, queryset, full=True)

    @admin.action(description="Pause trading for the selected investors")
    def pause_selected(self, request, queryset) -> None:
        rows = list(queryset.filter(paused_at__isnull=True))
        for performance in rows:
            charges.pause(performance)
        self.message_user(request, f"Paused {len(rows)} investor(s).", messages.SUCCESS)

    @admin.action(description="Unpause trading for the selected investors")
    def unpause_selected(self, request, queryset) -> None:
        rows = list(queryset.filter(paused_at__isnull=False))
        for performance in rows:
            charges.unpause(performance)
        self.message_user(
            request,
            f"Unpaused {len(rows)} investor(s); one whose profit share is still unpaid is "
            "paused again by the next billing run.",
            messages.SUCCESS,
        )


@admin.register(ManagedBotOffer)
class ManagedBotOfferAdmin(admin.ModelAdmin):
    list_display = ("name", "managed_bot", "plan", "minimum_investment", "is_active", "created_at")
    list_filter = ("is_active", "plan")
    search_fields = ("name", "description")
    list_select_related = ("managed_bot", "plan")
    raw_id_fields = ("managed_bot",)
    actions = ("generate_signal_webhook",)

    @admin.action(description="Generate an operator signal webhook (shown once)")
    def generate_signal_webhook(self, request, queryset) -> None:
        for offer in queryset.select_related("managed_bot"):
            try:
                issued = signal_webhooks.generate_signal_webhook(request.user, offer.managed_bot)
            except NotAnOperator as exc:
                self.message_user(request, f"{offer}: {exc.message}", level=messages.ERROR)
                continue
            message = issued.as_json(request)
            self.message_user(
                request,
                f"{offer}: signal webhook #{issued.webhook.pk}. URL: {message['webhook_url']} "
                f"Alert message: {json.dumps(message['tradingview_json'])} "
                "(the secret is not stored and will not be shown again).",
                level=messages.WARNING,
            )
