"""Fixtures: real PostgreSQL, Redis and SQLite, each built by running the migrations."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis as redis_lib
import sqlalchemy as sa

from loyalty_social import create_app
from loyalty_social.extensions import db
from loyalty_social.features import load_models

from .services import free_port, postgres_server_url, redis_server_url, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
# Test-only credentials: never used outside this suite.
TEST_SECRETS = {
    "SECRET_KEY": "test-secret-key-" + "x" * 32,
    "ENCRYPTION_KEYS": "3ub9wDL1H7VmzVvEcvdPdYWSl2rQcTmsy-pH_6DAuoU=",
}


def make_config(database_url: str, redis_url: str = "", **extra) -> dict:
    base = {"ENV": "testing", "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    return base | TEST_SECRETS | extra


def process_env(config: dict) -> dict:
    """Environment that gives a subprocess (server, worker, CLI) the same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_SOCIAL_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    for key, value in config.items():
        env[f"LOYALTY_SOCIAL_{key}"] = str(value)
    return env


def migrate(config: dict) -> None:
    from flask_migrate import upgrade

    app = create_app(config)
    with app.app_context():
        upgrade()
        db.engine.dispose()


# --- PostgreSQL --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server():
    url, server = postgres_server_url()
    yield url
    if server:
        server.cleanup()


@contextmanager
def own_database(server: str, prefix: str):
    """A new, empty database on the PostgreSQL server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database_url(postgres_server):
    """A database of our own on the server, migrated once for the session."""
    with own_database(postgres_server, "ls_test") as url:
        migrate(make_config(url))
        yield url


@pytest.fixture(params=["sqlite", "pg"])
def empty_database(request, tmp_path):
    """An empty database of each kind, for migration tests (upgrade, downgrade, upgrade)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    with own_database(request.getfixturevalue("postgres_server"), "ls_mig") as url:
        yield url


@pytest.fixture
def fresh_config(empty_database):
    """A database of its own, migrated to head (the shared test databases stay untouched)."""
    config = make_config(empty_database)
    migrate(config)
    return config


# --- Redis -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url():
    url, server = redis_server_url()
    if server is None:  # a shared server: keep to a database index nobody else uses
        parts = urlsplit(url)
        url = urlunsplit(parts._replace(path="/13"))
    yield url
    if server:
        server.cleanup()


# --- Configurations per stack ------------------------------------------------------------


def _truncate_all(url: str) -> None:
    load_models()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} CASCADE")
    engine.dispose()


@pytest.fixture
def pg_config(pg_database_url, redis_url):
    """PostgreSQL + Redis/RQ, emptied after each test."""
    redis_lib.Redis.from_url(redis_url).flushdb()
    yield make_config(pg_database_url, redis_url)
    _truncate_all(pg_database_url)
    redis_lib.Redis.from_url(redis_url).flushdb()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(make_config(f"sqlite:///{path}"))
    return path


@pytest.fixture
def sqlite_config(sqlite_template, tmp_path):
    """The embedded default: SQLite file, jobs in-process."""
    path = tmp_path / "loyalty_social.db"
    shutil.copy(sqlite_template, path)
    return make_config(f"sqlite:///{path}")


@pytest.fixture(params=["sqlite", "pg"])
def stack_config(request):
    """Run the test on the embedded default and on the production stack."""
    return request.getfixturevalue(f"{request.param}_config")


# --- Apps and processes ------------------------------------------------------------------


@pytest.fixture
def make_app():
    apps = []

    def factory(config: dict):
        app = create_app(config)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        pipeline = app.extensions.get("loyalty_social.intake")
        if pipeline:
            pipeline.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(stack_config, make_app):
    return make_app(stack_config)


@pytest.fixture
def client(app):
    return app.test_client()


# Debian's chromium, never a downloaded browser; Playwright drives it.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium():
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LoggedProcess:
    """A ``loyalty-social`` command in its own process, its log in a file (a pipe nobody reads
    fills up and blocks the process); ``log()`` for assertion messages."""

    stop_seconds = 10

    def __init__(self, config: dict, *args: str):
        self.log_file = tempfile.NamedTemporaryFile(prefix="ls-", suffix=".log")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "loyalty_social.cli", *args],
            env=process_env(config),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.log_file,
        )

    def log(self, last: int = 4000) -> str:
        return Path(self.log_file.name).read_text(errors="replace")[-last:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(self.stop_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


class Served(LoggedProcess):
    """The app under the production server (granian), in its own processes."""

    def __init__(self, config: dict, workers: int = 1, threads: int = 8):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            config,
            "serve",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        )
        try:
            wait_for_port(self.port, 30)
        except TimeoutError:
            self.stop()
            raise


@pytest.fixture
def serve():
    servers = []

    def start(config: dict, **kwargs) -> Served:
        server = Served(config, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def run_cli(config: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``loyalty-social ARGS`` in its own process, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "loyalty_social.cli", *args],
        env=process_env(config),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Worker(LoggedProcess):
    """A real ``loyalty-social worker`` process (RQ SimpleWorker) against the test Redis."""

    stop_seconds = 15

    def __init__(self, config: dict, *args: str):
        super().__init__(config, "worker", *args)


@pytest.fixture
def start_worker():
    workers = []

    def start(config: dict, *args: str) -> Worker:
        worker = Worker(config, *args)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
