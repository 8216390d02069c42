"""Shared helpers of the benchmarks: machine facts, processes, wrk runs, charts.

Nothing here touches the app; every process started is started in its own session so it can
be stopped by its own process group id (and only that).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
VENV_BIN = Path(sys.executable).parent
WRK_LUA = BENCH / "wrk_signed.lua"


# --- the machine -------------------------------------------------------------------------


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": os.getloadavg(),
    }


def versions(*packages: str) -> dict:
    found = {}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def code_version() -> dict:
    """The app code measured: the commit, and whether loyalty_social/ had local changes."""

    def git(*args):
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip()

    changed = git("status", "--porcelain", "--", "loyalty_social", "migrations", "config")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "local_changes": changed.splitlines() if changed else [],
    }


def tool_version(args: list[str]) -> str:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def cpu_busy_fraction(sample_seconds: float = 1.0) -> float:
    """Share of all CPUs busy over a short sample (other engineers' load, before a run)."""

    def read():
        parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        values = list(map(int, parts))
        idle = values[3] + values[4]
        return sum(values), idle

    total1, idle1 = read()
    time.sleep(sample_seconds)
    total2, idle2 = read()
    return 1 - (idle2 - idle1) / max(1, total2 - total1)


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str = "/", timeout: float = 60, method: str = "GET") -> None:
    """Wait until something answers HTTP on 127.0.0.1:port (any status)."""
    import http.client

    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request(
                method,
                path,
                body=b"{}" if method == "POST" else None,
                headers={"Content-Type": "application/json"},
            )
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing answered on port {port} within {timeout}s") from None
            time.sleep(0.2)


class Server:
    """A server process in its own session; ``stop()`` ends exactly that process group."""

    def __init__(self, args: list[str], env: dict | None = None, log_name: str = "server"):
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.log_path = RESULTS / f"{log_name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args,
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        else:
            # the leader exited; make sure no child of its group lingers
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()

    def alive(self) -> bool:
        return self.proc.poll() is None


@contextmanager
def serving(args, env=None, log_name="server", port=None, probe="/", probe_method="GET"):
    server = Server(args, env=env, log_name=log_name)
    try:
        wait_http(port, probe, method=probe_method)
        yield server
    finally:
        server.stop()


def granian_args(module: str, port: int, workers: int, threads: int) -> list[str]:
    """Exactly the flags `loyalty-social serve` passes to granian."""
    return [
        str(VENV_BIN / "granian"),
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--no-ws",
        module,
    ]


# --- wrk -----------------------------------------------------------------------------------


def wrk(
    url: str,
    seconds: int,
    connections: int,
    threads: int = 2,
    script: Path | None = None,
    env_extra: dict | None = None,
    timeout_s: int = 10,
) -> dict:
    """Run wrk; the Lua script's done() prints one JSON line starting with 'BENCHJSON '."""
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={timeout_s}s",
        "--latency",
        "-s",
        str(script or WRK_LUA),
        url,
    ]
    env = dict(os.environ, WRK_THREADS=str(threads), **(env_extra or {}))
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr}\n{out.stdout}")
    for line in out.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            result = json.loads(line.removeprefix("BENCHJSON "))
            result["raw"] = out.stdout
            return result
    raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")


def non_2xx(result: dict) -> int:
    codes = result.get("codes", {})
    return sum(n for code, n in codes.items() if not 200 <= int(code) < 300)


def socket_errors(result: dict) -> int:
    e = result["errors"]
    return e["connect"] + e["read"] + e["write"] + e["timeout"]


def median(values):
    return statistics.median(values) if values else float("nan")


# --- charts --------------------------------------------------------------------------------


def text_bars(rows: list[tuple[str, float]], unit: str = "req/s", width: int = 50) -> str:
    top = max((v for _, v in rows), default=1) or 1
    label_w = max(len(label) for label, _ in rows)
    lines = []
    for label, value in rows:
        bar = "#" * max(1, round(width * value / top)) if value > 0 else ""
        lines.append(f"{label.ljust(label_w)} | {bar} {value:,.0f} {unit}")
    return "\n".join(lines)


def png_bars(
    path: Path,
    rows: list[tuple[str, float]],
    title: str,
    unit: str = "req/s",
    errors: list[tuple[float, float]] | None = None,
) -> Path | None:
    """A horizontal bar chart (median, with min..max whiskers when given); None without
    matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels = [label for label, _ in rows]
    values = [value for _, value in rows]
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.4))
    xerr = None
    if errors:
        xerr = [
            [v - lo for v, (lo, _) in zip(values, errors, strict=True)],
            [hi - v for v, (_, hi) in zip(values, errors, strict=True)],
        ]
    ax.barh(labels, values, xerr=xerr, color="#4c72b0", capsize=4)
    ax.invert_yaxis()
    for i, v in enumerate(values):
        at = errors[i][1] if errors else v
        ax.text(at, i, f"  {v:,.0f}", va="center")
    ax.set_xlabel(unit)
    ax.set_title(title)
    ax.set_xlim(0, max(values) * 1.25 if values else 1)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def save_json(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path
