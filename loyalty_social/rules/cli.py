"""Operator commands for rules: create, change, list, show, versions, backtest."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from ..extensions import db
from ..intake.catalogue import EVIDENCE_LEVELS
from . import backtest as backtests
from . import documents, service


@click.group(cls=AppGroup)
def rule():
    """Reward rules: conditions, rewards, limits, schedule, status, versions, backtests."""


def _fail(error: Exception):
    if isinstance(error, service.RuleError) and error.errors:
        lines = [
            f"  {pointer}: {'; '.join(messages)}" for pointer, messages in error.errors.items()
        ]
        raise click.ClickException("the rule is invalid:\n" + "\n".join(lines)) from None
    raise click.ClickException(str(error)) from None


@rule.command("add")
@click.option("--name", required=True)
@click.option("--event-type", required=True)
@click.option("--points", type=int, required=True)
@click.option("--min-evidence", type=click.Choice(EVIDENCE_LEVELS), default="claimed")
@click.option("--draft", is_flag=True, help="save as a draft instead of active")
def add(name, event_type, points, min_evidence, draft):
    """The simple kind: "event type X gives N points" (active unless --draft)."""
    try:
        click.echo(
            service.add_rule(
                name, event_type, points, min_evidence, status="draft" if draft else "active"
            )
        )
    except (service.RuleError, service.NotFound) as error:
        _fail(error)


@rule.command("create")
@click.argument("file", type=click.File("r"))
@click.option("--activate", is_flag=True, help="save as active (default: draft)")
def create(file, activate):
    """Create a rule from a JSON document (the API's format; '-' reads stdin)."""
    try:
        created = service.create_rule(
            json.load(file), actor="cli", status="active" if activate else "draft"
        )
    except (service.RuleError, service.NotFound, json.JSONDecodeError) as error:
        _fail(error)
    click.echo(created.id)


@rule.command("update")
@click.argument("rule_id")
@click.argument("file", type=click.File("r"))
@click.option("--note", help="what changed, for the version history")
def update(rule_id, file, note):
    """Replace a rule's definition from a JSON document (a new version)."""
    try:
        changed = service.update_rule(rule_id, json.load(file), actor="cli", note=note)
    except (service.RuleError, service.NotFound, json.JSONDecodeError) as error:
        _fail(error)
    click.echo(f"{changed.id} is now version {changed.version}")


@rule.command("status")
@click.argument("rule_id")
@click.argument("status", type=click.Choice(("active", "paused", "archived")))
@click.option("--note")
def status(rule_id, status, note):
    """Activate, pause or archive a rule."""
    try:
        changed = service.set_status(rule_id, status, actor="cli", note=note)
    except (service.RuleError, service.NotFound) as error:
        _fail(error)
    click.echo(f"{changed.id} is {changed.status} (version {changed.version})")


@rule.command("list")
@click.option("--status", type=click.Choice(("draft", "active", "paused", "archived")))
def list_(status):
    for r in service.list_rules(status=status):
        types = ",".join(r.event_types or [r.event_type])
        click.echo(
            f"{r.id}  {r.status:8} v{r.version}  prio {r.priority}  {types} -> "
            f"{r.points} points  {r.name}"
        )


@rule.command("show")
@click.argument("rule_id")
def show(rule_id):
    """The rule's definition as JSON (the API's format)."""
    try:
        found = service.get_rule(rule_id)
    except service.NotFound as error:
        _fail(error)
    click.echo(json.dumps(documents.json_safe(documents.view(found)), indent=2))


@rule.command("versions")
@click.argument("rule_id")
def versions(rule_id):
    try:
        rows = service.versions(rule_id)
    except service.NotFound as error:
        _fail(error)
    for v in rows:
        click.echo(
            f"v{v.version}  {v.changed_at:%Y-%m-%d %H:%M}  {v.changed_by or '-'}  "
            f"{v.status}  {v.change}"
        )


def _when(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@rule.command("backtest")
@click.argument("rule_id")
@click.option("--since", required=True, help="ISO date/time (UTC unless an offset is given)")
@click.option("--until", help="ISO date/time (default: now)")
@click.option("--file", "file", type=click.File("r"), help="a changed definition to try")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def backtest(rule_id, since, until, file, as_json):
    """Run the rule over stored events of a past period, paying nothing; report per day."""
    doc = json.load(file) if file else None
    try:
        row = backtests.get(
            backtests.start(
                rule_id, _when(since), _when(until) if until else None, doc, actor="cli"
            )
        )
    except (service.RuleError, service.NotFound) as error:
        _fail(error)
    total = backtests.count_events(row)
    with click.progressbar(
        length=total, label="events", file=click.get_text_stream("stderr"), show_pos=True
    ) as bar:
        done = backtests.run(row.id, progress=bar.update)
    report = done.report
    if as_json:
        click.echo(json.dumps({"id": done.id, **report}, indent=2))
        return
    click.echo(f"backtest {done.id}: {report['totals']['events']} events scanned")
    click.echo(f"{'date':10}  {'members':>7}  {'awards':>6}  {'held':>4}  {'points':>8}")
    for day in report["days"]:
        click.echo(
            f"{day['date']:10}  {day['members']:>7}  {day['awards']:>6}  {day['held']:>4}  "
            f"{day['points']:>8}"
        )
    totals = report["totals"]
    click.echo(
        f"{'total':10}  {totals['members']:>7}  {totals['awards']:>6}  {totals['held']:>4}  "
        f"{totals['points']:>8}"
    )
    if report["not_paid"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(report["not_paid"].items()))
        click.echo(f"not paid: {reasons}")
    db.session.remove()


COMMANDS = [rule]
