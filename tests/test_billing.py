"""
The billing run (``manage.py billing``): dummy renewals, past_due expiry after
the grace period, lapsed expiry with a hold for recurring gateways, pruning.
"""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from django_torgovo_subscriptions import signals
from django_torgovo_subscriptions.models import Payment, PaymentEvent, UserSubscription
from django_torgovo_subscriptions.payments import STRIPE_GATEWAY
from django_torgovo_subscriptions.payments.dummy import RENEWALS_DECLINED, SUCCEEDS, DummyGateway
from django_torgovo_subscriptions.periods import add_months
from django_torgovo_subscriptions.services import payments as billing
from tests.db_faults import inserts_fail
from tests.factories import make_plan, make_subscription
from tests.payments_support import pending, use_gateway

pytestmark = pytest.mark.django_db


def paid(user, card=SUCCEEDS, slug="basic"):
    subscription = pending(user, make_plan(slug=slug, monthly_price=Decimal("29.00")))
    session, _ = billing.create_checkout(subscription)
    DummyGateway().pay(session, card)
    subscription.refresh_from_db()
    assert subscription.status == "active"
    return subscription


class Signals:
    def __init__(self, *names):
        self.names, self.sent = names, []

    def __enter__(self):
        for name in self.names:
            getattr(signals, name).connect(
                self.receiver(name), weak=False, dispatch_uid=f"test-{name}"
            )
        return self

    def receiver(self, name):
        return lambda sender, **kwargs: self.sent.append((name, kwargs.get("subscription").pk))

    def __exit__(self, *exc):
        for name in self.names:
            getattr(signals, name).disconnect(dispatch_uid=f"test-{name}")


def test_a_dummy_renewal_is_charged_shortly_before_the_period_ends(user, dummy):
    subscription = paid(user)
    start, end = subscription.start_date, subscription.end_date

    early = billing.run_billing(now=end - timedelta(hours=2))
    assert early.renewals_charged == 0

    with Signals("payment_confirmed", "subscription_renewed") as sent:
        report = billing.run_billing(now=end - timedelta(minutes=30))
    assert report.renewals_charged == 1 and report.errors == []
    subscription.refresh_from_db()
    assert subscription.end_date == add_months(start, 2) and subscription.status == "active"
    assert sent.sent == [
        ("subscription_renewed", subscription.pk),
        ("payment_confirmed", subscription.pk),
    ]
    renewal = Payment.objects.get(billing_reason="subscription_cycle")
    assert (renewal.status, renewal.amount, renewal.period_start, renewal.period_end) == (
        "paid",
        Decimal("29.00"),
        end,
        add_months(start, 2),
    )
    assert PaymentEvent.objects.get(event_id__endswith="_2_paid").status == "processed"


def test_running_every_minute_charges_each_period_once(user, dummy):
    subscription = paid(user)
    end = subscription.end_date
    for minute in range(5):
        billing.run_billing(now=end - timedelta(minutes=30 - minute))
    subscription.refresh_from_db()
    assert Payment.objects.count() == 2
    assert subscription.end_date == add_months(subscription.start_date, 2)
    # The same run replayed (two overlapping crons) is a no-op too.
    UserSubscription.objects.filter(pk=subscription.pk).update(end_date=end)
    billing.run_billing(now=end - timedelta(minutes=10))
    assert Payment.objects.count() == 2 and PaymentEvent.objects.count() == 3


def test_a_declined_renewal_is_past_due_then_expired_after_the_grace(user, dummy, settings):
    subscription = paid(user, card=RENEWALS_DECLINED)
    end = subscription.end_date
    with Signals("payment_failed", "subscription_past_due") as sent:
        billing.run_billing(now=end - timedelta(minutes=30))
    subscription.refresh_from_db()
    assert subscription.status == "past_due" and not subscription.is_live()
    failed = Payment.objects.get(status="failed")
    assert (
        failed.failure_reason == "Your card was declined."
        and failed.billing_reason == "subscription_cycle"
    )
    assert sorted(sent.sent) == [
        ("payment_failed", subscription.pk),
        ("subscription_past_due", subscription.pk),
    ]

    billing.run_billing(now=end + timedelta(days=6, hours=23))
    subscription.refresh_from_db()
    assert subscription.status == "past_due" and Payment.objects.count() == 2  # no second charge

    with Signals("subscription_expired") as sent:
        report = billing.run_billing(now=end + timedelta(days=7))
    subscription.refresh_from_db()
    assert (report.past_due_expired, subscription.status, subscription.auto_renew) == (
        1,
        "expired",
        False,
    )
    assert sent.sent == [("subscription_expired", subscription.pk)]

    settings.TORGOVO_SUBSCRIPTIONS = {**settings.TORGOVO_SUBSCRIPTIONS, "PAST_DUE_GRACE_SECONDS": 0}
    assert billing.run_billing(now=end + timedelta(days=30)).past_due_expired == 0


def test_no_renewal_when_auto_renew_is_off_the_row_just_expires(api, user, dummy):
    subscription = paid(user)
    api.patch(f"/api/subscriptions/{subscription.pk}/", {"auto_renew": False}, format="json")
    end = subscription.end_date
    assert billing.run_billing(now=end - timedelta(minutes=30)).renewals_charged == 0
    assert billing.run_billing(now=end + timedelta(seconds=1)).expired == 1
    subscription.refresh_from_db()
    assert subscription.status == "expired" and Payment.objects.count() == 1


def test_a_cancelled_subscription_is_not_renewed(api, user, dummy):
    subscription = paid(user)
    api.delete(f"/api/subscriptions/{subscription.pk}/")
    billing.run_billing(now=subscription.end_date - timedelta(minutes=30))
    assert Payment.objects.count() == 1


def test_a_recurring_gateway_gets_time_to_report_the_renewal(user, other_user, settings):
    use_gateway(settings, STRIPE_GATEWAY)
    now = timezone.now()
    stripe_row = make_subscription(
        user, days_left=0, payment_method="stripe", gateway_subscription_id="sub_1"
    )
    UserSubscription.objects.filter(pk=stripe_row.pk).update(end_date=now - timedelta(hours=2))
    free_row = make_subscription(other_user, days_left=0)
    UserSubscription.objects.filter(pk=free_row.pk).update(end_date=now - timedelta(hours=2))

    assert billing.run_billing(now=now).expired == 1
    statuses = dict(UserSubscription.objects.values_list("pk", "status"))
    assert statuses == {stripe_row.pk: "active", free_row.pk: "expired"}
    assert billing.run_billing(now=now + timedelta(hours=23)).expired == 1
    assert UserSubscription.objects.get(pk=stripe_row.pk).status == "expired"


def test_a_renewal_reported_after_the_row_expired_revives_it_on_its_calendar(user, dummy):
    subscription = paid(user)
    start, end = subscription.start_date, subscription.end_date
    UserSubscription.objects.filter(pk=subscription.pk).update(status="expired", auto_renew=False)
    gateway = DummyGateway()
    customer = gateway.customer(user)
    token = subscription.gateway_subscription_id.removeprefix("sub_dummy_")
    invoice = gateway._invoice(subscription, customer.customer_id, token, 2, 0, paid=True)
    gateway.deliver(gateway._event("evt_late", "invoice.paid", invoice, 0))
    subscription.refresh_from_db()
    assert (subscription.status, subscription.start_date, subscription.end_date) == (
        "active",
        start,
        add_months(start, 2),
    )
    assert subscription.auto_renew is True
    assert Payment.objects.get(gateway_invoice_id=invoice["id"]).period_start == end


def test_old_rejected_deliveries_are_pruned(settings, dummy):
    old = PaymentEvent.objects.create(
        gateway="dummy", status="rejected", received_at=timezone.now() - timedelta(days=31)
    )
    recent = PaymentEvent.objects.create(gateway="dummy", status="rejected")
    kept = PaymentEvent.objects.create(
        gateway="dummy",
        event_id="evt_1",
        status="processed",
        received_at=timezone.now() - timedelta(days=400),
    )
    assert billing.run_billing().rejected_pruned == 1
    assert set(PaymentEvent.objects.values_list("pk", flat=True)) == {recent.pk, kept.pk}
    assert not PaymentEvent.objects.filter(pk=old.pk).exists()
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "REJECTED_PAYMENT_EVENT_RETENTION_SECONDS": None,
    }
    PaymentEvent.objects.filter(pk=recent.pk).update(
        received_at=timezone.now() - timedelta(days=999)
    )
    assert billing.run_billing().rejected_pruned == 0


def test_the_command_reports_and_fails_loudly_on_errors(user, dummy):
    subscription = paid(user)
    with time_machine.travel(subscription.end_date - timedelta(minutes=30), tick=False):
        out = StringIO()
        call_command("billing", stdout=out)
        assert out.getvalue().strip() == (
            "Renewals charged: 1; renewed without payment: 0; profit shares charged: 0 "
            "(none); investors paused: 0; past_due expired: 0; lapsed expired: 0; "
            "rejected deliveries pruned: 0."
        )
        call_command("billing", stdout=(again := StringIO()))
        assert "Renewals charged: 0" in again.getvalue()

    subscription.refresh_from_db()
    # The renewal's payment cannot be stored, so the webhook answers 500 to the gateway.
    with (
        time_machine.travel(subscription.end_date - timedelta(minutes=30), tick=False),
        inserts_fail(Payment, "database hiccup"),
    ):
        err = StringIO()
        with pytest.raises(SystemExit) as exit_info:
            call_command("billing", stdout=StringIO(), stderr=err)
    assert exit_info.value.code == 1
    assert f"subscription {subscription.pk}: " in err.getvalue()
    assert "was not accepted" in err.getvalue() and "could not be processed" in err.getvalue()


def test_without_a_gateway_billing_only_expires(user, settings):
    use_gateway(settings, None)
    make_subscription(user, days_left=-1)
    report = billing.run_billing()
    assert (report.expired, report.renewals_charged) == (1, 0)
