"""Test settings: the example Torgovo host (example_project), on SQLite or DATABASE_URL."""

import os

from django_torgovo_subscriptions.conf import DEFAULTS
from example_project.settings import *  # noqa: F403

if os.environ.get("DATABASE_URL"):
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
    if os.environ.get("DATABASE_PREPARED_STATEMENTS"):
        # psycopg's server-side binding with prepared statements, as docs/TRADINGVIEW.md
        # advises for a busy receiver: the suite must pass with it too.
        DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 2}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}

# The webhook receiver's rate limits count in a cache all processes share:
# Redis DB 3 (TEST_REDIS_URL), under a key prefix of this test run's own.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3"),
        "KEY_PREFIX": f"torgovo-test-{os.getpid()}",
        "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
    },
}
RATELIMIT_USE_CACHE = "ratelimit"

# The API throttles count each user's requests in that cache for the whole run,
# and test users share primary keys across tests (rolled back): the suite runs
# with rates it never reaches. tests/test_throttling.py and the docs' 429
# example set low ones.
UNREACHED_THROTTLE_RATES = dict.fromkeys(DEFAULTS["THROTTLE_RATES"], "100000/hour")
TORGOVO_SUBSCRIPTIONS = {
    **TORGOVO_SUBSCRIPTIONS,  # noqa: F405
    "THROTTLE_RATES": UNREACHED_THROTTLE_RATES,
}
