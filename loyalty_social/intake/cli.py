"""Operator commands of intake: sources, events, the sweeper, the sender and the contract."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..extensions import db
from . import service, sources
from .catalogue import EVIDENCE_LEVELS, known_types
from .signature import generate_keypair, sign, sign_asymmetric


@click.group(cls=AppGroup)
def source():
    """Webhook sources and their signing secrets or public keys."""


_PUBLIC_KEY_HELP = "the sender's ed25519 public key (whpk_...) for v1a signatures"


@source.command("add")
@click.argument("name")
@click.option("--max-evidence", type=click.Choice(EVIDENCE_LEVELS), default="verified")
@click.option("--rate-limit", type=float, help="requests/s per web process (default: setting)")
@click.option("--rate-burst", type=int)
@click.option("--public-key", help=_PUBLIC_KEY_HELP + "; then no secret unless --with-secret")
@click.option("--with-secret", is_flag=True, help="also issue a secret beside --public-key")
def source_add(name, max_evidence, rate_limit, rate_burst, public_key, with_secret):
    """Create a source; prints its secret once (give it to the sender, keep it nowhere else)."""
    try:
        secret = sources.add_source(
            name,
            max_evidence,
            rate_limit,
            rate_burst,
            public_key=public_key,
            with_secret=with_secret or not public_key,
        )
    except sources.SourceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(secret or f"{name}: verifies v1a signatures with the given public key")


@source.command("rotate")
@click.argument("name")
@click.option("--grace-hours", type=float, default=24.0, show_default=True)
@click.option("--public-key", help=_PUBLIC_KEY_HELP + " replacing the current ones")
def source_rotate(name, grace_hours, public_key):
    """Add a new secret (printed once), or with --public-key a new public key; the older ones
    keep working for the grace period."""
    try:
        if public_key:
            sources.rotate_public_key(name, public_key, grace_hours)
            click.echo(f"{name}: new public key added; older ones expire in {grace_hours:g} h")
        else:
            click.echo(sources.rotate_secret(name, grace_hours))
    except sources.SourceError as error:
        raise click.ClickException(str(error)) from None


@source.command("keygen")
def source_keygen():
    """Print a new ed25519 key pair for a sender: whsk_ (keep it with the sender, never here)
    and whpk_ (give it to `source add/rotate --public-key`)."""
    private, public = generate_keypair()
    click.echo(f"private key (sender only): {private}")
    click.echo(f"public key:                {public}")


@source.command("list")
def source_list():
    for row in sources.list_sources():
        state = "enabled" if row["enabled"] else "disabled"
        click.echo(
            f"{row['name']}  {state}  max_evidence={row['max_evidence']}  "
            f"live_secrets={row['live_secrets']}  live_public_keys={row['live_public_keys']}  "
            f"rate_limit={row['rate_limit'] or 'default'}"
        )


@source.command("disable")
@click.argument("name")
def source_disable(name):
    try:
        sources.set_enabled(name, False)
    except sources.SourceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"disabled {name}")


@source.command("enable")
@click.argument("name")
def source_enable(name):
    try:
        sources.set_enabled(name, True)
    except sources.SourceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"enabled {name}")


@click.group(cls=AppGroup)
def event():
    """Inspect and replay stored events."""


@event.command("list")
@click.option("--status", type=click.Choice(["pending", "processed", "failed"]))
@click.option("--limit", type=int, default=20)
def event_list(status, limit):
    items, _ = service.list_events(status=status, limit=limit)
    for e in items:
        click.echo(
            f"{e.id}  {e.status:9}  {e.source_name}  {e.type}  {e.member_id}  {e.error or ''}"
        )


@event.command("show")
@click.argument("event_id")
def event_show(event_id):
    from .schemas import EventSchema

    found = service.get_event(event_id)
    if found is None:
        raise click.ClickException(f"no event {event_id}")
    click.echo(json.dumps(EventSchema().dump(found), indent=2))


@event.command("replay")
@click.argument("event_id")
def event_replay(event_id):
    """Process an event again; nothing already paid is paid twice."""
    from ..errors import Problem

    try:
        replayed = service.replay_event(event_id)
    except Problem as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(f"{replayed.id} {replayed.status}")


@click.command()
@with_appcontext
@click.option("--older-than", type=float, help="seconds (default: SWEEP_AFTER_SECONDS)")
def sweep(older_than):
    """Re-enqueue events a crash or a Redis outage left pending."""
    config = current_app.config
    threshold = config["SWEEP_AFTER_SECONDS"] if older_than is None else older_than
    total = service.sweep(
        threshold,
        config["PROCESS_BATCH_SIZE"],
        progress=lambda n: click.echo(f"  enqueued {n} ...", err=True),
    )
    click.echo(f"re-enqueued {total} pending events")


@click.group(cls=AppGroup)
def webhook():
    """The webhook contract: send a signed event, regenerate webhooks/."""


@webhook.command("send")
@click.option("--source", "source_name", required=True)
@click.option("--type", "event_type", type=click.Choice(known_types()))
@click.option("--file", "data_file", type=click.Path(exists=True, dir_okay=False), help="data JSON")
@click.option(
    "--example", type=click.Path(exists=True, dir_okay=False), help="webhooks/examples file"
)
@click.option("--member-id", default="M-1001", show_default=True)
@click.option("--evidence", type=click.Choice(EVIDENCE_LEVELS), default="claimed")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True)
@click.option("--secret", envvar="LOYALTY_SOCIAL_WEBHOOK_SECRET", help="default: the source's")
@click.option(
    "--private-key",
    envvar="LOYALTY_SOCIAL_WEBHOOK_PRIVATE_KEY",
    help="sign with this ed25519 key (whsk_..., v1a) instead of a secret",
)
def webhook_send(
    source_name, event_type, data_file, example, member_id, evidence, url, secret, private_key
):
    """Sign and POST one event, as an integrator would."""
    import requests

    if example:
        body = json.loads(json.loads(Path(example).read_text())["body"])
        body["timestamp"] = _now_iso()
    elif event_type and data_file:
        body = {
            "type": event_type,
            "version": 1,
            "timestamp": _now_iso(),
            "member_id": member_id,
            "evidence": evidence,
            "data": json.loads(Path(data_file).read_text()),
        }
    else:
        raise click.UsageError("give --example FILE, or --type and --file")
    if secret is None and private_key is None:
        try:
            secret = sources.current_secret(source_name)
        except sources.SourceError as error:
            raise click.ClickException(f"{error}: pass --secret or --private-key") from None
        db.session.rollback()
    raw = json.dumps(body).encode()
    webhook_id, timestamp = f"msg_{uuid.uuid4().hex}", int(time.time())
    try:
        signature = (
            sign_asymmetric(private_key, webhook_id, timestamp, raw)
            if private_key
            else sign(secret, webhook_id, timestamp, raw)
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    response = requests.post(
        f"{url.rstrip('/')}/webhooks/{source_name}",
        data=raw,
        headers={
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature,
        },
        timeout=10,
    )
    click.echo(f"{response.status_code} {response.text.strip()}")
    if response.status_code >= 300:
        raise SystemExit(1)


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@webhook.command("catalogue")
@click.option("--check", is_flag=True, help="Fail if webhooks/ differs from the code.")
def webhook_catalogue(check):
    """Regenerate the JSON Schemas and signed examples in webhooks/."""
    from .contract import drifted_files, write_contract

    if check:
        drifted = drifted_files()
        if drifted:
            raise click.ClickException("out of date: " + ", ".join(drifted))
        click.echo("webhooks/ matches the code")
        return
    for relative in write_contract():
        click.echo(f"wrote webhooks/{relative}")


COMMANDS = [source, event, sweep, webhook]
