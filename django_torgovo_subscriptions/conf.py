"""
Settings for django-torgovo-subscriptions, read through one object.

A host configures the package with two top-level settings that migrations must
name, and one dict for everything else::

    TORGOVO_PAIR_CONFIG_MODEL = "trading.PairConfig"
    TORGOVO_ORDER_MODEL = "trading.Order"
    TORGOVO_SUBSCRIPTIONS = {
        "TRADING_MANAGER_CLASS": "trading.bot_manager.TradingManager",
        "CREDENTIALS": {"API_KEY": "API", "API_SECRET": "SECRET", "DEMO": "Demo"},
    }

Every key of ``TORGOVO_SUBSCRIPTIONS`` has a default in ``DEFAULTS``. Code reads
values as attributes of ``subscriptions_settings``; values are resolved on first
access, cached, and the cache is cleared whenever a test changes the setting.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

SETTINGS_NAME = "TORGOVO_SUBSCRIPTIONS"
PAIR_CONFIG_MODEL_SETTING = "TORGOVO_PAIR_CONFIG_MODEL"
ORDER_MODEL_SETTING = "TORGOVO_ORDER_MODEL"

PAPER_TRADING_MANAGER = "django_torgovo_subscriptions.trading.paper.PaperTradingManager"

DEFAULTS: dict[str, Any] = {
    # The class that executes trades. Either a subclass of
    # trading.base.BaseTradingManager or the host's own TradingManager class,
    # which is then wrapped by trading.host_manager.HostTradingManagerAdapter.
    "TRADING_MANAGER_CLASS": PAPER_TRADING_MANAGER,
    # Keyword argument under which a host TradingManager's start_bot() receives
    # the trade signal (as a dict). Ignored for BaseTradingManager subclasses.
    "TRADING_MANAGER_SIGNAL_ARGUMENT": "signal",
    # CcxtTradingManager (trading.ccxt). Extra ccxt constructor config per
    # exchange id, deep-merged over {"enableRateLimit": True, "timeout": 10000},
    # e.g. {"binance": {"options": {"fetchMarkets": {"types": ["spot"]}}}}.
    "CCXT_EXCHANGE_CONFIG": {},
    # Seconds a process keeps an exchange's loaded markets; None = forever.
    "CCXT_MARKETS_TTL": 3600,
    # Seconds to wait before each lookup of an order whose create_order timed
    # out (one lookup per entry). The order is never re-sent.
    "CCXT_ORDER_LOOKUP_DELAYS": (0.5, 2.0),
    # The class the package asks about the host (credentials, tradable
    # PairConfigs, field names and values, pairs in use, the signal keyword):
    # host.DefaultHostAdapter answers from the settings below; a subclass
    # overrides the methods whose answer differs.
    "HOST_ADAPTER_CLASS": "django_torgovo_subscriptions.host.DefaultHostAdapter",
    # Where the user's exchange credentials live: attribute paths from the user
    # ("api_key", "trading_profile.api_key").
    "CREDENTIALS": {"API_KEY": "api_key", "API_SECRET": "api_secret", "DEMO": "demo"},
    # Dotted path to a callable(user) -> host.ExchangeCredentials; when set it
    # replaces CREDENTIALS.
    "CREDENTIALS_GETTER": None,
    # Logical order field -> the host Order model's field name. None means the
    # host model has no such field. user, side, quantity, price and status are
    # required.
    "ORDER_FIELDS": {
        "user": "user",
        "pair_config": "pair_config",
        "symbol": "symbol",
        "side": "side",
        "quantity": "quantity",
        "price": "price",
        "status": "status",
        "external_id": None,
        "client_order_id": None,
        "fee": None,
        "source": None,
        "error": None,
        "created_at": None,
        # The executed quantity when the host keeps it apart from the ordered
        # quantity (partial fills); None: "quantity" of an executed order is
        # what was filled. Read by the managed-bot profit calculation.
        "filled_quantity": None,
    },
    # Logical value -> the host's stored value, for fields with host choices.
    "ORDER_VALUES": {
        "side": {"buy": "buy", "sell": "sell"},
        "status": {"executed": "executed", "failed": "failed"},
        "source": {"webhook": "webhook", "managed": "managed"},
    },
    # Managed-bot profit (services.managed_bot.profit). A recalculation reads only orders
    # older than PROFIT_ORDER_DELAY seconds, so an order whose transaction
    # commits a moment after its created_at is not skipped by the cursor.
    "PROFIT_ORDER_DELAY": 5,
    # Orders passed by the cursor while neither executed nor failed are
    # re-checked on later runs (a late fill triggers a rebuild) for this many
    # days after their created_at; later fills need `recalculate_profits --full`.
    "PROFIT_PENDING_ORDER_DAYS": 7,
    # Rows fetched per database round trip when streaming orders.
    "PROFIT_CHUNK_SIZE": 2000,
    # Logical PairConfig field -> the host's field name. "owner" None means
    # PairConfigs are platform-wide: any subscriber may trade any active one.
    # "name" and "minimum_investment" are read by sync_managed_offers for new
    # offers (None: str(pair_config), and its --minimum).
    "PAIR_CONFIG_FIELDS": {
        "owner": "user",
        "symbol": "symbol",
        "exchange": "exchange",
        "is_active": None,
        "is_managed": None,
        "name": None,
        "minimum_investment": None,
    },
    # Currency of plans created without one (ISO 4217, upper case).
    "DEFAULT_CURRENCY": "USD",
    # Dotted path of the payment gateway class: the shorthand for a
    # PAYMENT_GATEWAY_CLASSES of one entry (set one of the two, not both).
    # None: no payments, and a new subscription is active at once (free
    # plans). Shipped: django_torgovo_subscriptions.payments.stripe.StripeGateway,
    # django_torgovo_subscriptions.payments.btcpay.BtcPayGateway (crypto) and
    # django_torgovo_subscriptions.payments.dummy.DummyGateway (demo, tests).
    "PAYMENT_GATEWAY_CLASS": None,
    # Dotted paths of the gateways users choose among at checkout (each
    # subscription pays through the one it chose); the first is the default.
    # Every gateway's name must differ. []: PAYMENT_GATEWAY_CLASS decides.
    "PAYMENT_GATEWAY_CLASSES": [],
    # Seconds a payment webhook's signature timestamp may differ from the
    # server's clock (replay protection).
    "PAYMENT_WEBHOOK_TOLERANCE_SECONDS": 300,
    # Where the gateway's checkout sends the user after paying: an absolute
    # URL; "{SUBSCRIPTION_ID}" is filled in (Stripe also fills
    # "{CHECKOUT_SESSION_ID}"). None: the subscription's API URL.
    "CHECKOUT_SUCCESS_URL": None,
    # Where the checkout sends a user who gives up (same rules as above).
    "CHECKOUT_CANCEL_URL": None,
    # Seconds a past_due subscription (renewal payment failed) waits, counted
    # from its end_date, before the billing command expires it.
    "PAST_DUE_GRACE_SECONDS": 7 * 24 * 3600,
    # Gateways that renew on their side (Stripe): seconds after end_date the
    # billing command waits for the renewal event before expiring the row.
    "RENEWAL_GRACE_SECONDS": 24 * 3600,
    # Gateways without recurring billing (dummy): seconds before end_date the
    # billing command charges the next period.
    "RENEWAL_LEAD_SECONDS": 3600,
    # Seconds rejected payment webhook deliveries are kept (the billing command
    # deletes older ones); None keeps them forever.
    "REJECTED_PAYMENT_EVENT_RETENTION_SECONDS": 30 * 24 * 3600,
    # Page size of the API's lists.
    "PAGE_SIZE": 20,
    # The largest page a client may ask for with ?page_size=.
    "MAX_PAGE_SIZE": 100,
    # Requests per authenticated user to each area of the API, as DRF rates
    # ("120/min"; s, m, h or d); None: the area is not throttled. Past it: 429
    # throttled with Retry-After. Anonymous requests, the TradingView receiver
    # and the payment webhooks are not counted (api.throttling).
    "THROTTLE_RATES": {
        "subscriptions": "120/min",
        "custom_bot": "120/min",
        "managed_bot": "120/min",
        "payments": "30/min",
    },
    # The CACHES alias the API throttles count in, shared by every process;
    # None: django-ratelimit's RATELIMIT_USE_CACHE (the receiver's limits).
    "THROTTLE_CACHE": None,
    # Path prefixes SubscriptionRequiredMiddleware protects: a list of dicts
    # {"prefix": "/api/bots/", "plan_type": "custom_bot" or None, "feature": None}.
    "PROTECTED_PATHS": [],
    # Callable(user, plan_type) -> iterable of PairConfig ids the user trades
    # under that plan type; the pair quota (max_trading_pairs) counts them.
    "PAIRS_IN_USE_FUNCTION": "django_torgovo_subscriptions.services.quota.default_pairs_in_use",
    # Custom-bot webhooks (services.custom_bot.issuing). The public origin TradingView
    # reaches this site at, e.g. "https://torgovo.example"; webhook URLs are
    # built on it. None: taken from the request, which is wrong behind a proxy.
    "PUBLIC_BASE_URL": None,
    # "inline": an alert is executed during its request. "celery": it is stored,
    # answered 202, and executed by the Celery task execute_webhook_event.
    "WEBHOOK_EXECUTION": "inline",
    # Celery queue of the execute_webhook_event task; None: the app's default.
    "WEBHOOK_CELERY_QUEUE": None,
    # django-ratelimit rate per webhook ("60/m"); None: no limit. Counted in the
    # cache named by django-ratelimit's RATELIMIT_USE_CACHE (must be shared).
    "WEBHOOK_RATE_LIMIT_PER_WEBHOOK": "60/m",
    # django-ratelimit rate per client IP; TradingView sends every user's alerts
    # from four addresses, so keep it well above the per-webhook rate.
    "WEBHOOK_RATE_LIMIT_PER_IP": "600/m",
    # IPs or CIDR networks allowed to send alerts; the entry "tradingview"
    # stands for TradingView's published addresses. None: any address.
    "WEBHOOK_IP_ALLOWLIST": None,
    # IPs or networks of your own reverse proxies: only requests from them have
    # their X-Forwarded-For header read for the client address.
    "WEBHOOK_TRUSTED_PROXIES": [],
    # Seconds within which the same alert, or one with the same order_id and
    # action, from the same webhook is executed only once (duplicate_alert).
    "WEBHOOK_DEDUPE_SECONDS": 60,
    # An alert whose "time" is older than this many seconds is refused
    # (alert_too_old); None: no limit. Alerts without a time are not checked.
    "WEBHOOK_MAX_AGE_SECONDS": 120,
    # The largest alert body accepted, in bytes (payload_too_large above it).
    "WEBHOOK_MAX_BODY_BYTES": 10000,
    # Refuse an alert whose ticker is not the webhook PairConfig's symbol
    # (ticker_mismatch); exchange prefixes, separators and case are ignored.
    "WEBHOOK_CHECK_TICKER": True,
    # PostgreSQL only: the lock_timeout (milliseconds) the receiver's queries run
    # under, so that a lock held elsewhere answers a 503 (which TradingView
    # retries) inside its 3 seconds; None: the server's own.
    "WEBHOOK_DB_LOCK_TIMEOUT_MS": 1000,
    # PostgreSQL only: the statement_timeout (milliseconds) of the receiver's
    # queries, a slow one answering a 503; None: the server's own.
    "WEBHOOK_DB_STATEMENT_TIMEOUT_MS": 2000,
    # Days of webhook events prune_webhook_events keeps without --older-than.
    "WEBHOOK_EVENT_RETENTION_DAYS": 90,
    # Logical ORDER_VALUES["source"] values (e.g. ["managed"]) of the host Orders
    # that count toward a managed bot's profit; needs ORDER_FIELDS["source"].
    # None: every executed order of the investor on the bot counts, any source.
    "PROFIT_ORDER_SOURCES": None,
    # Managed signals (services.managed_bot.fanout). "inline": a signal trades
    # for every investor before fan_out() (or the operator webhook) returns.
    # "celery": investors are split into chunks of MANAGED_CHUNK_SIZE, each
    # traded by the Celery task fan_out_managed_chunk; the webhook answers 202.
    "MANAGED_EXECUTION": "inline",
    # Celery queue of the fan_out_managed_chunk task; None: the app's default.
    "MANAGED_CELERY_QUEUE": None,
    # Investors read per database round trip, and traded per Celery task.
    "MANAGED_CHUNK_SIZE": 200,
}

# Keys whose values are dotted paths, imported on access.
IMPORT_STRINGS = (
    "TRADING_MANAGER_CLASS",
    "HOST_ADAPTER_CLASS",
    "CREDENTIALS_GETTER",
    "PAYMENT_GATEWAY_CLASS",
    "PAIRS_IN_USE_FUNCTION",
)

# Keys whose values are dicts merged over the default, so a host can override
# one entry without repeating the others.
MERGED_DICTS = (
    "CREDENTIALS",
    "ORDER_FIELDS",
    "ORDER_VALUES",
    "PAIR_CONFIG_FIELDS",
    "THROTTLE_RATES",
)


def import_from_string(value: str, setting_name: str) -> Any:
    """Import a dotted path, naming the setting when it fails."""
    try:
        return import_string(value)
    except ImportError as exc:
        raise ImportError(
            f"Could not import '{value}' for {SETTINGS_NAME}['{setting_name}']. "
            f"{exc.__class__.__name__}: {exc}."
        ) from exc


def merge_setting(name: str, user_value: Any) -> Any:
    """Merge a dict setting over its default (one level deep for ORDER_VALUES)."""
    default = DEFAULTS[name]
    if name not in MERGED_DICTS or not isinstance(user_value, dict):
        return user_value
    merged = dict(default)
    for key, value in user_value.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


class SubscriptionsSettings:
    """Lazy, cached view of ``settings.TORGOVO_SUBSCRIPTIONS`` with defaults."""

    def __init__(self) -> None:
        self._cached_attrs: set[str] = set()

    @property
    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, SETTINGS_NAME, {})
        return value if isinstance(value, dict) else {}

    def raw(self, name: str) -> Any:
        """The configured value (merged over the default), not imported."""
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid {SETTINGS_NAME} setting: '{name}'")
        if name in self.user_settings:
            return merge_setting(name, self.user_settings[name])
        return DEFAULTS[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"Invalid {SETTINGS_NAME} setting: '{name}'")
        value = self.raw(name)
        if name in IMPORT_STRINGS and isinstance(value, str):
            value = import_from_string(value, name)
        setattr(self, name, value)
        self._cached_attrs.add(name)
        return value

    @property
    def pair_config_model(self) -> str:
        return _model_setting(PAIR_CONFIG_MODEL_SETTING)

    @property
    def order_model(self) -> str:
        return _model_setting(ORDER_MODEL_SETTING)

    def reload(self) -> None:
        for attr in self._cached_attrs:
            delattr(self, attr)
        self._cached_attrs.clear()


def _model_setting(name: str) -> str:
    value = getattr(settings, name, None)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set to 'app_label.ModelName'.")
    return value


subscriptions_settings = SubscriptionsSettings()


def pair_config_model_reference() -> str:
    """The lazy model reference for foreign keys to the host's PairConfig.

    A missing setting must not crash model import: the placeholder makes
    Django report fields.E300 next to our own subscriptions.E001 instead.
    """
    return getattr(settings, PAIR_CONFIG_MODEL_SETTING, None) or "subscriptions.PairConfigNotSet"


def reload_subscriptions_settings(*, setting: str, **kwargs: Any) -> None:
    if setting in (SETTINGS_NAME, PAIR_CONFIG_MODEL_SETTING, ORDER_MODEL_SETTING):
        subscriptions_settings.reload()
        from django_torgovo_subscriptions import host

        host.clear_caches()


setting_changed.connect(reload_subscriptions_settings, dispatch_uid="torgovo_subscriptions_reload")
