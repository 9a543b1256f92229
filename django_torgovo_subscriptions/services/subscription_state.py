"""
The status of a ``UserSubscription``: which changes are allowed, and the one
place that makes them.

Every status change is an ``Event``. ``TRANSITIONS`` says, per event, the
statuses it may start from, the status it leads to and the signal it sends
(``(new)`` marks the events that create a row). docs/API_DOCUMENTATION.md
shows the table and its diagram as ``render_docs()`` draws them; a test keeps
the two equal.

* ``create(user, plan, event)`` inserts a new row in the event's status.
* ``transition(subscription, event)`` changes an existing row with one
  conditional UPDATE::

      UPDATE ... SET status = <to>, <the event's other fields>, updated_at = ...
       WHERE id = <pk> AND status = <as read> AND end_date = <as read>

  The status and the period are the state: of several writers racing on the
  same row only one matches, even when the status stays the same (a renewal
  moves end_date). The others get ``SubscriptionChanged`` (409
  ``status_changed``), write nothing and send nothing. The winner's instance
  is updated in place, then the event's signal is sent, once, inside the
  caller's transaction.
* An event the table does not allow from the row's status raises
  ``InvalidTransition`` (409 ``invalid_status``) before anything is written;
  ``check()`` asks the same question without writing, for callers that must
  do something else first (tell the gateway).

Callers that hold the row's ``select_for_update`` lock keep it; the
conditional UPDATE is the second guard. No other module assigns
``UserSubscription.status`` or sends the ``subscription_*`` signals
(tests/test_subscription_state.py checks the package's source).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone

from django_torgovo_subscriptions import signals
from django_torgovo_subscriptions.exceptions import InvalidTransition, SubscriptionChanged
from django_torgovo_subscriptions.models import (
    SubscriptionPlan,
    SubscriptionStatus,
    UserSubscription,
)
from django_torgovo_subscriptions.periods import add_months, next_period_end

# The source of the events that create a row.
NEW = "(new)"


class Event(StrEnum):
    SUBSCRIBED = "subscribed"
    SUBSCRIBED_FREE = "subscribed_free"
    PAID = "paid"
    RENEWED = "renewed"
    REVIVED = "revived"
    PAYMENT_FAILED = "payment_failed"
    PROFIT_SHARE_PAID = "profit_share_paid"
    CANCELLED = "cancelled"
    RESUMED = "resumed"
    PERIOD_ENDED = "period_ended"
    GRACE_ENDED = "grace_ended"
    GATEWAY_ENDED = "gateway_ended"


@dataclass(frozen=True)
class Edge:
    sources: tuple[str, ...]
    target: SubscriptionStatus
    # The name of the signal in django_torgovo_subscriptions.signals, or None.
    signal: str | None
    # What happens, for the docs.
    meaning: str
    # InvalidTransition's detail when the row's status is not a source.
    refusal: str = "The {event} event does not apply to a {status} subscription."


_S = SubscriptionStatus
TRANSITIONS: dict[Event, Edge] = {
    Event.SUBSCRIBED: Edge(
        (NEW,),
        _S.PENDING_PAYMENT,
        None,
        "subscribed on a server with a payment gateway: waits for the first verified payment",
    ),
    Event.SUBSCRIBED_FREE: Edge(
        (NEW,),
        _S.ACTIVE,
        "subscription_activated",
        "subscribed with no gateway, or to a plan with no monthly price: one calendar month "
        "from now",
    ),
    Event.PAID: Edge(
        (_S.PENDING_PAYMENT,),
        _S.ACTIVE,
        "subscription_activated",
        "the first verified payment: one calendar month from the payment",
        refusal="Only a pending subscription can be activated, not {status}.",
    ),
    Event.RENEWED: Edge(
        (_S.TRIAL, _S.ACTIVE, _S.PAST_DUE, _S.CANCELLED),
        _S.ACTIVE,
        "subscription_renewed",
        "a paid renewal, or the billing run's renewal of a managed plan with no monthly "
        "price: `end_date` one calendar month further",
    ),
    Event.REVIVED: Edge(
        (_S.TRIAL, _S.ACTIVE, _S.PAST_DUE, _S.CANCELLED, _S.EXPIRED),
        _S.ACTIVE,
        "subscription_activated",
        "a payment for a row with no period running (expired, or cancelled before it was "
        "paid): a new period (a renewal continues the old calendar), renewal back on",
    ),
    Event.PAYMENT_FAILED: Edge(
        (_S.TRIAL, _S.ACTIVE),
        _S.PAST_DUE,
        "subscription_past_due",
        "a charge failed (or the gateway says past due): no access until it is paid",
    ),
    Event.PROFIT_SHARE_PAID: Edge(
        (_S.PAST_DUE,),
        _S.ACTIVE,
        None,
        "the last unpaid charge of a managed subscription (a profit share) is paid: access "
        "again; a plan with no monthly price has its periods renewed up to now",
        refusal="Only a past_due subscription is brought back by a paid profit share, not "
        "{status}.",
    ),
    Event.CANCELLED: Edge(
        (_S.PENDING_PAYMENT, _S.TRIAL, _S.ACTIVE, _S.PAST_DUE),
        _S.CANCELLED,
        "subscription_cancelled",
        "renewal stops; access runs on to `end_date`, or ends at once (`end_date` null) "
        "when no paid time is left or the plan is a managed one with no monthly price; a "
        "managed investor is withdrawn at once either way",
        refusal="The subscription is already {status}.",
    ),
    Event.RESUMED: Edge(
        (_S.CANCELLED,),
        _S.ACTIVE,
        None,
        "renewal turned back on before `end_date`",
    ),
    Event.PERIOD_ENDED: Edge(
        (_S.TRIAL, _S.ACTIVE, _S.CANCELLED),
        _S.EXPIRED,
        "subscription_expired",
        "`end_date` passed without a renewal (the expiry sweep)",
    ),
    Event.GRACE_ENDED: Edge(
        (_S.PAST_DUE,),
        _S.EXPIRED,
        "subscription_expired",
        "still unpaid `PAST_DUE_GRACE_SECONDS` after `end_date` (the billing run)",
    ),
    Event.GATEWAY_ENDED: Edge(
        (_S.TRIAL, _S.ACTIVE, _S.PAST_DUE),
        _S.EXPIRED,
        "subscription_expired",
        "the gateway ended its subscription and no paid time is left",
    ),
}


def allowed(status: str, event: Event) -> bool:
    """Whether ``event`` may move a row in ``status`` (``NEW`` for none yet)."""
    return status in TRANSITIONS[event].sources


def check(subscription: UserSubscription, event: Event) -> None:
    """Raise ``InvalidTransition`` unless ``event`` applies to the row's status."""
    edge = TRANSITIONS[event]
    if subscription.status not in edge.sources:
        raise InvalidTransition(edge.refusal.format(event=event.value, status=subscription.status))


def create(
    user: Any, plan: SubscriptionPlan, event: Event, *, now: datetime | None = None
) -> UserSubscription:
    """
    Insert the user's new subscription to ``plan`` by a ``(new)`` event. An
    ``IntegrityError`` (the user holds an open row of the type already)
    propagates, with nothing written or sent.
    """
    edge = TRANSITIONS[event]
    if NEW not in edge.sources:
        raise InvalidTransition(f"The {event.value} event does not create a subscription.")
    subscription = UserSubscription(user=user, plan=plan, status=edge.target)
    for name, value in _changes(event, subscription, now or timezone.now()).items():
        setattr(subscription, name, value)
    with transaction.atomic():
        subscription.save()
    _send(edge, subscription)
    return subscription


def transition(
    subscription: UserSubscription,
    event: Event,
    *,
    now: datetime | None = None,
    payment: Any = None,
    **fields: Any,
) -> UserSubscription:
    """
    Apply ``event`` to ``subscription`` (see the module docstring).

    ``now`` dates the change (cancelled_at, a new period); ``payment`` goes
    with ``subscription_past_due``; ``fields`` are further columns the caller
    sets with the change (a revived row's period, the sweep's updated_at).
    """
    check(subscription, event)
    if "status" in fields:
        raise TypeError("transition() sets the status from the event.")
    edge = TRANSITIONS[event]
    values = {
        "updated_at": timezone.now(),
        **_changes(event, subscription, now or timezone.now()),
        **fields,
        "status": edge.target,
    }
    rows = UserSubscription.objects.filter(
        pk=subscription.pk, status=subscription.status, end_date=subscription.end_date
    )
    if not rows.update(**values):
        raise SubscriptionChanged(
            f"The subscription is no longer as read ({subscription.status}, ending "
            f"{subscription.end_date}): another change came first, so {event.value} was not "
            "applied. Reload it and try again."
        )
    for name, value in values.items():
        setattr(subscription, name, value)
    _send(edge, subscription, payment)
    return subscription


def _changes(event: Event, subscription: UserSubscription, now: datetime) -> dict[str, Any]:
    """The columns besides status that ``event`` sets."""
    if event in (Event.SUBSCRIBED_FREE, Event.PAID):
        return {"start_date": now, "end_date": add_months(now, 1)}
    if event == Event.RENEWED:
        return {"end_date": next_period_end(subscription.start_date, subscription.end_date)}
    if event == Event.PROFIT_SHARE_PAID and subscription.renews_without_payment:
        end = subscription.end_date
        while end is not None and end <= now:
            end = next_period_end(subscription.start_date, end)
        return {"end_date": end}
    if event in (Event.REVIVED, Event.RESUMED):
        return {"cancelled_at": None, "auto_renew": True}
    if event == Event.CANCELLED:
        changes: dict[str, Any] = {"cancelled_at": now, "auto_renew": False}
        if not subscription.is_live(now) or subscription.renews_without_payment:
            # Never paid, no paid time left, or nothing paid for at all (a
            # profit-share-only managed plan): the row stops holding the
            # user's slot at once.
            changes["end_date"] = None
        return changes
    if event in (Event.PERIOD_ENDED, Event.GRACE_ENDED, Event.GATEWAY_ENDED):
        return {"auto_renew": False}
    return {}


def _send(edge: Edge, subscription: UserSubscription, payment: Any = None) -> None:
    if edge.signal is None:
        return
    extra = {"payment": payment} if edge.signal == "subscription_past_due" else {}
    getattr(signals, edge.signal).send(sender=UserSubscription, subscription=subscription, **extra)


# --- documentation ---------------------------------------------------------------------


def render_table() -> str:
    """TRANSITIONS as the Markdown table of docs/API_DOCUMENTATION.md."""
    lines = ["| event | from | to | signal | what happens |", "|---|---|---|---|---|"]
    for event, edge in TRANSITIONS.items():
        sources = ", ".join(s if s == NEW else f"`{s}`" for s in edge.sources)
        signal = f"`{edge.signal}`" if edge.signal else ""
        lines.append(
            f"| `{event.value}` | {sources} | `{edge.target}` | {signal} | {edge.meaning} |"
        )
    return "\n".join(lines)


def render_diagram() -> str:
    """TRANSITIONS as a Mermaid state diagram, events joined per pair of states."""
    pairs: dict[tuple[str, str], list[str]] = {}
    for event, edge in TRANSITIONS.items():
        for source in edge.sources:
            pairs.setdefault((source, edge.target.value), []).append(event.value)
    lines = ["```mermaid", "stateDiagram-v2"]
    for (source, target), events in pairs.items():
        start = "[*]" if source == NEW else source
        lines.append(f"    {start} --> {target} : {', '.join(events)}")
    lines.append("```")
    return "\n".join(lines)


DOCS_START = "<!-- subscription-transitions: start -->"
DOCS_END = "<!-- subscription-transitions: end -->"


def render_docs() -> str:
    """The block between DOCS_START and DOCS_END in docs/API_DOCUMENTATION.md."""
    return f"{DOCS_START}\n{render_diagram()}\n\n{render_table()}\n{DOCS_END}"
