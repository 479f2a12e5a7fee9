"""docs/guide.md names the portal's screens and labels exactly, and its screenshots exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide.md"
# Where the words on the screens come from: the templates, the messages, forms and admins.
SOURCES = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "entitlements").rglob("*.py")]
SOURCES += [ROOT / "careportal" / "sso" / "demo_provider.py"]


def _screen_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in SOURCES)


def _labels() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return sorted({" ".join(m.split()) for m in re.findall(r"\*\*(.+?)\*\*", text, re.DOTALL)})


def _shown(label: str, screens: str) -> bool:
    """In the source as written, or as Django derives it: a field's label from its name
    ("Source product" <- source_product), a list's title and "Add ..." button from a
    model's verbose_name ("Change attempts", "Add bulk change")."""
    if label in screens or label.lower().replace(" ", "_") in screens:
        return True
    singular = label.removeprefix("Add ").removesuffix("s").lower()
    return f'verbose_name = "{singular}"' in screens


def test_every_label_the_guide_names_is_on_a_screen():
    screens = _screen_text()
    labels = _labels()
    assert len(labels) > 30
    assert [label for label in labels if not _shown(label, screens)] == []


def test_every_screenshot_the_guide_shows_is_there_and_small():
    images = re.findall(r"!\[[^\]]+\]\((guide/[^)]+\.png)\)", GUIDE.read_text(encoding="utf-8"))
    assert 8 <= len(images) <= 12
    for image in images:
        path = GUIDE.parent / image
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image
        assert path.stat().st_size < 150_000, image
