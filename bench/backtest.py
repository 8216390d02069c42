"""Backtest throughput: stored events a backtest evaluates per second (no writes but its
progress), against the goal of 20,000/s.

    .venv/bin/python bench/backtest.py [--events 200000] [--members 20000] [--repeats 5]

PostgreSQL (DATABASE_URL, or a throwaway server like the tests start): a fresh database,
``--events`` processed events of the catalogue's earning types received over 30 days (stored
in bulk, as evaluate.py does), then a backtest of a rule with a condition, a daily limit and
a budget over the whole window, run as the job runs it (``backtest.run``) in a fresh process
set up like ``loyalty-social worker``, ``--repeats`` times on the same data (the machine is
shared: the median, with every run, its CPU seconds and its garbage collector's pauses).
"Events" are those the backtest evaluates: the stored events of the rule's types in the window
(here two of the ten types, about a fifth). Output: stdout (with a text chart of the runs) and
bench/results/backtest.json (and backtest.png with matplotlib).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import RESULTS, machine, median, png_bars, save_json, text_bars  # noqa: E402
from evaluate import TYPES, config, payload, seed_members  # noqa: E402

GOAL = 20_000
START = datetime(2026, 10, 1, tzinfo=UTC)

RULE = {
    "name": "bench backtest",
    "event_types": ["review.published", "social.shared"],
    "conditions": {
        "all": [
            {"field": "member.attributes.segment", "op": "lt", "value": 25},
            {"field": "event.evidence", "op": "in", "value": ["verified", "confirmed"]},
        ]
    },
    "rewards": [{"kind": "fixed", "points": 15}],
    "limits": {"per_member": [{"period": "day", "count": 3}]},
    "budget": {"points": 10**9},
}


def store(app, members: list[str], count: int) -> None:
    """``count`` processed events spread over 30 days, in bulk."""
    from loyalty_social.extensions import db
    from loyalty_social.ids import new_id
    from loyalty_social.intake.catalogue import lookup
    from loyalty_social.intake.models import ActivityEvent

    step = 30 * 86400 / count
    with app.app_context():
        rows = []
        for i in range(count):
            event_type = random.choice(TYPES)
            data = payload(event_type, i)
            at = START + timedelta(seconds=i * step)
            rows.append(
                {
                    "id": new_id("evt"),
                    "source_name": "backend",
                    "webhook_id": uuid.uuid4().hex,
                    "type": event_type,
                    "type_version": 1,
                    "member_id": random.choice(members),
                    "occurred_at": at,
                    "received_at": at,
                    "evidence": "verified",
                    "evidence_claimed": "verified",
                    "object_key": lookup(event_type, 1).object_key(data),
                    "data": data,
                    "body_sha256": "0" * 64,
                    "status": "processed",
                    "attempts": 1,
                    "outcome": {},
                }
            )
            if len(rows) == 10_000:
                db.session.execute(ActivityEvent.__table__.insert(), rows)
                db.session.commit()
                rows = []
        if rows:
            db.session.execute(ActivityEvent.__table__.insert(), rows)
            db.session.commit()
        db.session.remove()


def worker_run(database_url: str, rule_id: str) -> dict:
    """One backtest in a fresh process set up as ``loyalty-social worker`` sets up its own
    (the app built, then frozen out of the garbage collector), not in this one: every run
    starts as a worker's job does, whatever seeding left in this process."""
    command = [sys.executable, __file__, "--worker-run", database_url, rule_id]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return json.loads(out.splitlines()[-1])


def _worker_run(database_url: str, rule_id: str) -> None:
    from loyalty_social import create_app
    from loyalty_social.queue import set_worker_app
    from loyalty_social.rules import backtest

    app = create_app(config(database_url, ""))
    set_worker_app(app)
    collecting = gc_timer()
    with app.app_context():
        backtest_id = backtest.start(rule_id, START, START + timedelta(days=31))
        started, cpu = time.perf_counter(), time.process_time()
        done = backtest.run(backtest_id)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        events = done.report["totals"]["events"]
        run = {
            "seconds": round(elapsed, 3),
            "events_per_s": round(events / elapsed),
            # This process's CPU (not the database's): steadier on a shared machine.
            "cpu_seconds": round(cpu, 3),
            "events_per_cpu_s": round(events / cpu),
            "gc_seconds": round(sum(collecting), 3),
            "loadavg_after": os.getloadavg(),
            "report": done.report["totals"],
        }
    print(json.dumps(run))


def gc_timer() -> list[float]:
    """The garbage collector's pauses in this process, in seconds, as they happen."""
    pauses: list[float] = []
    began = [0.0]

    def note(phase, _info):
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses.append(time.perf_counter() - began[0])

    gc.callbacks.append(note)
    return pauses


def main() -> int:
    if sys.argv[1:2] == ["--worker-run"]:
        _worker_run(*sys.argv[2:4])
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import sqlalchemy as sa

    from tests.conftest import migrate
    from tests.services import postgres_server_url

    pg_url, pg_server = postgres_server_url()
    name = f"ls_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    database_url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    cfg = config(database_url, "")
    try:
        migrate(cfg)
        from loyalty_social import create_app
        from loyalty_social.extensions import db
        from loyalty_social.intake.sources import add_source
        from loyalty_social.rules import service

        app = create_app(cfg)
        with app.app_context():
            add_source("backend", max_evidence="verified")
        members = [f"M-{i}" for i in range(args.members)]
        seed_members(app, members)
        store(app, members, args.events)
        with sa.create_engine(
            database_url.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        ).connect() as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        at_start = machine()  # the load average as the runs start
        with app.app_context():
            rule_id = service.create_rule(RULE, actor="bench", status="draft").id
            db.session.remove()
        runs = [worker_run(database_url, rule_id) for _ in range(args.repeats)]
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        if pg_server:
            pg_server.cleanup()
    rates = [run["events_per_s"] for run in runs]
    result = {
        "machine": at_start,
        "args": vars(args),
        "scanned": runs[-1]["report"]["events"],
        "runs": runs,
        "events_per_s": round(median(rates)),
        "events_per_s_min_max": [min(rates), max(rates)],
        "goal_events_per_s": GOAL,
        "awards": runs[-1]["report"]["awards"],
        "points": runs[-1]["report"]["points"],
    }
    rows = [(f"run {i + 1}", rate) for i, rate in enumerate(rates)]
    print(text_bars([*rows, ("median", result["events_per_s"]), ("goal", GOAL)], "events/s"))
    png_bars(
        RESULTS / "backtest.png", rows, "backtest.run: events evaluated per second", "events/s"
    )
    print(json.dumps(result, indent=2))
    save_json("backtest.json", result)
    return 0 if result["events_per_s"] >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
