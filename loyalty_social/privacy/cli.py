"""Operator commands of privacy: a member's export, erasure, the erasure log and its replay
after a restore."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ..extensions import db
from ..timeutil import isoformat
from . import service


@click.group(cls=AppGroup)
def member():
    """A member's data: export (access), erasure, the erasure log."""


@member.command("export")
@click.argument("member_id")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Default: stdout."
)
def export_member(member_id, output):
    """Everything held about MEMBER_ID, as JSON (never tokens or secrets)."""
    document = service.export(member_id)
    db.session.commit()
    text = json.dumps(document, indent=2, sort_keys=False, default=str)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text)


@member.command("erase")
@click.argument("member_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_member(member_id, yes):
    """Erase MEMBER_ID: personal and social data removed or anonymised, stored tokens revoked
    at the provider and deleted, ledger totals kept without the member, a tombstone left so
    nothing recreates them. Idempotent."""
    if not yes:
        click.confirm(f"Erase member {member_id!r}? This cannot be undone", abort=True)
    record, removed = service.erase(member_id)
    db.session.commit()
    counts = ", ".join(f"{k}={v}" for k, v in sorted(record.counts.items())) or "nothing"
    state = "erased" if removed else "already erased; nothing more found"
    click.echo(f"{record.id}: {state} ({counts})")


@member.command("erasures")
@click.option(
    "--jsonl", is_flag=True, help="One JSON object a line: a copy to keep off the database."
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Default: all (--jsonl) or 50.")
def list_erasures(jsonl, limit):
    """The erasure log, newest first: who, when, how many records of each kind. Keep a copy
    (--jsonl) with your backups: `replay-erasures --file` re-applies it after a restore."""
    limit = limit or (10**9 if jsonl else 50)
    after = None
    shown = 0
    while shown < limit:
        page = service.log_entries(after=after, limit=min(500, limit - shown))
        if not page:
            break
        for record in page:
            item = service.erasure_dict(record)
            if jsonl:
                click.echo(json.dumps({**item, "at": isoformat(record.at)}, sort_keys=True))
            else:
                counts = sum(record.counts.values()) if record.counts else 0
                click.echo(
                    f"{record.id}  {record.at:%Y-%m-%d %H:%M:%S}  {record.kind:<8} "
                    f"{record.actor}  {record.member_hash[:16]}…  {counts} records"
                )
        shown += len(page)
        after = page[-1].id
    db.session.commit()


@member.command("replay-erasures")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False),
    help="A copy of the log (`member erasures --jsonl`), for erasures newer than the backup.",
)
def replay_erasures(path):
    """After a restore from a backup: erase again every member the erasure log names whose
    data is back (and add the tombstones of the copy given with --file)."""
    restored = 0
    if path:
        with open(path, encoding="utf-8") as handle:
            entries = [json.loads(line) for line in handle if line.strip()]
        restored = service.restore_tombstones(entries)
    records = service.replay()
    db.session.commit()
    click.echo(
        f"{restored} tombstones restored from the file; "
        f"{len(records)} erased member(s) found again and erased"
    )


COMMANDS = [member]
