# ruff: noqa: E501, S608 - report formatting lines; SQL built from our own generated names/ids
"""Intake throughput and latency against a bare Flask endpoint, same server, same run.

    .venv/bin/python bench/intake.py                    # threads 8,16,32 per worker, 3 repeats
    .venv/bin/python bench/intake.py --threads 16 --repeats 1 --seconds 10   # quick look

What it does, in one run:
  1. a throwaway PostgreSQL database and a Redis db index of its own (flushed before and after);
     `loyalty-social db upgrade`, `source add bench`, `rule add` (LOYALTY_SOCIAL_ENV=production);
  2. for each threads-per-worker value T: `loyalty-social serve --workers W --threads T`
     (granian WSGI) and `granian ... bench.bare_app:app` with the same W x T, alive together;
     warm-up, then alternating peak runs bare / intake (wrk, W*T connections, every intake
     request a new pre-signed event, fresh timestamps per run);
  3. at the best T: paced intake runs at half of its median peak rate (wrk Lua delay());
  4. after every intake run: stored events of that run vs. 202 responses, non-2xx = 0,
     group-commit batch sizes (a statement trigger in the throwaway database, see
     BATCH_TRIGGER), jobs enqueued, CPU ms per request of the server processes and of the
     PostgreSQL backends serving the bench database.
No RQ worker runs: jobs accumulate in the bench Redis db (intake alone is measured).
Figures go to stdout, bench/results/intake.json and bench/results/intake.png.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    RESULTS,
    ROOT,
    VENV_BIN,
    code_version,
    cpu_busy_fraction,
    free_port,
    granian_args,
    machine,
    median,
    non_2xx,
    png_bars,
    save_json,
    serving,
    socket_errors,
    text_bars,
    tool_version,
    versions,
    wrk,
)

PG = ["-h", "127.0.0.1", "-U", "postgres"]
SOURCE = "bench"
QUEUE_KEY = "rq:queue:loyalty-social"
# Group-commit batch sizes, measured exactly: a statement-level trigger (in the throwaway
# database only) logs how many rows each INSERT into activity_event stored. Cost: one small
# row per batch, inside PostgreSQL; nothing changes in the app. (pg_stat_database.xact_commit
# cannot be used: pool_pre_ping runs SELECT 1 in autocommit, i.e. one extra "commit" per
# checkout, and idle backends publish their counters up to 10 s late.)
BATCH_TRIGGER = """
create table bench_batches (id bigserial primary key, at timestamptz default clock_timestamp(),
                            n int not null);
create function bench_log_batch() returns trigger language plpgsql as $$
begin
  insert into bench_batches(n) select count(*) from new_rows;
  return null;
end $$;
create trigger bench_log_batch after insert on activity_event
  referencing new table as new_rows for each statement execute function bench_log_batch();
"""


def psql(db: str, sql: str) -> str:
    out = subprocess.run(
        ["psql", *PG, "-d", db, "-tAX", "-c", sql], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def redis_cli(db: int, *args: str) -> str:
    out = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-n", str(db), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def app_env(db_name: str, redis_db: int) -> dict:
    env = dict(os.environ)
    env.update(
        LOYALTY_SOCIAL_ENV="production",
        LOYALTY_SOCIAL_DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{db_name}",
        LOYALTY_SOCIAL_REDIS_URL=f"redis://127.0.0.1:6379/{redis_db}",
        LOYALTY_SOCIAL_SECRET_KEY=secrets.token_urlsafe(48),
        LOYALTY_SOCIAL_ENCRYPTION_KEYS=fernet_key(),
        LOYALTY_SOCIAL_LOG_LEVEL="WARNING",
        LOYALTY_SOCIAL_WEBHOOK_RATE_LIMIT="1000000",
        LOYALTY_SOCIAL_WEBHOOK_RATE_BURST="1000000",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # `serve` makes a fresh one
    return env


def cli(env: dict, *args: str) -> str:
    out = subprocess.run(
        [str(VENV_BIN / "loyalty-social"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"loyalty-social {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


# --- requests ------------------------------------------------------------------------------


def write_signed_requests(path: Path, secret: str, prefix: str, count: int) -> None:
    """Unique, signed webhook requests, timestamped now (valid for the 5-minute tolerance)."""
    from loyalty_social.webhook_signing import sign

    stamp = int(time.time())
    with open(path, "w") as f:
        for n in range(count):
            webhook_id = f"msg_{prefix}_{n}"
            body = json.dumps(
                {
                    "type": "social.shared",
                    "timestamp": "2026-11-20T09:30:00Z",
                    "member_id": f"M-{n % 50000}",
                    "data": {"network": "x", "url": f"https://ex.test/{prefix}/{n}"},
                },
                separators=(",", ":"),
            )
            signature = sign(secret, webhook_id, stamp, body.encode())
            f.write(f"{webhook_id}\t{stamp}\t{signature}\t{body}\n")


# --- CPU accounting ------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    except (OSError, IndexError):
        return 0.0


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.append(int(entry.name))
    return pids


def cpu_of(pids: list[int]) -> float:
    return sum(_proc_cpu(p) for p in pids)


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    return {p: _proc_cpu(p) for p in pids if Path(f"/proc/{p}").exists()}


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two readings; processes that exited meanwhile are left out,
    processes that started meanwhile count in full."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def pg_backend_pids(db_name: str) -> list[int]:
    text = psql("postgres", f"select pid from pg_stat_activity where datname = '{db_name}'")
    return [int(x) for x in text.split()] if text else []


# --- one measured run ----------------------------------------------------------------------


class IntakeRun:
    def __init__(self, ctx, server, port, connections, seconds, rate=0.0, label=""):
        self.ctx, self.server, self.port = ctx, server, port
        self.connections, self.seconds, self.rate, self.label = connections, seconds, rate, label

    def go(self, expected_rate: float) -> dict:
        ctx = self.ctx
        ctx["run_no"] += 1
        prefix = f"r{ctx['run_no']}"
        count = int(max(5000, expected_rate * self.seconds * 1.4 + 2000))
        req_file = RESULTS / "signed_requests.tsv"
        write_signed_requests(req_file, ctx["secret"], prefix, count)
        db = ctx["db"]
        server_pids = group_pids(self.server.proc.pid)
        pg_pids = pg_backend_pids(db)
        before = self._counters(db, ctx["redis_db"])
        last_batch = int(psql(db, "select coalesce(max(id), 0) from bench_batches"))
        cpu_srv0, cpu_pg0 = cpu_of(server_pids), cpu_by_pid(pg_pids)
        load0 = os.getloadavg()[0]
        result = wrk(
            f"http://127.0.0.1:{self.port}/webhooks/{SOURCE}",
            self.seconds,
            self.connections,
            threads=ctx["wrk_threads"],
            env_extra={"BENCH_REQUESTS": str(req_file), "BENCH_RATE": str(self.rate)},
        )
        cpu_srv1 = cpu_of(server_pids)
        cpu_pg1 = cpu_by_pid(pg_backend_pids(db))
        load1 = os.getloadavg()[0]
        time.sleep(2.0)  # let the committer/dispatcher finish and backends flush their stats
        after = self._counters(db, ctx["redis_db"])
        stored = int(
            psql(
                db,
                f"select count(*) from activity_event where webhook_id like 'msg\\_{prefix}\\_%'",
            )
        )
        req_file.unlink(missing_ok=True)
        codes = result.get("codes", {})
        accepted = int(codes.get("202", 0))
        jobs = after["jobs"] - before["jobs"]
        batches, batch_events, batch_max = (
            int(x or 0)
            for x in psql(
                db, f"select count(*), sum(n), max(n) from bench_batches where id > {last_batch}"
            ).split("|")
        )
        secs = result["duration_us"] / 1e6
        rps = result["requests"] / secs
        run = {
            "label": self.label,
            "target_rate": self.rate,
            "connections": self.connections,
            "rps": rps,
            "p50_ms": result["latency_us"]["p50"] / 1000,
            "p99_ms": result["latency_us"]["p99"] / 1000,
            "max_ms": result["latency_us"]["max"] / 1000,
            "codes": codes,
            "non_2xx": non_2xx(result),
            "socket_errors": socket_errors(result),
            "sent": result["sent"],
            "wrapped": result["wrapped"],
            "accepted_202": accepted,
            "stored": stored,
            "in_flight_at_stop": result["sent"] - result["requests"],
            "jobs_enqueued": jobs,
            "insert_batches": batches,
            "mean_batch": batch_events / batches if batches else None,
            "max_batch": batch_max,
            "server_cpu_ms_per_req": 1000 * (cpu_srv1 - cpu_srv0) / max(1, result["requests"]),
            "pg_cpu_ms_per_req": 1000 * cpu_delta(cpu_pg0, cpu_pg1) / max(1, result["requests"]),
            "loadavg_1m_before_after": (round(load0, 2), round(load1, 2)),
        }
        # Every 202 is a stored event; events answered after wrk stopped may be stored too.
        run["verified"] = (
            run["non_2xx"] == 0
            and run["wrapped"] == 0
            and set(codes) <= {"202"}
            and accepted <= stored <= accepted + run["in_flight_at_stop"]
        )
        return run

    @staticmethod
    def _counters(db: str, redis_db: int) -> dict:
        return {"jobs": int(redis_cli(redis_db, "LLEN", QUEUE_KEY) or 0)}


def bare_run(ctx, port, connections, seconds, server) -> dict:
    pids = group_pids(server.proc.pid)
    cpu0 = cpu_of(pids)
    load0 = os.getloadavg()[0]
    result = wrk(
        f"http://127.0.0.1:{port}/webhooks/{SOURCE}",
        seconds,
        connections,
        threads=ctx["wrk_threads"],
    )
    cpu1 = cpu_of(pids)
    secs = result["duration_us"] / 1e6
    return {
        "rps": result["requests"] / secs,
        "p50_ms": result["latency_us"]["p50"] / 1000,
        "p99_ms": result["latency_us"]["p99"] / 1000,
        "non_2xx": non_2xx(result),
        "socket_errors": socket_errors(result),
        "server_cpu_ms_per_req": 1000 * (cpu1 - cpu0) / max(1, result["requests"]),
        "loadavg_1m_before_after": (round(load0, 2), round(os.getloadavg()[0], 2)),
    }


# --- the benchmark -------------------------------------------------------------------------


def summarise(runs: list[dict], keys=("rps", "p50_ms", "p99_ms")) -> dict:
    out = {}
    for key in keys:
        values = [r[key] for r in runs if r.get(key) is not None]
        out[key] = (
            {"median": median(values), "min": min(values), "max": max(values)} if values else None
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="8,16,32", help="blocking threads per worker to try")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=15, help="per wrk run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument(
        "--connections-per-thread",
        type=float,
        default=1.0,
        help="wrk connections = workers x threads x this",
    )
    opts = parser.parse_args()
    thread_counts = [int(t) for t in opts.threads.split(",")]

    RESULTS.mkdir(parents=True, exist_ok=True)
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": machine(),
        "code": code_version(),
        "cpu_busy_before_start": round(cpu_busy_fraction(2.0), 3),
        "versions": versions(
            "flask", "werkzeug", "granian", "sqlalchemy", "psycopg", "rq", "redis"
        ),
        "wrk": tool_version(["wrk", "-v"]),
        "postgres": psql("postgres", "show server_version"),
        "redis": redis_cli(0, "INFO", "server").split("redis_version:")[1].split()[0],
        "options": vars(opts),
    }
    print(f"machine: {info['machine']}  cpu busy before start: {info['cpu_busy_before_start']:.0%}")

    db_name = f"ls_bench_intake_{os.getpid()}"
    subprocess.run(["createdb", *PG, db_name], check=True)
    redis_cli(opts.redis_db, "FLUSHDB")
    ctx = {"db": db_name, "redis_db": opts.redis_db, "run_no": 0, "wrk_threads": opts.wrk_threads}
    env = app_env(db_name, opts.redis_db)
    results = {"info": info, "by_threads": {}}
    try:
        cli(env, "db", "upgrade")
        ctx["secret"] = cli(env, "source", "add", SOURCE).strip().splitlines()[-1]
        cli(env, "rule", "add", "--name", "x", "--event-type", "social.shared", "--points", "10")
        psql(db_name, BATCH_TRIGGER)

        best = None
        for threads in thread_counts:
            conns = max(1, int(opts.workers * threads * opts.connections_per_thread))
            app_port, bare_port = free_port(), free_port()
            app_cmd = [
                str(VENV_BIN / "loyalty-social"),
                "serve",
                "--bind",
                f"127.0.0.1:{app_port}",
                "--workers",
                str(opts.workers),
                "--threads",
                str(threads),
            ]
            bare_cmd = granian_args("bench.bare_app:app", bare_port, opts.workers, threads)
            print(f"\n== {opts.workers} workers x {threads} threads, {conns} connections ==")
            with (
                serving(
                    app_cmd,
                    env=env,
                    log_name=f"intake_app_t{threads}",
                    port=app_port,
                    probe="/healthz",
                ) as app_srv,
                serving(
                    bare_cmd, env=env, log_name=f"intake_bare_t{threads}", port=bare_port
                ) as bare_srv,
            ):
                # warm-up: imports, connection pools, committer/dispatcher threads in each worker
                bare_run(ctx, bare_port, conns, 3, bare_srv)
                IntakeRun(ctx, app_srv, app_port, conns, 3, label="warmup").go(3000)
                bare_runs, intake_runs = [], []
                for rep in range(opts.repeats):
                    b = bare_run(ctx, bare_port, conns, opts.seconds, bare_srv)
                    bare_runs.append(b)
                    i = IntakeRun(
                        ctx, app_srv, app_port, conns, opts.seconds, label=f"peak{rep}"
                    ).go(b["rps"])
                    intake_runs.append(i)
                    print(
                        f"  rep {rep}: bare {b['rps']:7.0f} req/s p99 {b['p99_ms']:6.1f} ms | "
                        f"intake {i['rps']:7.0f} req/s p50 {i['p50_ms']:6.1f} p99 {i['p99_ms']:6.1f} ms "
                        f"| batch {i['mean_batch'] or 0:5.1f} | stored {i['stored']} / 202 {i['accepted_202']} "
                        f"| {'ok' if i['verified'] else 'CHECK FAILED'}"
                    )
                    if not app_srv.alive():
                        raise RuntimeError("the app server died; see its log")
                entry = {
                    "connections": conns,
                    "bare": {"runs": bare_runs, **summarise(bare_runs)},
                    "intake": {
                        "runs": intake_runs,
                        **summarise(intake_runs, ("rps", "p50_ms", "p99_ms", "mean_batch")),
                    },
                }
                entry["intake_pct_of_bare"] = (
                    100 * entry["intake"]["rps"]["median"] / entry["bare"]["rps"]["median"]
                )
                results["by_threads"][threads] = entry
                if (
                    best is None
                    or entry["intake"]["rps"]["median"]
                    > results["by_threads"][best]["intake"]["rps"]["median"]
                ):
                    best = threads

        # paced runs at half of the best intake peak
        entry = results["by_threads"][best]
        half = entry["intake"]["rps"]["median"] / 2
        conns = entry["connections"]
        app_port = free_port()
        app_cmd = [
            str(VENV_BIN / "loyalty-social"),
            "serve",
            "--bind",
            f"127.0.0.1:{app_port}",
            "--workers",
            str(opts.workers),
            "--threads",
            str(best),
        ]
        print(
            f"\n== half peak: {half:.0f} req/s, {opts.workers} x {best} threads, {conns} connections =="
        )
        with serving(
            app_cmd, env=env, log_name=f"intake_app_half_t{best}", port=app_port, probe="/healthz"
        ) as app_srv:
            IntakeRun(ctx, app_srv, app_port, conns, 3, rate=half, label="warmup").go(half)
            paced = []
            for rep in range(opts.repeats):
                p = IntakeRun(
                    ctx, app_srv, app_port, conns, opts.seconds, rate=half, label=f"half{rep}"
                ).go(half)
                paced.append(p)
                print(
                    f"  rep {rep}: {p['rps']:7.0f} req/s (target {half:.0f}) p50 {p['p50_ms']:6.1f} "
                    f"p99 {p['p99_ms']:6.1f} ms | batch {p['mean_batch'] or 0:5.1f} "
                    f"| {'ok' if p['verified'] else 'CHECK FAILED'}"
                )
        results["best_threads"] = best
        results["half_peak"] = {
            "target_rate": half,
            "connections": conns,
            "runs": paced,
            **summarise(paced, ("rps", "p50_ms", "p99_ms", "mean_batch")),
        }
        results["all_verified"] = all(
            r["verified"] for e in results["by_threads"].values() for r in e["intake"]["runs"]
        ) and all(r["verified"] for r in paced)
        results["all_bare_2xx"] = all(
            r["non_2xx"] == 0 and r["socket_errors"] == 0
            for e in results["by_threads"].values()
            for r in e["bare"]["runs"]
        )
        results["cpu_busy_after"] = round(cpu_busy_fraction(2.0), 3)
        report(results, opts)
    finally:
        subprocess.run(["dropdb", *PG, "--if-exists", "--force", db_name], check=False)
        redis_cli(opts.redis_db, "FLUSHDB")
    save_json("intake.json", results)
    return 0 if results.get("all_verified") else 1


def report(results: dict, opts) -> None:
    best = results["best_threads"]
    print(
        "\n=== intake vs bare Flask endpoint (medians of",
        opts.repeats,
        "runs of",
        opts.seconds,
        "s) ===",
    )
    print(
        f"{'threads/worker':>14} {'bare req/s':>11} {'intake req/s':>13} {'intake % bare':>14} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'batch':>6} {'srv ms/req':>10} {'pg ms/req':>9}"
    )
    for threads, e in results["by_threads"].items():
        runs = e["intake"]["runs"]
        print(
            f"{threads:>14} {e['bare']['rps']['median']:>11.0f} {e['intake']['rps']['median']:>13.0f} "
            f"{e['intake_pct_of_bare']:>13.1f}% {e['intake']['p50_ms']['median']:>7.1f} "
            f"{e['intake']['p99_ms']['median']:>7.1f} {e['intake']['mean_batch']['median']:>6.1f} "
            f"{median([r['server_cpu_ms_per_req'] for r in runs]):>10.2f} "
            f"{median([r['pg_cpu_ms_per_req'] for r in runs]):>9.2f}"
        )
    h = results["half_peak"]
    e = results["by_threads"][best]
    print(
        f"\nbest: {best} threads/worker; intake {e['intake']['rps']['median']:.0f} req/s = "
        f"{e['intake_pct_of_bare']:.1f}% of bare (goal >= 25%: "
        f"{'met' if e['intake_pct_of_bare'] >= 25 else 'NOT met'})"
    )
    print(
        f"half peak ({h['target_rate']:.0f} req/s target, {h['rps']['median']:.0f} achieved): "
        f"p50 {h['p50_ms']['median']:.1f} ms, p99 {h['p99_ms']['median']:.1f} ms (goal p99 < 50 ms: "
        f"{'met' if h['p99_ms']['median'] < 50 else 'NOT met'}); mean batch {h['mean_batch']['median']:.1f}"
    )
    print(
        f"every run verified (0 non-2xx, stored == 202s + in-flight at stop): {results['all_verified']}"
    )
    rows = []
    spans = []
    for threads, e in results["by_threads"].items():
        rows.append((f"bare   {threads:>2} thr", e["bare"]["rps"]["median"]))
        spans.append((e["bare"]["rps"]["min"], e["bare"]["rps"]["max"]))
        rows.append((f"intake {threads:>2} thr", e["intake"]["rps"]["median"]))
        spans.append((e["intake"]["rps"]["min"], e["intake"]["rps"]["max"]))
    print("\n" + text_bars(rows))
    png = png_bars(
        RESULTS / "intake.png",
        rows,
        f"Peak req/s, {opts.workers} granian workers (median of {opts.repeats}, min-max)",
        errors=spans,
    )
    if png:
        print(f"\nchart: {png.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
