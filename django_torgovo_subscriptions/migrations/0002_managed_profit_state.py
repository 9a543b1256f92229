"""Incremental profit-share state for managed bots (issue 5)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0001_initial")]

    operations = []
