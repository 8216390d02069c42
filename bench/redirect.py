# ruff: noqa: E501 - report formatting lines; SQL built from our own generated names
"""The share-link redirect (``GET /s/<code>``) against a bare Flask 302, same server, same run.

    .venv/bin/python bench/redirect.py                          # 2 workers x 8 threads, 3 repeats
    .venv/bin/python bench/redirect.py --repeats 1 --seconds 5  # quick look
    .venv/bin/python bench/redirect.py --seed-clicks 10000000   # also: lookups and writes at 10M

What it does, in one run:
  1. a throwaway PostgreSQL database (production settings, no Redis: nothing is enqueued by
     a click that does not verify a share); `loyalty-social db upgrade`; LINKS members with one
     share link each (generate_series); with --seed-clicks, that many click rows spread over
     the links, then ANALYZE;
  2. `loyalty-social serve` and `granian bench.bare_app:app` (its /s/<code> answers a fixed
     302) with the same workers x threads, alive together; a warm-up (--warmup seconds of
     redirects: every process loads its links; reported as the cold start), then alternating
     peak runs bare / redirect (wrk, every request a link of the set and a browser user agent of one of
     BENCH_VISITORS visitors, so clicks are counted, repeated and written as for people);
  3. paced redirect runs at half of its median peak (p99 goal: <= 20 ms), and the bare
     endpoint paced at the same rate (what the machine itself adds to p99);
  4. after every redirect run: click rows written == 302 answers, plus at most the requests
     in flight when wrk stopped (the writer is asynchronous: waited for), CPU ms per request of the server processes;
  5. with --seed-clicks: timings of what grows with the table, at that size: the redirect's
     link lookup, a member's links, a link's newest clicks (the timeline), and one writer
     batch of 1,000 clicks (insert + counters), each the median of several EXPLAIN ANALYZE.
Goal: redirect >= 60 % of bare req/s. Figures go to stdout and bench/results/redirect.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH,
    RESULTS,
    VENV_BIN,
    code_version,
    cpu_busy_fraction,
    free_port,
    granian_args,
    machine,
    median,
    non_2xx,
    save_json,
    serving,
    socket_errors,
    text_bars,
    tool_version,
    versions,
    wrk,
)
from intake import PG, app_env, cli, cpu_of, group_pids, psql

WRK_LUA = BENCH / "wrk_redirect.lua"

SEED_LINKS = """
insert into member (id, tier, attributes, created_at, updated_at)
  select 'M-' || n, null, '{{}}', now(), now() from generate_series(1, {links}) n;
insert into share_link (code, member_id, target_url, target_hash, created_at, clicks,
                        bot_clicks, repeat_clicks)
  select 'b' || n, 'M-' || n, 'https://shop.example/p/' || n || '?color=red', md5(n::text) || md5(n::text),
         now(), 0, 0, 0
  from generate_series(1, {links}) n;
"""
# Indexes and the foreign key are dropped for the bulk insert and made again after it (built
# by sorting, many times faster than row by row); the key is re-added NOT VALID: checked for
# every new click (as in production), the seeded ones trusted.
SEED_CLICKS = """
alter table share_click drop constraint fk_share_click_link_code_share_link;
drop index ix_share_click_link_at;
drop index uq_share_click_counted_visitor;
insert into share_click (link_code, at, referrer_host, agent, visitor, counted, bot, repeat)
  select 'b' || (1 + n % {links}), now() - (n % 2592000) * interval '1 second',
         case when n % 3 = 0 then 'l.facebook.com' end,
         case when n % 10 = 0 then 'bot' else 'mobile' end,
         md5(n::text), n % 10 <> 0, n % 10 = 0, false
  from generate_series(1, {clicks}) n;
update share_link l set clicks = c.n, last_click_at = c.last
  from (select link_code, count(*) filter (where counted) n, max(at) last
        from share_click group by link_code) c where c.link_code = l.code;
create index ix_share_click_link_at on share_click (link_code, at);
create unique index uq_share_click_counted_visitor on share_click (link_code, visitor)
  where counted;
alter table share_click add constraint fk_share_click_link_code_share_link
  foreign key (link_code) references share_link (code) not valid;
analyze;
"""
# Each measured with EXPLAIN (ANALYZE) several times; the median execution time is kept.
PROBES = {
    "redirect link lookup (by code)": "select target_url, network, disabled_at from share_link where code = 'b{k}'",
    "a member's links (portal, API)": "select * from share_link where member_id = 'M-{k}' order by created_at desc, code limit 100",
    "a link's newest 50 clicks (timeline)": "select * from share_click where link_code = 'b{k}' order by at desc limit 50",
    "writer: 1,000 counted clicks (insert)": (
        "insert into share_click (link_code, at, referrer_host, agent, visitor, counted, bot, repeat) "
        "select 'b' || (1 + (n * 7 + {k}) % {links}), now(), null, 'mobile', md5(random()::text), true, false, false "
        "from generate_series(1, 1000) n on conflict (link_code, visitor) where counted do nothing"
    ),
    "writer: counters of 1,000 links (update)": (
        "update share_link set clicks = clicks + 1, last_click_at = now() "
        "where code in (select 'b' || (1 + (n * 13 + {k}) % {links}) from generate_series(1, 1000) n)"
    ),
}


def probe(db: str, sql: str, links: int, times: int = 7) -> float:
    found = []
    for k in range(times):
        text = psql(
            db, f"explain (analyze, format json) {sql.format(k=1 + k * 997 % links, links=links)}"
        )
        found.append(json.loads(text)[0]["Execution Time"])
    return median(found)


def redirect_run(ctx, server, port, conns, seconds, rate=0.0) -> dict:
    db = ctx["db"]
    before = int(psql(db, "select count(*) from share_click"))
    pids = group_pids(server.proc.pid)
    cpu0 = cpu_of(pids)
    result = wrk(
        f"http://127.0.0.1:{port}/s/b1",
        seconds,
        conns,
        threads=ctx["wrk_threads"],
        script=WRK_LUA,
        env_extra={
            "BENCH_CODES": str(ctx["codes"]),
            "BENCH_RATE": str(rate),
            "BENCH_VISITORS": str(ctx["visitors"]),
        },
    )
    cpu1 = cpu_of(pids)
    redirects = int(result.get("codes", {}).get("302", 0))
    deadline = time.monotonic() + 30
    while True:  # the writer threads catch up after the load stops
        written = int(psql(db, "select count(*) from share_click")) - before
        if written >= redirects or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    time.sleep(1.0)  # and the requests in flight at the stop
    written = int(psql(db, "select count(*) from share_click")) - before
    secs = result["duration_us"] / 1e6
    return {
        "rps": result["requests"] / secs,
        "p50_ms": result["latency_us"]["p50"] / 1000,
        "p99_ms": result["latency_us"]["p99"] / 1000,
        "codes": result.get("codes", {}),
        "non_302": sum(n for c, n in result.get("codes", {}).items() if c != "302"),
        "socket_errors": socket_errors(result),
        "clicks_written": written,
        # requests still in flight when wrk stopped were answered (and recorded) uncounted
        "verified": redirects <= written <= redirects + conns
        and set(result.get("codes", {})) <= {"302"},
        "server_cpu_ms_per_req": 1000 * (cpu1 - cpu0) / max(1, result["requests"]),
        "target_rate": rate,
    }


def bare_run(ctx, server, port, conns, seconds, rate=0.0) -> dict:
    pids = group_pids(server.proc.pid)
    cpu0 = cpu_of(pids)
    result = wrk(
        f"http://127.0.0.1:{port}/s/b1",
        seconds,
        conns,
        threads=ctx["wrk_threads"],
        script=WRK_LUA,
        env_extra={"BENCH_CODES": str(ctx["codes"])},
    )
    secs = result["duration_us"] / 1e6
    return {
        "rps": result["requests"] / secs,
        "p50_ms": result["latency_us"]["p50"] / 1000,
        "p99_ms": result["latency_us"]["p99"] / 1000,
        "non_3xx": non_2xx(result) - int(result.get("codes", {}).get("302", 0)),
        "server_cpu_ms_per_req": 1000 * (cpu_of(pids) - cpu0) / max(1, result["requests"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20, help="seconds of redirects first")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--links", type=int, default=10000, help="share links (one per member)")
    parser.add_argument("--visitors", type=int, default=5000, help="distinct user agents")
    parser.add_argument("--seed-clicks", type=int, default=0, help="click rows to seed first")
    opts = parser.parse_args()

    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": machine(),
        "code": code_version(),
        "cpu_busy_before_start": round(cpu_busy_fraction(2.0), 3),
        "versions": versions("flask", "werkzeug", "granian", "sqlalchemy", "psycopg"),
        "wrk": tool_version(["wrk", "-v"]),
        "postgres": psql("postgres", "show server_version"),
        "options": vars(opts),
    }
    print(f"machine: {info['machine']}  cpu busy before start: {info['cpu_busy_before_start']:.0%}")
    db = f"ls_bench_redirect_{os.getpid()}"
    subprocess.run(["createdb", *PG, db], check=True)
    env = app_env(db, 0)
    env.update(
        LOYALTY_SOCIAL_REDIS_URL="",
        LOYALTY_SOCIAL_SHARE_LINK_TARGETS="shop.example",
        LOYALTY_SOCIAL_SHARE_VERIFY_CLICKS="1000000000",
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    codes_file = RESULTS / "redirect_codes.txt"
    codes_file.write_text("".join(f"b{n}\n" for n in range(1, opts.links + 1)))
    ctx = {
        "db": db,
        "codes": codes_file,
        "wrk_threads": opts.wrk_threads,
        "visitors": opts.visitors,
    }
    results: dict = {"info": info}
    try:
        cli(env, "db", "upgrade")
        cli(env, "source", "add", "bench")  # `serve` refuses to start without one
        psql(db, SEED_LINKS.format(links=opts.links))
        if opts.seed_clicks:
            started = time.monotonic()
            psql(db, SEED_CLICKS.format(links=opts.links, clicks=opts.seed_clicks))
            results["seeded"] = {
                "clicks": opts.seed_clicks,
                "seconds": round(time.monotonic() - started, 1),
                "table_mb": int(psql(db, "select pg_total_relation_size('share_click')")) // 2**20,
            }
            results["probes_ms"] = {
                name: round(probe(db, sql, opts.links), 3) for name, sql in PROBES.items()
            }
            print(
                f"seeded {opts.seed_clicks:,} clicks in {results['seeded']['seconds']} s "
                f"({results['seeded']['table_mb']} MB with indexes)"
            )
            for name, ms in results["probes_ms"].items():
                print(f"  {name:42} {ms:8.3f} ms")
        conns = opts.workers * opts.threads
        app_port, bare_port = free_port(), free_port()
        app_cmd = [
            str(VENV_BIN / "loyalty-social"),
            "serve",
            "--bind",
            f"127.0.0.1:{app_port}",
            "--workers",
            str(opts.workers),
            "--threads",
            str(opts.threads),
        ]
        bare_cmd = granian_args("bench.bare_app:app", bare_port, opts.workers, opts.threads)
        print(f"\n== {opts.workers} workers x {opts.threads} threads, {conns} connections ==")
        with (
            serving(
                app_cmd, env=env, log_name="redirect_app", port=app_port, probe="/healthz"
            ) as app_srv,
            serving(bare_cmd, env=env, log_name="redirect_bare", port=bare_port) as bare_srv,
        ):
            # Warm-up: each process loads every link once and runs the schedule's first jobs
            # (in process: no Redis here). The cold start is reported, not compared.
            bare_run(ctx, bare_srv, bare_port, conns, 3)
            cold = redirect_run(ctx, app_srv, app_port, conns, opts.warmup)
            print(
                f"  warm-up (cold start): redirect {cold['rps']:7.0f} req/s p99 {cold['p99_ms']:6.1f} ms"
            )
            bares, apps = [], []
            for rep in range(opts.repeats):
                b = bare_run(ctx, bare_srv, bare_port, conns, opts.seconds)
                a = redirect_run(ctx, app_srv, app_port, conns, opts.seconds)
                bares.append(b)
                apps.append(a)
                print(
                    f"  rep {rep}: bare {b['rps']:7.0f} req/s p99 {b['p99_ms']:6.1f} ms | "
                    f"redirect {a['rps']:7.0f} req/s p50 {a['p50_ms']:5.1f} p99 {a['p99_ms']:6.1f} ms "
                    f"| clicks {a['clicks_written']} | {'ok' if a['verified'] else 'CHECK FAILED'}"
                )
            half = median([a["rps"] for a in apps]) / 2
            paced = [
                redirect_run(ctx, app_srv, app_port, conns, opts.seconds, rate=half)
                for _ in range(opts.repeats)
            ]
            bare_paced = [
                bare_run(ctx, bare_srv, bare_port, conns, opts.seconds, rate=half)
                for _ in range(opts.repeats)
            ]
            for p in paced:
                print(
                    f"  half peak {half:.0f}: {p['rps']:7.0f} req/s p50 {p['p50_ms']:5.1f} "
                    f"p99 {p['p99_ms']:6.1f} ms | {'ok' if p['verified'] else 'CHECK FAILED'}"
                )
        bare_rps, app_rps = median([b["rps"] for b in bares]), median([a["rps"] for a in apps])
        half_p99 = median([p["p99_ms"] for p in paced])
        bare_half_p99 = median([b["p99_ms"] for b in bare_paced])
        results.update(
            cold_start=cold,
            bare=bares,
            redirect=apps,
            half_peak=paced,
            bare_half_peak=bare_paced,
            bare_half_peak_p99_ms=bare_half_p99,
            pct_of_bare=100 * app_rps / bare_rps,
            half_peak_p99_ms=half_p99,
            all_verified=all(r["verified"] for r in apps + paced),
            cpu_busy_after=round(cpu_busy_fraction(2.0), 3),
        )
        print("\n" + text_bars([("bare Flask 302", bare_rps), ("GET /s/<code>", app_rps)]))
        print(
            f"\nredirect = {results['pct_of_bare']:.1f}% of bare (goal >= 60%: "
            f"{'met' if results['pct_of_bare'] >= 60 else 'NOT met'}); p99 at half peak "
            f"{half_p99:.1f} ms (goal <= 20 ms: {'met' if half_p99 <= 20 else 'NOT met'}; bare at "
            f"the same rate {bare_half_p99:.1f} ms); "
            f"clicks written == redirects: {results['all_verified']}"
        )
    finally:
        subprocess.run(["dropdb", *PG, "--if-exists", "--force", db], check=False)
        codes_file.unlink(missing_ok=True)
    save_json("redirect.json", results)
    return 0 if results.get("all_verified") else 1


if __name__ == "__main__":
    sys.exit(main())
