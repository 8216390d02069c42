"""The ``loyalty-social`` command: a Flask CLI group with the operator's commands."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading

import click
from flask import current_app
from flask.cli import FlaskGroup

from . import create_app


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=True)
def main():
    """Loyalty Social: social engagement in, loyalty rewards out."""


def _register_feature_commands() -> None:
    from .features import commands

    for command in commands():
        main.add_command(command)


@main.command()
@click.option("--bind", help="host:port (default: the BIND setting)")
@click.option("--workers", type=int, help="processes (default: WEB_WORKERS)")
@click.option("--threads", type=int, help="threads per process (default: WEB_THREADS)")
def serve(bind, workers, threads):
    """Serve the web app with granian (production WSGI server)."""
    config = current_app.config
    if config["ENV"] == "production":
        from .intake.sources import any_source_configured

        if not any_source_configured():
            raise click.ClickException(
                "no enabled webhook source has a secret: run `loyalty-social source add NAME`"
            )
    host, _, port = (bind or config["BIND"]).rpartition(":")
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="loyalty-social-metrics-")
    granian = shutil.which("granian") or os.path.join(os.path.dirname(sys.executable), "granian")
    args = [
        granian,
        "--interface",
        "wsgi",
        "--host",
        host,
        "--port",
        port,
        "--workers",
        str(workers or config["WEB_WORKERS"]),
        "--blocking-threads",
        str(threads or config["WEB_THREADS"]),
        "--no-ws",
        "loyalty_social.wsgi:app",
    ]
    click.echo(f"serving on http://{host}:{port} ({args[8]} workers x {args[10]} threads)")
    sys.stdout.flush()
    os.execv(granian, args)  # noqa: S606 - replaces this process with the server


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option("--sweep/--no-sweep", default=True, help="Also run the sweeper periodically.")
def worker(burst, sweep):
    """Run an RQ worker (SimpleWorker: jobs run in this process; see the README)."""
    from rq import SimpleWorker

    from .queue import redis_connection, rq_queues, set_worker_app

    app = current_app._get_current_object()
    if not app.config["REDIS_URL"]:
        raise click.ClickException(
            "REDIS_URL is not set: on the embedded default jobs run in-process"
        )
    set_worker_app(app)
    stop = threading.Event()
    if sweep and not burst:
        threading.Thread(target=_sweep_forever, args=(app, stop), daemon=True).start()
    try:
        # with_scheduler: jobs retried with backoff (queue.RETRY_INTERVALS) wait in RQ's
        # scheduled registry; a scheduler (one at a time, whatever the number of workers)
        # puts them back on their queue when due.
        SimpleWorker(rq_queues(app), connection=redis_connection(app)).work(
            burst=burst, logging_level=app.config["LOG_LEVEL"], with_scheduler=not burst
        )
    finally:
        stop.set()


def _sweep_forever(app, stop: threading.Event) -> None:
    from .delivery.service import sweep as sweep_deliveries
    from .intake.service import sweep as run_sweep

    interval = app.config["SWEEP_INTERVAL_SECONDS"]
    while not stop.wait(interval):
        try:
            with app.app_context():
                run_sweep(app.config["SWEEP_AFTER_SECONDS"], app.config["PROCESS_BATCH_SIZE"])
                sweep_deliveries()  # retries due, leases of dead workers, lost jobs
        except Exception:
            app.logger.exception("periodic sweep failed")


@main.command()
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
def dev(bind):
    """Embedded default in one command: migrate, seed a demo, serve (SQLite, jobs in-process)."""
    from flask_migrate import upgrade

    from .demo import seed_demo

    upgrade()
    hints = seed_demo(f"http://{bind}")
    click.echo(hints)
    ctx = click.get_current_context()
    ctx.invoke(serve, bind=bind, workers=1, threads=None)


_register_feature_commands()

if __name__ == "__main__":
    main()
