"""Real local receivers for delivery tests: an HTTP server and an SMTP server on 127.0.0.1.

Both listen on a free port chosen by the system, record everything they receive, and answer
what a test tells them to, so tests exercise real sockets, real HTTP and real SMTP instead of
mocks. Use them through the ``http_receiver`` and ``smtp_receiver`` fixtures (``conftest.py``),
which stop them after each test.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["HttpReceiver", "Reply", "Request", "SmtpReceiver", "closed_port"]


@dataclass(frozen=True)
class Request:
    """One request as the receiver saw it; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    """What the receiver answers to one request, after waiting ``delay_s``."""

    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class HttpReceiver:
    """A real threaded HTTP server that records requests and answers from a script.

    ``replies`` are used one per request, in order; once used up every request gets ``200``.
    A delayed reply waits on an event that ``stop`` sets, so stopping never waits for a delay.
    """

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.replies: list[Reply] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reply_with(self, *replies: Reply | int) -> None:
        """Queue the answers to the next requests; a bare number is a reply with that status."""
        with self._lock:
            self.replies.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self.replies.pop(0) if self.replies else Reply()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = receiver._next(Request("POST", self.path, headers, body))
                if reply.delay_s and receiver._stopping.wait(reply.delay_s):
                    self.close_connection = True
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:  # the client gave up waiting (a time-out test)
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                """Requests are recorded in ``requests``; the test output stays quiet."""

        return Handler


@dataclass(frozen=True)
class _Received:
    envelope_from: str
    envelope_to: tuple[str, ...]
    message: EmailMessage


class _SmtpHandler:
    """aiosmtpd handler: records messages and answers with the replies a test queued."""

    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(  # noqa: N802 -- the name aiosmtpd calls
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        refusal = self.receiver.refuse.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 -- the name aiosmtpd calls
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        with self.receiver.lock:
            if self.receiver.data_replies:
                return self.receiver.data_replies.pop(0)
            message = message_from_bytes(envelope.content, policy=policy.SMTP)
            self.receiver.messages.append(
                _Received(envelope.mail_from, tuple(envelope.rcpt_tos), message)
            )
            if session.authenticated:
                self.receiver.logins.append(session.auth_data.login.decode())
        return "250 Message accepted for delivery"


class _FreePortController(Controller):
    """aiosmtpd's controller, able to listen on port 0: it learns the real port before the
    connection it makes to check that the server is up."""

    def _trigger_server(self) -> None:
        server = cast(asyncio.Server, self.server)
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpReceiver:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts.

    ``refuse`` maps a recipient to the reply that refuses it (``"550 5.1.1 no such user"``);
    ``data_replies`` are answers to the next messages instead of accepting them. With
    ``credentials``, AUTH LOGIN/PLAIN is offered over plain text (no STARTTLS in tests) and only
    that user name and password are accepted; ``logins`` lists the user of each accepted message.
    """

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.messages: list[_Received] = []
        self.refuse: dict[str, str] = {}
        self.data_replies: list[str] = []
        self.logins: list[str] = []
        self.lock = threading.Lock()
        self._credentials = credentials
        options: dict[str, Any] = {}
        if credentials is not None:
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = _FreePortController(
            _SmtpHandler(self), hostname="127.0.0.1", port=0, **options
        )

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def start(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self._credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self._credentials
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
