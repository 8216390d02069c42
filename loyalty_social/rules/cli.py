import click
from flask.cli import AppGroup

from ..intake.catalogue import EVIDENCE_LEVELS
from . import service


@click.group(cls=AppGroup)
def rule():
    """Reward rules (the skeleton's kind: event type X gives N points)."""


@rule.command("add")
@click.option("--name", required=True)
@click.option("--event-type", required=True)
@click.option("--points", type=int, required=True)
@click.option("--min-evidence", type=click.Choice(EVIDENCE_LEVELS), default="claimed")
def add(name, event_type, points, min_evidence):
    try:
        click.echo(service.add_rule(name, event_type, points, min_evidence))
    except service.RuleError as error:
        raise click.ClickException(str(error)) from None


@rule.command("list")
def list_():
    for r in service.list_rules():
        click.echo(f"{r.id}  {r.status}  {r.event_type} -> {r.points} points  {r.name}")


COMMANDS = [rule]
