"""The decorator, the permission, the middleware and the bot-creation guard, in the example host."""

import pytest
from model_bakery import baker

from django_torgovo_subscriptions.models import PlanType, SubscriptionStatus
from tests.factories import make_plan, make_subscription
from trading.models import Bot

pytestmark = pytest.mark.django_db


def custom_plan(**kwargs):
    return make_plan(PlanType.CUSTOM_BOT, **kwargs)


# --- @subscription_required ----------------------------------------------


def test_decorator_refuses_without_a_subscription(api):
    response = api.get("/api/dashboard/custom-bot/")
    assert response.status_code == 403
    assert response.json() == {
        "code": "subscription_required",
        "detail": "This needs an active Custom bot (TradingView webhook) subscription. "
        "Subscribe to a plan to continue.",
    }


def test_decorator_says_expired_when_the_subscription_ended(api, user):
    make_subscription(user, custom_plan(), status=SubscriptionStatus.EXPIRED, days_left=-3)
    response = api.get("/api/dashboard/custom-bot/")
    assert (response.status_code, response.json()["code"]) == (403, "subscription_expired")


def test_decorator_lets_a_live_subscriber_through(api, user):
    make_subscription(user, custom_plan(slug="basic"))
    response = api.get("/api/dashboard/custom-bot/")
    assert response.status_code == 200 and response.json()["plan"] == "basic"


def test_decorator_wants_the_right_plan_type(api, user):
    make_subscription(user, make_plan(PlanType.MANAGED_BOT))
    assert api.get("/api/dashboard/custom-bot/").json()["code"] == "subscription_required"


def test_decorator_answers_401_to_anonymous_users_on_a_plain_django_view(rf):
    import json

    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    from django_torgovo_subscriptions.decorators import subscription_required

    @subscription_required
    def page(request):
        return HttpResponse("secret page")

    request = rf.get("/page/")
    request.user = AnonymousUser()
    response = page(request)
    assert response.status_code == 401
    assert json.loads(response.content)["code"] == "not_authenticated"


def test_decorator_on_a_plain_view_passes_the_subscription_on(rf, user):
    from django.http import HttpResponse

    from django_torgovo_subscriptions.decorators import subscription_required

    @subscription_required(feature="paper_trading")
    def page(request):
        return HttpResponse(request.subscription.plan.slug)

    make_subscription(user, custom_plan(slug="basic", features=["paper_trading"]))
    request = rf.get("/page/")
    request.user = user
    assert page(request).content == b"basic"


# --- HasActiveSubscription ---------------------------------------------


def test_permission_needs_the_plan_feature(api, user):
    make_subscription(user, custom_plan(slug="basic", features=["paper_trading"]))
    response = api.get("/api/live-trading/")
    assert response.status_code == 403
    assert response.json()["code"] == "feature_not_included"
    assert "'live_trading'" in response.json()["detail"]


def test_permission_allows_a_plan_with_the_feature(api, user):
    make_subscription(user, custom_plan(slug="pro", features=["live_trading"]))
    assert api.get("/api/live-trading/").json() == {"live_trading": True, "plan": "pro"}


def test_permission_without_subscription(api):
    assert api.get("/api/live-trading/").json()["code"] == "subscription_required"


# --- SubscriptionRequiredMiddleware --------------------------------------


def test_middleware_authenticates_the_token_and_refuses_without_subscription(api):
    response = api.get("/api/reports/managed/")
    assert (response.status_code, response.json()["code"]) == (403, "subscription_required")


def test_middleware_lets_a_managed_subscriber_through(api, user):
    make_subscription(user, make_plan(PlanType.MANAGED_BOT, slug="growth"))
    assert api.get("/api/reports/managed/").json() == {"plan": "growth"}


def test_middleware_refuses_anonymous_and_bad_tokens(anon):
    assert anon.get("/api/reports/managed/").status_code == 401
    response = anon.get("/api/reports/managed/", HTTP_AUTHORIZATION="Token wrong")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_middleware_leaves_other_paths_alone(anon):
    assert anon.get("/api/subscription-plans/").status_code == 200


# --- the guard before TradingManager.create_bot() ------------------------


def test_bot_creation_needs_a_live_subscription(api, user):
    pair = baker.make("trading.PairConfig", user=user)
    response = api.post("/api/bots/", {"pair_config": pair.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "subscription_required")


def test_bot_creation_within_quota_reaches_the_trading_manager(api, user):
    make_subscription(user, custom_plan(max_trading_pairs=1))
    pair = baker.make("trading.PairConfig", user=user, exchange="kraken")
    response = api.post("/api/bots/", {"pair_config": pair.pk}, format="json")
    assert response.status_code == 201
    bot = Bot.objects.get()
    assert (bot.user, bot.pair_config) == (user, pair)
    assert response.json() == {
        "id": bot.pk,
        "user_id": user.pk,
        "pair_config_id": pair.pk,
        "exchange": "kraken",
    }


def bots_on(api, pairs):
    return [
        api.post("/api/bots/", {"pair_config": pair.pk}, format="json").json() for pair in pairs
    ]


def test_the_hosts_own_bots_count_against_the_pair_quota(api, user):
    make_subscription(user, custom_plan(name="Basic", max_trading_pairs=1))
    pairs = baker.make("trading.PairConfig", user=user, _quantity=3)
    first, second, third = bots_on(api, pairs)
    assert first["pair_config_id"] == pairs[0].pk
    refused = {
        "code": "pair_limit_reached",
        "detail": "Your Basic plan allows 1 trading pair and all are in use. "
        "Upgrade your plan or deactivate a bot first.",
    }
    assert second == third == refused
    assert list(Bot.objects.values_list("pair_config_id", flat=True)) == [pairs[0].pk]
    # Another bot on the pair in use takes no second slot (and no second row).
    assert bots_on(api, pairs[:1])[0]["id"] == first["id"]
    assert Bot.objects.count() == 1
    # A bot's pair is taken for webhooks too, and a webhook's for bots.
    response = api.post(
        "/api/custom-bot/webhook/generate/", {"pair_config": pairs[1].pk}, format="json"
    )
    assert (response.status_code, response.json()) == (403, refused)
    Bot.objects.all().delete()  # the admin's "delete": the pair is free again
    response = api.post(
        "/api/custom-bot/webhook/generate/", {"pair_config": pairs[1].pk}, format="json"
    )
    assert response.status_code == 201
    assert bots_on(api, pairs[2:]) == [refused]
    assert bots_on(api, pairs[1:2])[0]["pair_config_id"] == pairs[1].pk


def test_a_bot_counts_under_the_plan_type_of_its_pair_config(api, user):
    make_subscription(user, custom_plan(max_trading_pairs=1))
    make_subscription(user, make_plan(PlanType.MANAGED_BOT, max_trading_pairs=1))
    managed = baker.make("trading.PairConfig", user=user, is_managed=True)
    custom = baker.make("trading.PairConfig", user=user)
    assert [body["pair_config_id"] for body in bots_on(api, [managed, custom])] == [
        managed.pk,
        custom.pk,
    ]


def test_bot_creation_over_the_pair_quota_is_refused(api, user):
    subscription = make_subscription(user, custom_plan(name="Basic", max_trading_pairs=1))
    used = baker.make("trading.PairConfig", user=user)
    baker.make(
        "subscriptions.CustomBotWebhook", user=user, subscription=subscription, pair_config=used
    )
    new_pair = baker.make("trading.PairConfig", user=user)
    response = api.post("/api/bots/", {"pair_config": new_pair.pk}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "code": "pair_limit_reached",
        "detail": "Your Basic plan allows 1 trading pair and all are in use. "
        "Upgrade your plan or deactivate a bot first.",
    }
    # The pair already in use is not a new one: allowed.
    assert api.post("/api/bots/", {"pair_config": used.pk}, format="json").status_code == 201


def test_a_managed_pair_config_needs_a_managed_subscription(api, user):
    make_subscription(user, custom_plan())
    managed = baker.make("trading.PairConfig", user=user, is_managed=True)
    response = api.post("/api/bots/", {"pair_config": managed.pk}, format="json")
    assert response.json()["code"] == "subscription_required"
    assert "Managed bot" in response.json()["detail"]


def test_bot_creation_with_a_bad_pair_config_is_400(api, user, other_user):
    theirs = baker.make("trading.PairConfig", user=other_user)
    assert api.post("/api/bots/", {"pair_config": "abc"}, format="json").status_code == 400
    assert api.post("/api/bots/", {"pair_config": theirs.pk}, format="json").status_code == 400
