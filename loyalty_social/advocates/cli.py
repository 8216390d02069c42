"""Operator commands of advocates: recompute the advocate scores, read one member's."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..queue import enqueue as send
from . import scoring
from .jobs import recompute as recompute_job


@click.group(cls=AppGroup)
def advocates():
    """Advocate scores and levels."""


@advocates.command("recompute")
@click.option("--enqueue", is_flag=True, help="Run it as a job on the queue instead.")
def recompute(enqueue):
    """Every advocate score again from the window's sources (the schedule runs it every
    ADVOCATE_RECOMPUTE_INTERVAL_SECONDS)."""
    if enqueue:
        send("advocates.recompute")
        click.echo("enqueued")
        return
    result = recompute_job()
    click.echo(f"scored {result['scored']} members, {result['level_changes']} level changes")


@advocates.command("score")
@click.argument("member_id")
def score(member_id):
    """A member's advocate score and level."""
    standing = scoring.standing(member_id)
    if not standing["scored"]:
        click.echo(f"{member_id}: not scored (no social_activity_use consent, or no signals)")
        return
    upcoming = (
        f"; {standing['next_threshold'] - standing['score']} to {standing['next_level']}"
        if standing["next_level"]
        else ""
    )
    click.echo(f"{member_id}: {standing['score']} ({standing['level']}){upcoming}")


COMMANDS = [advocates]
