"""The owner's custom-bot endpoints: generate, list, detail, deactivate, rotate, events."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from model_bakery import baker

from django_torgovo_subscriptions.models import CustomBotWebhook, WebhookEvent
from django_torgovo_subscriptions.services.custom_bot import issuing
from example_project import settings as example
from tests.webhook_support import alert_body, issue, post_alert, subscribe

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]
GENERATE = "/api/custom-bot/webhook/generate/"


def generate(api, pair_config_id):
    return api.post(GENERATE, {"pair_config": pair_config_id}, format="json")


# --- generate ---------------------------------------------------------------------


def test_generate_returns_the_seed_shape_once_and_stores_only_a_hash(api, user, pair_config):
    subscription = subscribe(user)
    response = generate(api, pair_config.pk)
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    secret = body["tradingview_json"]["secret"]
    webhook = CustomBotWebhook.objects.get()
    # The webhook as the list shows it, beside its URL and message.
    listed = api.get("/api/custom-bot/webhooks/").json()["results"][0]
    assert body == {
        **listed,
        "webhook_url": f"http://testserver/api/custom-bot/webhook/receive/{secret}/",
        "tradingview_json": body["tradingview_json"],
    }
    assert (body["id"], body["pair_config"], body["symbol"]) == (
        webhook.pk,
        pair_config.pk,
        "BTC/USDT",
    )
    assert body["is_active"] is True and body["rotated_at"] is None
    assert (webhook.user, webhook.pair_config, webhook.subscription) == (
        user,
        pair_config,
        subscription,
    )
    assert webhook.secret_hash == issuing.hash_secret(secret) != secret
    assert "secret" not in webhook.tradingview_config
    assert webhook.tradingview_config == {
        k: v for k, v in body["tradingview_json"].items() if k != "secret"
    }
    # Every secret is new.
    assert generate(api, pair_config.pk).json()["tradingview_json"]["secret"] != secret


def test_the_public_base_url_setting_decides_the_url(api, user, pair_config):
    subscribe(user)
    config = {**example.TORGOVO_SUBSCRIPTIONS, "PUBLIC_BASE_URL": "https://torgovo.example/"}
    with override_settings(TORGOVO_SUBSCRIPTIONS=config):
        body = generate(api, pair_config.pk).json()
    secret = body["tradingview_json"]["secret"]
    assert (
        body["webhook_url"] == f"https://torgovo.example/api/custom-bot/webhook/receive/{secret}/"
    )
    config["PUBLIC_BASE_URL"] = None
    with override_settings(TORGOVO_SUBSCRIPTIONS=config):
        body = generate(api, pair_config.pk).json()
    assert body["webhook_url"].startswith("http://testserver/api/custom-bot/webhook/receive/")


def test_without_public_base_url_the_url_follows_the_origin_the_api_is_reached_at(
    api, user, pair_config
):
    # The example host sets no PUBLIC_BASE_URL unless its environment does.
    assert example.public_base_url({}) is None
    assert example.TORGOVO_SUBSCRIPTIONS["PUBLIC_BASE_URL"] is None
    subscribe(user)
    body = api.post(
        GENERATE, {"pair_config": pair_config.pk}, format="json", HTTP_HOST="localhost:8123"
    ).json()
    secret = body["tradingview_json"]["secret"]
    assert body["webhook_url"] == f"http://localhost:8123/api/custom-bot/webhook/receive/{secret}/"
    rotated = api.post(
        f"/api/custom-bot/webhooks/{body['id']}/rotate/", HTTP_HOST="127.0.0.1:9000"
    ).json()
    secret = rotated["tradingview_json"]["secret"]
    assert (
        rotated["webhook_url"] == f"http://127.0.0.1:9000/api/custom-bot/webhook/receive/{secret}/"
    )


def test_the_example_host_reads_public_base_url_from_its_environment():
    assert example.public_base_url({"PUBLIC_BASE_URL": "https://torgovo.example"}) == (
        "https://torgovo.example"
    )
    assert example.public_base_url({"PUBLIC_BASE_URL": " "}) is None


def test_generate_needs_a_live_custom_bot_subscription(api, user, pair_config):
    response = generate(api, pair_config.pk)
    assert response.status_code == 403 and response.json()["code"] == "subscription_required"
    subscribe(user, end_date=timezone.now() - timedelta(days=1))
    response = generate(api, pair_config.pk)
    assert response.status_code == 403 and response.json()["code"] == "subscription_expired"
    assert not CustomBotWebhook.objects.exists()


def test_generate_needs_a_pair_config_the_user_may_trade(api, user, other_user, pair_config):
    subscribe(user)
    for pk in (
        baker.make("trading.PairConfig", user=other_user).pk,
        baker.make("trading.PairConfig", user=user, is_active=False).pk,
        baker.make("trading.PairConfig", user=user, is_managed=True).pk,
        999999,
    ):
        response = generate(api, pk)
        assert response.status_code == 400, pk
        assert response.json()["code"] == "validation_error"
        assert "pair_config" in response.json()["fields"]
    response = api.post(GENERATE, {}, format="json")
    assert response.status_code == 400 and response.json()["fields"]["pair_config"]
    assert not CustomBotWebhook.objects.exists()


def test_generate_respects_the_pair_quota_and_deactivating_frees_it(api, user, pair_config):
    subscribe(user, max_pairs=1)
    assert generate(api, pair_config.pk).status_code == 201
    # Another webhook on the same pair takes no second slot.
    assert generate(api, pair_config.pk).status_code == 201
    other = baker.make("trading.PairConfig", user=user)
    response = generate(api, other.pk)
    assert response.status_code == 403 and response.json()["code"] == "pair_limit_reached"
    for webhook in CustomBotWebhook.objects.all():
        assert api.delete(f"/api/custom-bot/webhooks/{webhook.pk}/").status_code == 200
    assert generate(api, other.pk).status_code == 201


def test_generate_requires_a_token(anon, pair_config):
    response = generate(anon, pair_config.pk)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


# --- list, detail, deactivate --------------------------------------------------------


def test_the_list_shows_own_webhooks_without_secrets(
    api, user, other_user, pair_config, django_assert_max_num_queries
):
    subscribe(user, max_pairs=5)
    subscribe(other_user)
    mine = [
        issue(user, baker.make("trading.PairConfig", user=user, symbol=f"S{i}/USDT"))[0]
        for i in range(3)
    ]
    issue(other_user, baker.make("trading.PairConfig", user=other_user))
    issuing.deactivate(mine[0])
    with django_assert_max_num_queries(4):
        body = api.get("/api/custom-bot/webhooks/").json()
    assert body["count"] == 3
    assert [w["id"] for w in body["results"]] == [w.pk for w in reversed(mine)]
    first = body["results"][0]
    assert set(first) == {
        "id",
        "pair_config",
        "symbol",
        "is_active",
        "created_at",
        "last_used_at",
        "rotated_at",
        "deactivated_at",
    }
    assert first["symbol"] == "S2/USDT"
    assert [
        w["id"] for w in api.get("/api/custom-bot/webhooks/?is_active=false").json()["results"]
    ] == [mine[0].pk]
    assert api.get("/api/custom-bot/webhooks/?is_active=true").json()["count"] == 2


def test_someone_elses_webhook_is_a_404_for_every_verb(api, other_user):
    subscribe(other_user)
    theirs, _ = issue(other_user, baker.make("trading.PairConfig", user=other_user))
    for method, path in (("get", ""), ("delete", ""), ("post", "rotate/"), ("get", "events/")):
        response = getattr(api, method)(f"/api/custom-bot/webhooks/{theirs.pk}/{path}")
        assert response.status_code == 404 and response.json()["code"] == "not_found", (
            method,
            path,
        )
    assert CustomBotWebhook.objects.get().is_active


def test_deactivate_is_idempotent_and_stops_alerts(api, client, user, pair_config):
    subscribe(user)
    webhook, secret = issue(user, pair_config)
    response = api.delete(f"/api/custom-bot/webhooks/{webhook.pk}/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False and response.json()["deactivated_at"]
    again = api.delete(f"/api/custom-bot/webhooks/{webhook.pk}/")
    assert (
        again.status_code == 200
        and again.json()["deactivated_at"] == response.json()["deactivated_at"]
    )
    assert post_alert(client, secret).json()["code"] == "webhook_inactive"


# --- rotate -------------------------------------------------------------------------


def test_rotate_invalidates_the_old_url_at_once(api, client, user, pair_config):
    subscribe(user)
    webhook, old = issue(user, pair_config)
    response = api.post(f"/api/custom-bot/webhooks/{webhook.pk}/rotate/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.json()
    new = body["tradingview_json"]["secret"]
    assert new != old and body["webhook_url"].endswith(f"/receive/{new}/")
    webhook.refresh_from_db()
    listed = api.get(f"/api/custom-bot/webhooks/{webhook.pk}/").json()
    assert body == {
        **listed,
        "webhook_url": body["webhook_url"],
        "tradingview_json": body["tradingview_json"],
    }
    assert body["id"] == webhook.pk and body["rotated_at"] == listed["rotated_at"] is not None
    assert webhook.secret_hash == issuing.hash_secret(new) and webhook.rotated_at

    assert post_alert(client, old).json()["code"] == "invalid_secret"
    # The new URL works, with the new secret in the body only.
    assert post_alert(client, new, alert_body(old)).json()["code"] == "invalid_secret"
    assert post_alert(client, new).json()["status"] == "executed"


def test_rotate_works_without_a_live_subscription_but_not_on_an_inactive_webhook(
    api, user, pair_config
):
    subscription = subscribe(user)
    webhook, _ = issue(user, pair_config)
    subscription.end_date = timezone.now() - timedelta(days=1)
    subscription.save()
    assert api.post(f"/api/custom-bot/webhooks/{webhook.pk}/rotate/").status_code == 200
    issuing.deactivate(webhook)
    response = api.post(f"/api/custom-bot/webhooks/{webhook.pk}/rotate/")
    assert response.status_code == 409 and response.json()["code"] == "webhook_inactive"


# --- events -------------------------------------------------------------------------


def test_the_owner_sees_the_events_of_a_webhook(
    api, client, user, pair_config, django_assert_max_num_queries
):
    subscribe(user)
    webhook, secret = issue(user, pair_config)
    post_alert(client, secret)
    post_alert(client, secret, alert_body(secret, quantity="0"))
    post_alert(client, "unknown-secret-000000000000")
    with django_assert_max_num_queries(4):
        body = api.get(f"/api/custom-bot/webhooks/{webhook.pk}/events/").json()
    assert body["count"] == 2
    newest, oldest = body["results"]
    assert (newest["outcome"], newest["code"], newest["status_code"]) == (
        "rejected",
        "invalid_quantity",
        400,
    )
    assert (oldest["outcome"], oldest["code"], oldest["error"], oldest["order_id"]) == (
        "executed",
        None,
        None,
        WebhookEvent.objects.get(outcome="executed").order_id,
    )
    assert newest["order_id"] is None
    assert "headers" not in newest and "body" not in newest
    assert oldest["signal"]["ticker"] == "BTCUSDT"
