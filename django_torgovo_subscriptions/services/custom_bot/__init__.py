"""
Custom bots: a secret webhook URL per PairConfig, and the TradingView alerts it receives.

Modules: ``webhooks`` (issuing secrets, receiving alerts, background execution),
``alerts`` (parsing and validating an alert body), ``ratelimit`` (the receiver's
limits), ``client_ip`` (the caller's address behind trusted proxies),
``redaction`` (what of a request may be stored).
"""
