"""Delivering alerts to real local receivers, and what a failure says about trying again."""

import json
import logging
import time
from datetime import UTC, datetime
from types import MappingProxyType

import httpx
import pytest

from duly.monitor.delivery import (
    MAX_ATTEMPTS,
    RETRY_CAP_S,
    DeliveryError,
    deliver,
    retry_delay_s,
)
from duly.monitor.signing import verify
from duly.service.channels import (
    EmailChannel,
    LogChannel,
    Message,
    SlackChannel,
    WebhookChannel,
    new_webhook_secret,
)
from receivers import Reply, SmtpReceiver, closed_port

AT = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
MESSAGE = Message(
    id="alert_123",
    kind="breach",
    created_at=AT,
    payload={"alert": {"id": "alert_123", "metric": "first_reply"}, "clock": {"ticket": "T-1"}},
    subject="T-1 breached its first reply target",
    text="First reply was due at 08:15 UTC.\nThe ticket is still waiting.",
)


def webhook(receiver, **changes):
    fields = {"name": "ops", "url": receiver.url + "/hooks/duly", "secret": new_webhook_secret()}
    return WebhookChannel(**(fields | changes))


def failure(channel, message=MESSAGE):
    with pytest.raises(DeliveryError) as caught:
        deliver(channel, message)
    return caught.value


# Webhooks


def test_a_webhook_posts_the_alert_in_a_standard_webhooks_envelope(http_receiver):
    deliver(webhook(http_receiver), MESSAGE)
    [request] = http_receiver.requests
    assert request.method == "POST"
    assert request.path == "/hooks/duly"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "type": "sla.breach",
        "timestamp": "2026-03-02T08:15:00Z",
        "data": MESSAGE.payload,
    }


def test_a_webhook_carries_the_alert_id_and_the_time_of_the_attempt(http_receiver):
    before = int(time.time())
    deliver(webhook(http_receiver), MESSAGE)
    headers = http_receiver.requests[0].headers
    assert headers["webhook-id"] == "alert_123"
    assert before <= int(headers["webhook-timestamp"]) <= int(time.time())


def test_a_delivered_webhook_verifies_with_the_channel_secret(http_receiver):
    channel = webhook(http_receiver)
    deliver(channel, MESSAGE)
    request = http_receiver.requests[0]
    assert verify(channel.secret, request.headers, request.body)
    assert not verify(new_webhook_secret(), request.headers, request.body)


def test_a_retried_webhook_keeps_its_id_so_the_receiver_can_drop_the_copy(http_receiver):
    http_receiver.reply_with(500)
    channel = webhook(http_receiver)
    assert failure(channel).retryable
    deliver(channel, MESSAGE)
    ids = [request.headers["webhook-id"] for request in http_receiver.requests]
    assert ids == ["alert_123", "alert_123"]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_a_webhook_answered_with_a_server_error_or_throttling_is_retryable(http_receiver, status):
    http_receiver.reply_with(status)
    error = failure(webhook(http_receiver))
    assert error.retryable
    assert str(status) in error.reason


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_a_webhook_refused_with_a_client_error_is_not_retryable(http_receiver, status):
    http_receiver.reply_with(status)
    error = failure(webhook(http_receiver))
    assert not error.retryable
    assert f"127.0.0.1 answered {status}" in error.reason


def test_a_refusal_quotes_the_start_of_the_receivers_answer(http_receiver):
    http_receiver.reply_with(Reply(400, body=b'{"error": "unknown\\n ticket"}'))
    assert failure(webhook(http_receiver)).reason.endswith(': {"error": "unknown\\n ticket"}')


def test_a_webhook_redirect_is_not_followed_and_not_retried(http_receiver):
    http_receiver.reply_with(Reply(301, headers={"location": "/elsewhere"}))
    assert not failure(webhook(http_receiver)).retryable
    assert len(http_receiver.requests) == 1


def test_a_retry_after_in_seconds_is_passed_on(http_receiver):
    http_receiver.reply_with(Reply(503, headers={"retry-after": "120"}))
    assert failure(webhook(http_receiver)).retry_after_s == 120


def test_a_retry_after_given_as_a_date_is_ignored(http_receiver):
    http_receiver.reply_with(Reply(429, headers={"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}))
    assert failure(webhook(http_receiver)).retry_after_s is None


def test_a_webhook_to_a_closed_port_is_retryable():
    channel = WebhookChannel("ops", f"http://127.0.0.1:{closed_port()}/", new_webhook_secret())
    error = failure(channel)
    assert error.retryable
    assert error.reason.startswith("could not reach 127.0.0.1")


def test_a_webhook_receiver_slower_than_the_timeout_is_retryable(http_receiver):
    http_receiver.reply_with(Reply(200, delay_s=10))
    started = time.monotonic()
    error = failure(webhook(http_receiver, timeout_s=0.3))
    assert time.monotonic() - started < 5
    assert error.retryable
    assert error.reason == "127.0.0.1 did not answer within 0.3 s"


def test_a_webhook_can_reuse_the_monitors_http_client(http_receiver):
    with httpx.Client() as client:
        deliver(webhook(http_receiver), MESSAGE, client=client)
        deliver(webhook(http_receiver), MESSAGE, client=client)
    assert len(http_receiver.requests) == 2


def test_a_read_only_mapping_in_the_payload_is_sent_as_a_json_object(http_receiver):
    payload = MappingProxyType({"clock": MappingProxyType({"ticket": "T-1"})})
    message = Message("alert_5", "warning", AT, payload, "Warning", "Soon due")
    deliver(webhook(http_receiver), message)
    assert json.loads(http_receiver.requests[0].body)["data"] == {"clock": {"ticket": "T-1"}}


def test_a_payload_that_is_not_json_is_not_retryable(http_receiver):
    message = Message("alert_9", "warning", AT, {"at": AT}, "Warning", "Soon due")
    error = failure(webhook(http_receiver), message)
    assert not error.retryable
    assert "not JSON" in error.reason
    assert http_receiver.requests == []


# Slack-compatible incoming webhooks


def slack(receiver):
    return SlackChannel("chat", receiver.url + "/services/T0/B0/secretToken")


def test_a_slack_message_has_fallback_text_and_a_section_with_the_subject_in_bold(http_receiver):
    deliver(slack(http_receiver), MESSAGE)
    [request] = http_receiver.requests
    assert request.path == "/services/T0/B0/secretToken"
    assert json.loads(request.body) == {
        "text": f"{MESSAGE.subject}\n{MESSAGE.text}",
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*{MESSAGE.subject}*\n{MESSAGE.text}"},
            }
        ],
    }


def test_a_slack_message_escapes_what_slack_would_read_as_markup(http_receiver):
    message = Message("alert_7", "escalation", AT, {}, "P1 <urgent> & late", "See <!channel>")
    deliver(slack(http_receiver), message)
    section = json.loads(http_receiver.requests[0].body)["blocks"][0]["text"]["text"]
    assert section == "*P1 &lt;urgent&gt; &amp; late*\nSee &lt;!channel&gt;"


def test_a_long_slack_message_is_cut_to_the_section_limit(http_receiver):
    message = Message("alert_8", "warning", AT, {}, "Long", "x" * 5000)
    deliver(slack(http_receiver), message)
    section = json.loads(http_receiver.requests[0].body)["blocks"][0]["text"]["text"]
    assert len(section) == 3000
    assert section.endswith("…")


def test_a_slack_message_is_not_signed(http_receiver):
    deliver(slack(http_receiver), MESSAGE)
    assert "webhook-signature" not in http_receiver.requests[0].headers


def test_a_slack_failure_does_not_reveal_the_token_in_its_url(http_receiver):
    http_receiver.reply_with(Reply(404, body=b"no_service"))
    error = failure(slack(http_receiver))
    assert not error.retryable
    assert "secretToken" not in error.reason
    assert error.reason == "127.0.0.1 answered 404 Not Found: no_service"


# E-mail


def email(receiver, **changes):
    fields = {
        "name": "mail",
        "host": receiver.host,
        "port": receiver.port,
        "sender": "duly@example.com",
        "to": ("oncall@example.com", "lead@example.com"),
    }
    return EmailChannel(**(fields | changes))


@pytest.fixture
def smtp_with_login():
    receiver = SmtpReceiver(credentials=("duly", "s3cret")).start()
    yield receiver
    receiver.stop()


def test_an_email_arrives_with_subject_sender_recipients_and_text(smtp_receiver):
    deliver(email(smtp_receiver), MESSAGE)
    [received] = smtp_receiver.messages
    assert received.envelope_from == "duly@example.com"
    assert received.envelope_to == ("oncall@example.com", "lead@example.com")
    assert received.message["Subject"] == MESSAGE.subject
    assert received.message["From"] == "duly@example.com"
    assert received.message["To"] == "oncall@example.com, lead@example.com"
    assert received.message.get_content_type() == "text/plain"
    assert received.message.get_content().replace("\r\n", "\n").strip() == MESSAGE.text


def test_an_email_message_id_comes_from_the_alert_id_so_retries_are_the_same_message(
    smtp_receiver,
):
    deliver(email(smtp_receiver), MESSAGE)
    deliver(email(smtp_receiver), MESSAGE)
    ids = [received.message["Message-ID"] for received in smtp_receiver.messages]
    assert ids == ["<duly.alert_123@example.com>"] * 2


def test_an_email_is_marked_auto_generated_so_nobody_auto_replies(smtp_receiver):
    deliver(email(smtp_receiver), MESSAGE)
    assert smtp_receiver.messages[0].message["Auto-Submitted"] == "auto-generated"


def test_an_email_channel_with_credentials_logs_in(smtp_with_login):
    deliver(email(smtp_with_login, username="duly", password="s3cret"), MESSAGE)
    assert smtp_with_login.logins == ["duly"]
    assert len(smtp_with_login.messages) == 1


def test_wrong_smtp_credentials_are_not_retryable(smtp_with_login):
    error = failure(email(smtp_with_login, username="duly", password="wrong"))
    assert not error.retryable
    assert "535" in error.reason
    assert smtp_with_login.messages == []


def test_starttls_against_a_server_without_it_is_not_retryable(smtp_receiver):
    error = failure(email(smtp_receiver, starttls=True))
    assert not error.retryable
    assert "STARTTLS" in error.reason


def test_a_recipient_refused_for_good_is_not_retryable(smtp_receiver):
    smtp_receiver.refuse["lead@example.com"] = "550 5.1.1 No such user"
    smtp_receiver.refuse["oncall@example.com"] = "550 5.1.1 No such user"
    error = failure(email(smtp_receiver))
    assert not error.retryable
    assert "lead@example.com (550 5.1.1 No such user)" in error.reason


def test_a_recipient_refused_for_now_is_retryable(smtp_receiver):
    smtp_receiver.refuse["oncall@example.com"] = "450 4.2.1 Mailbox busy"
    smtp_receiver.refuse["lead@example.com"] = "450 4.2.1 Mailbox busy"
    assert failure(email(smtp_receiver)).retryable


def test_one_refused_recipient_is_reported_though_the_others_got_the_alert(smtp_receiver):
    smtp_receiver.refuse["lead@example.com"] = "550 5.1.1 No such user"
    error = failure(email(smtp_receiver))
    assert not error.retryable
    assert "lead@example.com" in error.reason
    assert "oncall@example.com" not in error.reason
    assert smtp_receiver.messages[0].envelope_to == ("oncall@example.com",)


def test_a_temporary_refusal_of_the_message_is_retryable(smtp_receiver):
    smtp_receiver.data_replies.append("451 4.3.0 Try again later")
    error = failure(email(smtp_receiver))
    assert error.retryable
    assert error.reason.endswith("replied 451 4.3.0 Try again later")


def test_a_permanent_refusal_of_the_message_is_not_retryable(smtp_receiver):
    smtp_receiver.data_replies.append("554 5.6.0 Message rejected")
    assert not failure(email(smtp_receiver)).retryable


def test_an_smtp_server_that_is_not_listening_is_retryable():
    channel = EmailChannel("mail", "127.0.0.1", closed_port(), "duly@example.com", ("a@b.example",))
    error = failure(channel)
    assert error.retryable
    assert error.reason.startswith(f"could not reach 127.0.0.1:{channel.port}")


# The server log


def test_a_log_channel_writes_a_warning_to_the_alerts_logger(caplog):
    with caplog.at_level(logging.WARNING, logger="duly.alerts"):
        deliver(LogChannel("demo"), MESSAGE)
    [record] = caplog.records
    assert record.name == "duly.alerts"
    assert record.levelno == logging.WARNING
    assert MESSAGE.subject in record.getMessage()
    assert MESSAGE.text in record.getMessage()
    assert record.__dict__["alert_id"] == "alert_123"


# Retries


def test_retry_delays_double_from_two_seconds():
    delays = [retry_delay_s(n, jitter=lambda: 0.5) for n in range(1, 12)]
    assert delays == [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]


def test_retry_delays_stop_growing_at_an_hour():
    assert retry_delay_s(12, jitter=lambda: 0.5) == RETRY_CAP_S == 3600
    assert retry_delay_s(1000, jitter=lambda: 0.5) == 3600


def test_jitter_moves_a_delay_by_at_most_a_fifth_and_never_past_the_cap():
    assert retry_delay_s(3, jitter=lambda: 0.0) == pytest.approx(6.4)
    assert retry_delay_s(3, jitter=lambda: 1.0) == pytest.approx(9.6)
    assert retry_delay_s(12, jitter=lambda: 1.0) == 3600
    assert retry_delay_s(12, jitter=lambda: 0.0) == 2880


def test_random_jitter_stays_within_its_bounds():
    delays = {retry_delay_s(4) for _ in range(50)}
    assert all(12.8 <= delay <= 19.2 for delay in delays)
    assert len(delays) > 1


def test_an_alert_is_retried_for_about_three_hours_before_it_is_dead_lettered():
    waits = sum(retry_delay_s(n, jitter=lambda: 0.5) for n in range(1, MAX_ATTEMPTS))
    assert waits == 4094 + 2 * 3600
    assert 3 * 3600 < waits < 3.5 * 3600


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempts_are_counted_from_one(attempt):
    with pytest.raises(ValueError, match="start at 1"):
        retry_delay_s(attempt)


def test_jitter_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="jitter"):
        retry_delay_s(1, jitter=lambda: 1.5)
