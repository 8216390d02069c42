"""The embedded default's demo: a source, a rule and a read key, so a newcomer sees points."""

from __future__ import annotations

import contextlib
from pathlib import Path

from flask import current_app

from .access.service import create_key
from .intake.sources import SourceError, add_source
from .rules.service import add_rule, list_rules

DEMO_SOURCE = "demo"


def seed_demo(base_url: str) -> str:
    """Idempotent; returns what to print. Credentials go to instance/, never to the output."""
    instance = Path(current_app.instance_path)
    with contextlib.suppress(SourceError):  # seeded on an earlier run
        add_source(DEMO_SOURCE, max_evidence="verified")
    if not any(r.event_type == "social.shared" for r in list_rules()):
        add_rule("Share the brand: 10 points", "social.shared", 10)
    key_file = instance / "demo-api-key"
    if not key_file.exists():
        key_file.write_text(create_key("demo", ["read", "operator", "metrics"]))
        key_file.chmod(0o600)
    root = Path(__file__).resolve().parent.parent
    example = root / "webhooks" / "examples" / "social.shared.json"
    return f"""
Loyalty Social (embedded default: SQLite in {instance}, jobs in-process)
  API docs:   {base_url}/api/docs
  OpenAPI:    {base_url}/api/openapi.json
  Health:     {base_url}/healthz  {base_url}/readyz

Send a signed sample webhook (from {root}):
  .venv/bin/loyalty-social webhook send --source {DEMO_SOURCE} --example {example} --url {base_url}

Then read the member's points (the demo API key is in {key_file}):
  curl -H "Authorization: Bearer $(cat {key_file})" {base_url}/api/v1/members/M-1001/balance
  curl -H "Authorization: Bearer $(cat {key_file})" {base_url}/api/v1/members/M-1001/ledger
"""
