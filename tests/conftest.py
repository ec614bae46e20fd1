"""Fixtures shared by the test folders."""

from collections.abc import Iterator

import pytest

from receivers import HttpReceiver, SmtpReceiver


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """A real HTTP server on 127.0.0.1 recording requests; queue answers with ``reply_with``."""
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """A real SMTP server on 127.0.0.1 keeping every message it accepts."""
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()
