"""What `loyalty-social dev` prints: where everything is, and the README's tour as commands
that work when pasted (API keys are read from their files, never printed)."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

from .seed import DEMO_MEMBER, DEMO_SOURCE, LINK_POINTS, SHARE_POINTS, Seeded

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "webhooks" / "examples"
TOUR_RULE_POINTS = 50
# The rule the tour creates through the API: what a marketer would send.
TOUR_RULE = {
    "name": "Five-star reviews",
    "status": "active",
    "event_types": ["review.published"],
    "conditions": {"all": [{"field": "data.rating", "op": "ge", "value": 5}]},
    "rewards": [{"kind": "fixed", "points": TOUR_RULE_POINTS}],
}


def _command() -> str:
    """This installation's `loyalty-social`, so the commands work from any directory."""
    script = Path(sys.executable).parent / "loyalty-social"
    return shlex.quote(str(script)) if os.access(script, os.X_OK) else "loyalty-social"


def _bearer(path: Path) -> str:
    return f'-H "Authorization: Bearer $(cat {shlex.quote(str(path))})"'


def guide(base_url: str, seeded: Seeded, portal_link: str | None, provider_url: str | None) -> str:
    cli = _command()
    reader, marketer = _bearer(seeded.key_files["read"]), _bearer(seeded.key_files["marketer"])

    def send(example: str) -> str:
        path = shlex.quote(str(EXAMPLES / f"{example}.json"))
        return f"{cli} webhook send --source {DEMO_SOURCE} --example {path} --url {base_url}"

    rule = shlex.quote(json.dumps(TOUR_RULE, separators=(",", ":")))
    lines = [
        "",
        f"Loyalty Social (embedded default: SQLite in {seeded.instance}, jobs in-process)",
        f"  API docs:   {base_url}/api/docs",
        f"  OpenAPI:    {base_url}/api/openapi.json",
        f"  Health:     {base_url}/healthz  {base_url}/readyz",
        "",
    ]
    if portal_link:
        lines += [
            f"Member portal, as the demo member {DEMO_MEMBER} (the link works once, for a day;",
            f"a fresh one: {cli} portal-link --url {base_url}):",
            f"  {portal_link}",
        ]
        if provider_url:
            lines.append(
                f'  Link "Demo ID" there to earn {LINK_POINTS} points: a development-only '
                f"OpenID Connect provider on {provider_url} (stops with this server)."
            )
        lines.append("")
    lines += _console(cli, base_url, seeded, provider_url)
    lines += [
        f"API keys (files in {seeded.instance}): marketer+read in "
        f"{seeded.key_files['marketer'].name}, read+operator+metrics in "
        f"{seeded.key_files['read'].name}.",
        "",
        f"1. Send a signed sample webhook: a share, which the demo rule pays {SHARE_POINTS} points",
        f"  {send('social.shared')}",
        "",
        f"2. Create a rule as a marketer: five-star reviews earn {TOUR_RULE_POINTS} points",
        f"  curl -sS -X POST {base_url}/api/v1/rules {marketer} "
        f"-H 'Content-Type: application/json' -d {rule}",
        "",
        "3. Send a five-star review, and see it pay",
        f"  {send('review.published')}",
        "",
        "Read the member's points and ledger:",
        f"  curl -sS {reader} {base_url}/api/v1/members/{DEMO_MEMBER}/balance",
        f"  curl -sS {reader} {base_url}/api/v1/members/{DEMO_MEMBER}/ledger",
        "",
    ]
    return "\n".join(lines)


def _console(cli: str, base_url: str, seeded: Seeded, provider_url: str | None) -> list[str]:
    """The console's logins: passwords only on the run that made them (they are not kept)."""
    lines = [f"Marketer console: {base_url}/console/"]
    made = {email: (role, password) for email, role, password in seeded.new_logins}
    for email, role in seeded.console_users:
        if email in made:
            lines.append(f"  {role:<9} {email}  password: {made[email][1]}  (shown this once)")
        else:
            lines.append(
                f"  {role:<9} {email}  (password shown on the first run; a new one: "
                f"{cli} user password {email})"
            )
    if provider_url:
        lines.append('  or "Sign in with Demo ID" as dana (the approver).')
    return [*lines, ""]
