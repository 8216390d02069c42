"""The operator's side: `member export`, `member erase`, `member erasures --jsonl`, and a
restore from a backup taken before the erasure followed by `member replay-erasures --file`,
which erases the member again. SQLite: backup and restore with SQLite's online backup."""

from __future__ import annotations

import json
import sqlite3

from ..conftest import run_cli
from ..helpers import drain, envelope, seed, signed

MEMBER = "M-restored"


def copy_database(source: str, target: str) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def test_erase_then_restore_then_replay_erasures(sqlite_config, make_app, tmp_path):
    app = make_app(sqlite_config)
    seeded = seed(app)
    client = app.test_client()
    raw, headers = signed(seeded["secret"], envelope(member_id=MEMBER))
    assert client.post("/webhooks/backend", data=raw, headers=headers).status_code == 202
    drain(app)
    database = sqlite_config["DATABASE_URL"].removeprefix("sqlite:///")
    backup = tmp_path / "backup.db"
    copy_database(database, str(backup))  # the nightly backup, before the erasure

    out = tmp_path / "export.json"
    exported = run_cli(sqlite_config, "member", "export", MEMBER, "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    document = json.loads(out.read_text())
    assert len(document["records"]["events"]) == 1 and document["erased"] is False

    erased = run_cli(sqlite_config, "member", "erase", MEMBER, "--yes")
    assert erased.returncode == 0, erased.stderr
    assert "erased (" in erased.stdout and "rewards.ledger_entries=1" in erased.stdout
    log = run_cli(sqlite_config, "member", "erasures", "--jsonl")
    assert log.returncode == 0, log.stderr
    [entry] = [json.loads(line) for line in log.stdout.splitlines()]
    assert entry["kind"] == "erasure" and entry["actor"].startswith("cli")
    assert MEMBER not in log.stdout
    copy = tmp_path / "erasures.jsonl"
    copy.write_text(log.stdout)

    copy_database(str(backup), database)  # restore: the member is back, the log entry gone
    back = json.loads(run_cli(sqlite_config, "member", "export", MEMBER).stdout)
    assert back["erased"] is False and back["records"]["member"]["id"] == MEMBER

    replayed = run_cli(sqlite_config, "member", "replay-erasures", "--file", str(copy))
    assert replayed.returncode == 0, replayed.stderr
    assert "1 tombstones restored from the file; 1 erased member(s) found again" in (
        replayed.stdout
    )
    after = json.loads(run_cli(sqlite_config, "member", "export", MEMBER).stdout)
    assert after["erased"] is True and after["records"]["member"] is None
    assert after["records"]["events"] == [] and after["records"]["rewards"]["ledger"] == []
    assert [e["kind"] for e in after["erasures"]] == ["replay"]
    again = run_cli(sqlite_config, "member", "replay-erasures", "--file", str(copy))
    assert "0 tombstones restored from the file; 0 erased member(s)" in again.stdout
