# ruff: noqa: E501 - report formatting lines
"""Which WSGI server: the bare Flask JSON endpoint under three servers, same run.

    .venv/bin/python bench/servers.py            # 3 repeats x 10 s each, interleaved

  granian WSGI       2 workers x 4 blocking threads   (what `loyalty-social serve` runs)
  gunicorn sync      2 workers
  gunicorn gthread   2 workers x 4 threads
All three serve bench/bare_app.py (POST /webhooks/<name> -> {"ok": true}) at the same time on
their own ports (the idle ones cost nothing); wrk runs them in turn, repeat after repeat, so
drifting background load hits all three alike. Figures: median req/s and ratio to granian.
Output: stdout, bench/results/servers.json, bench/results/servers.png.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
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


def servers(workers: int, threads: int) -> dict:
    def gunicorn(port, worker_class, extra):
        return [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            *extra,
            "--log-level",
            "warning",
            "bench.bare_app:app",
        ]

    ports = {name: free_port() for name in ("granian", "sync", "gthread")}
    return {
        f"granian wsgi {workers}w x {threads}t": (
            ports["granian"],
            granian_args("bench.bare_app:app", ports["granian"], workers, threads),
        ),
        f"gunicorn sync {workers}w": (ports["sync"], gunicorn(ports["sync"], "sync", [])),
        f"gunicorn gthread {workers}w x {threads}t": (
            ports["gthread"],
            gunicorn(ports["gthread"], "gthread", ["--threads", str(threads)]),
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--wrk-threads", type=int, default=2)
    opts = parser.parse_args()
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": machine(),
        "code": code_version(),
        "cpu_busy_before_start": round(cpu_busy_fraction(2.0), 3),
        "versions": versions("flask", "werkzeug", "granian", "gunicorn"),
        "wrk": tool_version(["wrk", "-v"]),
        "options": vars(opts),
    }
    print(f"machine: {info['machine']}  cpu busy before start: {info['cpu_busy_before_start']:.0%}")
    plan = servers(opts.workers, opts.threads)
    runs: dict[str, list[dict]] = {name: [] for name in plan}
    with ExitStack() as stack:
        for name, (port, args) in plan.items():
            stack.enter_context(
                serving(
                    args, log_name="servers_" + name.split()[0] + "_" + name.split()[1], port=port
                )
            )
        url = {name: f"http://127.0.0.1:{port}/webhooks/bench" for name, (port, _) in plan.items()}
        for name in plan:  # warm-up
            wrk(url[name], 3, opts.connections, opts.wrk_threads)
        for rep in range(opts.repeats):
            for name in plan:
                r = wrk(url[name], opts.seconds, opts.connections, opts.wrk_threads)
                secs = r["duration_us"] / 1e6
                run = {
                    "rps": r["requests"] / secs,
                    "p50_ms": r["latency_us"]["p50"] / 1000,
                    "p99_ms": r["latency_us"]["p99"] / 1000,
                    "non_2xx": non_2xx(r),
                    "socket_errors": socket_errors(r),
                }
                runs[name].append(run)
                print(
                    f"  rep {rep}: {name:28} {run['rps']:8.0f} req/s  p50 {run['p50_ms']:5.1f} "
                    f"p99 {run['p99_ms']:6.1f} ms  non-2xx {run['non_2xx']}  "
                    f"socket errors {run['socket_errors']}"
                )
    base_name = next(iter(plan))
    table = {}
    for name, rs in runs.items():
        values = [r["rps"] for r in rs]
        table[name] = {
            "rps_median": median(values),
            "rps_min": min(values),
            "rps_max": max(values),
            "p50_ms_median": median([r["p50_ms"] for r in rs]),
            "p99_ms_median": median([r["p99_ms"] for r in rs]),
            "runs": rs,
        }
    base = table[base_name]["rps_median"]
    print(
        f"\n=== bare Flask endpoint, {opts.connections} connections, median of {opts.repeats} x "
        f"{opts.seconds} s ==="
    )
    print(
        f"{'server':30} {'req/s':>8} {'min..max':>15} {'vs granian':>10} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for name, row in table.items():
        row["ratio_to_granian"] = row["rps_median"] / base
        print(
            f"{name:30} {row['rps_median']:8.0f} {row['rps_min']:7.0f}..{row['rps_max']:<7.0f} "
            f"{row['ratio_to_granian']:10.2f} {row['p50_ms_median']:7.1f} {row['p99_ms_median']:7.1f}"
        )
    rows = [(name, row["rps_median"]) for name, row in table.items()]
    print("\n" + text_bars(rows))
    png = png_bars(
        RESULTS / "servers.png",
        rows,
        f"Bare Flask JSON POST, req/s (median of {opts.repeats}, min-max)",
        errors=[(t["rps_min"], t["rps_max"]) for t in table.values()],
    )
    if png:
        print(f"\nchart: {png.relative_to(ROOT)}")
    info["cpu_busy_after"] = round(cpu_busy_fraction(2.0), 3)
    save_json("servers.json", {"info": info, "servers": table})
    ok = all(r["non_2xx"] == 0 for rs in runs.values() for r in rs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
