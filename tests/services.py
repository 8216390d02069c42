"""Real PostgreSQL and Redis for the test suite.

Uses DATABASE_URL / REDIS_URL when they are set and reachable; otherwise starts throwaway
servers from the installed binaries in a temp dir on free ports, and stops them afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

INSTALL_HINT = {
    "postgres": "install PostgreSQL server binaries (Debian: apt-get install postgresql)",
    "redis": "install Redis (Debian: apt-get install redis-server)",
}


class MissingService(RuntimeError):
    pass


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 1):
            return True
    except OSError:
        return False


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class RedisServer:
    """A redis-server of our own (also used to stop and restart Redis in outage tests)."""

    def __init__(self, port: int | None = None):
        binary = shutil.which("redis-server")
        if not binary:
            raise MissingService(INSTALL_HINT["redis"])
        self.binary = binary
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="ls-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresServer:
    """A throwaway PostgreSQL cluster (initdb in a temp dir, fsync off)."""

    def __init__(self):
        bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        initdb = shutil.which("initdb") or (bindirs and os.path.join(bindirs[-1], "initdb"))
        if not initdb or not os.path.exists(initdb):
            raise MissingService(INSTALL_HINT["postgres"])
        self.bindir = os.path.dirname(initdb)
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ls-pg-")
        self.user_prefix: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
            shutil.chown(self.dir, "postgres")
            self.user_prefix = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self.user_prefix, *args],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=tempfile.gettempdir(),
        )

    def start(self) -> PostgresServer:
        data = os.path.join(self.dir, "data")
        self._run(f"{self.bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        options += " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        self._run(f"{self.bindir}/pg_ctl", "-D", data, "-o", options, "-w", "start")
        return self

    def cleanup(self) -> None:
        data = os.path.join(self.dir, "data")
        if Path(data).exists():
            subprocess.run(
                [*self.user_prefix, f"{self.bindir}/pg_ctl", "-D", data, "-m", "fast", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=tempfile.gettempdir(),
            )
        shutil.rmtree(self.dir, ignore_errors=True)


def postgres_server_url() -> tuple[str, PostgresServer | None]:
    url = os.environ.get("DATABASE_URL") or os.environ.get("LOYALTY_SOCIAL_TEST_DATABASE_URL")
    if url and url.startswith("postgres") and reachable(url):
        return url, None
    server = PostgresServer().start()
    return server.url, server


def redis_server_url() -> tuple[str, RedisServer | None]:
    url = os.environ.get("REDIS_URL")
    if url and reachable(url):
        return url, None
    server = RedisServer().start()
    return server.url, server
