"""Operator commands of analytics: recompute the rollups from history."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from . import rebuild as rebuilding
from .sources import registered


@click.group(cls=AppGroup)
def analytics():
    """The rollups the console's charts read."""


@analytics.command("rebuild")
def rebuild():
    """Recompute every rollup from history (events, awards, offers, consent) in one
    transaction; writers wait for it, and the charts show the old figures until it commits."""
    with click.progressbar(
        length=len(registered()), label="Rebuilding rollups", file=sys.stderr
    ) as bar:
        written = rebuilding.rebuild(lambda _name: bar.update(1))
    for name, rows in written.items():
        click.echo(f"{name}: {rows} rows")


COMMANDS = [analytics]
