"""RQ's own cost per job: no-op jobs/s with the default forking Worker vs SimpleWorker.

    .venv/bin/python bench/workers.py              # 2,000 jobs per run, 3 repeats, interleaved

Each run: flush a Redis db index of our own, enqueue N no-op jobs (bench/rq_noop.py:noop, in one
pipeline, not timed), then a fresh Python process builds the worker, times
``worker.work(burst=True)`` alone (import and start-up excluded) and prints jobs/s; every job
must end "finished". One worker process at a time, as in production (`loyalty-social worker`
runs SimpleWorker). Output: stdout, bench/results/workers.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH,
    RESULTS,
    ROOT,
    code_version,
    cpu_busy_fraction,
    machine,
    median,
    png_bars,
    save_json,
    text_bars,
    tool_version,
    versions,
)

QUEUE = "bench-noop"

CHILD = r"""
import json, sys, time
sys.path.insert(0, {bench!r})
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job
redis = Redis.from_url({url!r})
queue = Queue({queue!r}, connection=redis)
cls = {{"Worker": Worker, "SimpleWorker": SimpleWorker}}[{kind!r}]
worker = cls([queue], connection=redis)
started = time.perf_counter()
worker.work(burst=True, logging_level="WARNING")
elapsed = time.perf_counter() - started
ids = json.load(open({ids_file!r}))
statuses = {{}}
for job in Job.fetch_many(ids, connection=redis):
    key = job.get_status() if job else "missing"
    key = getattr(key, "value", key)
    statuses[key] = statuses.get(key, 0) + 1
print("BENCHJSON " + json.dumps({{"elapsed": elapsed, "statuses": statuses}}))
"""


def enqueue(url: str, count: int) -> list[str]:
    from redis import Redis
    from rq import Queue
    from rq_noop import noop

    redis = Redis.from_url(url)
    redis.flushdb()
    queue = Queue(QUEUE, connection=redis)
    jobs = queue.enqueue_many([Queue.prepare_data(noop) for _ in range(count)])
    return [job.id for job in jobs]


def run_one(url: str, kind: str, count: int) -> dict:
    ids = enqueue(url, count)
    ids_file = RESULTS / "rq_job_ids.json"
    ids_file.write_text(json.dumps(ids))
    code = CHILD.format(bench=str(BENCH), url=url, queue=QUEUE, kind=kind, ids_file=str(ids_file))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    ids_file.unlink(missing_ok=True)
    for line in out.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            data = json.loads(line.removeprefix("BENCHJSON "))
            data["jobs_per_s"] = count / data["elapsed"]
            data["ms_per_job"] = 1000 * data["elapsed"] / count
            data["all_finished"] = data["statuses"] == {"finished": count}
            return data
    raise RuntimeError(f"{kind} run printed no result:\n{out.stdout}\n{out.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--redis-db", type=int, default=14)
    opts = parser.parse_args()
    url = f"redis://127.0.0.1:6379/{opts.redis_db}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": machine(),
        "code": code_version(),
        "cpu_busy_before_start": round(cpu_busy_fraction(2.0), 3),
        "versions": versions("rq", "redis"),
        "redis_server": tool_version(["redis-server", "--version"]),
        "options": vars(opts),
    }
    print(f"machine: {info['machine']}  cpu busy before start: {info['cpu_busy_before_start']:.0%}")
    kinds = ["Worker", "SimpleWorker"]
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    try:
        for rep in range(opts.repeats):
            for kind in kinds:
                r = run_one(url, kind, opts.jobs)
                runs[kind].append(r)
                print(
                    f"  rep {rep}: {kind:12} {r['jobs_per_s']:8.0f} jobs/s  "
                    f"{r['ms_per_job']:6.2f} ms/job  statuses {r['statuses']}"
                )
    finally:
        from redis import Redis

        Redis.from_url(url).flushdb()
    table = {}
    for kind, rs in runs.items():
        values = [r["jobs_per_s"] for r in rs]
        table[kind] = {
            "jobs_per_s_median": median(values),
            "min": min(values),
            "max": max(values),
            "ms_per_job_median": median([r["ms_per_job"] for r in rs]),
            "runs": rs,
        }
    base = table["SimpleWorker"]["jobs_per_s_median"]
    print(f"\n=== RQ no-op jobs, {opts.jobs} per run, median of {opts.repeats} ===")
    print(f"{'worker':14} {'jobs/s':>8} {'ms/job':>7} {'vs SimpleWorker':>16}")
    for kind, row in table.items():
        row["ratio_to_simpleworker"] = row["jobs_per_s_median"] / base
        print(
            f"{kind:14} {row['jobs_per_s_median']:8.0f} {row['ms_per_job_median']:7.2f} "
            f"{row['ratio_to_simpleworker']:16.3f}"
        )
    rows = [(k, t["jobs_per_s_median"]) for k, t in table.items()]
    print("\n" + text_bars(rows, unit="jobs/s"))
    png = png_bars(
        RESULTS / "workers.png",
        rows,
        f"RQ no-op jobs/s (median of {opts.repeats})",
        unit="jobs/s",
        errors=[(t["min"], t["max"]) for t in table.values()],
    )
    if png:
        print(f"\nchart: {png.relative_to(ROOT)}")
    info["cpu_busy_after"] = round(cpu_busy_fraction(2.0), 3)
    save_json("workers.json", {"info": info, "workers": table})
    ok = all(r["all_finished"] for rs in runs.values() for r in rs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
