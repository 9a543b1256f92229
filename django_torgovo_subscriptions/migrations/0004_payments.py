"""Payments and gateway events."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0003_webhook_events"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CheckoutSession',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('gateway', models.CharField(max_length=30, verbose_name='gateway')),
                ('session_id', models.CharField(max_length=255, verbose_name='session id')),
                ('url', models.CharField(help_text='Where the user pays.', max_length=2000, verbose_name='URL')),
                ('success_url', models.CharField(blank=True, max_length=2000, verbose_name='success URL')),
                ('cancel_url', models.CharField(blank=True, max_length=2000, verbose_name='cancel URL')),
                ('status', models.CharField(choices=[('open', 'Open'), ('complete', 'Complete'), ('expired', 'Expired')], default='open', max_length=20, verbose_name='status')),
                ('expires_at', models.DateTimeField(blank=True, null=True, verbose_name='expires at')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='checkout_sessions', to='subscriptions.usersubscription', verbose_name='subscription')),
            ],
            options={
                'verbose_name': 'checkout session',
                'verbose_name_plural': 'checkout sessions',
                'ordering': ('-created_at', '-id'),
                'constraints': [models.UniqueConstraint(fields=('gateway', 'session_id'), name='subscriptions_checkout_unique_id')],
            },
        ),
        migrations.CreateModel(
            name='GatewayCustomer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('gateway', models.CharField(max_length=30, verbose_name='gateway')),
                ('customer_id', models.CharField(max_length=255, verbose_name='customer id')),
                ('data', models.JSONField(blank=True, default=dict, help_text='Gateway-specific details (the dummy gateway keeps the test card here).', verbose_name='data')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='torgovo_gateway_customers', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'gateway customer',
                'verbose_name_plural': 'gateway customers',
                'constraints': [models.UniqueConstraint(fields=('user', 'gateway'), name='subscriptions_customer_one_per_gateway'), models.UniqueConstraint(fields=('gateway', 'customer_id'), name='subscriptions_customer_unique_id')],
            },
        ),
        migrations.CreateModel(
            name='Payment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('gateway', models.CharField(max_length=30, verbose_name='gateway')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('paid', 'Paid'), ('failed', 'Failed')], default='pending', max_length=20, verbose_name='status')),
                ('amount', models.DecimalField(decimal_places=2, default=0, max_digits=18, verbose_name='amount')),
                ('currency', models.CharField(help_text='ISO 4217, upper case.', max_length=3, verbose_name='currency')),
                ('billing_reason', models.CharField(blank=True, help_text='Why the gateway billed: subscription_create (first payment) or subscription_cycle.', max_length=40, verbose_name='billing reason')),
                ('gateway_invoice_id', models.CharField(max_length=255, verbose_name='gateway invoice id')),
                ('gateway_subscription_id', models.CharField(blank=True, db_index=True, max_length=255, verbose_name='gateway subscription id')),
                ('gateway_customer_id', models.CharField(blank=True, max_length=255, verbose_name='gateway customer id')),
                ('checkout_session_id', models.CharField(blank=True, max_length=255, verbose_name='checkout session id')),
                ('period_start', models.DateTimeField(blank=True, help_text='Start of the subscription period this payment paid for.', null=True, verbose_name='period start')),
                ('period_end', models.DateTimeField(blank=True, null=True, verbose_name='period end')),
                ('attempt_count', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                ('failure_reason', models.TextField(blank=True, help_text='Why the last charge attempt failed, as the gateway reported it.', verbose_name='failure reason')),
                ('note', models.TextField(blank=True, help_text='Set when a paid payment could not be applied to its subscription and needs a person (refund or manual credit).', verbose_name='note')),
                ('paid_at', models.DateTimeField(blank=True, null=True, verbose_name='paid at')),
                ('failed_at', models.DateTimeField(blank=True, null=True, verbose_name='failed at')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('subscription', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='payments', to='subscriptions.usersubscription', verbose_name='subscription')),
                ('user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='torgovo_payments', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'payment',
                'verbose_name_plural': 'payments',
                'ordering': ('-created_at', '-id'),
                'indexes': [models.Index(fields=['user', '-created_at'], name='subscriptions_payment_user')],
                'constraints': [models.UniqueConstraint(fields=('gateway', 'gateway_invoice_id'), name='subscriptions_payment_one_per_invoice')],
            },
        ),
        migrations.CreateModel(
            name='PaymentEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('gateway', models.CharField(max_length=30, verbose_name='gateway')),
                ('event_id', models.CharField(blank=True, help_text="The gateway's event id; empty on rejected deliveries, whose id is unverified.", max_length=255, verbose_name='event id')),
                ('event_type', models.CharField(blank=True, db_index=True, max_length=100, verbose_name='event type')),
                ('status', models.CharField(choices=[('received', 'Received'), ('processed', 'Processed'), ('ignored', 'Ignored'), ('failed', 'Failed'), ('rejected', 'Rejected')], db_index=True, default='received', max_length=20, verbose_name='status')),
                ('body', models.TextField(blank=True, help_text='The request body as received.', verbose_name='raw body')),
                ('payload', models.JSONField(blank=True, help_text='The verified event, parsed.', null=True, verbose_name='payload')),
                ('headers', models.JSONField(blank=True, default=dict, verbose_name='headers')),
                ('remote_ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='remote IP')),
                ('error_code', models.CharField(blank=True, max_length=100, verbose_name='error code')),
                ('error', models.TextField(blank=True, help_text='Why the delivery was rejected, why processing failed (with the traceback), or why an event was ignored.', verbose_name='error')),
                ('attempts', models.PositiveIntegerField(default=0, help_text='How often processing was tried.', verbose_name='processing attempts')),
                ('received_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='received at')),
                ('processed_at', models.DateTimeField(blank=True, null=True, verbose_name='processed at')),
                ('subscription', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='payment_events', to='subscriptions.usersubscription', verbose_name='subscription')),
            ],
            options={
                'verbose_name': 'payment event',
                'verbose_name_plural': 'payment events',
                'ordering': ('-received_at', '-id'),
                'constraints': [models.UniqueConstraint(condition=models.Q(('event_id', ''), _negated=True), fields=('gateway', 'event_id'), name='subscriptions_payment_event_unique_id')],
            },
        ),
    ]
