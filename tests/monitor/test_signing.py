"""Standard Webhooks signatures: what duly sends verifies, and nothing altered does."""

import base64
import time

import pytest

from duly.monitor.signing import sign, verify
from duly.service.channels import new_webhook_secret

# The signing test of the Standard Webhooks reference libraries; the expected value was checked
# by recomputing HMAC-SHA256 over "{id}.{timestamp}.{body}" with the key from the secret.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = new_webhook_secret()
BODY = b'{"type":"sla.breach","timestamp":"2026-03-02T08:15:00Z","data":{"ticket":"T-1"}}'


def signed_headers(secret=SECRET, msg_id="alert_1", timestamp=None, body=BODY):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def test_the_signature_of_the_reference_example_matches_the_standard_webhooks_libraries():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_the_reference_example_verifies_at_its_own_time():
    headers = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TIMESTAMP + 10)


def test_a_signature_is_v1_and_the_base64_of_a_sha256_digest():
    version, _, digest = sign(SECRET, "alert_1", 1_700_000_000, BODY).partition(",")
    assert version == "v1"
    assert len(base64.b64decode(digest, validate=True)) == 32


def test_a_signed_webhook_verifies_with_its_secret():
    assert verify(SECRET, signed_headers(), BODY)


def test_a_webhook_verifies_whatever_the_case_of_its_header_names():
    headers = {name.title(): value for name, value in signed_headers().items()}
    assert verify(SECRET, headers, BODY)


def test_a_text_body_verifies_like_its_utf8_bytes():
    body = '{"subject":"Frist überschritten"}'
    headers = signed_headers(body=body.encode("utf-8"))
    assert verify(SECRET, headers, body)


def test_a_webhook_does_not_verify_with_another_secret():
    assert not verify(new_webhook_secret(), signed_headers(), BODY)


def test_a_webhook_with_a_tampered_body_fails_verification():
    tampered = BODY.replace(b"T-1", b"T-2")
    assert not verify(SECRET, signed_headers(), tampered)


def test_a_webhook_with_a_changed_id_fails_verification():
    headers = signed_headers() | {"webhook-id": "alert_2"}
    assert not verify(SECRET, headers, BODY)


def test_a_webhook_with_a_changed_timestamp_fails_verification():
    headers = signed_headers()
    headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) + 1)
    assert not verify(SECRET, headers, BODY)


def test_a_webhook_signed_longer_ago_than_the_tolerance_fails_verification():
    stale = int(time.time()) - 301
    assert not verify(SECRET, signed_headers(timestamp=stale), BODY, tolerance_s=300)


def test_a_webhook_signed_within_the_tolerance_verifies():
    recent = int(time.time()) - 250
    assert verify(SECRET, signed_headers(timestamp=recent), BODY, tolerance_s=300)


def test_a_webhook_dated_in_the_future_beyond_the_tolerance_fails_verification():
    future = int(time.time()) + 301
    assert not verify(SECRET, signed_headers(timestamp=future), BODY, tolerance_s=300)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_webhook_missing_a_signature_header_fails_verification(missing):
    headers = signed_headers()
    del headers[missing]
    assert not verify(SECRET, headers, BODY)


def test_a_webhook_with_a_timestamp_that_is_not_a_number_fails_verification():
    headers = signed_headers() | {"webhook-timestamp": "yesterday"}
    assert not verify(SECRET, headers, BODY)


def test_one_matching_signature_among_several_is_enough_for_secret_rotation():
    headers = signed_headers()
    old = sign(new_webhook_secret(), "alert_1", int(headers["webhook-timestamp"]), BODY)
    headers["webhook-signature"] = f"{old} {headers['webhook-signature']}"
    assert verify(SECRET, headers, BODY)


def test_a_signature_of_another_version_is_not_accepted_as_v1():
    headers = signed_headers()
    headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v1a,")
    assert not verify(SECRET, headers, BODY)


def test_verifying_with_a_secret_that_is_not_a_webhook_secret_is_an_error_not_a_rejection():
    with pytest.raises(ValueError, match="whsec_"):
        verify("not-a-secret", signed_headers(), BODY)
