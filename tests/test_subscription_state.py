"""
The subscription state machine (services/subscription_state.py): its table,
every (status, event) pair applied to a real row, the race on one row, the
docs drawn from the table, and source checks that keep it the only writer of
``UserSubscription.status`` and the only sender of the ``subscription_*``
signals.
"""

from __future__ import annotations

import ast
import itertools
import threading
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction

import django_torgovo_subscriptions
from django_torgovo_subscriptions import signals
from django_torgovo_subscriptions.exceptions import InvalidTransition, SubscriptionChanged
from django_torgovo_subscriptions.models import SubscriptionStatus, UserSubscription
from django_torgovo_subscriptions.services import subscription_state as state
from django_torgovo_subscriptions.services.subscription_state import NEW, TRANSITIONS, Event
from tests.concurrency import run_concurrently
from tests.factories import make_plan, make_subscription

PACKAGE = Path(django_torgovo_subscriptions.__file__).resolve().parent
ROOT = PACKAGE.parent
STATE_MODULE = PACKAGE / "services" / "subscription_state.py"
SUBSCRIPTION_SIGNALS = (
    "subscription_activated",
    "subscription_renewed",
    "subscription_cancelled",
    "subscription_expired",
    "subscription_past_due",
)
P, T, A, D, C, X = (
    "pending_payment",
    "trial",
    "active",
    "past_due",
    "cancelled",
    "expired",
)

# The table, written out once more: changing TRANSITIONS means changing this.
EXPECTED = {
    (NEW, "subscribed", P),
    (NEW, "subscribed_free", A),
    (P, "paid", A),
    *((s, "renewed", A) for s in (T, A, D, C)),
    *((s, "revived", A) for s in (T, A, D, C, X)),
    *((s, "payment_failed", D) for s in (T, A)),
    (D, "profit_share_paid", A),
    *((s, "cancelled", C) for s in (P, T, A, D)),
    (C, "resumed", A),
    *((s, "period_ended", X) for s in (T, A, C)),
    (D, "grace_ended", X),
    *((s, "gateway_ended", X) for s in (T, A, D)),
}


class SignalLog:
    """Records every subscription_* signal sent while connected."""

    def __init__(self):
        self.sent = []
        self.lock = threading.Lock()

    def receiver(self, name):
        def record(sender, subscription, **kwargs):
            with self.lock:
                extra = sorted(set(kwargs) - {"signal"})
                self.sent.append((name, subscription.pk, subscription.status, extra))

        return record

    def __enter__(self):
        for name in SUBSCRIPTION_SIGNALS:
            getattr(signals, name).connect(
                self.receiver(name), weak=False, dispatch_uid=f"state-test-{name}"
            )
        return self

    def __exit__(self, *exc):
        for name in SUBSCRIPTION_SIGNALS:
            getattr(signals, name).disconnect(dispatch_uid=f"state-test-{name}")


def test_the_table_is_the_expected_one():
    actual = {
        (source, event.value, edge.target.value)
        for event, edge in TRANSITIONS.items()
        for source in edge.sources
    }
    assert actual == EXPECTED
    assert set(TRANSITIONS) == set(Event)
    for edge in TRANSITIONS.values():
        assert edge.signal is None or edge.signal in SUBSCRIPTION_SIGNALS


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status, event", list(itertools.product(SubscriptionStatus.values, list(Event)))
)
def test_every_status_and_event(user, status, event):
    subscription = make_subscription(user, status=status)
    before = UserSubscription.objects.filter(pk=subscription.pk).values().get()
    edge = TRANSITIONS[event]
    with SignalLog() as log:
        if (status, event.value, edge.target.value) in EXPECTED:
            returned = state.transition(subscription, event)
            assert returned is subscription and subscription.status == edge.target
            stored = UserSubscription.objects.get(pk=subscription.pk)
            assert stored.status == edge.target
            for field in ("start_date", "end_date", "cancelled_at", "auto_renew", "updated_at"):
                assert getattr(stored, field) == getattr(subscription, field), field
            expected_signals = (
                [
                    (
                        edge.signal,
                        subscription.pk,
                        edge.target.value,
                        ["payment"] if edge.signal == "subscription_past_due" else [],
                    )
                ]
                if edge.signal
                else []
            )
            assert log.sent == expected_signals
        else:
            with pytest.raises(InvalidTransition) as refused:
                state.transition(subscription, event)
            assert refused.value.code == "invalid_status"
            assert not isinstance(refused.value, SubscriptionChanged)
            assert subscription.status == status
            assert UserSubscription.objects.filter(pk=subscription.pk).values().get() == before
            assert log.sent == []


@pytest.mark.django_db
@pytest.mark.parametrize("event", list(Event))
def test_only_the_new_events_create_a_row(user, event):
    plan = make_plan()
    edge = TRANSITIONS[event]
    with SignalLog() as log:
        if NEW in edge.sources:
            subscription = state.create(user, plan, event)
            assert UserSubscription.objects.get(pk=subscription.pk).status == edge.target
            assert [name for name, *_ in log.sent] == ([edge.signal] if edge.signal else [])
        else:
            with pytest.raises(InvalidTransition):
                state.create(user, plan, event)
            assert not UserSubscription.objects.exists() and log.sent == []


@pytest.mark.django_db
def test_a_second_open_row_is_refused_by_the_database_and_nothing_is_sent(user):
    plan = make_plan()
    state.create(user, plan, Event.SUBSCRIBED)
    with SignalLog() as log, pytest.raises(IntegrityError):
        state.create(user, plan, Event.SUBSCRIBED_FREE)
    assert log.sent == [] and UserSubscription.objects.count() == 1


@pytest.mark.django_db
def test_a_stale_instance_loses_and_changes_nothing(user):
    first = make_subscription(user)
    second = UserSubscription.objects.get(pk=first.pk)
    with SignalLog() as log:
        state.transition(first, Event.CANCELLED)
        with pytest.raises(SubscriptionChanged) as lost:
            state.transition(second, Event.PAYMENT_FAILED)
    assert (lost.value.code, lost.value.status_code) == ("status_changed", 409)
    assert second.status == "active"  # the loser's instance is left as it was read
    assert UserSubscription.objects.get(pk=first.pk).status == "cancelled"
    assert [name for name, *_ in log.sent] == ["subscription_cancelled"]


@pytest.mark.django_db
def test_a_moved_period_loses_too_though_the_status_is_the_same(user):
    subscription = make_subscription(user, days_left=-1)
    renewing = UserSubscription.objects.get(pk=subscription.pk)
    state.transition(renewing, Event.RENEWED)
    with SignalLog() as log, pytest.raises(SubscriptionChanged):
        state.transition(subscription, Event.PERIOD_ENDED)  # read before the renewal
    stored = UserSubscription.objects.get(pk=subscription.pk)
    assert (stored.status, stored.end_date) == ("active", renewing.end_date)
    assert log.sent == []


@pytest.mark.django_db
def test_the_status_is_not_a_field_callers_set(user):
    subscription = make_subscription(user)
    with pytest.raises(TypeError):
        state.transition(subscription, Event.RENEWED, status="expired")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_of_concurrent_transitions_of_one_row_exactly_one_wins(user):
    racers = 8
    events = [Event.CANCELLED, Event.PAYMENT_FAILED, Event.RENEWED, Event.PERIOD_ENDED] * 2
    subscription = make_subscription(user)
    # Every racer reads the row before any writes, so all pass the table and
    # meet at the conditional UPDATE.
    copies = [UserSubscription.objects.get(pk=subscription.pk) for _ in range(racers)]

    def race(index):
        with transaction.atomic():
            return state.transition(copies[index], events[index]).status

    with SignalLog() as log:
        results = run_concurrently(racers, race, return_exceptions=True)
    winners = [(i, r) for i, r in enumerate(results) if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, SubscriptionChanged) for r in losers), losers
    [(index, status)] = winners
    assert UserSubscription.objects.get(pk=subscription.pk).status == status
    edge = TRANSITIONS[events[index]]
    assert [name for name, *_ in log.sent] == [edge.signal]


# --- the docs are drawn from the table ----------------------------------------------


@pytest.mark.parametrize("name", ["API_DOCUMENTATION.md", "ARCHITECTURE.md"])
def test_the_docs_show_the_table_and_its_diagram(name):
    doc = (ROOT / "docs" / name).read_text()
    start, end = doc.index(state.DOCS_START), doc.index(state.DOCS_END) + len(state.DOCS_END)
    assert doc[start:end] == state.render_docs(), (
        f"docs/{name}'s status diagram is stale: "
        "run python scripts/subscription_transitions.py --write"
    )


def test_no_other_hand_drawn_status_diagram():
    from django_torgovo_subscriptions.services import subscriptions

    # The lifecycle's docstring points at the table instead of drawing its own.
    assert "-->" not in subscriptions.__doc__ and "subscription_state" in subscriptions.__doc__


# --- source checks ----------------------------------------------------------------------


def _chain(node: ast.AST) -> list[str]:
    """The names along an expression's receiver chain: a.b(x).c -> [c, b, a]."""
    names = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            if isinstance(node, ast.Name):
                names.append(node.id)
            return names


def _names_a_subscription(node: ast.AST) -> bool:
    """subscription, self.subscription, session.subscription, UserSubscription..."""
    return any("subscription" in name.lower() for name in _chain(node))


def _is_subscription_queryset(node: ast.AST) -> bool:
    """UserSubscription.objects..., user.torgovo_subscriptions..., plan.subscriptions..."""
    return bool({"UserSubscription", "torgovo_subscriptions", "subscriptions"} & set(_chain(node)))


def _mentions_subscription_status(node: ast.AST | None) -> bool:
    return node is not None and any(
        isinstance(n, ast.Name) and n.id == "SubscriptionStatus" for n in ast.walk(node)
    )


def _is_status(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == "status"


def status_writes(source: str) -> list[str]:
    """Where ``source`` writes a UserSubscription's status: ``line: what``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat = [t for target in targets for t in getattr(target, "elts", [target])]
            for target in flat:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and (
                        _names_a_subscription(target.value)
                        or _mentions_subscription_status(node.value)
                    )
                ):
                    found.append(f"{line}: assigns .status")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        keywords = {k.arg: k.value for k in node.keywords}
        method = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        defaults = keywords.get("defaults")
        sets_status = "status" in keywords or (
            isinstance(defaults, ast.Dict) and any(_is_status(k) for k in defaults.keys)
        )
        if method == "UserSubscription" and "status" in keywords:
            found.append(f"{line}: UserSubscription(status=...)")
        elif method in ("update", "create", "get_or_create", "update_or_create") and sets_status:
            status_value = keywords.get("status", defaults)
            if _is_subscription_queryset(func) or _mentions_subscription_status(status_value):
                found.append(f"{line}: .{method}(status=...)")
        elif method == "bulk_update" and _is_subscription_queryset(func):
            if any(_is_status(n) for n in ast.walk(node)):
                found.append(f"{line}: .bulk_update(..., ['status'])")
        elif method == "save" and _names_a_subscription(func):
            fields = keywords.get("update_fields")
            if fields is not None and any(_is_status(n) for n in ast.walk(fields)):
                found.append(f"{line}: .save(update_fields=[..., 'status'])")
        elif (
            method == "setattr"
            and len(node.args) == 3
            and _is_status(node.args[1])
            and (_names_a_subscription(node.args[0]) or _mentions_subscription_status(node.args[2]))
        ):
            found.append(f"{line}: setattr(..., 'status', ...)")
    return found


def subscription_signal_sends(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("send", "send_robust"):
            continue
        chain = _chain(node.func.value)
        if set(chain) & set(SUBSCRIPTION_SIGNALS) or "getattr" in chain:
            found.append(f"{node.lineno}: sends {'.'.join(reversed(chain))}")
    return found


def package_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.relative_to(PACKAGE).parts:
            yield path


@pytest.mark.parametrize(
    "snippet",
    [
        "subscription.status = SubscriptionStatus.ACTIVE",
        "subscription.status = 'expired'",
        "self.subscription.status = x",
        "row.status = SubscriptionStatus.EXPIRED",
        "subscription.status, subscription.auto_renew = 'expired', False",
        "UserSubscription.objects.filter(pk=1).update(status='expired')",
        "user.torgovo_subscriptions.update(status='expired')",
        "rows.update(status=SubscriptionStatus.CANCELLED)",
        "UserSubscription.objects.create(user=u, plan=p, status='active')",
        "UserSubscription.objects.get_or_create(user=u, defaults={'status': 'active'})",
        "UserSubscription(user=u, plan=p, status=SubscriptionStatus.ACTIVE)",
        "subscription.save(update_fields=['status', 'updated_at'])",
        "setattr(subscription, 'status', 'expired')",
        "UserSubscription.objects.bulk_update(rows, ['status'])",
    ],
)
def test_the_status_check_sees_each_way_of_writing_it(snippet):
    assert status_writes(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "payment.status = PaymentStatus.FAILED",
        "locked.status = status",
        "event.outcome = Outcome.PROCESSING",
        "Payment.objects.filter(subscription=subscription).update(status=PaymentStatus.PAID)",
        "subscription.payments.update(status='failed')",
        "PaymentEvent.objects.create(gateway=g, status=PaymentEventStatus.REJECTED)",
        "CheckoutSession.objects.filter(gateway=g).update(status=CheckoutStatus.COMPLETE)",
        "Payment.objects.get_or_create(gateway=g, defaults={'status': PaymentStatus.PAID})",
        "UserSubscription.objects.filter(status=SubscriptionStatus.PAST_DUE)",
        "subscription.save(update_fields=['auto_renew', 'updated_at'])",
        "if subscription.status == SubscriptionStatus.ACTIVE: pass",
    ],
)
def test_the_status_check_leaves_other_statuses_alone(snippet):
    assert status_writes(snippet) == [], snippet


def test_the_signal_check_sees_sends():
    assert subscription_signal_sends("signals.subscription_expired.send(sender=S)")
    assert subscription_signal_sends("subscription_cancelled.send_robust(sender=S)")
    assert subscription_signal_sends("getattr(signals, name).send(sender=S)")
    assert subscription_signal_sends("signals.payment_failed.send(sender=P)") == []


def test_only_the_state_module_writes_the_status_or_sends_subscription_signals():
    offenders = {}
    for path in package_modules():
        if path == STATE_MODULE:
            continue
        source = path.read_text()
        found = status_writes(source) + subscription_signal_sends(source)
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}, (
        "Change a subscription's status with services.subscription_state.transition() "
        f"(it sends the signal): {offenders}"
    )
    assert status_writes(STATE_MODULE.read_text()), "the checker no longer sees the state module"
