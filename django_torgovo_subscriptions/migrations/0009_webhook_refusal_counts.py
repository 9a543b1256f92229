"""Refused webhook requests counted per address and minute (the flood cut-off)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('subscriptions', '0008_managed_signals'),
    ]

    operations = [
        migrations.CreateModel(
            name='WebhookRefusalCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source_ip', models.CharField(blank=True, max_length=45, verbose_name='source IP')),
                ('minute', models.DateTimeField(help_text='The minute the requests came in.', verbose_name='minute')),
                ('count', models.PositiveIntegerField(default=0, verbose_name='requests')),
                ('last_at', models.DateTimeField(verbose_name='last request at')),
            ],
            options={
                'verbose_name': 'refused webhook requests (per address and minute)',
                'verbose_name_plural': 'refused webhook requests (per address and minute)',
                'ordering': ('-minute', 'source_ip'),
                'constraints': [models.UniqueConstraint(fields=('source_ip', 'minute'), name='subscriptions_whrefusal_minute')],
            },
        ),
    ]
