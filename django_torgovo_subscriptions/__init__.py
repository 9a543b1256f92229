"""
Paid subscriptions (custom TradingView bots and managed bots) for Torgovo hosts.

Where code lives: **layer first, product second.** The layers, from the bottom:

* ``conf`` (settings), ``host`` (the host adapter: the only code that names a
  host field), ``exceptions``, ``signals``;
* ``models/``: the tables;
* ``trading/`` and ``payments/``: adapters to the outside (exchanges through a
  TradingManager; payment gateways). They never import ``services``;
* ``services/``: the rules, no HTTP;
* ``api/``, ``admin/``, ``management/commands/``, ``tasks``: the entry points,
  thin over ``services``; plus ``checks/`` (system checks) and ``receivers``
  (the package's own signal receivers).

A layer imports only from layers below it. Inside a layer, each product has a
module (or a subpackage) of the same name: ``custom_bot``, ``managed_bot`` and
``payments`` (``services/custom_bot/``, ``api/custom_bot.py``,
``admin/custom_bot.py``, ``models/custom_bot.py``, ``checks/custom_bot.py``);
what the products share (plans, subscriptions) is ``subscriptions``. The one
exception is ``tasks.py``: Celery's autodiscovery looks for that name.
docs/ARCHITECTURE.md walks through it.
"""

__version__ = "0.1.0"
