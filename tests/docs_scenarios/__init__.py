"""
Named database states for the documentation's curl examples.

A curl block in docs/*.md may be preceded by ``<!-- setup: NAME -->``; the docs
test then resets the live example server's database, runs the scenario NAME
and substitutes the variables it returns (``$TOKEN``, ``$PLAN_ID``...) into the
block before running it. Without a setup line the ``default`` scenario runs.

A scenario is a function ``(ctx: Context) -> dict[str, str]`` registered with
``@scenario("name")``. Every scenario starts from the default state (seed_demo
data: plans, the demo user and token), which ``ctx`` exposes. Modules in this
package register their scenarios on import; add a module per area.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SCENARIOS: dict[str, Callable[[Context], dict[str, Any]]] = {}


@dataclass
class Context:
    user: Any
    token: str
    plans: dict[str, Any]  # by slug
    variables: dict[str, Any] = field(default_factory=dict)
    # pytest-django's ``settings``: a scenario may change settings for its example
    # (the live server runs in the same process); they are restored afterwards.
    settings: Any = None


def scenario(name: str) -> Callable:
    def register(func: Callable[[Context], dict[str, Any]]) -> Callable:
        if name in SCENARIOS:
            raise ValueError(f"Scenario {name!r} is defined twice.")
        SCENARIOS[name] = func
        return func

    return register


def seed_demo(settings: Any = None, variables: dict[str, Any] | None = None) -> Context:
    """Run the seed_demo command and give its state: the demo user, token and plans."""
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from django_torgovo_subscriptions.models import SubscriptionPlan

    call_command("seed_demo", stdout=StringIO())
    user = get_user_model().objects.get(username="demo")
    return Context(
        user=user,
        token=Token.objects.get(user=user).key,
        plans={plan.slug: plan for plan in SubscriptionPlan.objects.all()},
        variables=variables if variables is not None else {},
        settings=settings,
    )


def load_all() -> dict[str, Callable[[Context], dict[str, Any]]]:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return SCENARIOS
