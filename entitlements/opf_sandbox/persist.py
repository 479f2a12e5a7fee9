"""OPF's catalogue and entitlements kept in a file (--state), so a restarted sandbox goes on
where it stopped: bin/demo's portal mirror and history still agree with it after a restart.

Written after every change by a rename, so a crash mid-write leaves the previous state whole.
Held notifications, queued faults, tokens and recorded requests are not kept: a restart forgets
them, as a restarted OPF would forget its connections.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .data import DataError, Entitlement, Product


def read_state(path: str | Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """(products, entitlements) as saved, or None when there is no file yet."""
    path = Path(path)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: {exc}") from exc
    if not isinstance(saved, dict) or not all(
        isinstance(saved.get(key), list) for key in ("products", "entitlements")
    ):
        raise DataError(f"{path}: expected an object with lists 'products' and 'entitlements'")
    return saved["products"], saved["entitlements"]


def write_state(
    path: str | Path, products: Iterable[Product], entitlements: Iterable[Entitlement]
) -> None:
    """Replace the file at once: written beside it, then renamed over it."""
    path = Path(path)
    body = json.dumps(
        {
            "products": [p.to_dict() for p in products],
            "entitlements": [e.to_dict() for e in entitlements],
        },
        indent=1,
    )
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
