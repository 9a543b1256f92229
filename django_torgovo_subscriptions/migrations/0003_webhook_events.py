"""Webhook event log and webhook fields (issue 8)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0002_managed_profit_state")]

    operations = []
