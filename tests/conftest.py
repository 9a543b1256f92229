"""
The suite runs twice: against the example host (tests.settings) and against a
differently shaped host (tests.alt_settings), whose tests live in tests/alt/.

Every fixture used by more than one test module is defined here, once; a test
module never imports a fixture. The helpers the fixtures are built from (and
that tests call directly) live in tests/payments_support.py,
tests/profit_support.py, tests/webhook_support.py and tests/celery_support.py.
``pair_config`` and the webhook fixtures built on it make the example host's models: they are for
the example host's tests only. No fixture here is autouse: a module whose every
test needs one (``fresh_rate_limits``, ``frozen_clock``) names it in
``pytest.mark.usefixtures`` in its ``pytestmark``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings

from django_torgovo_subscriptions.models import PlanType
from django_torgovo_subscriptions.payments import BTCPAY_GATEWAY, DUMMY_GATEWAY, STRIPE_GATEWAY
from tests.celery_support import BROKERS, make_app, remove_queue
from tests.factories import make_plan
from tests.fake_btcpay import FakeBtcPay
from tests.fake_stripe import FakeStripe
from tests.payments_support import PRICE_ID, WebhookServer, use_gateway
from tests.profit_support import NOW, at
from tests.webhook_support import btc_pair_config, clear_rate_limits, issue, subscribe

ALT_DIR = Path(__file__).parent / "alt"


def pytest_ignore_collect(collection_path, config):
    alt_run = django_settings.SETTINGS_MODULE == "tests.alt_settings"
    if collection_path.is_dir():
        return None
    in_alt = ALT_DIR in collection_path.parents
    return in_alt != alt_run or None


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="mallory", password="pw")


@pytest.fixture
def api(user):
    """An API client authenticated with the user's DRF token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def anon():
    from rest_framework.test import APIClient

    return APIClient()


# --- Plans and payment gateways -------------------------------------------------


@pytest.fixture
def plan():
    """The custom-bot plan "Basic" at 29.00 a month (no gateway price ids)."""
    return make_plan(
        PlanType.CUSTOM_BOT, name="Basic", slug="basic", monthly_price=Decimal("29.00")
    )


@pytest.fixture
def without_gateway(settings):
    """No payment gateway, so subscriptions are active at once (the example host
    configures the dummy gateway)."""
    use_gateway(settings, None)


@pytest.fixture
def fake_btcpay(settings, monkeypatch):
    """BTCPay configured from the environment and served by a local fake over HTTP."""
    fake = FakeBtcPay().start()
    monkeypatch.setenv("BTCPAY_URL", fake.url)
    monkeypatch.setenv("BTCPAY_API_KEY", fake.api_key)
    monkeypatch.setenv("BTCPAY_STORE_ID", fake.store_id)
    monkeypatch.setenv("BTCPAY_WEBHOOK_SECRET", fake.webhook_secret)
    monkeypatch.setenv("BTCPAY_TIMEOUT_SECONDS", "2")
    use_gateway(settings, BTCPAY_GATEWAY)
    yield fake
    fake.stop()


@pytest.fixture
def fake_stripe(settings, monkeypatch):
    """Stripe configured from the environment and served by a local fake over HTTP."""
    fake = FakeStripe().start()
    fake.add_price(PRICE_ID, 2900, "usd")
    monkeypatch.setenv("STRIPE_SECRET_KEY", fake.secret_key)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", fake.webhook_secret)
    monkeypatch.setenv("STRIPE_API_BASE", fake.url)
    use_gateway(settings, STRIPE_GATEWAY)
    yield fake
    fake.stop()


@pytest.fixture
def dummy(settings):
    """The dummy gateway; what it POSTs over HTTP reaches this server's webhook
    through a local server (checkout pages requested with
    ``HTTP_HOST=dummy.host``)."""
    use_gateway(settings, DUMMY_GATEWAY)
    server = WebhookServer()
    yield server
    server.stop()


@pytest.fixture
def stripe_plan():
    """The "Basic" plan at 29.00 a month, sold through the fake Stripe's price."""
    return make_plan(
        PlanType.CUSTOM_BOT,
        name="Basic",
        slug="basic",
        monthly_price=Decimal("29.00"),
        gateway_price_ids={"stripe": PRICE_ID},
    )


# --- Custom-bot webhooks --------------------------------------------------------


@pytest.fixture
def fresh_rate_limits():
    """The webhook rate limits start from zero (and are forgotten afterwards)."""
    clear_rate_limits()
    yield
    clear_rate_limits()


@pytest.fixture
def pair_config(user):
    """The user's example-host PairConfig for BTC/USDT (``btc_pair_config``)."""
    return btc_pair_config(user)


@pytest.fixture
def subscription(user):
    """An active custom-bot subscription for the user."""
    return subscribe(user)


@pytest.fixture
def hook(user, pair_config, subscription):
    """A webhook generated for ``pair_config`` under ``subscription``: (webhook, secret)."""
    return issue(user, pair_config)


@pytest.fixture
def webhook(hook):
    return hook[0]


@pytest.fixture
def secret(hook):
    return hook[1]


# --- Managed-bot profit ---------------------------------------------------------


@pytest.fixture
def frozen_clock():
    """The profit tests run at NOW (local time), so month boundaries are fixed."""
    with time_machine.travel(at(NOW), tick=False):
        yield


# --- Celery -----------------------------------------------------------------------


@pytest.fixture
def shared_sqlite_connection():
    """On in-memory SQLite, give the worker thread the test's own connection, as
    Django's live_server does: two connections to a shared-cache database lock
    each other's tables."""
    from celery.signals import task_prerun
    from django.db import connections

    main = connections["default"]
    if not (main.vendor == "sqlite" and main.is_in_memory_db()):
        yield
        return

    def share(**kwargs):
        connections["default"] = main

    main.inc_thread_sharing()
    task_prerun.connect(share, weak=False, dispatch_uid="torgovo-test-share-sqlite")
    try:
        yield
    finally:
        task_prerun.disconnect(dispatch_uid="torgovo-test-share-sqlite")
        main.dec_thread_sharing()


@pytest.fixture(params=sorted(BROKERS))
def worker(request, shared_sqlite_connection):
    """A worker thread consuming a queue of its own on the real broker (a
    transactional test, so the worker sees the committed rows)."""
    from celery.contrib.testing.worker import start_worker

    queue = f"torgovo-test-{uuid.uuid4().hex[:12]}"
    app = make_app(BROKERS[request.param], queue)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
        ):
            yield app
    finally:
        remove_queue(app, queue, request.param)
