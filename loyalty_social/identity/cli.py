"""Operator commands of identity: account health, token key rotation, duplicate flags."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from . import flags as flags_
from . import health


@click.group(cls=AppGroup)
def identity():
    """Linked social accounts."""


@identity.command("check-health")
@click.option("--limit", default=500, show_default=True, help="Links checked in this run.")
@click.option("--enqueue", is_flag=True, help="Run it as a job on the queue instead.")
def check_health(limit, enqueue):
    """Mark links whose kept tokens were revoked or expired; schedule it (cron, a k8s
    CronJob, a systemd timer) every ACCOUNT_HEALTH_EVERY_SECONDS or so."""
    from ..queue import enqueue as send
    from .jobs import check_account_health

    if enqueue:
        send("identity.check_account_health", limit)
        click.echo("enqueued")
        return
    results = check_account_health(limit)
    attention = sum(1 for outcome in results.values() if outcome == "needs_attention")
    click.echo(f"checked {len(results)} links, {attention} need attention")


@identity.command("reencrypt-tokens")
def reencrypt_tokens():
    """Re-encrypt kept OAuth tokens under the first ENCRYPTION_KEYS key (key rotation)."""
    click.echo(f"re-encrypted tokens of {health.reencrypt_tokens()} links")


@identity.command("flags")
@click.option("--all", "show_all", is_flag=True, help="Include reviewed flags.")
def flags(show_all):
    """Refused duplicate-account attempts, newest first."""
    for flag in flags_.list_flags("all" if show_all else "open"):
        click.echo(
            f"{flag.id}  {flag.created_at:%Y-%m-%d %H:%M}  {flag.kind}  "
            f"{flag.provider}:{flag.subject}  members={','.join(flag.member_ids)}"
        )


COMMANDS = [identity]
