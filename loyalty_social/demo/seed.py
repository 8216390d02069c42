"""The embedded default's demo data: a source, rules, and API keys for the README's tour."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from ..access import users
from ..access.service import create_key
from ..intake.sources import SourceError, add_source
from ..rules.service import add_rule, list_rules

DEMO_SOURCE = "demo"
DEMO_MEMBER = "M-1001"  # the member of every example in webhooks/examples
SHARE_POINTS = 10
LINK_POINTS = 25
# (file in instance/, key name, scopes): the operator's reader, and the marketer of the tour.
# Console people: an admin, and an approver for the second pair of eyes that activating a rule
# needs (maker-checker). The approver is Demo ID's "dana", so "Sign in with Demo ID" works too.
CONSOLE_USERS = (("admin@demo.invalid", "admin"), ("dana@demo.invalid", "approver"))
KEYS = {
    "read": ("demo-api-key", "demo", ["read", "operator", "metrics"]),
    "marketer": ("marketer-api-key", "demo-marketer", ["marketer", "read"]),
}


@dataclass(frozen=True)
class Seeded:
    instance: Path
    key_files: dict[str, Path]  # "read" / "marketer" -> the file holding that key
    # console logins made on this run: (email, role, password); printed once, never stored
    new_logins: list[tuple[str, str, str]] = field(default_factory=list)
    console_users: tuple[tuple[str, str], ...] = CONSOLE_USERS


def seed_demo() -> Seeded:
    """Idempotent. Keys go to files in instance/ (0600), never to the output; console
    passwords are made once, returned to be printed once, and kept only as hashes."""
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
    new_logins = []
    for email, role in CONSOLE_USERS:
        if users.by_email(email) is None:
            password = secrets.token_urlsafe(12)
            users.create_user(email, role, password)
            new_logins.append((email, role, password))
    return Seeded(instance, key_files, new_logins)
