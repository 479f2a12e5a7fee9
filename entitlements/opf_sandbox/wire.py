"""Responses as values, and their exact bytes on the wire."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

# RFC 9110: these never carry a body, nor (204, 1xx) a Content-Length.
_NO_BODY = frozenset({204, 304})


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False  # close the connection after sending

    @property
    def has_body(self) -> bool:
        return self.status not in _NO_BODY and not 100 <= self.status < 200


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status, body, "application/json", dict(headers or {}))


def error_response(status: int, code: str, message: str, **headers: str) -> Response:
    """OPF-style error body: {"code", "message"}."""
    return json_response(status, {"code": code, "message": message}, headers)


def encode(response: Response, *, close: bool, declared_length: int | None = None) -> bytes:
    """Status line, headers and body as one byte string, so the answer leaves in one send().

    `declared_length` lets the truncate fault announce more body than it sends.
    """
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    lines = [
        f"HTTP/1.1 {response.status} {reason}",
        "Server: opf-sandbox",
        f"Date: {formatdate(usegmt=True)}",
    ]
    names = {name.lower() for name in response.headers}
    if response.has_body:
        if response.content_type and "content-type" not in names:
            lines.append(f"Content-Type: {response.content_type}")
        length = len(response.body) if declared_length is None else declared_length
        lines.append(f"Content-Length: {length}")
    # Framing stays the sandbox's job (the truncate fault is the way to break it on purpose).
    lines += [
        f"{name}: {value}"
        for name, value in response.headers.items()
        if name.lower() not in {"content-length", "connection"}
    ]
    if close:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    return head + (response.body if response.has_body else b"")
