"""Admin for managed signals and the trade each one made for each investor (read-only)."""

from __future__ import annotations

from django.contrib import admin

from django_torgovo_subscriptions.models import ManagedSignal, ManagedTrade


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened: never added or changed by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ManagedTradeInline(admin.TabularInline):
    model = ManagedTrade
    fields = ("performance", "outcome", "code", "allocation", "quantity", "order_id", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ManagedSignal)
class ManagedSignalAdmin(ReadOnlyAdmin):
    list_display = (
        "signal_id",
        "managed_bot",
        "side",
        "fraction",
        "price",
        "source",
        "created_at",
        "completed_at",
    )
    list_filter = ("source", "side")
    search_fields = ("signal_id",)
    list_select_related = ("managed_bot",)
    raw_id_fields = ("managed_bot", "webhook_event")
    inlines = (ManagedTradeInline,)


@admin.register(ManagedTrade)
class ManagedTradeAdmin(ReadOnlyAdmin):
    list_display = ("signal", "performance", "outcome", "code", "quantity", "order_id")
    list_filter = ("outcome", "code")
    search_fields = ("signal__signal_id", "order_id")
    list_select_related = ("signal", "performance")
    raw_id_fields = ("signal", "performance")
