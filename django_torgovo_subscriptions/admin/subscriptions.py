"""Admin for plans and user subscriptions."""

from __future__ import annotations

from django.contrib import admin

from django_torgovo_subscriptions.models import SubscriptionPlan, UserSubscription


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
