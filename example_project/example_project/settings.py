"""
Settings of the example Torgovo host.

SQLite by default; PostgreSQL (or any database) when DATABASE_URL is set.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-project-insecure-key-for-the-demo-only")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "accounts",
    "trading",
    "django_torgovo_subscriptions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_torgovo_subscriptions.middleware.SubscriptionRequiredMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_env():
    url = os.environ.get("DATABASE_URL")
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
    import dj_database_url

    return dj_database_url.parse(url)


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "Asia/Karachi"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

# The OpenAPI description (/api/schema/, /api/docs/, /api/redoc/) needs the
# package's "openapi" extra (drf-spectacular); without it the API runs the same.
# The extra's drf-spectacular-sidecar serves Swagger UI's and ReDoc's files
# from this server (static files), so the pages work without internet.
try:
    import drf_spectacular  # noqa: F401

    OPENAPI = True
    INSTALLED_APPS.append("drf_spectacular")
except ImportError:
    OPENAPI = False
try:
    import drf_spectacular_sidecar  # noqa: F401

    OPENAPI_UI_SIDECAR = OPENAPI
except ImportError:
    OPENAPI_UI_SIDECAR = False
if OPENAPI_UI_SIDECAR:
    INSTALLED_APPS.append("drf_spectacular_sidecar")

# --- CORS: a browser app on another origin (the React frontend) -------------
# django-cors-headers (installed by `make demo` and the test environments)
# answers the API's preflight requests and adds the CORS headers to its
# answers for the origins in the CORS_ALLOWED_ORIGINS environment variable,
# comma separated. docs/API_DOCUMENTATION.md ("Calling the API from a browser")
# explains each setting.


def cors_allowed_origins(environ=os.environ) -> list[str]:
    value = environ.get("CORS_ALLOWED_ORIGINS", "http://localhost:3000")
    return [origin.strip() for origin in value.split(",") if origin.strip()]


try:
    import corsheaders  # noqa: F401

    INSTALLED_APPS.append("corsheaders")
    # First: a preflight is answered before any middleware that could refuse it
    # (CommonMiddleware's redirects, SubscriptionRequiredMiddleware's 403).
    MIDDLEWARE.insert(0, "corsheaders.middleware.CorsMiddleware")
except ImportError:
    pass

CORS_ALLOWED_ORIGINS = cors_allowed_origins()
CORS_URLS_REGEX = r"^/api/.*$"
# The token travels in the Authorization header (allowed by default), not in
# a cookie: no credentials mode needed.
CORS_ALLOW_CREDENTIALS = False
# Response headers a script may read besides the CORS-safelisted ones: the
# wait of a 429 (throttled).
CORS_EXPOSE_HEADERS = ["Retry-After"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
if OPENAPI:
    REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"

SPECTACULAR_SETTINGS = {
    "TITLE": "Torgovo subscriptions API",
    "DESCRIPTION": "Plans, subscriptions, custom bots (TradingView webhooks), managed bots "
    "and payments. See docs/API_DOCUMENTATION.md for the guide.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "PREPROCESSING_HOOKS": ["example_project.schema.package_and_auth_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "django_torgovo_subscriptions.api.schema.common_errors",
    ],
    # One component per choice set the API shares between responses.
    "ENUM_NAME_OVERRIDES": {
        "SubscriptionStatusEnum": "django_torgovo_subscriptions.models.SubscriptionStatus",
        "CheckoutStatusEnum": "django_torgovo_subscriptions.models.payments.CheckoutStatus",
        "AlertStatusEnum": "django_torgovo_subscriptions.api.custom_bot.ACCEPTED_OUTCOMES",
    },
}
if OPENAPI_UI_SIDECAR:
    SPECTACULAR_SETTINGS.update(
        SWAGGER_UI_DIST="SIDECAR", SWAGGER_UI_FAVICON_HREF="SIDECAR", REDOC_DIST="SIDECAR"
    )

# --- django-torgovo-subscriptions ------------------------------------------


def public_base_url(environ=os.environ) -> str | None:
    """The PUBLIC_BASE_URL environment variable; None (the request's origin) when unset."""
    return environ.get("PUBLIC_BASE_URL", "").strip() or None


TORGOVO_PAIR_CONFIG_MODEL = "trading.PairConfig"
TORGOVO_ORDER_MODEL = "trading.Order"
TORGOVO_SUBSCRIPTIONS = {
    "TRADING_MANAGER_CLASS": "trading.bot_manager.TradingManager",
    "TRADING_MANAGER_SIGNAL_ARGUMENT": "session_config",
    "CREDENTIALS": {"API_KEY": "API", "API_SECRET": "SECRET", "DEMO": "Demo"},
    "ORDER_FIELDS": {
        "external_id": "exchange_order_id",
        "fee": "fee",
        "source": "source",
        "error": "error_message",
        "created_at": "created_at",
    },
    "ORDER_VALUES": {
        "side": {"buy": "BUY", "sell": "SELL"},
        "status": {"executed": "FILLED", "failed": "FAILED"},
        "source": {"webhook": "WEBHOOK", "managed": "MANAGED"},
    },
    "PAIR_CONFIG_FIELDS": {"is_active": "is_active", "is_managed": "is_managed", "name": "name"},
    "PROTECTED_PATHS": [{"prefix": "/api/reports/", "plan_type": "managed_bot"}],
    # The pair quota counts this host's own bots (POST /api/bots/) too.
    "PAIRS_IN_USE_FUNCTION": "trading.quota.pairs_in_use",
    # Custom bots: webhook URLs are built on the origin the API is reached at,
    # unless the PUBLIC_BASE_URL environment variable names the one TradingView
    # posts alerts to (set it behind a proxy; check's W040 says so when DEBUG
    # is off). Alerts only from TradingView's own addresses and this machine.
    # The demo acts as if behind a reverse proxy on 127.0.0.1, so an
    # X-Forwarded-For header from there names the client (docs/TRADINGVIEW.md).
    "PUBLIC_BASE_URL": public_base_url(),
    "WEBHOOK_IP_ALLOWLIST": ["tradingview", "127.0.0.1", "::1"],
    "WEBHOOK_TRUSTED_PROXIES": ["127.0.0.1", "::1"],
    # "celery": alerts are answered 202 and traded by `celery -A example_project
    # worker` (example_project/celery.py, the broker below).
    "WEBHOOK_EXECUTION": os.environ.get("WEBHOOK_EXECUTION", "inline"),
    # Subscribing gives pending_payment; pay on the dummy checkout page
    # (docs/PAYMENTS.md). For real payments use
    # "django_torgovo_subscriptions.payments.stripe.StripeGateway" and the
    # STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET environment variables.
    "PAYMENT_GATEWAY_CLASS": "django_torgovo_subscriptions.payments.dummy.DummyGateway",
}

# Celery (example_project/celery.py, the `celery` extra). A short connection
# timeout: with the broker down the receiver trades inline, inside
# TradingView's 3 seconds.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_torgovo_subscriptions": {"handlers": ["console"], "level": "INFO"}},
}
