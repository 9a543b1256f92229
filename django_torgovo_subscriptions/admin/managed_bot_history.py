"""Admin for managed bots over time: the settled periods and the guarantee shortfall (read only)."""

from __future__ import annotations

from django.contrib import admin

from django_torgovo_subscriptions.models import ManagedBotSettledPeriod


@admin.register(ManagedBotSettledPeriod)
class ManagedBotSettledPeriodAdmin(admin.ModelAdmin):
    """What each settlement settled. Written by the settlement only: never edited here."""

    list_display = (
        "performance",
        "month",
        "final",
        "net_profit",
        "period_net_profit",
        "high_water_mark",
        "amount",
        "guaranteed_return",
        "guarantee_shortfall",
        "guarantee_shortfall_new",
        "period_end",
    )
    list_filter = ("final", "month")
    search_fields = ("performance__user__username", "performance__user__email")
    list_select_related = ("performance__user", "performance__managed_bot")
    date_hierarchy = "period_end"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
