"""Real receivers on 127.0.0.1 for delivery tests: an SMTP server, an HTTP server, a dead port.

Nothing here is a mock: the code under test opens real sockets to these servers.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    """A port on 127.0.0.1 with nothing listening on it (at the time of the call)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def unreachable_port() -> int:
    """An "unreachable" target: a 127.0.0.1 port nobody listens on (connection refused)."""
    return free_port()


class SilentListener:
    """A 127.0.0.1 port that accepts TCP connections (kernel backlog) but never says a word.

    An SMTP client connects, then waits for a banner that never comes: a read timeout.
    """

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((HOST, 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> SilentListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


class _SMTPHandler:
    def __init__(self, owner: SMTPReceiver) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        with self.owner._lock:
            self.owner._messages.append(
                ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), parsed, raw)
            )
        return "250 Message accepted for delivery"


class SMTPReceiver:
    """An aiosmtpd server on 127.0.0.1 (no TLS, no AUTH) that keeps every message it accepts.

    ``stop()`` simulates an outage; ``start()`` again listens on the same port.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._messages: list[ReceivedMail] = []
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def start(self) -> SMTPReceiver:
        if self._controller is None:
            c = Controller(_SMTPHandler(self), hostname=HOST, port=self.port, ready_timeout=5.0)
            c.start()
            self._controller = c
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msgs = self.messages
            if len(msgs) >= count:
                return msgs
            time.sleep(0.02)
        return self.messages

    def url(self, to: str, *, sender: str = "kttt@localhost", extra: str = "") -> str:
        """A ``mailto://`` URL for this server: plain SMTP, no TLS, no login."""
        return f"mailto://{HOST}:{self.port}?to={to}&from={sender}{extra}"

    def __enter__(self) -> SMTPReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------

Mode = Literal["ok", "error", "hang"]


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any = None
    at: float = field(default_factory=time.monotonic)


class HTTPReceiver:
    """A ``ThreadingHTTPServer`` on 127.0.0.1 recording every request (path, headers, JSON body).

    Modes per path (``set_mode``; ``default_mode`` otherwise): ``ok`` answers 200, ``error``
    answers 500, ``hang`` records the request then waits ``hang_seconds`` (longer than the
    client's read timeout, but bounded, and cut short by ``stop()``) before answering 200.
    """

    def __init__(self, default_mode: Mode = "ok", hang_seconds: float = 4.0) -> None:
        self.default_mode: Mode = default_mode
        self.hang_seconds = hang_seconds
        self._modes: dict[str, Mode] = {}
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def set_mode(self, path: str, mode: Mode) -> None:
        with self._lock:
            self._modes[path] = mode

    def mode_for(self, path: str) -> Mode:
        with self._lock:
            return self._modes.get(path, self.default_mode)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def url(self, path: str = "/hook", scheme: str = "json") -> str:
        return f"{scheme}://{HOST}:{self.port}{path}"

    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(req)

    def start(self) -> HTTPReceiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # the request line carries the path, which may hold a token

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                try:
                    data = json.loads(body) if body else None
                except ValueError:
                    data = None
                owner._record(
                    RecordedRequest(
                        self.command,
                        parts.path,
                        parts.query,
                        {k: v for k, v in self.headers.items()},
                        body,
                        data,
                    )
                )
                mode = owner.mode_for(parts.path)
                if mode == "hang":
                    owner._stopping.wait(owner.hang_seconds)
                status = 500 if mode == "error" else 200
                payload = b'{"error": "boom"}' if mode == "error" else b'{"ok": true}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout): fine
                self.close_connection = True

            do_POST = _handle
            do_GET = _handle
            do_PUT = _handle

        self._stopping.clear()
        server = ThreadingHTTPServer((HOST, 0), Handler)
        server.daemon_threads = True
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HTTPReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# Network guard: tests that use these receivers must not reach anything but the loopback.
# --------------------------------------------------------------------------------------------

_GUARD: dict[str, Any] = {"on": False, "blocked": []}
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "", None}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _GUARD["on"]:
        return
    host: Any = None
    if event == "socket.getaddrinfo":
        host = args[0]
    elif event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and address:
            host = address[0]
        else:
            return  # AF_UNIX etc.
    else:
        return
    if isinstance(host, bytes):
        host = host.decode()
    if host not in _LOOPBACK:
        _GUARD["blocked"].append(str(host))
        raise RuntimeError(f"test network guard: refusing to reach {host!r}")


sys.addaudithook(_audit)  # installed once per process, when this module is first imported


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse (and report) any DNS lookup or connection outside 127.0.0.1 inside the block."""
    _GUARD["on"] = True
    _GUARD["blocked"] = []
    try:
        yield
    finally:
        _GUARD["on"] = False
    assert _GUARD["blocked"] == [], f"tried to leave 127.0.0.1: {_GUARD['blocked']}"


# Fixtures for the modules that use these receivers (registered as a plugin by conftest.py;
# those modules apply the first two with `pytestmark = pytest.mark.usefixtures(...)`).
@pytest.fixture
def network_guard() -> Iterator[None]:
    with loopback_only():
        yield


@pytest.fixture(scope="module")
def warm_apprise() -> None:
    # Apprise loads its ~160 plugins on first use (about a second); keep that out of timings.
    from apprise import Apprise

    Apprise.instantiate("json://127.0.0.1/warmup")


@pytest.fixture
def smtp() -> Iterator[SMTPReceiver]:
    with SMTPReceiver() as server:
        yield server
