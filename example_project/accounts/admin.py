from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class TorgovoUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Exchange", {"fields": ("API", "SECRET", "Demo")}))
    list_display = ("username", "email", "Demo", "is_staff")
