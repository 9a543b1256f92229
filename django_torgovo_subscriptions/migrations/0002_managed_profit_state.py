"""Incremental profit-share state for managed bots."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name='managedbotperformance',
            name='calculated_until',
            field=models.DateTimeField(blank=True, help_text='Every order up to this moment has been read.', null=True, verbose_name='calculated until'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='closed_at',
            field=models.DateTimeField(blank=True, help_text='Set when the subscriber left and the final share was settled.', null=True, verbose_name='closed at'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='fees_paid',
            field=models.DecimalField(decimal_places=2, default=0, help_text='Exchange fees of the counted orders.', max_digits=18, verbose_name='trading fees paid'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='last_order_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='last order time'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='last_order_pk',
            field=models.CharField(blank=True, max_length=64, verbose_name='last order id'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='open_lots',
            field=models.JSONField(blank=True, default=list, help_text='Oldest first: [["quantity", "cost incl. buy fee"], ...] as decimal strings.', verbose_name='open FIFO lots'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='orders_since',
            field=models.DateTimeField(blank=True, help_text='Only orders at or after this moment count. Empty: all of them. Rebuild the profit from all orders after changing it.', null=True, verbose_name='orders since'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='pnl_state',
            field=models.JSONField(blank=True, default=dict, help_text='Exact running totals, monthly realized P&L and pending orders.', verbose_name='ledger state'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='profit_share_accrued',
            field=models.DecimalField(decimal_places=8, default=0, help_text='Exact sum of rate x (new high-water mark - old) over all settlements; the amounts charged are this, rounded to 0.01, less what was charged before.', max_digits=24, verbose_name='profit share accrued'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='profit_share_due',
            field=models.DecimalField(decimal_places=2, default=0, help_text='Charged by a settlement and not yet recorded as paid.', max_digits=18, verbose_name='profit share due'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='realized_pnl',
            field=models.DecimalField(decimal_places=2, default=0, help_text='Cumulative realized profit after trading fees, rounded to 0.01.', max_digits=18, verbose_name='realized net profit'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='settled_net_profit',
            field=models.DecimalField(decimal_places=2, default=0, help_text='Cumulative realized net profit at the last settlement, rounded to 0.01.', max_digits=18, verbose_name='net profit at last settlement'),
        ),
        migrations.AddField(
            model_name='managedbotperformance',
            name='settled_until',
            field=models.DateTimeField(blank=True, help_text='Profit realized before this moment has been settled.', null=True, verbose_name='settled until'),
        ),
        migrations.AlterField(
            model_name='managedbotperformance',
            name='current_balance',
            field=models.DecimalField(decimal_places=2, default=0, help_text='Initial investment plus realized net profit (open positions at cost).', max_digits=18, verbose_name='current balance'),
        ),
        migrations.AlterField(
            model_name='managedbotperformance',
            name='total_loss',
            field=models.DecimalField(decimal_places=2, default=0, help_text='Sum of the losing sells, after fees, as a positive amount.', max_digits=18, verbose_name='total realized loss'),
        ),
        migrations.AlterField(
            model_name='managedbotperformance',
            name='total_profit',
            field=models.DecimalField(decimal_places=2, default=0, help_text='Sum of the winning sells, after fees.', max_digits=18, verbose_name='total realized profit'),
        ),
        migrations.AddConstraint(
            model_name='managedbotperformance',
            constraint=models.CheckConstraint(condition=models.Q(('profit_share_accrued__gte', 0), ('profit_share_due__gte', 0), ('profit_share_paid__gte', 0)), name='subscriptions_performance_share_not_negative'),
        ),
    ]
