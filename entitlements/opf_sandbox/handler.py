"""The socket side: read a request, record it, apply any fault, send the answer in one write.

`SandboxHTTPServer` knows nothing of OPF: it is given a `Plumbing` (the recorder, the fault
queue, the standing latency and the functions that answer) and serves it.
"""

from __future__ import annotations

import itertools
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .faults import KINDS, SHAPING, Fault, FaultQueue
from .recording import RecordedRequest, Recorder
from .routing import CONTROL_PREFIX, Target, classify
from .wire import Response, encode, error_response


@dataclass(frozen=True)
class Plumbing:
    """What the socket side needs from the sandbox, and nothing more."""

    recorder: Recorder
    faults: FaultQueue
    latency_ms: Callable[[], float]  # standing latency, read on every request
    # The normal OPF/Keycloak answer, shaped by a SHAPING fault if one is given.
    answer: Callable[[Target, RecordedRequest, Fault | None], Response]
    fault_answer: Callable[[Fault], Response]  # what a status-like fault sends instead
    control: Callable[[str, str, str, bytes], Response]  # (method, path, query, body)


# Change requests are tiny; anything this big is a client bug or an attack, not a request.
MAX_BODY = 1024 * 1024


class ClientGone(ConnectionError):
    """The client closed the connection before sending the whole request."""


def _closing_error(status: int, code: str, message: str) -> Response:
    response = error_response(status, code, message)
    response.close = True  # the rest of the stream cannot be trusted to start a new request
    return response


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the portal's pooled session expects
    # StreamRequestHandler sets TCP_NODELAY on each accepted socket when this is true. Without it,
    # Nagle's algorithm and the client's delayed ACK add ~40 ms to a pooled keep-alive request.
    disable_nagle_algorithm = True
    # Buffered, so an answer built in one piece leaves in one send() at flush().
    wbufsize = 64 * 1024
    # An idle keep-alive connection is dropped after this; a client pool just reconnects.
    timeout = 120

    server: SandboxHTTPServer
    connection_serial: int

    def setup(self) -> None:
        super().setup()
        self.connection_serial = self.server.connection_opened(self.connection)

    def finish(self) -> None:
        self.server.connection_closed(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        body, problem = self._read_body()
        plumbing = self.server.plumbing
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            self._send(problem or plumbing.control(self.command, path, query, body))
            return
        target = classify(path)
        record = plumbing.recorder.record(
            kind=target.kind,
            method=self.command,
            path=self.path,
            entitlement_id=target.entitlement_id,
            headers=self._header_dict(),
            body=body.decode("utf-8", "replace"),
            time=time.time(),
            peer=tuple(self.client_address[:2]),
            connection=self.connection_serial,
        )
        if problem:
            self._reply(record, problem)
            return
        try:
            self._serve(record, target)
        except (ConnectionError, TimeoutError):
            raise  # the client went away; the server drops the connection quietly
        except Exception:
            # A sandbox bug, not a client's: make it loud, but still answer.
            traceback.print_exc()
            self._reply(record, _closing_error(500, "SANDBOX_ERROR", "See the sandbox's stderr."))

    def _serve(self, record: RecordedRequest, target: Target) -> None:
        plumbing = self.server.plumbing
        fault = plumbing.faults.take(target.kind) if target.kind in KINDS else None
        record.fault = fault.name if fault else None
        extra_ms = fault.params["ms"] if fault and fault.name == "latency" else 0
        self._pause((plumbing.latency_ms() + extra_ms) / 1000)

        if fault is None or fault.name in SHAPING:
            self._reply(record, plumbing.answer(target, record, fault))
            return
        # With apply, OPF did the work and the fault only hides the answer.
        done = plumbing.answer(target, record, None) if fault.params.get("apply") else None
        if fault.name == "hang":
            self.close_connection = True
            self._pause(fault.params["seconds"])
        elif fault.name == "reset":
            self._reset()
        elif fault.name == "truncate":
            self._truncate(record, done or plumbing.fault_answer(fault))
        else:
            self._reply(record, plumbing.fault_answer(fault))

    def _pause(self, seconds: float) -> None:
        # Waits on the stop event, so stop() never waits for a hang or a latency to run out.
        if seconds > 0:
            self.server.stopping.wait(seconds)

    def _reset(self) -> None:
        self.close_connection = True
        # SO_LINGER on with a zero timeout makes close() send RST instead of FIN. The socket
        # really closes once finish() drops rfile/wfile; the server's later shutdown(SHUT_WR),
        # which would send a FIN first, then fails quietly on the closed socket.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _truncate(self, record: RecordedRequest, response: Response) -> None:
        record.status = response.status
        self.close_connection = True
        data = encode(response, close=True)
        self.wfile.write(data[: len(data) - (len(response.body) + 1) // 2])
        self.wfile.flush()

    def _reply(self, record: RecordedRequest, response: Response) -> None:
        # Set before sending: a test may look at the record the moment it has the answer.
        record.status = response.status
        self._send(response)

    def _send(self, response: Response) -> None:
        self.close_connection = self.close_connection or response.close
        self.wfile.write(encode(response, close=self.close_connection))
        self.wfile.flush()
        if self.server.verbose:
            self.log_message('"%s" %s', self.requestline, response.status)

    def _read_body(self) -> tuple[bytes, Response | None]:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return b"", _closing_error(411, "LENGTH_REQUIRED", "Send a Content-Length.")
        declared = self.headers.get("Content-Length")
        if declared is None:
            return b"", None
        declared = declared.strip()
        if not (declared.isascii() and declared.isdigit()):
            return b"", _closing_error(400, "BAD_CONTENT_LENGTH", "Bad Content-Length.")
        if int(declared) > MAX_BODY:
            return b"", _closing_error(413, "BODY_TOO_LARGE", f"The limit is {MAX_BODY} bytes.")
        body = self.rfile.read(int(declared))
        if len(body) < int(declared):
            raise ClientGone("the client closed the connection mid-body")
        return body, None

    def _header_dict(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return headers

    # --- http.server hooks ---------------------------------------------------------------

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server calls this for requests it cannot parse: answer JSON like the rest."""
        try:
            status = HTTPStatus(code)
            name, phrase = status.name, status.phrase
        except ValueError:
            name, phrase = "ERROR", ""
        self.close_connection = True
        self._send(_closing_error(code, name, message or phrase))

    def handle_expect_100(self) -> bool:
        # The stock version leaves "100 Continue" in our buffered wfile; the client would wait.
        self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.wfile.flush()
        return True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a hanging request must never keep the process alive

    def __init__(self, address: tuple[str, int], plumbing: Plumbing, *, verbose: bool) -> None:
        self.plumbing = plumbing
        self.verbose = verbose
        self.stopping = threading.Event()  # wakes hang and latency faults on stop()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._serials = itertools.count(1)
        super().__init__(address, SandboxHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can mean a DNS query; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def connection_opened(self, connection: socket.socket) -> int:
        with self._lock:
            self._open.add(connection)
            return next(self._serials)

    def connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.discard(connection)

    def close_connections(self) -> None:
        """End idle keep-alive connections too, so a stopped sandbox answers nothing."""
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its handler

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that vanish mid-request are normal in fault tests; no traceback for them.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)
