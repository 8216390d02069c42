"""The embedded default's demo data: a source, rules, and API keys for the README's tour."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..access.service import create_key
from ..intake.sources import SourceError, add_source
from ..rules.service import add_rule, list_rules

DEMO_SOURCE = "demo"
DEMO_MEMBER = "M-1001"  # the member of every example in webhooks/examples
SHARE_POINTS = 10
LINK_POINTS = 25
# (file in instance/, key name, scopes): the operator's reader, and the marketer of the tour.
KEYS = {
    "read": ("demo-api-key", "demo", ["read", "operator", "metrics"]),
    "marketer": ("marketer-api-key", "demo-marketer", ["marketer", "read"]),
}


@dataclass(frozen=True)
class Seeded:
    instance: Path
    key_files: dict[str, Path]  # "read" / "marketer" -> the file holding that key


def seed_demo() -> Seeded:
    """Idempotent. Keys go to files in instance/ (0600), never to the output."""
    instance = Path(current_app.instance_path)
    with contextlib.suppress(SourceError):  # seeded on an earlier run
        add_source(DEMO_SOURCE, max_evidence="verified")
    event_types = {r.event_type for r in list_rules()}
    if "social.shared" not in event_types:
        add_rule(f"Share the brand: {SHARE_POINTS} points", "social.shared", SHARE_POINTS)
    if "social.linked" not in event_types:
        add_rule(f"Link a social account: {LINK_POINTS} points", "social.linked", LINK_POINTS)
    key_files = {}
    for role, (file_name, key_name, scopes) in KEYS.items():
        path = instance / file_name
        if not path.exists():
            path.write_text(create_key(key_name, scopes))
            path.chmod(0o600)
        key_files[role] = path
    return Seeded(instance, key_files)
