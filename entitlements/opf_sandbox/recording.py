"""What the sandbox received: every OPF and Keycloak request, for tests to assert on."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

# Enough for any test or demo; bounds memory when a benchmark sends a million requests.
MAX_RECORDS = 10_000


@dataclass
class RecordedRequest:
    serial: int  # 1, 2, 3... in order of arrival
    kind: str  # "token", "change_product", "entitlements" or "other"
    method: str
    path: str  # raw, as sent on the request line (still percent-encoded, with any query)
    entitlement_id: str | None  # decoded from the one path segment; None if the path is wrong
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: str  # decoded as UTF-8, undecodable bytes replaced
    time: float  # time.time() when the request had been read in full
    peer: tuple[str, int]  # the client's address: one port = one TCP connection
    connection: int  # serial number of the TCP connection the request came on
    fault: str | None = None  # the injected fault that answered it, if any
    status: int | None = None  # status sent; None while unanswered, or if it hung or was reset

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def correlation_id(self) -> str | None:
        return self.header("x-correlation-id")

    @property
    def tenant_id(self) -> str | None:
        return self.header("nv-tenant-id")

    def json(self) -> Any:
        return json.loads(self.body)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: deque[RecordedRequest] = deque(maxlen=MAX_RECORDS)
        self._serial = 0

    def record(self, **fields: Any) -> RecordedRequest:
        with self._lock:
            self._serial += 1
            record = RecordedRequest(serial=self._serial, **fields)
            self._records.append(record)
        return record

    def requests(self, kind: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._records if kind is None or r.kind == kind]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
