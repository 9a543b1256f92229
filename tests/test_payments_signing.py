"""The webhook signature scheme, checked against the stripe SDK's own implementation."""

import time

import pytest
import stripe

from django_torgovo_subscriptions.exceptions import InvalidSignature, StaleSignature
from django_torgovo_subscriptions.payments import signing
from tests.fake_stripe import sign as independent_sign

BODY = b'{"id": "evt_1", "type": "invoice.paid"}'
SECRET = "whsec_test_secret"


def test_our_header_is_accepted_by_the_stripe_sdk():
    header = signing.sign(BODY, SECRET)
    assert stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET, tolerance=300)


def test_we_accept_the_stripe_sdk_signature():
    timestamp = int(time.time())
    digest = stripe.WebhookSignature._compute_signature(f"{timestamp}.{BODY.decode()}", SECRET)
    assert signing.verify(BODY, f"t={timestamp},v1={digest}", SECRET, 300) == timestamp


def test_an_independent_hmac_gives_the_same_header():
    assert signing.sign(BODY, SECRET, 1764083532) == independent_sign(BODY, SECRET, 1764083532)


def test_any_of_several_v1_signatures_may_match_and_other_schemes_are_ignored():
    good = signing.sign(BODY, SECRET).split(",")[1]
    header = f"t={int(time.time())},v0=abc,v1={'0' * 64},{good}"
    assert signing.verify(BODY, header, SECRET, 300)


@pytest.mark.parametrize("header", ["", "garbage", "t=abc,v1=00", "v1=00", "t={now}"])
def test_malformed_headers_are_invalid(header):
    # The timestamp is filled in here, not at collection: test ids must not change per run.
    with pytest.raises(InvalidSignature):
        signing.verify(BODY, header.format(now=int(time.time())), SECRET, 300)


def test_wrong_secret_and_tampered_body_are_invalid_not_stale():
    header = signing.sign(BODY, SECRET, int(time.time()) - 10_000)
    with pytest.raises(InvalidSignature):
        signing.verify(BODY, header, "whsec_other", 300)
    with pytest.raises(InvalidSignature):
        signing.verify(BODY + b" ", header, SECRET, 300)


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_valid_signature_outside_the_tolerance_is_stale(offset):
    now = time.time()
    header = signing.sign(BODY, SECRET, int(now) + offset)
    with pytest.raises(StaleSignature) as info:
        signing.verify(BODY, header, SECRET, 300, now=now)
    assert info.value.code == "stale_signature"
    assert signing.verify(BODY, signing.sign(BODY, SECRET, int(now) - 299), SECRET, 300, now=now)
