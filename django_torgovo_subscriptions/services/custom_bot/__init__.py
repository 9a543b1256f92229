"""
Custom bots: a secret webhook URL per PairConfig, and the TradingView alerts it receives.

Modules:

- ``issuing``: generating, rotating and deactivating a webhook; its URL and
  the alert JSON to paste into TradingView (``generate_webhook``,
  ``rotate_secret``, ``deactivate``, ``IssuedSecret``);
- ``receiver``: the receive endpoint's checks, from the URL's secret to
  duplicates, and the one ``WebhookEvent`` each request leaves (``receive``,
  ``reject_request``, ``Receipt``);
- ``event_runner``: executing an accepted alert inline or on a Celery worker
  (``execute_event``, ``enqueue``, ``run_queued_event``);
- ``pairs``: the PairConfigs a custom bot may trade, each with its active
  webhook, and the plan's pair quota (``tradable_pairs``, ``pair_quota``);
- ``alerts``: parsing and validating an alert body;
- ``ratelimit``: the receiver's limits per webhook and per client IP;
- ``client_ip``: the caller's address behind trusted proxies, and the IP allowlist;
- ``redaction``: what of a request may be stored.

Import each name from the module that defines it. This package imports none of
them itself, so ``alerts``, ``client_ip`` and the other model-free modules stay
importable before the app registry is ready.
"""
