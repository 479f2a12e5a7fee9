"""The HTTP server itself: recording, keep-alive speed, stop(), bad clients."""

from __future__ import annotations

import json
import socket
import statistics
import struct
import threading
import time

import pytest
import requests

from .helpers import (
    BASIC,
    PASSWORD_GRANT,
    PREMIUM,
    STANDARD,
    change,
    raw_socket,
)


def test_records_headers_body_status_and_kind(sandbox, session, token):
    change(
        session,
        sandbox,
        token,
        headers={
            "x-correlation-id": "corr-1",
            "nv-tenant-id": "tenant-9",
            "X-Custom": "Value",
        },
    )
    [grant] = sandbox.requests("token")
    [record] = sandbox.requests("change_product")
    assert grant.method == "POST" and "grant_type=password" in grant.body and grant.status == 200
    assert record.kind == "change_product" and record.method == "POST"
    assert record.correlation_id == "corr-1"
    assert record.tenant_id == "tenant-9"
    assert record.header("X-CUSTOM") == record.headers["x-custom"] == "Value"
    assert record.header("authorization") == f"Bearer {token}"
    assert record.header("content-type") == "application/json"
    assert record.json() == {"productId": STANDARD}
    assert record.status == 200 and record.fault is None
    assert record.peer[0] == "127.0.0.1" and record.peer[1] > 0
    assert grant.serial < record.serial and grant.time <= record.time
    assert len(sandbox.requests()) == 2
    sandbox.reset_requests()
    assert sandbox.requests() == []


def test_connection_reuse_is_visible(sandbox, token):
    with requests.Session() as first, requests.Session() as second:
        change(first, sandbox, token)
        change(first, sandbox, token, product_id=PREMIUM)
        change(second, sandbox, token, product_id=BASIC)
    a, b, c = sandbox.requests("change_product")
    assert a.peer == b.peer and a.connection == b.connection
    assert c.peer != a.peer and c.connection != a.connection


def test_control_api_requests_are_not_recorded(sandbox, session):
    session.get(f"{sandbox.url}/_sandbox/requests", timeout=5)
    session.get(f"{sandbox.url}/_sandbox/", timeout=5)
    assert sandbox.requests() == []


def test_keep_alive_requests_are_fast_and_share_one_connection(sandbox, session, token):
    """Guards against the ~40 ms Nagle + delayed-ACK regression (TCP_NODELAY, one send)."""
    durations = []
    for i in range(50):
        started = time.perf_counter()
        answer = change(session, sandbox, token, product_id=(STANDARD, PREMIUM)[i % 2])
        durations.append(time.perf_counter() - started)
        assert answer.status_code == 200
    median_ms = statistics.median(durations) * 1000
    print(f"median keep-alive changeProduct: {median_ms:.3f} ms")
    # Nagle + delayed ACK costs ~40 ms a request; 20 ms keeps that caught on a busy shared
    # machine, where a healthy median drifts from under 1 ms to several.
    assert median_ms < 20
    records = sandbox.requests()  # the token request came on the same session
    assert len({r.peer for r in records}) == 1 and len({r.connection for r in records}) == 1


def test_stop_wakes_a_hanging_request_and_closes_kept_alive_connections(sandbox, session, token):
    sandbox.inject("change_product", "hang", seconds=30)
    errors = []

    def hang():
        try:
            change(requests, sandbox, token, timeout=30)
        except requests.exceptions.RequestException as exc:
            errors.append(exc)

    thread = threading.Thread(target=hang)
    thread.start()
    while not sandbox.requests("change_product"):
        time.sleep(0.01)
    started = time.perf_counter()
    sandbox.stop()
    thread.join(5)
    assert time.perf_counter() - started < 2
    assert not thread.is_alive() and errors
    # The session's pooled connection (from the token request) was closed too.
    with pytest.raises(requests.exceptions.ConnectionError):
        session.post(sandbox.token_url, data=PASSWORD_GRANT, timeout=2)
    sandbox.stop()  # idempotent


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NOT A REQUEST\r\n\r\n", b"400"),
        (b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", b"413"),
        (b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"411"),
        (b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", b"400"),
        (b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", b"501"),
    ],
    ids=["garbage", "too-large", "chunked", "bad-length", "unsupported-method"],
)
def test_malformed_requests_get_a_json_error_and_a_closed_connection(
    sandbox, request_bytes, status, capfd
):
    answer = raw_socket(sandbox, request_bytes)  # returns once the sandbox closed
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == status
    assert b"Connection: close" in head
    assert json.loads(body)["code"]
    assert capfd.readouterr().err == ""


def test_vanishing_clients_leave_no_traceback(sandbox, session, token, capfd):
    # A client that promises a body and vanishes.
    with socket.create_connection((sandbox.host, sandbox.port)) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort")
    # A client that resets its own connection while waiting.
    sandbox.inject("change_product", "latency", ms=100)
    with socket.create_connection((sandbox.host, sandbox.port)) as sock:
        sock.sendall(
            b"POST /tpes/v1/operator/entitlements/e/actions/changeProduct HTTP/1.1\r\n"
            b"Host: x\r\nContent-Length: 0\r\n\r\n"
        )
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.3)
    assert change(session, sandbox, token).status_code == 200
    assert capfd.readouterr().err == ""


def test_expect_100_continue(sandbox, token):
    body = json.dumps({"productId": STANDARD}).encode()
    head = (
        "POST /tpes/v1/operator/entitlements/ent-netflix-1/actions/changeProduct HTTP/1.1\r\n"
        f"Host: x\r\nAuthorization: Bearer {token}\r\nExpect: 100-continue\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((sandbox.host, sandbox.port), timeout=2) as sock:
        sock.sendall(head)
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        assert sock.recv(1000).startswith(b"HTTP/1.1 200 ")
