"""Rules evaluation throughput: events/s one RQ worker evaluates and pays, vs no-op jobs/s.

    .venv/bin/python bench/evaluate.py [--events 20000] [--rules 1000] [--history 10000]

PostgreSQL + Redis (DATABASE_URL / REDIS_URL, or throwaway servers like the tests start).
1,000 active rules spread over the catalogue's 10 earning event types, each with a condition
on a member segment (so ~2 rules pay per event, the rest explain why not), a daily limit, some
a cooldown, some a budget. Events are stored as intake would (pending) and enqueued as
process_events jobs of PROCESS_BATCH_SIZE; one SimpleWorker (the production worker class) in
a fresh process drains the queue, timed alone. The same worker class then drains as many
no-op jobs. Then the same measurement for members with 10 and with 10,000 past events each,
and a sustained run: events stored at a fixed rate while one worker evaluates, intake ->
award latency percentiles.
Output: stdout and bench/results/evaluate.json.
"""

from __future__ import annotations

import argparse
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

from _common import RESULTS, machine, png_bars, save_json, text_bars  # noqa: E402

SECRETS = {
    "SECRET_KEY": "bench-secret-key-" + "x" * 32,
    "ENCRYPTION_KEYS": "3ub9wDL1H7VmzVvEcvdPdYWSl2rQcTmsy-pH_6DAuoU=",
}
SEGMENTS = 50

CHILD = r"""
import os, sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
from loyalty_social import create_app
from loyalty_social.queue import rq_queue, redis_connection, set_worker_app
from rq import SimpleWorker
app = create_app({config!r})
set_worker_app(app)

def backends():
    # CPU seconds of this database's client backends (this process's connections: the bench's
    # own sit idle meanwhile), from /proc: PostgreSQL runs on this machine.
    found = {{}}
    for (pid,) in db.session.execute(db.text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND backend_type = 'client backend'"
    )):
        try:
            fields = open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    db.session.remove()
    return found

with app.app_context():
    # A long-running worker's steady state: its rules compiled (once per change of the rules,
    # about a second for 1,000) before the clock starts.
    from loyalty_social.extensions import db
    from loyalty_social.rules.active import active_rule_set
    active_rule_set()
    db.session.remove()
    queue = rq_queue(app)
    worker = SimpleWorker([queue], connection=redis_connection(app))
    before, cpu = backends(), time.process_time()
    started = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    print("ELAPSED", time.perf_counter() - started)
    cpu, after = time.process_time() - cpu, backends()
    print("CPU", cpu, sum(s - before.get(pid, 0) for pid, s in after.items()))
"""


def config(database_url: str, redis_url: str) -> dict:
    return {
        "ENV": "testing",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        **SECRETS,
    }


def drain(cfg: dict) -> float:
    return drain_stats(cfg)["elapsed"]


def drain_stats(cfg: dict) -> dict:
    """One worker drains the queue: wall seconds, and CPU seconds of the worker and of its
    PostgreSQL backends (work per event, which other load on the machine barely changes)."""
    code = CHILD.format(root=str(ROOT), bench=str(ROOT / "bench"), config=cfg)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    worker, postgres = (float(x) for x in out.split("CPU")[1].split()[:2])
    return {"elapsed": float(out.split("ELAPSED")[1].split()[0]), "worker": worker, "db": postgres}


def payload(event_type: str, i: int) -> dict:
    return {
        "social.shared": {"network": "x", "url": f"https://ex.test/{i}"},
        "social.followed": {"network": "x", "account": f"@b{i % 7}"},
        "review.published": {
            "review_id": f"r{i}",
            "platform": "p",
            "sku": f"S{i % 30}",
            "rating": 1 + i % 5,
            "text_length": i % 900,
        },
        "community.milestone": {"name": "steps_goal", "value": float(i % 20000)},
        "referral.converted": {"referral_code": "F", "referred_member_id": f"X{i}"},
        "member.signed_up": {"via": "email"},
        "social.linked": {"provider": "x", "subject": str(i)},
        "social.mentioned": {"network": "x", "post_url": f"https://social.test/{i}", "reach": i},
        "content.published": {"platform": "ugc", "content_id": f"c{i}", "media": "photo"},
        "community.posted": {"community": "forum", "post_id": f"p{i}", "kind": "answer"},
    }[event_type]


# The catalogue's ten earning types (review.removed and member.updated reverse awards and
# change members: they are not what rules pay for).
TYPES = [
    "social.shared",
    "social.followed",
    "social.mentioned",
    "content.published",
    "community.posted",
    "review.published",
    "community.milestone",
    "referral.converted",
    "member.signed_up",
    "social.linked",
]


def make_rules(app, count: int) -> None:
    from loyalty_social.extensions import db
    from loyalty_social.rules import service

    with app.app_context():
        for i in range(count):
            event_type = TYPES[i % len(TYPES)]
            doc = {
                "name": f"bench {i}",
                "event_types": [event_type],
                "conditions": {
                    "all": [
                        {
                            "field": "member.attributes.segment",
                            "op": "eq",
                            "value": (i // len(TYPES)) % SEGMENTS,
                        },
                        {"field": "event.evidence", "op": "in", "value": ["verified", "confirmed"]},
                    ]
                },
                "rewards": [{"kind": "fixed", "points": 1 + i % 20}],
                "limits": {
                    "per_member": [{"period": "day", "count": 50}],
                    "cooldown_seconds": 1 if i % 3 == 0 else None,
                },
                "budget": {"points": 10**9} if i % 10 == 0 else {},
                "priority": i % 7,
            }
            service.create_rule(doc, actor="bench", status="active")
        db.session.remove()


def store_events(app, members: list[str], count: int, start: datetime, status="pending"):
    from loyalty_social.extensions import db
    from loyalty_social.ids import new_id
    from loyalty_social.intake.catalogue import lookup
    from loyalty_social.intake.models import ActivityEvent

    rows = []
    context = app.app_context()  # object keys of referrals are keyed hashes (the app's key)
    context.push()
    for i in range(count):
        # Drawn, not i % 10: with 10 members, member i % 10 would only ever send one type.
        event_type = random.choice(TYPES)
        data = payload(event_type, i + random.randrange(10**9))
        rows.append(
            {
                "id": new_id("evt"),
                "source_name": "backend",
                "webhook_id": uuid.uuid4().hex,
                "type": event_type,
                "type_version": 1,
                "member_id": members[i % len(members)],
                "occurred_at": start + timedelta(seconds=i),
                "received_at": datetime.now(UTC),
                "evidence": "verified",
                "evidence_claimed": "verified",
                "object_key": lookup(event_type, 1).object_key(data),
                "data": data,
                "body_sha256": "0" * 64,
                "status": status,
                "attempts": 0,
                "outcome": {} if status == "processed" else None,
            }
        )
    context.pop()
    with app.app_context():
        for chunk in range(0, len(rows), 5000):
            db.session.execute(ActivityEvent.__table__.insert(), rows[chunk : chunk + 5000])
            db.session.commit()
        db.session.remove()
    return [r["id"] for r in rows]


def seed_members(app, members: list[str]) -> None:
    from loyalty_social.extensions import db
    from loyalty_social.identity.models import Member

    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(
            Member.__table__.insert(),
            [
                {
                    "id": m,
                    "tier": None,
                    "attributes": {"segment": random.randrange(SEGMENTS)},
                    "created_at": now,
                    "updated_at": now,
                }
                for m in members
            ],
        )
        db.session.commit()
        db.session.remove()


def enqueue(app, ids: list[str]) -> None:
    from loyalty_social.extensions import db
    from loyalty_social.intake.committer import dispatch

    with app.app_context():
        dispatch(ids, app.config["PROCESS_BATCH_SIZE"])
        db.session.commit()
        db.session.remove()


def measure(app, cfg, members, count, label, day: int = 0) -> dict:
    """Drain ``count`` events of ``members`` (on day ``day`` after 2026-11-20: a new day's
    limits) with one worker."""
    ids = store_events(app, members, count, datetime(2026, 11, 20, tzinfo=UTC) + timedelta(day))
    enqueue(app, ids)
    stats = drain_stats(cfg)
    elapsed = stats["elapsed"]
    from loyalty_social.extensions import db
    from loyalty_social.intake.models import ActivityEvent
    from loyalty_social.rewards.models import Award

    with app.app_context():
        done = db.session.scalar(
            db.select(db.func.count())
            .select_from(ActivityEvent)
            .where(ActivityEvent.id.in_(ids), ActivityEvent.status == "processed")
        )
        awards = db.session.scalar(
            db.select(db.func.count()).select_from(Award).where(Award.event_id.in_(ids))
        )
        db.session.remove()
    assert done == count, f"{label}: {done} of {count} processed"
    result = {
        "label": label,
        "events": count,
        "seconds": round(elapsed, 2),
        "events_per_s": round(count / elapsed),
        "awards": awards,
        "cpu_ms_per_event": {
            "worker": round(1000 * stats["worker"] / count, 3),
            "postgres": round(1000 * stats["db"] / count, 3),
        },
    }
    print(json.dumps(result))
    return result


def noop_rate(app, cfg, count: int) -> dict:
    from rq_noop import noop

    from loyalty_social.queue import rq_queue

    queue = rq_queue(app)
    with queue.connection.pipeline() as pipe:
        for _ in range(count):
            queue.enqueue(noop, pipeline=pipe)
        pipe.execute()
    elapsed = drain(cfg)
    result = {
        "label": "no-op RQ jobs",
        "jobs": count,
        "seconds": round(elapsed, 2),
        "jobs_per_s": round(count / elapsed),
    }
    print(json.dumps(result))
    return result


def history(app, members: list[str], per_member: int) -> None:
    """Past activity as it would be after processing: events, awards, ledger entries."""
    from loyalty_social.extensions import db
    from loyalty_social.ids import new_id
    from loyalty_social.rewards.models import Award, LedgerEntry
    from loyalty_social.rules.models import Rule

    start = datetime(2025, 1, 1, tzinfo=UTC)
    with app.app_context():
        rule_id = db.session.scalar(db.select(Rule.id).limit(1))
        db.session.remove()
    for member in members:
        ids = store_events(app, [member], per_member, start, status="processed")
        now = datetime.now(UTC)
        awards = [
            {
                "id": new_id("awd"),
                "rule_id": rule_id,
                "rule_version": 1,
                "event_id": e,
                "member_id": member,
                "object_key": None,
                "points": 1,
                "status": "granted",
                "created_at": now,
            }
            for e in ids
        ]
        ledger = [
            {
                "id": new_id("led"),
                "member_id": member,
                "award_id": a["id"],
                "event_id": a["event_id"],
                "rule_id": rule_id,
                "rule_version": 1,
                "kind": "award",
                "points": 1,
                "created_at": now,
                "debt": 0,
            }
            for a in awards
        ]
        with app.app_context():
            for table, rows in ((Award.__table__, awards), (LedgerEntry.__table__, ledger)):
                for chunk in range(0, len(rows), 5000):
                    db.session.execute(table.insert(), rows[chunk : chunk + 5000])
            db.session.commit()
            db.session.remove()


def sustained(app, cfg, members, rate: int, seconds: int) -> dict:
    """Store events at ``rate``/s (dispatched like intake does) while one worker runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_SOCIAL_")}
    for key, value in cfg.items():
        env[f"LOYALTY_SOCIAL_{key}"] = str(value)
    worker = subprocess.Popen(
        [sys.executable, "-m", "loyalty_social.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    all_ids: list[str] = []
    try:
        time.sleep(3)
        tick = 0.1
        per_tick = int(rate * tick)
        started = time.perf_counter()
        n = 0
        while time.perf_counter() - started < seconds:
            ids = store_events(
                app, members, per_tick, datetime(2026, 11, 21, tzinfo=UTC) + timedelta(seconds=n)
            )
            enqueue(app, ids)
            all_ids += ids
            n += 1
            next_at = started + n * tick
            time.sleep(max(0.0, next_at - time.perf_counter()))
        offered = len(all_ids) / (time.perf_counter() - started)
        from loyalty_social.extensions import db
        from loyalty_social.intake.models import ActivityEvent

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with app.app_context():
                pending = db.session.scalar(
                    db.select(db.func.count())
                    .select_from(ActivityEvent)
                    .where(ActivityEvent.id.in_(all_ids), ActivityEvent.status == "pending")
                )
                db.session.remove()
            if not pending:
                break
            time.sleep(0.5)
        with app.app_context():
            rows = db.session.execute(
                db.select(ActivityEvent.received_at, ActivityEvent.processed_at).where(
                    ActivityEvent.id.in_(all_ids)
                )
            ).all()
            db.session.remove()
    finally:
        worker.terminate()
        worker.wait(20)
    latencies = sorted((p - r).total_seconds() for r, p in rows if p is not None)

    def pct(q):
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 3)

    result = {
        "label": f"sustained {rate}/s for {seconds}s",
        "offered_per_s": round(offered),
        "events": len(all_ids),
        "processed": len(latencies),
        "p50_s": pct(0.5),
        "p95_s": pct(0.95),
        "p99_s": pct(0.99),
        "max_s": latencies[-1],
    }
    print(json.dumps(result))
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--history", type=int, default=10000)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()

    import sqlalchemy as sa

    from tests.conftest import migrate
    from tests.services import postgres_server_url, redis_server_url

    pg_url, pg_server = postgres_server_url()
    redis_url, redis_server = redis_server_url()
    name = f"ls_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    database_url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    if redis_server is None:
        redis_url = redis_url.rsplit("/", 1)[0] + "/12"
    cfg = config(database_url, redis_url)
    results: dict = {"machine": machine(), "args": vars(args), "runs": []}
    try:
        migrate(cfg)
        from loyalty_social import create_app
        from loyalty_social.intake.sources import add_source

        app = create_app(cfg)
        with app.app_context():
            add_source("backend", max_evidence="verified")
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        make_rules(app, args.rules)
        members = [f"M-{i}" for i in range(2000)]
        seed_members(app, members)
        runs = results["runs"]
        runs.append(noop_rate(app, cfg, 3000))
        runs.append(measure(app, cfg, members, args.events, f"{args.rules} rules, 2,000 members"))
        runs.append(noop_rate(app, cfg, 3000))
        light = [f"L-{i}" for i in range(10)]
        heavy = [f"H-{i}" for i in range(10)]
        seed_members(app, light + heavy)
        history(app, light, 10)
        history(app, heavy, args.history)
        # As a database that has been running: statistics current, nothing left for
        # autovacuum to do in the middle of a measurement.
        with sa.create_engine(
            database_url.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        ).connect() as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        for run in (1, 2):  # interleaved: light, heavy, light, heavy
            label = f"10 members x {{}} past events, run {run}"
            runs.append(measure(app, cfg, light, 4000, label.format(10), day=run))
            runs.append(measure(app, cfg, heavy, 4000, label.format(args.history), day=run))
        runs.append(sustained(app, cfg, members, args.rate, args.seconds))
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        if pg_server:
            pg_server.cleanup()
        if redis_server:
            redis_server.cleanup()
    save_json("evaluate.json", results)
    report(results["runs"])
    return 0


def report(runs: list[dict]) -> None:
    """Events/s beside the no-op job rate and the 5x goal, as text and (with matplotlib) PNG."""
    noop = [r["jobs_per_s"] for r in runs if r["label"] == "no-op RQ jobs"]
    baseline = sum(noop) / len(noop)
    rows = [("no-op RQ jobs/s (mean)", baseline), ("goal: 5x no-op", 5 * baseline)]
    rows += [(r["label"], r["events_per_s"]) for r in runs if "events_per_s" in r]
    print()
    print(text_bars(rows, unit="/s"))
    for label, value in rows[2:]:
        print(f"{label}: {value / baseline:.2f}x the no-op job rate")
    sustained = next((r for r in runs if "p99_s" in r), None)
    if sustained:
        print(
            f"sustained {sustained['offered_per_s']}/s: intake -> processed p50 "
            f"{sustained['p50_s']} s, p99 {sustained['p99_s']} s (goal p99 <= 2 s)"
        )
    chart = png_bars(
        RESULTS / "evaluate.png", rows, "Events evaluated and paid per second, one worker", "/s"
    )
    if chart:
        print(f"chart: {chart.relative_to(ROOT)}")


if __name__ == "__main__":
    raise SystemExit(main())
