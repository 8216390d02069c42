"""Operator commands of consent: bulk import, published policy versions."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..extensions import db
from . import importer, policies


@click.group(cls=AppGroup)
def consent():
    """Members' consents and the policy texts they agreed to."""


@consent.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(importer.FORMATS), help="Default: guessed.")
@click.option("--actor", default="import", show_default=True, help="Recorded as who gave it.")
def import_consents(path, fmt, actor):
    """Import consents given elsewhere: CSV with a header (member_id, purpose, granted, at,
    optional policy_version and actor) or JSON lines with those keys. All or nothing; running
    it again with the same file changes nothing."""
    with open(path, encoding="utf-8", newline="") as stream:
        first = stream.readline()
        total = sum(1 for _ in stream) + (1 if first.strip() else 0)
    with open(path, encoding="utf-8", newline="") as stream:
        fmt = fmt or importer.guess_format(path, first)
        records = importer.read_lines(stream, fmt)
        with click.progressbar(
            length=total - (1 if fmt == "csv" else 0),
            label="Checking consents ",
            file=sys.stderr,
        ) as bar:
            try:
                rows = importer.check(records, bar.update)
            except importer.ImportRefused as error:
                for item in error.errors:
                    click.echo(f"line {item['line']}: {item['message']}", err=True)
                raise click.ClickException(
                    f"{error.total_bad} bad line(s); nothing was imported"
                ) from None
    with click.progressbar(length=len(rows), label="Importing consents", file=sys.stderr) as bar:
        result = importer.write(rows, actor, bar.update)
    db.session.commit()
    click.echo(
        f"{result.lines} lines: {result.new} new consent records, "
        f"{result.lines - result.new - result.erased} already imported; "
        f"{result.states_changed} current decisions changed"
        + (f"; {result.erased} about erased members skipped" if result.erased else "")
    )


@consent.command("policies")
def list_policies():
    """Every purpose's published policy versions."""
    versions = policies.current_versions()
    db.session.commit()  # a changed text is published now
    for name in versions:
        for row in policies.versions(name):
            fresh = "  requires fresh consent" if row.requires_fresh_consent else ""
            click.echo(f"{name}  v{row.version}  {row.published_at:%Y-%m-%d %H:%M}{fresh}")


COMMANDS = [consent]
