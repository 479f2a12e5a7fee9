"""The simulated agents of bench/load.py: signed-in browsers (requests sessions) that browse
the entitlement list, open entitlements, search, and change tiers through the real form.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser

import requests

ENTITLEMENTS = "/admin/entitlements/entitlement/"
# What an agent does next, and how often (a change is the form, its confirmation, the submit).
ACTIONS = {"list": 30, "entitlement": 30, "search": 25, "change": 15}


class Forms(HTMLParser):
    """The forms of a page: {form id: {field name: [values]}}, radio/select choices included."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, list[str]]] = {}
        self._form: dict[str, list[str]] | None = None
        self._select: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = self.forms.setdefault(a.get("id") or f"form-{len(self.forms)}", {})
        elif self._form is not None and tag == "input" and a.get("name"):
            self._form.setdefault(a["name"], []).append(a.get("value") or "")
        elif self._form is not None and tag == "select":
            self._select = a.get("name")
        elif self._form is not None and tag == "option" and self._select and a.get("value"):
            self._form.setdefault(self._select, []).append(a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


@dataclass
class Stats:
    """Latencies per page, 5xx answers and transport errors, shared by every agent."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_errors: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, page: str, response: requests.Response, took: float) -> None:
        with self.lock:
            self.seconds[page].append(took)
            if response.status_code >= 500:
                self.server_errors.append(f"{page} {response.status_code} {response.url}")

    def requests(self) -> int:
        return sum(len(v) for v in self.seconds.values())

    @classmethod
    def combined(cls, parts: list[Stats]) -> Stats:
        """All the parts' figures in one (the total over several instances)."""
        total = cls()
        for part in parts:
            for page, values in part.seconds.items():
                total.seconds[page] += values
            total.server_errors += part.server_errors
            total.transport_errors += part.transport_errors
        return total

    def table(self) -> list[str]:
        lines = [f"  {'page':<22} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8}"]
        for page, values in sorted(self.seconds.items()):
            lines.append(
                f"  {page:<22} {len(values):>8} {percentile(values, 50) * 1000:>8.1f}"
                f" {percentile(values, 95) * 1000:>8.1f}"
            )
        return lines


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


class Agent:
    """One signed-in agent with its own entitlements (pk, opf id, account id)."""

    def __init__(self, base: str, session_cookie: str, entitlements: list, stats: Stats, seed: int):
        self.base, self.stats, self.entitlements = base, stats, entitlements
        self.rng = random.Random(seed)
        self.http = requests.Session()
        # As behind the TLS proxy: the portal sets Secure cookies, which requests would keep
        # back from a plain-HTTP loopback server, so every cookie is re-set without the flag.
        self.http.headers.update({"X-Forwarded-Proto": "https", "Origin": _https(base)})
        self.http.cookies.set("sessionid", session_cookie)
        self.http.hooks["response"].append(self._keep_cookies)

    def _keep_cookies(self, response, **kwargs):
        for cookie in response.cookies:
            self.http.cookies.set(cookie.name, cookie.value)

    def get(self, page: str, path: str, **params) -> requests.Response:
        return self._timed(page, "get", path, params=params or None)

    def _timed(self, page: str, method: str, path: str, **kwargs) -> requests.Response:
        started = time.monotonic()
        response = self.http.request(
            method, self.base + path, timeout=(5, 60), allow_redirects=False, **kwargs
        )
        self.stats.record(page, response, time.monotonic() - started)
        return response

    def run_until(self, deadline: float, think_s: float) -> None:
        names, weights = list(ACTIONS), list(ACTIONS.values())
        while time.monotonic() < deadline:
            action = self.rng.choices(names, weights)[0]
            try:
                getattr(self, action)()
            except requests.RequestException as exc:
                with self.stats.lock:
                    self.stats.transport_errors.append(f"{action}: {exc.__class__.__name__}")
            time.sleep(self.rng.uniform(0, 2 * think_s))

    def list(self) -> None:
        self.get("entitlement list", ENTITLEMENTS, p=str(self.rng.randrange(3)))

    def entitlement(self) -> None:
        pk = self.rng.choice(self.entitlements)[0]
        self.get("entitlement page", f"{ENTITLEMENTS}{pk}/change/")

    def search(self) -> None:
        _, opf_id, account = self.rng.choice(self.entitlements)
        self.get("search", ENTITLEMENTS, q=self.rng.choice([opf_id, account]))

    def change(self, pk: int | None = None) -> requests.Response | None:
        """The change-product form, its confirmation, the confirmed submit (which calls OPF)."""
        pk = pk or self.rng.choice(self.entitlements)[0]
        path = f"{ENTITLEMENTS}{pk}/change-product/"
        form = self.get("change form", path)
        if form.status_code != 200:
            return None  # refused before any form: an open or unknown change to settle first
        fields = Forms(form.text).forms["change-product-form"]
        data = {
            "csrfmiddlewaretoken": fields["csrfmiddlewaretoken"][0],
            "new_product": self.rng.choice(fields["new_product"]),
            "reason": self.rng.choice([v for v in fields["reason"] if v]),
            "comment": "bench",
            "version": fields["version"][0],
        }
        confirmation = self._timed("change confirmation", "post", path, data=data)
        confirm = Forms(confirmation.text).forms.get("confirm-change-form")
        if confirm is None:
            return None
        data = {name: values[0] for name, values in confirm.items()}
        return self._timed("change submit (OPF)", "post", path, data=data)


def _https(base: str) -> str:
    return "https://" + base.split("://", 1)[1]
