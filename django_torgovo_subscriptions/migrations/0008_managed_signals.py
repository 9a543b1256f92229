"""Managed signals fanned out to investors, and operator signal webhooks."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('subscriptions', '0007_profit_share_charges'),
        migrations.swappable_dependency(settings.TORGOVO_PAIR_CONFIG_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='custombotwebhook',
            name='purpose',
            field=models.CharField(choices=[('custom_bot', 'Custom bot: one trade for its user'), ('managed_signal', 'Managed bot: a signal for every investor')], default='custom_bot', max_length=20, verbose_name='purpose'),
        ),
        migrations.AlterField(
            model_name='custombotwebhook',
            name='subscription',
            field=models.ForeignKey(blank=True, help_text='The custom-bot subscription; empty for a managed-signal webhook.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='webhooks', to='subscriptions.usersubscription', verbose_name='subscription'),
        ),
        migrations.CreateModel(
            name='ManagedSignal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('signal_id', models.CharField(help_text="The sender's id for this signal; the same id is never traded twice.", max_length=100, verbose_name='signal id')),
                ('side', models.CharField(max_length=4, verbose_name='side')),
                ('symbol', models.CharField(max_length=50, verbose_name='symbol')),
                ('fraction', models.DecimalField(decimal_places=6, help_text='Each investor trades allocation x fraction / price (0 < fraction <= 1).', max_digits=7, verbose_name='fraction of allocation')),
                ('price', models.DecimalField(decimal_places=12, help_text='The price quantities are sized at.', max_digits=30, verbose_name='reference price')),
                ('source', models.CharField(choices=[('function', 'Host strategy (fan_out)'), ('webhook', 'Operator webhook')], max_length=10, verbose_name='source')),
                ('chunks_queued', models.PositiveIntegerField(default=0, help_text='Celery tasks published for this signal.', verbose_name='chunks queued')),
                ('chunks_done', models.PositiveIntegerField(default=0, verbose_name='chunks done')),
                ('dispatched_at', models.DateTimeField(blank=True, help_text="Every chunk's task was published (Celery).", null=True, verbose_name='dispatched at')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('completed_at', models.DateTimeField(blank=True, help_text='Every investor has a trade record for this signal.', null=True, verbose_name='completed at')),
                ('managed_bot', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='torgovo_managed_signals', to=settings.TORGOVO_PAIR_CONFIG_MODEL, verbose_name='managed bot')),
                ('webhook_event', models.ForeignKey(blank=True, help_text='The operator webhook request that sent the signal, if any.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='managed_signals', to='subscriptions.webhookevent', verbose_name='webhook event')),
            ],
            options={
                'verbose_name': 'managed signal',
                'verbose_name_plural': 'managed signals',
                'ordering': ('-created_at', '-id'),
            },
        ),
        migrations.CreateModel(
            name='ManagedTrade',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('outcome', models.CharField(choices=[('pending', 'Pending'), ('executed', 'Executed'), ('failed', 'Failed'), ('skipped', 'Skipped')], max_length=10, verbose_name='outcome')),
                ('code', models.CharField(blank=True, help_text='Why the investor was skipped or the trade failed; empty when executed.', max_length=40, verbose_name='reason code')),
                ('error', models.TextField(blank=True, verbose_name='error')),
                ('allocation', models.DecimalField(decimal_places=2, default=0, help_text='The amount the trade was sized on.', max_digits=18, verbose_name='allocation')),
                ('quantity', models.DecimalField(decimal_places=12, default=0, max_digits=30, verbose_name='quantity asked')),
                ('order_id', models.CharField(blank=True, help_text='Primary key of the host Order the trade produced.', max_length=64, verbose_name='host order id')),
                ('claim_token', models.CharField(blank=True, editable=False, max_length=32, verbose_name='claim token')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                ('performance', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='managed_trades', to='subscriptions.managedbotperformance', verbose_name='investor')),
                ('signal', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='trades', to='subscriptions.managedsignal', verbose_name='signal')),
            ],
            options={
                'verbose_name': 'managed trade',
                'verbose_name_plural': 'managed trades',
                'ordering': ('signal', 'performance'),
            },
        ),
        migrations.AddConstraint(
            model_name='managedsignal',
            constraint=models.UniqueConstraint(fields=('managed_bot', 'signal_id'), name='subscriptions_one_signal_per_id'),
        ),
        migrations.AddConstraint(
            model_name='managedsignal',
            constraint=models.CheckConstraint(condition=models.Q(('fraction__gt', 0), ('fraction__lte', 1), ('price__gt', 0)), name='subscriptions_signal_size_valid'),
        ),
        migrations.AddConstraint(
            model_name='managedtrade',
            constraint=models.UniqueConstraint(fields=('signal', 'performance'), name='subscriptions_one_trade_per_investor'),
        ),
    ]
