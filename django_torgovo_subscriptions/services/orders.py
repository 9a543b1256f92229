"""
The host Orders the package placed for a user: custom-bot alerts and managed-bot trades.

The package does not mark the host's Orders (a host may have no ``source``
field, or use it for its own bots too). It knows its own by the records that
name them: ``WebhookEvent.order_id``, the Order an alert of the user's
custom-bot webhook placed, and ``ManagedTrade.order_id``, an investor's Order
for a managed signal; each holds the Order's primary key as text
(``str(order.pk)``).

``user_orders(user)`` is those Orders of the user, newest first. The records
are matched in SQL against the Order's key rendered as text, so integer and
UUID keys both work and an id that names no Order is simply not matched.
``of_source``, ``of_status``, ``of_pair_config`` and ``placed_between`` narrow
it; ``attach_links`` adds, for one page, each Order's source (``custom_bot`` or
``managed_bot``, the plan types) and the id of the event a custom-bot Order
came from (one query).

``WebhookEvent.order_id`` has no index, on purpose: the receiver writes it with
an UPDATE that changes no indexed column, which PostgreSQL keeps on the same
page (HOT) on the hot path. Matching costs one pass over the user's own events,
read through the index on their webhooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connections, models, router
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Replace

from django_torgovo_subscriptions.exceptions import OrderTimeUnknown
from django_torgovo_subscriptions.host import get_host_adapter, get_order_model
from django_torgovo_subscriptions.models import (
    ManagedTrade,
    PlanType,
    WebhookEvent,
    WebhookPurpose,
)

# Prefixed: annotations must not collide with a field of the host's Order.
KEY = "torgovo_key"
SOURCE = "torgovo_source"
WEBHOOK_EVENT = "torgovo_webhook_event_id"


def alert_events(user: Any) -> QuerySet:
    """Events of the user's custom-bot webhooks (the operator's signal webhooks place
    no Order of their own)."""
    return WebhookEvent.objects.filter(
        webhook__user=user, webhook__purpose=WebhookPurpose.CUSTOM_BOT
    )


def managed_trades(user: Any) -> QuerySet:
    return ManagedTrade.objects.filter(performance__user=user)


def stored_keys(model: type[models.Model], records: QuerySet) -> QuerySet:
    """The records' ``order_id`` values as the database renders ``model``'s key as text."""
    key: Any = F("order_id")
    pk = model._meta.pk
    connection = connections[router.db_for_read(model)]
    if isinstance(pk, models.UUIDField) and not connection.features.has_native_uuid_field:
        # Such a database stores a UUID as 32 hex digits; str(uuid) has hyphens.
        key = Replace("order_id", Value("-"), Value(""))
    return records.exclude(order_id="").annotate(**{KEY: key}).values(KEY)


def user_orders(user: Any) -> QuerySet:
    """The user's host Orders placed through the package, newest first. Their source and
    webhook event are read for one page at a time (``attach_links``)."""
    model = get_order_model()
    adapter = get_host_adapter()
    created = adapter.order_field("created_at")
    ordering = (f"-{created}", "-pk") if created else ("-pk",)
    return (
        model._default_manager.filter(**{adapter.order_field("user"): user})
        .annotate(**{KEY: Cast("pk", output_field=CharField())})
        .filter(named_by(alert_events(user), model) | named_by(managed_trades(user), model))
        .order_by(*ordering)
    )


def named_by(records: QuerySet, model: type[models.Model]) -> Q:
    """Orders whose key one of ``records`` holds in ``order_id``."""
    return Q(**{f"{KEY}__in": stored_keys(model, records)})


def of_source(orders: QuerySet, user: Any, source: str) -> QuerySet:
    """``user_orders(user)`` placed by an alert (custom_bot) or a managed bot (managed_bot)."""
    alerts = named_by(alert_events(user), orders.model)
    if source == PlanType.CUSTOM_BOT:
        return orders.filter(alerts)
    return orders.filter(named_by(managed_trades(user), orders.model)).exclude(alerts)


def of_status(orders: QuerySet, status: str) -> QuerySet:
    """Orders in a logical status (``executed``, ``failed``)."""
    adapter = get_host_adapter()
    return orders.filter(**{adapter.order_field("status"): adapter.order_value("status", status)})


def of_pair_config(orders: QuerySet, pair_config_id: Any) -> QuerySet:
    """Orders on one PairConfig; none when the host's Orders name no PairConfig."""
    field = get_host_adapter().order_field("pair_config")
    if not field:
        return orders.none()
    return orders.filter(**{field: pair_config_id})


def placed_between(
    orders: QuerySet, after: datetime | None = None, before: datetime | None = None
) -> QuerySet:
    """Orders placed at or after ``after`` and before ``before``."""
    created = get_host_adapter().order_field("created_at")
    if not created:
        raise OrderTimeUnknown()
    if after is not None:
        orders = orders.filter(**{f"{created}__gte": after})
    if before is not None:
        orders = orders.filter(**{f"{created}__lt": before})
    return orders


def attach_links(orders: Sequence[Any], user: Any) -> Sequence[Any]:
    """Set on each Order of a page of ``user_orders(user)`` its source and the id of the
    user's webhook event that placed it (None for a managed bot's trade): one query.
    An Order no alert of the user names is a managed bot's: the page holds no other."""
    keys = [str(order.pk) for order in orders]
    events: dict[str, int] = {}
    if keys:
        rows = alert_events(user).filter(order_id__in=keys).order_by("pk")
        for order_id, pk in rows.values_list("order_id", "pk"):
            events.setdefault(order_id, pk)
    for order in orders:
        event_id = events.get(str(order.pk))
        setattr(order, WEBHOOK_EVENT, event_id)
        setattr(order, SOURCE, PlanType.MANAGED_BOT if event_id is None else PlanType.CUSTOM_BOT)
    return orders


def order_source(order: Any) -> str:
    """``custom_bot`` or ``managed_bot``, as ``attach_links()`` set it."""
    return getattr(order, SOURCE)


def webhook_event_id(order: Any) -> int | None:
    """What ``attach_links()`` set."""
    return getattr(order, WEBHOOK_EVENT)


def order_value(order: Any, name: str) -> Any:
    """An Order's value for a logical field (``ORDER_FIELDS``); None when the host has none."""
    field = get_host_adapter().order_field(name)
    return getattr(order, field) if field else None


def logical_value(order: Any, name: str) -> Any:
    """A choice field's logical value (``buy``, ``executed``), or the host's own value
    where ``ORDER_VALUES`` does not map it (a host's ``PENDING``)."""
    stored = order_value(order, name)
    logical = get_host_adapter().logical_order_value(name, stored)
    return stored if logical is None else logical


def pair_config_id(order: Any) -> Any:
    """The Order's PairConfig id, read without loading the PairConfig."""
    field = get_host_adapter().order_field("pair_config")
    if not field:
        return None
    return getattr(order, type(order)._meta.get_field(field).attname)
