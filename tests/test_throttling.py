"""
The API's per-user throttles (api.throttling) through HTTP, their settings'
system checks (subscriptions.E050-E053, W050), and which views count where.
The suite runs with rates it never reaches (tests/settings.py); each test here
sets low ones and starts from counts of zero.
"""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import caches
from django.test import override_settings
from django.urls import URLPattern, URLResolver

from django_torgovo_subscriptions.checks.throttling import check_throttle_settings
from django_torgovo_subscriptions.conf import DEFAULTS, subscriptions_settings
from tests.factories import make_subscription

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

START = datetime(2026, 11, 26, 4, 30, tzinfo=UTC)
AREAS = set(DEFAULTS["THROTTLE_RATES"])


def throttle(settings, **rates):
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "THROTTLE_RATES": {**settings.TORGOVO_SUBSCRIPTIONS["THROTTLE_RATES"], **rates},
    }


def throttled(seconds):
    return {
        "code": "throttled",
        "detail": f"Request was throttled. Expected available in {seconds} seconds.",
    }


def test_past_the_rate_the_answer_is_429_throttled_with_retry_after(settings, api):
    throttle(settings, subscriptions="2/min")
    with time_machine.travel(START, tick=False) as clock:
        assert api.get("/api/subscriptions/").json()["count"] == 0
        clock.shift(15)
        assert api.get("/api/subscriptions/").status_code == 200

        # The first request leaves the one-minute window at START + 60 s.
        refused = api.get("/api/subscriptions/")
        assert refused.status_code == 429
        assert refused.json() == throttled(45)
        assert refused["Retry-After"] == "45"

        clock.shift(20)
        refused = api.get("/api/subscriptions/")
        assert (refused.json(), refused["Retry-After"]) == (throttled(25), "25")

        clock.shift(25)
        accepted = api.get("/api/subscriptions/")
        assert accepted.status_code == 200 and accepted.json()["results"] == []
        # Refused requests were not counted: one slot came free, one was used.
        assert api.get("/api/subscriptions/").json() == throttled(15)


def test_the_views_of_one_area_share_a_count(settings, api, user, plan):
    throttle(settings, subscriptions="3/hour")
    subscription = make_subscription(user, plan)
    assert api.get("/api/subscription-plans/").status_code == 200
    assert api.get("/api/subscriptions/my-subscription/").status_code == 200
    assert api.get(f"/api/subscriptions/{subscription.pk}/").status_code == 200
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"status": "cancelled"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (429, "throttled")
    subscription.refresh_from_db()
    assert subscription.status == "active"  # refused before the view ran


def test_the_count_is_per_user_and_per_area(settings, api, other_user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    throttle(settings, subscriptions="1/hour", custom_bot="1/hour")
    assert api.get("/api/subscriptions/").status_code == 200
    assert api.get("/api/subscriptions/").status_code == 429

    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other_user).key}")
    assert other.get("/api/subscriptions/").json()["count"] == 0

    webhooks = api.get("/api/custom-bot/webhooks/")
    assert webhooks.status_code == 200 and webhooks.json()["results"] == []


def test_anonymous_requests_are_not_counted(settings, anon):
    throttle(settings, subscriptions="1/hour", managed_bot="1/hour")
    for _ in range(3):
        assert anon.get("/api/subscription-plans/").status_code == 200
        assert anon.get("/api/managed-bot/available/").status_code == 200
        assert anon.get("/api/subscriptions/").json()["code"] == "not_authenticated"


def test_the_receivers_are_not_throttled(settings, api):
    throttle(settings, **dict.fromkeys(AREAS, "1/hour"))
    for _ in range(3):
        webhook = api.post("/api/payments/webhook/", {}, format="json")
        assert (webhook.status_code, webhook.json()["code"]) == (400, "missing_signature")
        alert = api.post("/api/custom-bot/webhook/receive/not-a-secret/", {}, format="json")
        assert (alert.status_code, alert.json()["code"]) == (403, "invalid_secret")


def test_a_rate_of_none_turns_an_area_off(settings, api):
    throttle(settings, payments=None)
    for _ in range(5):
        assert api.get("/api/payments/history/").json()["count"] == 0


def test_a_rate_lowered_below_the_count_still_says_when_to_retry(settings, api):
    """DRF's own wait() gives no time then; the client still gets Retry-After."""
    throttle(settings, payments="5/min")
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(3):
            assert api.get("/api/payments/history/").status_code == 200
            clock.shift(10)
        throttle(settings, payments="1/min")
        refused = api.get("/api/payments/history/")
    # The newest request (START + 20 s) leaves the window at START + 80 s; now is + 30 s.
    assert (refused.status_code, refused.json(), refused["Retry-After"]) == (
        429,
        throttled(50),
        "50",
    )


def test_a_429_is_readable_by_the_app_on_another_origin(settings, api):
    throttle(settings, subscriptions="1/hour")
    api.get("/api/subscriptions/")
    refused = api.get("/api/subscriptions/", HTTP_ORIGIN="http://localhost:3000")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert refused["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert refused["Access-Control-Expose-Headers"] == "Retry-After"
    assert int(refused["Retry-After"]) > 3590


def test_the_counts_live_in_the_cache_named_by_throttle_cache(settings, api):
    settings.CACHES = {
        **settings.CACHES,
        "api-throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "THROTTLE_CACHE": "api-throttle",
        "THROTTLE_RATES": {"subscriptions": "1/hour"},
    }
    assert api.get("/api/subscriptions/").status_code == 200
    assert api.get("/api/subscriptions/").status_code == 429
    caches["api-throttle"].clear()
    assert api.get("/api/subscriptions/").status_code == 200


def test_a_host_overrides_one_area_and_keeps_the_others(settings):
    settings.TORGOVO_SUBSCRIPTIONS = {"THROTTLE_RATES": {"payments": "5/min"}}
    rates = subscriptions_settings.THROTTLE_RATES
    assert rates == {**DEFAULTS["THROTTLE_RATES"], "payments": "5/min"}


# --- which views count where ------------------------------------------------------

NOT_THROTTLED = {"webhook-receive", "payment-webhook", "payment-webhook-gateway", "dummy-checkout"}


def package_views(patterns=None):
    from django_torgovo_subscriptions.urls import urlpatterns

    for pattern in urlpatterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from package_views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.name, pattern.callback.cls


def test_every_api_view_counts_in_an_area_except_the_receivers():
    scopes = {name: view.subscriptions_throttle_scope for name, view in package_views()}
    assert {name for name, scope in scopes.items() if scope is None} == NOT_THROTTLED
    assert {scope for scope in scopes.values() if scope is not None} == AREAS


# --- system checks ------------------------------------------------------------------


def throttle_check_ids(**overrides):
    with override_settings(TORGOVO_SUBSCRIPTIONS={**DEFAULTS, **overrides}):
        return [m.id for m in check_throttle_settings()]


def test_the_default_throttle_settings_are_clean():
    assert throttle_check_ids() == []


@pytest.mark.parametrize(
    "rates, expected",
    [
        ({"custom-bot": "60/min"}, ["subscriptions.E050"]),
        ({"subscriptions": "120 per minute"}, ["subscriptions.E051"]),
        ({"subscriptions": "0/min"}, ["subscriptions.E051"]),
        ({"subscriptions": "10/5m"}, ["subscriptions.E051"]),
        ({"payments": 30}, ["subscriptions.E051"]),
        ({"payments": "30/minute", "custom_bot": "1000/d", "managed_bot": None}, []),
    ],
)
def test_e050_e051_throttle_rates(rates, expected):
    assert throttle_check_ids(THROTTLE_RATES={**DEFAULTS["THROTTLE_RATES"], **rates}) == expected


def test_e014_throttle_rates_not_a_dict():
    from django_torgovo_subscriptions.checks import check_settings

    with override_settings(TORGOVO_SUBSCRIPTIONS={"THROTTLE_RATES": "120/min"}):
        assert "subscriptions.E014" in [m.id for m in check_settings()]


def test_e052_e053_w050_the_throttle_cache(settings):
    settings.DEBUG = False
    assert throttle_check_ids(THROTTLE_CACHE=["ratelimit"]) == ["subscriptions.E052"]
    assert throttle_check_ids(THROTTLE_CACHE="") == ["subscriptions.E052"]
    assert throttle_check_ids(THROTTLE_CACHE="nope") == ["subscriptions.E053"]
    settings.RATELIMIT_USE_CACHE = "nope"
    [missing] = check_throttle_settings()
    assert (missing.id, "(RATELIMIT_USE_CACHE)" in missing.msg) == ("subscriptions.E053", True)

    settings.RATELIMIT_USE_CACHE = "ratelimit"  # Redis in the test settings
    assert throttle_check_ids() == []
    with override_settings(TORGOVO_SUBSCRIPTIONS={**DEFAULTS, "THROTTLE_CACHE": "default"}):
        [unshared] = check_throttle_settings()
    assert unshared.id == "subscriptions.W050" and "keeps counts per process" in unshared.msg
    # Nothing to count, nothing to check; and a development server may count per process.
    assert (
        throttle_check_ids(THROTTLE_CACHE="nope", THROTTLE_RATES=dict.fromkeys(AREAS, None)) == []
    )
    settings.DEBUG = True
    assert throttle_check_ids(THROTTLE_CACHE="default") == []


def test_the_schema_lists_429_throttled_on_every_throttled_operation_only():
    from pathlib import Path

    import yaml

    schema = yaml.safe_load((Path(__file__).parent.parent / "docs" / "openapi.yaml").read_text())
    receivers = {
        "/api/custom-bot/webhook/receive/{secret}/",
        "/api/payments/webhook/",
        "/api/payments/webhook/{gateway}/",
        "/api/payments/dummy/checkout/{session_id}/",
    }
    assert receivers <= set(schema["paths"])
    for path, operations in schema["paths"].items():
        if path.startswith("/api/auth/"):  # the example host's own endpoints
            continue
        for method, operation in operations.items():
            too_many = operation["responses"].get("429", {}).get("description", "")
            # The receiver has a 429 of its own: rate_limited (its django-ratelimit limits).
            assert too_many.startswith("throttled") is (path not in receivers), (method, path)
