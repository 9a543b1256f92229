"""Webhook event log and webhook fields."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0002_managed_profit_state")]

    operations = [
        migrations.AddField(
            model_name='custombotwebhook',
            name='deactivated_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='deactivated at'),
        ),
        migrations.CreateModel(
            name='WebhookEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('received_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='received at')),
                ('source_ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='source IP')),
                ('outcome', models.CharField(choices=[('rejected', 'Rejected'), ('duplicate', 'Duplicate'), ('queued', 'Queued'), ('processing', 'Processing'), ('executed', 'Executed'), ('failed', 'Failed')], max_length=12, verbose_name='outcome')),
                ('code', models.CharField(blank=True, help_text='The stable code of a rejection or a failed trade; empty when executed.', max_length=40, verbose_name='code')),
                ('error', models.TextField(blank=True, verbose_name='error')),
                ('status_code', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='HTTP status')),
                ('headers', models.JSONField(blank=True, default=dict, verbose_name='headers (redacted)')),
                ('body', models.TextField(blank=True, verbose_name='body (redacted)')),
                ('signal', models.JSONField(blank=True, help_text='The validated alert handed to the trading manager (decimals as strings).', null=True, verbose_name='trade signal')),
                ('dedupe_key', models.CharField(blank=True, editable=False, help_text='Held by an accepted alert so that the same alert, or the same order id, is executed once within the dedupe window.', max_length=64, null=True, verbose_name='dedupe key')),
                ('order_id', models.CharField(blank=True, help_text='Primary key of the host Order the alert produced.', max_length=64, verbose_name='host order id')),
                ('execution', models.JSONField(blank=True, default=dict, help_text='What the trading manager reported (status, fill, exchange id, error).', verbose_name='execution result')),
                ('duration_ms', models.PositiveIntegerField(blank=True, help_text='Time from receiving the request to the end of processing.', null=True, verbose_name='duration (ms)')),
                ('processed_at', models.DateTimeField(blank=True, null=True, verbose_name='processed at')),
                ('duplicate_of', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='duplicates', to='subscriptions.webhookevent', verbose_name='duplicate of')),
                ('webhook', models.ForeignKey(blank=True, db_index=False, help_text="Empty when the URL's secret matched no webhook.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='events', to='subscriptions.custombotwebhook', verbose_name='webhook')),
            ],
            options={
                'verbose_name': 'webhook event',
                'verbose_name_plural': 'webhook events',
                'ordering': ('-received_at', '-id'),
                'indexes': [
                    models.Index(fields=['webhook', '-received_at'], name='subscriptions_whevent_hook'),
                    models.Index(condition=models.Q(('duplicate_of__isnull', False)), fields=['duplicate_of'], name='subscriptions_whevent_dup'),
                ],
                'constraints': [
                    models.UniqueConstraint(condition=models.Q(('dedupe_key__isnull', False)), fields=('dedupe_key',), name='subscriptions_whevent_dedupe'),
                ],
            },
        ),
    ]
