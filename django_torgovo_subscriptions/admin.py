"""Admin for plans, subscriptions, webhooks and managed-bot performance."""

from __future__ import annotations

from django.contrib import admin

from django_torgovo_subscriptions.models import (
    CustomBotWebhook,
    ManagedBotOffer,
    ManagedBotPerformance,
    SubscriptionPlan,
    UserSubscription,
)
from django_torgovo_subscriptions.webhook_admin import rotate_secrets  # registers WebhookEvent


@admin.register(SubscriptionPlan)
class SubscriptionPlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "plan_type",
        "monthly_price",
        "currency",
        "profit_share_percentage",
        "max_trading_pairs",
        "is_active",
    )
    list_filter = ("plan_type", "is_active", "currency")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")


@admin.register(UserSubscription)
class UserSubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "plan",
        "status",
        "start_date",
        "end_date",
        "is_live",
        "auto_renew",
        "payment_method",
    )
    list_filter = ("status", "plan_type", "auto_renew", "payment_method", "plan")
    search_fields = ("user__username", "user__email", "plan__name", "gateway_subscription_id")
    list_select_related = ("user", "plan")
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = ("plan_type", "created_at", "updated_at")


@admin.register(CustomBotWebhook)
class CustomBotWebhookAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "pair_config", "is_active", "created_at", "last_used_at")
    list_filter = ("is_active",)
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
        return (*self.readonly_fields, "user", "subscription", "pair_config", "tradingview_config")


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
        "closed_at",
    )
    list_filter = (("closed_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user", "managed_bot")
    raw_id_fields = ("user", "subscription", "managed_bot")
    actions = ("recalculate_selected", "rebuild_selected")
    # The figures are derived from the host's Orders by services.profit;
    # editing them by hand would only be overwritten (or double charge).
    fieldsets = (
        (None, {"fields": ("user", "subscription", "managed_bot", "initial_investment",
                           "orders_since", "closed_at", "created_at")}),
        ("Realized profit", {"fields": ("current_balance", "realized_pnl", "total_profit",
                                        "total_loss", "fees_paid")}),
        ("Profit share", {"fields": ("high_water_mark", "profit_share_accrued",
                                     "profit_share_due", "profit_share_paid",
                                     "settled_net_profit", "settled_until")}),
        ("Recalculation state", {"classes": ("collapse",),
                                 "fields": ("calculated_until", "last_calculated",
                                            "last_order_at", "last_order_pk", "open_lots",
                                            "pnl_state")}),
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
        "settled_net_profit",
        "settled_until",
        "calculated_until",
        "last_calculated",
        "last_order_at",
        "last_order_pk",
        "open_lots",
        "pnl_state",
    )

    def _recalculate(self, request, queryset, *, full: bool) -> None:
        from django.contrib import messages

        from django_torgovo_subscriptions.services.profit import recalculate_all

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


@admin.register(ManagedBotOffer)
class ManagedBotOfferAdmin(admin.ModelAdmin):
    list_display = ("name", "managed_bot", "plan", "minimum_investment", "is_active", "created_at")
    list_filter = ("is_active", "plan")
    search_fields = ("name", "description")
    list_select_related = ("managed_bot", "plan")
    raw_id_fields = ("managed_bot",)


# Payments, payment events (with the "reprocess" action), customers, checkouts.
from django_torgovo_subscriptions.payments import admin as payments_admin  # noqa: E402, F401
