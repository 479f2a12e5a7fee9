"""OPF's side of the notifications: signed deliveries to the portal's /opf/notifications.

After a 202 the sandbox plays the provider: once `delay` seconds have passed (or when a test
releases it) it confirms or declines the change in its own state and delivers CHANGE_CONFIRMED
or CHANGE_DECLINED, echoing the x-correlation-id the portal sent. On request it also reports a
change the customer made at the provider, or a status change.

Deliveries are signed the Standard Webhooks way (webhook-id, webhook-timestamp,
webhook-signature = v1,base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))). The signing is
written out here with the stdlib rather than imported from the portal, so the tests check the
portal against an independent implementation of the contract. A delivery not answered 200 is
retried a few times with the same webhook-id and a fresh timestamp and signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

# The portal's demo secret (careportal/settings/opf.py, used only with DEBUG on).
DEMO_SECRET = "whsec_Y2FyZS1wb3J0YWwtZGVtby1ub3RpZmljYXRpb24ta2V5LTMyYiE="
DECISIONS = ("confirm", "decline")
SETTINGS = (
    "notify_url",
    "notify_secret",
    "notify_delay",
    "notify_decision",
    "notify_attempts",
    "notify_retry_delay",
)


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def _utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Attempt:
    time: float
    status: int | None  # None: no HTTP answer (connection refused, timeout...)
    answer: str  # the portal's body (bounded) or the error


@dataclass
class Delivery:
    webhook_id: str
    payload: dict[str, Any]
    state: str = "scheduled"  # scheduled, held, delivered (200), failed (gave up), dropped
    attempts: list[Attempt] = field(default_factory=list)
    generation: int = 0  # reset() starts a new one; older deliveries are dropped, not sent

    @property
    def status(self) -> int | None:
        return self.attempts[-1].status if self.attempts else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status
        return data


class Notifier:
    """Schedules, signs and sends deliveries; remembers each one and the portal's answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._deliveries: list[Delivery] = []
        self._held: list[tuple[Delivery, threading.Event]] = []
        self._generation = 0
        self.url: str | None = None  # nothing is delivered until it is set
        self.secret = DEMO_SECRET
        self.delay: float | None = 2.0  # None: held until release()
        self.decision: str = "confirm"
        self.decisions: dict[str, str] = {}  # per provider id, overriding `decision`
        self.attempts = 3
        self.retry_delay = 0.5  # doubled after each failed attempt

    # --- settings ------------------------------------------------------------------------

    def configure(self, **settings: Any) -> None:
        unknown = set(settings) - set(SETTINGS)
        if unknown:
            raise ValueError(f"unknown notifier settings {sorted(unknown)}")
        url = settings.get("notify_url")
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("notify_url must be an http(s) URL")
        if "notify_secret" in settings:
            secret = settings["notify_secret"]
            try:
                base64.b64decode(str(secret).removeprefix("whsec_"), validate=True)
            except ValueError:
                raise ValueError("notify_secret must be whsec_ followed by base64") from None
        delay = settings.get("notify_delay", 0)
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float))):
            raise ValueError("notify_delay must be seconds >= 0, or None to hold deliveries")
        if delay is not None and delay < 0:
            raise ValueError("notify_delay must be seconds >= 0, or None to hold deliveries")
        decision, decisions = _parse_decision(settings.get("notify_decision", "confirm"))
        attempts = settings.get("notify_attempts", 1)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError("notify_attempts must be an integer >= 1")
        retry_delay = settings.get("notify_retry_delay", 0)
        if isinstance(retry_delay, bool) or not isinstance(retry_delay, (int, float)):
            raise ValueError("notify_retry_delay must be seconds >= 0")

        if "notify_url" in settings:
            self.url = url or None
        if "notify_secret" in settings:
            self.secret = settings["notify_secret"]
        if "notify_delay" in settings:
            self.delay = delay
        if "notify_decision" in settings:
            self.decision, self.decisions = decision, decisions
        if "notify_attempts" in settings:
            self.attempts = attempts
        if "notify_retry_delay" in settings:
            self.retry_delay = max(0.0, float(retry_delay))

    def settings(self) -> dict[str, Any]:
        decision: Any = self.decision
        if self.decisions:
            decision = {"*": self.decision, **self.decisions}
        return {
            "notify_url": self.url,
            "notify_secret": self.secret,
            "notify_delay": self.delay,
            "notify_decision": decision,
            "notify_attempts": self.attempts,
            "notify_retry_delay": self.retry_delay,
        }

    def decision_for(self, provider_id: str) -> str:
        return self.decisions.get(provider_id, self.decision)

    # --- deliveries ----------------------------------------------------------------------

    def payload(
        self,
        event_type: str,
        *,
        entitlement_id: str,
        product_id: str,
        status: str,
        correlation_id: str | None = None,
    ) -> dict[str, Any]:
        payload = {
            "eventType": event_type,
            "entitlementId": entitlement_id,
            "productId": product_id,
            "status": status,
            "occurredAt": _utc_now_iso(),
        }
        if correlation_id:
            payload["correlationId"] = correlation_id
        return payload

    def deliver(self, prepare: Callable[[], dict[str, Any]], *, delay: float | None) -> Delivery:
        """Deliver the payload `prepare()` returns, after `delay` seconds.

        0: at once, in the calling thread (the sandbox's request thread, so before the 202
        itself is sent: the race of matrix row N2). None: held until release(). Otherwise
        from a background thread. `prepare` runs just before sending: that is when the
        provider decides.
        """
        release = threading.Event()
        with self._lock:
            delivery = Delivery(
                webhook_id=f"msg_{uuid.uuid4().hex}", payload={}, generation=self._generation
            )
            self._deliveries.append(delivery)
            if delay is None:
                delivery.state = "held"
                self._held.append((delivery, release))
        if delay == 0:
            self._run(delivery, prepare, 0, release)
            return delivery
        threading.Thread(
            target=self._run,
            args=(delivery, prepare, delay, release),
            name=f"opf-sandbox-notify:{delivery.webhook_id}",
            daemon=True,
        ).start()
        return delivery

    def redeliver(self, webhook_id: str) -> Delivery:
        """Send a delivery again, as OPF's retries do: same id and body, fresh signature."""
        with self._lock:
            found = next((d for d in self._deliveries if d.webhook_id == webhook_id), None)
        if found is None:
            raise ValueError(f"no delivery {webhook_id}")
        self._post(found)
        return found

    def release(self) -> int:
        """Let held deliveries go (they then run as if their delay were 0)."""
        with self._lock:
            held, self._held = self._held, []
        for delivery, event in held:
            delivery.state = "scheduled"
            event.set()
        return len(held)

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [d.to_dict() for d in self._deliveries]

    def wait(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until no delivery is scheduled (held ones do not count); return them all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while any(d.state == "scheduled" for d in self._deliveries):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("sandbox notifications still being delivered")
                self._changed.wait(left)
            return [d.to_dict() for d in self._deliveries]

    def reset(self) -> None:
        """Forget every delivery; any still waiting is dropped, never sent."""
        with self._changed:
            self._generation += 1
            held, self._held = self._held, []
            self._deliveries = []
            self._changed.notify_all()
        for _delivery, event in held:
            event.set()

    def _current(self, delivery: Delivery) -> bool:
        with self._changed:
            if delivery.generation == self._generation:
                return True
            delivery.state = "dropped"
            self._changed.notify_all()
            return False

    # --- sending -------------------------------------------------------------------------

    def _run(
        self,
        delivery: Delivery,
        prepare: Callable[[], dict[str, Any]],
        delay: float | None,
        release: threading.Event,
    ) -> None:
        if delay is None:
            release.wait()
        elif delay > 0:
            time.sleep(delay)
        if not self._current(delivery):
            return
        try:
            delivery.payload = prepare()
        except Exception as exc:  # e.g. the entitlement was reloaded away meanwhile
            with self._changed:
                delivery.state = "failed"
                delivery.attempts.append(Attempt(time=time.time(), status=None, answer=str(exc)))
                self._changed.notify_all()
            return
        self._send_with_retries(delivery)

    def _send_with_retries(self, delivery: Delivery) -> None:
        pause = self.retry_delay
        for number in range(1, self.attempts + 1):
            if not self._current(delivery):
                return
            if self._post(delivery) == 200:
                break
            if number < self.attempts:
                time.sleep(pause)
                pause *= 2
        with self._changed:
            delivery.state = "delivered" if delivery.status == 200 else "failed"
            self._changed.notify_all()

    def _post(self, delivery: Delivery) -> int | None:
        body = json.dumps(delivery.payload).encode("utf-8")
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "opf-sandbox-notifier",
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(self.secret, delivery.webhook_id, timestamp, body),
        }
        status, answer = None, ""
        url = self.url
        if not url:
            answer = "no notify_url configured"
        else:
            parts = urlsplit(url)
            connection_class = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            # http.client, not urllib: no proxy from the environment, no redirects followed.
            connection = connection_class(parts.hostname, parts.port, timeout=10)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                status, answer = response.status, response.read(2000).decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as exc:
                answer = f"{type(exc).__name__}: {exc}"
            finally:
                connection.close()
        with self._changed:
            delivery.attempts.append(Attempt(time=time.time(), status=status, answer=answer))
            self._changed.notify_all()
        return status


def _parse_decision(value: Any) -> tuple[str, dict[str, str]]:
    """confirm, decline, {"*": default, provider: decision} or "Provider=decline,confirm"."""
    if isinstance(value, Mapping):
        items = {"*": "confirm", **value}
    elif isinstance(value, str):
        items = {"*": "confirm"}
        for part in (p.strip() for p in value.split(",") if p.strip()):
            provider, sep, decision = part.partition("=")
            items[provider.strip() if sep else "*"] = decision.strip() if sep else part
    else:
        raise ValueError("notify_decision must be confirm, decline or a mapping per provider")
    for decision in items.values():
        if decision not in DECISIONS:
            raise ValueError(f"notify_decision: {decision!r} is not confirm or decline")
    return items["*"], {k: v for k, v in items.items() if k != "*"}
