"""Channel specifications: what is accepted, what is refused (naming the field), what is shown."""

import base64
import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from duly.service.channels import (
    MASK,
    ChannelError,
    EmailChannel,
    LogChannel,
    Message,
    SlackChannel,
    WebhookChannel,
    channel_from_mapping,
    channel_to_mapping,
    new_webhook_secret,
    webhook_secret_key,
)

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
WEBHOOK = {"kind": "webhook", "url": "https://hooks.example.com/duly", "secret": SECRET}
SLACK = {"kind": "slack", "url": "https://chat.example.com/services/T0/B0/tokenXYZ"}
EMAIL = {
    "kind": "email",
    "host": "smtp.example.com",
    "sender": "duly@example.com",
    "to": ["oncall@example.com", "lead@example.com"],
}


def refusal(data, name="ops"):
    with pytest.raises(ChannelError) as caught:
        channel_from_mapping(name, data)
    return caught.value


def test_a_webhook_channel_is_read_with_its_url_secret_and_default_timeout():
    channel = channel_from_mapping("ops", WEBHOOK)
    assert channel == WebhookChannel("ops", WEBHOOK["url"], SECRET, 10.0)


def test_a_webhook_without_a_secret_gets_a_new_valid_one():
    first = channel_from_mapping("ops", {"kind": "webhook", "url": "https://a.example"})
    second = channel_from_mapping("ops", {"kind": "webhook", "url": "https://a.example"})
    assert isinstance(first, WebhookChannel)
    assert isinstance(second, WebhookChannel)
    assert len(webhook_secret_key(first.secret)) == 32
    assert first.secret != second.secret


def test_a_new_webhook_secret_is_whsec_and_32_random_bytes():
    secret = new_webhook_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_a_slack_channel_is_read_with_its_url():
    assert channel_from_mapping("chat", SLACK | {"timeout_s": 5}) == SlackChannel(
        "chat", SLACK["url"], 5.0
    )


def test_an_email_channel_defaults_to_port_25_without_credentials():
    channel = channel_from_mapping("mail", EMAIL)
    assert channel == EmailChannel(
        "mail",
        "smtp.example.com",
        25,
        "duly@example.com",
        ("oncall@example.com", "lead@example.com"),
    )


def test_an_email_channel_with_starttls_defaults_to_the_submission_port():
    channel = channel_from_mapping("mail", EMAIL | {"starttls": True})
    assert isinstance(channel, EmailChannel)
    assert channel.port == 587
    assert channel.starttls


def test_an_email_channel_takes_a_single_recipient_as_text():
    channel = channel_from_mapping("mail", EMAIL | {"to": "oncall@example.com"})
    assert isinstance(channel, EmailChannel)
    assert channel.to == ("oncall@example.com",)


def test_a_log_channel_needs_only_its_kind():
    assert channel_from_mapping("demo", {"kind": "log"}) == LogChannel("demo")


def test_channels_are_immutable():
    channel = channel_from_mapping("ops", WEBHOOK)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(channel, "url", "https://elsewhere.example")  # noqa: B010 -- a frozen field


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"url": "https://a.example"}, "kind", "is required"),
        ({"kind": "sms"}, "kind", "webhook, slack, email, log"),
        (WEBHOOK | {"headers": {}}, "headers", "unknown key"),
        ({"kind": "log", "url": "https://a.example"}, "url", "unknown key"),
        ({"kind": "webhook"}, "url", "is required"),
        ({"kind": "webhook", "url": ""}, "url", "is required"),
        ({"kind": "webhook", "url": 42}, "url", "must be text"),
        ({"kind": "webhook", "url": "ftp://files.example/x"}, "url", "http:// or https://"),
        ({"kind": "webhook", "url": "hooks.example.com/duly"}, "url", "http:// or https://"),
        ({"kind": "webhook", "url": "https://"}, "url", "http:// or https://"),
        ({"kind": "webhook", "url": "https://a.example:99999/"}, "url", "invalid port"),
        ({"kind": "slack", "url": "https://a.example/x y"}, "url", "spaces"),
        (WEBHOOK | {"secret": "hunter2"}, "secret", "must start with 'whsec_'"),
        (WEBHOOK | {"secret": "whsec_not base64!"}, "secret", "base64"),
        (
            WEBHOOK | {"secret": "whsec_" + base64.b64encode(b"x" * 16).decode()},
            "secret",
            "24 to 64 random bytes, not 16",
        ),
        (
            WEBHOOK | {"secret": "whsec_" + base64.b64encode(b"x" * 65).decode()},
            "secret",
            "24 to 64 random bytes, not 65",
        ),
        (WEBHOOK | {"timeout_s": 0}, "timeout_s", "more than 0"),
        (WEBHOOK | {"timeout_s": 600}, "timeout_s", "at most 120"),
        (WEBHOOK | {"timeout_s": "10"}, "timeout_s", "number of seconds"),
        (WEBHOOK | {"timeout_s": True}, "timeout_s", "number of seconds"),
        ({k: v for k, v in EMAIL.items() if k != "host"}, "host", "is required"),
        (EMAIL | {"host": "smtp example"}, "host", "not a host name"),
        ({k: v for k, v in EMAIL.items() if k != "sender"}, "sender", "is required"),
        (EMAIL | {"sender": "duly.example.com"}, "sender", "not an e-mail address"),
        ({k: v for k, v in EMAIL.items() if k != "to"}, "to", "is required"),
        (EMAIL | {"to": []}, "to", "is required"),
        (EMAIL | {"to": "nobody"}, "to", "not an e-mail address"),
        (EMAIL | {"to": ["a@example.com", "b.example.com"]}, "to[1]", "not an e-mail address"),
        (EMAIL | {"to": ["a@example.com", 7]}, "to[1]", "must be an address"),
        (EMAIL | {"to": {"a": "a@example.com"}}, "to", "a list of them"),
        (
            EMAIL | {"to": ["a@example.com", "b@example.com\r\nBcc: c@example.com"]},
            "to[1]",
            "not an e-mail address",
        ),
        (EMAIL | {"to": ["Lead <lead@example.com>"]}, "to[0]", "not an e-mail address"),
        (EMAIL | {"to": ["a@example.com,b@example.com"]}, "to[0]", "not an e-mail address"),
        (EMAIL | {"port": 0}, "port", "out of range"),
        (EMAIL | {"port": 65536}, "port", "out of range"),
        (EMAIL | {"port": "587"}, "port", "whole number"),
        (EMAIL | {"starttls": "yes"}, "starttls", "true or false"),
        (EMAIL | {"username": "duly"}, "password", "is required"),
        (EMAIL | {"password": "s3cret"}, "username", "is required"),
    ],
)
def test_a_channel_that_cannot_be_used_is_refused_naming_the_field(data, field, reason):
    error = refusal(data)
    assert error.field == field
    assert reason in error.reason
    assert str(error).startswith(f"{field}: ")


def test_an_unknown_key_is_reported_before_a_missing_one_it_was_probably_meant_to_be():
    error = refusal({"kind": "webhook", "ulr": "https://a.example"})
    assert error.field == "ulr"
    assert "url" in error.reason


def test_an_unknown_kind_lists_the_allowed_kinds():
    assert refusal({"kind": "pager"}).reason.endswith("expected one of webhook, slack, email, log")


@pytest.mark.parametrize("name", ["", "has space", "-leading", "x" * 65])
def test_a_channel_name_that_cannot_be_referred_to_is_refused(name):
    assert refusal({"kind": "log"}, name=name).field == "name"


def test_a_channel_error_is_a_value_error():
    assert isinstance(refusal({"kind": "sms"}), ValueError)


def test_an_error_about_a_secret_does_not_repeat_the_secret():
    secret = "whsec_" + base64.b64encode(b"k" * 8).decode()
    assert secret not in str(refusal(WEBHOOK | {"secret": secret}))


def test_a_webhook_shows_no_secret_unless_revealed():
    shown = channel_to_mapping(channel_from_mapping("ops", WEBHOOK), reveal_secrets=False)
    assert shown == {"kind": "webhook", "url": WEBHOOK["url"], "secret": MASK, "timeout_s": 10.0}


def test_a_webhook_url_shows_no_password_or_query_unless_revealed():
    url = "https://duly:pa55@hooks.example.com/in?token=abc"
    shown = channel_to_mapping(channel_from_mapping("ops", WEBHOOK | {"url": url}), False)
    assert shown["url"] == f"https://duly:{MASK}@hooks.example.com/in?{MASK}"


def test_a_slack_url_shows_only_its_host_unless_revealed():
    shown = channel_to_mapping(channel_from_mapping("chat", SLACK), reveal_secrets=False)
    assert shown["url"] == f"https://chat.example.com/{MASK}"
    assert "tokenXYZ" not in str(shown)


def test_an_email_password_is_masked_unless_revealed():
    data = EMAIL | {"username": "duly", "password": "s3cret"}
    shown = channel_to_mapping(channel_from_mapping("mail", data), reveal_secrets=False)
    assert shown["username"] == "duly"
    assert shown["password"] == MASK


def test_an_email_channel_without_a_password_shows_none_rather_than_a_mask():
    shown = channel_to_mapping(channel_from_mapping("mail", EMAIL), reveal_secrets=False)
    assert shown["password"] is None


@pytest.mark.parametrize(
    "data",
    [
        WEBHOOK | {"url": "https://duly:pa55@hooks.example.com/in?token=abc", "timeout_s": 3},
        SLACK,
        EMAIL | {"username": "duly", "password": "s3cret", "starttls": True, "port": 2525},
        {"kind": "log"},
    ],
    ids=["webhook", "slack", "email", "log"],
)
def test_a_revealed_channel_reads_back_as_the_same_channel(data):
    channel = channel_from_mapping("x", data)
    assert channel_from_mapping("x", channel_to_mapping(channel, reveal_secrets=True)) == channel


def test_a_masked_webhook_cannot_be_read_back_as_if_the_mask_were_its_secret():
    shown = channel_to_mapping(channel_from_mapping("ops", WEBHOOK), reveal_secrets=False)
    assert refusal(shown).field == "secret"


AT = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)


def message(**changes):
    fields: dict[str, Any] = {
        "id": "alert_123",
        "kind": "breach",
        "created_at": AT,
        "payload": {"ticket": "T-1"},
        "subject": "T-1 breached its first reply target",
        "text": "First reply was due at 08:15.",
    }
    return Message(**(fields | changes))


def test_a_message_keeps_what_it_was_given():
    assert message().id == "alert_123"
    assert message().created_at == AT


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": "alert.123"}, "message id"),
        ({"id": ""}, "message id"),
        ({"id": "alert 123"}, "message id"),
        ({"kind": "notice"}, "message kind"),
        ({"created_at": datetime(2026, 3, 2, 8, 15)}, "aware UTC"),
        ({"created_at": AT.astimezone(timezone(timedelta(hours=1)))}, "aware UTC"),
        ({"subject": "Breach\r\nBcc: someone@example.com"}, "one line"),
    ],
)
def test_a_message_that_cannot_be_sent_safely_is_refused(changes, reason):
    with pytest.raises(ValueError, match=reason):
        message(**changes)
