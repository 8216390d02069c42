"""Micro-benchmark of intake's serial path: the committer's write and the dispatcher's step.

    .venv/bin/python bench/committer.py

The group committer and the dispatcher are one thread each per web process, and they compete
for the GIL with the request threads, so their Python CPU per batch bounds intake. This
measures, on a throwaway PostgreSQL database + Redis db index (no web server), per batch of
1 / 8 / 32 events (median of 40 batches; wall time and this thread's CPU time):

  store_events            the app's committer.store_events on the committer's long-lived
                          connection: one cached INSERT ... ON CONFLICT DO NOTHING RETURNING,
                          executed with the batch as parameters (insertmanyvalues)
  dispatch                committer.dispatch, the sweeper/replay path: UPDATE enqueued_at +
                          commit + enqueue
  enqueue only            what the dispatcher thread does per batch since rows are stored with
                          enqueued_at: loyalty_social.queue.enqueue(process_events, ids)

Output: stdout and bench/results/committer.json.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import code_version, cpu_busy_fraction, machine, save_json
from intake import BATCH_TRIGGER, PG, SOURCE, app_env, cli, psql, redis_cli

BODY = (
    b'{"type":"social.shared","timestamp":"2026-11-20T09:30:00Z","member_id":"M-1",'
    b'"data":{"network":"x","url":"https://ex.test/1"}}'
)


def measure(fn, make, count=40, warm=5) -> dict:
    for _ in range(warm):
        fn(make())
    walls, cpus = [], []
    for _ in range(count):
        arg = make()
        w, c = time.perf_counter(), time.thread_time()
        fn(arg)
        cpus.append(time.thread_time() - c)
        walls.append(time.perf_counter() - w)
    return {"wall_ms": 1000 * statistics.median(walls), "cpu_ms": 1000 * statistics.median(cpus)}


def run() -> dict:
    from loyalty_social import create_app
    from loyalty_social.extensions import db
    from loyalty_social.intake.committer import dispatch, store_events
    from loyalty_social.intake.service import build_event_row
    from loyalty_social.intake.sources import load_source
    from loyalty_social.queue import enqueue
    from loyalty_social.rules.jobs import process_events

    app = create_app()
    with app.app_context():
        source = load_source(SOURCE)
        engine = db.engine
    counter = [0]

    def rows(k):
        counter[0] += 1
        return [build_event_row(source, f"cm_{counter[0]}_{i}", BODY, 300) for i in range(k)]

    dedicated = engine.connect()
    stored_ids: list[str] = []

    def current(batch):
        stored_ids.extend(r.id for r in store_events(dedicated, batch))

    out = {}
    for k in (1, 8, 32):
        out[f"store_events x{k}"] = measure(current, lambda k=k: rows(k))
    position = [0]

    def next_ids(k):
        chunk = stored_ids[position[0] : position[0] + k]
        position[0] += k
        return chunk

    def in_context(fn):
        def wrapped(ids):
            with app.app_context():
                fn(ids)

        return wrapped

    for k in (1, 8, 32):
        out[f"dispatch x{k}"] = measure(
            in_context(lambda ids: dispatch(ids, 200)), lambda k=k: next_ids(k), count=20, warm=2
        )
        out[f"enqueue only x{k}"] = measure(
            in_context(lambda ids: enqueue(process_events, ids)),
            lambda k=k: next_ids(k),
            count=20,
            warm=2,
        )
    dedicated.close()
    return out


def main() -> int:
    redis_db = 13
    db_name = f"ls_bench_committer_{os.getpid()}"
    subprocess.run(["createdb", *PG, db_name], check=True)
    redis_cli(redis_db, "FLUSHDB")
    env = app_env(db_name, redis_db)
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": machine(),
        "code": code_version(),
        "cpu_busy_before_start": round(cpu_busy_fraction(1.0), 3),
    }
    try:
        cli(env, "db", "upgrade")
        cli(env, "source", "add", SOURCE)
        psql(db_name, BATCH_TRIGGER)  # same database shape as bench/intake.py
        os.environ.update({k: v for k, v in env.items() if k.startswith("LOYALTY_SOCIAL_")})
        results = run()
    finally:
        subprocess.run(["dropdb", *PG, "--if-exists", "--force", db_name], check=False)
        redis_cli(redis_db, "FLUSHDB")
    print(f"{'step, events per batch':32} {'wall ms':>8} {'cpu ms':>8}")
    for name, r in results.items():
        print(f"{name:32} {r['wall_ms']:8.2f} {r['cpu_ms']:8.2f}")
    save_json("committer.json", {"info": info, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
