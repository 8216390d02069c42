"""`loyalty-social consent import FILE`: all or nothing, idempotent, with a progress bar."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from loyalty_social.consent import service
from loyalty_social.extensions import db

from ..conftest import run_cli

PURPOSES = ("targeted_rewards", "social_profile_matching", "social_activity_use")


def counts(app) -> tuple[int, int]:
    with app.app_context():
        events = db.session.execute(sa.text("SELECT count(*) FROM consent_event")).scalar()
        records = db.session.execute(sa.text("SELECT count(*) FROM consent_record")).scalar()
        db.session.commit()
        return events, records


def snapshot(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            sa.text(
                "SELECT member_id, purpose, granted, source, policy_version, event_id"
                " FROM consent_record ORDER BY member_id, purpose"
            )
        ).all()
        db.session.commit()
        return [tuple(r) for r in rows]


def test_bad_lines_are_reported_by_number_and_nothing_is_imported(stack_config, make_app, tmp_path):
    app = make_app(stack_config)
    path = tmp_path / "consents.csv"
    path.write_text(
        "member_id,purpose,granted,at\n"
        "M-1,targeted_rewards,true,2025-01-01T10:00:00Z\n"
        "M-2,spam,true,2025-01-01T10:00:00Z\n"
        "M-3,targeted_rewards,maybe,2025-01-01T10:00:00Z\n"
        "M-4,targeted_rewards,true,2025-01-01 10:00\n"
        "M-5,social_activity_use,false,2025-01-01T10:00:00+02:00\n"
    )
    result = run_cli(stack_config, "consent", "import", str(path))
    assert result.returncode != 0
    assert "line 3: purpose: unknown 'spam'" in result.stderr
    assert "line 4: granted:" in result.stderr
    assert "line 5: at:" in result.stderr
    assert "line 2:" not in result.stderr and "line 6:" not in result.stderr
    assert "3 bad line(s); nothing was imported" in result.stderr
    assert counts(app) == (0, 0)


def test_json_lines_import_keeps_the_newest_decision_and_is_idempotent(
    stack_config, make_app, tmp_path
):
    app = make_app(stack_config)
    with app.app_context():  # the member decided in the portal after the old system's record
        service.set_consent("M-1", "targeted_rewards", False, "portal", "M-1")
        db.session.commit()
    old = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    lines = [
        {"member_id": "M-1", "purpose": "targeted_rewards", "granted": True, "at": old},
        {"member_id": "M-2", "purpose": "targeted_rewards", "granted": True, "at": old},
        {
            "member_id": "M-2",
            "purpose": "targeted_rewards",
            "granted": False,
            "at": old + timedelta(days=1),
            "actor": "crm-agent-9",
        },
        {"member_id": "M-3", "purpose": "social_profile_matching", "granted": True, "at": old},
    ]
    path = tmp_path / "consents.jsonl"
    path.write_text("\n".join(json.dumps(line, default=datetime.isoformat) for line in lines))
    first = run_cli(stack_config, "consent", "import", str(path))
    assert first.returncode == 0, first.stderr
    assert "4 lines: 4 new consent records" in first.stdout
    with app.app_context():
        assert service.has_consent("M-1", "targeted_rewards") is None  # the portal's is newer
        assert service.has_consent("M-2", "targeted_rewards") is None
        assert service.has_consent("M-3", "social_profile_matching") is not None
        history = [(e.action, e.source, e.actor) for e in service.history("M-2")]
        assert history == [("granted", "import", "import"), ("withdrawn", "import", "crm-agent-9")]
        db.session.commit()
    before = (counts(app), snapshot(app))
    again = run_cli(stack_config, "consent", "import", str(path))
    assert again.returncode == 0, again.stderr
    assert "0 new consent records, 4 already imported; 0 current decisions changed" in again.stdout
    assert (counts(app), snapshot(app)) == before


def test_hundred_thousand_lines_with_a_progress_bar_and_a_no_op_reimport(
    pg_config, make_app, tmp_path
):
    app = make_app(pg_config)
    path = tmp_path / "consents.csv"
    start = datetime(2023, 1, 1, tzinfo=UTC)
    with path.open("w") as out:
        out.write("member_id,purpose,granted,at,policy_version\n")
        for i in range(100_000):
            at = (start + timedelta(seconds=i)).isoformat()
            out.write(f"M-{i // 3},{PURPOSES[i % 3]},{'true' if i % 4 else 'false'},{at},1\n")
    first = run_cli(pg_config, "consent", "import", str(path), timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "Checking consents" in first.stderr and "Importing consents" in first.stderr
    assert "100000 lines: 100000 new consent records" in first.stdout
    assert counts(app) == (100_000, 100_000)
    before = snapshot(app)
    with app.app_context():
        assert service.has_consent("M-0", "social_profile_matching") is not None  # i = 1
        assert service.has_consent("M-0", "targeted_rewards") is None  # i = 0: withdrawn
        db.session.commit()
    again = run_cli(pg_config, "consent", "import", str(path), timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 new consent records, 100000 already imported; 0 current decisions changed" in (
        again.stdout
    )
    assert counts(app) == (100_000, 100_000)
    assert snapshot(app) == before
