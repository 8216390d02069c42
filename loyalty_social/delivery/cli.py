"""Operator commands of delivery: inspect the outbox, retry dead letters, sweep, subscriptions."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from ..errors import Problem
from ..queue import flush_in_process, stop_in_process
from . import inspection, models, service, subscriptions


def _settle() -> None:
    """On the embedded default this process delivers what it kicked: wait for it before exit."""
    if not current_app.config["REDIS_URL"]:
        app = current_app._get_current_object()
        flush_in_process(app, timeout=300)
        stop_in_process(app)


@click.group(cls=AppGroup)
def delivery():
    """Calls to the loyalty backend and outbound events (the outbox)."""


@delivery.command("list")
@click.option("--failed", is_flag=True, help="Only failed and dead-lettered deliveries.")
@click.option("--status", type=click.Choice(models.STATUSES))
@click.option("--target", help="'backend' or a subscription id")
@click.option("--limit", type=int, default=50, show_default=True)
def delivery_list(failed, status, target, limit):
    """Newest first: id, status, kind, target, attempts, last error."""
    items, _ = inspection.list_deliveries(status=status, failed=failed, target=target, limit=limit)
    for row in items:
        what = row.event_type or row.kind
        click.echo(
            f"{row.id}  {row.status:9}  {what:15}  {row.target}  {row.idempotency_key}  "
            f"attempts={row.attempts}  {row.last_error or ''}"
        )


@delivery.command("show")
@click.argument("delivery_id")
def delivery_show(delivery_id):
    """One delivery, its payload and every attempt."""
    from .schemas import AttemptSchema, DeliveryDetailSchema

    try:
        row = inspection.get_delivery(delivery_id)
    except Problem as problem:
        raise click.ClickException(str(problem)) from None
    document = DeliveryDetailSchema(exclude=("history",)).dump(row)
    document["history"] = AttemptSchema(many=True).dump(inspection.attempts_of(delivery_id))
    click.echo(json.dumps(document, indent=2))


@delivery.command("retry")
@click.argument("delivery_id", required=False)
@click.option("--all", "retry_all", is_flag=True, help="Every failed and dead-lettered delivery.")
def delivery_retry(delivery_id, retry_all):
    """Send a failed or dead-lettered delivery again (ID), or all of them (--all)."""
    if bool(delivery_id) == bool(retry_all):
        raise click.UsageError("give a delivery ID or --all")
    try:
        count = inspection.retry_all() if retry_all else (inspection.retry(delivery_id) and 1)
    except Problem as problem:
        raise click.ClickException(str(problem)) from None
    _settle()
    click.echo(f"retried {count} deliveries")


@delivery.command("sweep")
@click.option("--older-than", type=float, help="seconds (default: SWEEP_AFTER_SECONDS)")
def delivery_sweep(older_than):
    """Hand due deliveries to jobs now (workers also do this every SWEEP_INTERVAL_SECONDS)."""
    total = service.sweep(older_than)
    _settle()
    click.echo(f"handed {total} deliveries to delivery")


@click.group(cls=AppGroup)
def subscription():
    """Endpoints that receive signed outbound events."""


@subscription.command("add")
@click.argument("url")
@click.option(
    "--event",
    "event_types",
    multiple=True,
    required=True,
    type=click.Choice(models.EVENT_TYPES),
    help="An event type to send (repeat the option for several).",
)
@click.option("--description")
def subscription_add(url, event_types, description):
    """Register URL; prints its id and its signing secret (shown once: give it to the receiver)."""
    try:
        found, secret = subscriptions.add_subscription(url, list(event_types), description)
    except Problem as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(f"{found.id} {secret}")


@subscription.command("list")
def subscription_list():
    for row in subscriptions.list_subscriptions():
        state = "enabled" if row.enabled else "disabled"
        click.echo(f"{row.id}  {state}  {row.url}  {','.join(row.event_types)}")


@subscription.command("remove")
@click.argument("subscription_id")
def subscription_remove(subscription_id):
    """Disable a subscription (its deliveries stay inspectable)."""
    try:
        subscriptions.disable_subscription(subscription_id)
    except Problem as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(f"disabled {subscription_id}")


COMMANDS = [delivery, subscription]
