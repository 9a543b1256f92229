"""Managed bots on offer."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0004_payments"),
        migrations.swappable_dependency(settings.TORGOVO_PAIR_CONFIG_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ManagedBotOffer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='public name')),
                ('description', models.TextField(blank=True, verbose_name='public description')),
                ('minimum_investment', models.DecimalField(decimal_places=2, default=0, help_text="In the plan's currency.", max_digits=18, verbose_name='minimum investment')),
                ('is_active', models.BooleanField(default=True, help_text='Inactive offers take no new investors.', verbose_name='active')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('managed_bot', models.OneToOneField(help_text='The host bot configuration the platform runs for investors.', on_delete=django.db.models.deletion.PROTECT, related_name='torgovo_managed_offer', to=settings.TORGOVO_PAIR_CONFIG_MODEL, verbose_name='managed bot')),
                ('plan', models.ForeignKey(limit_choices_to={'plan_type': 'managed_bot'}, on_delete=django.db.models.deletion.PROTECT, related_name='managed_offers', to='subscriptions.subscriptionplan', verbose_name='plan')),
            ],
            options={
                'verbose_name': 'managed bot offer',
                'verbose_name_plural': 'managed bot offers',
                'ordering': ('name', 'id'),
                'constraints': [models.CheckConstraint(condition=models.Q(('minimum_investment__gte', 0)), name='subscriptions_offer_minimum_not_negative')],
            },
        ),
    ]
