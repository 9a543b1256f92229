"""Payments and gateway events (issue 6)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0003_webhook_events")]

    operations = []
