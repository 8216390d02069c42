"""The ``loyalty-social`` command: the operator's commands, and nothing of Flask's own.

Flask's machinery loads the app for each command (``with_appcontext``); its ``run``,
``shell`` and ``routes`` commands, its ``--app``/``--env-file``/``--debug`` options and its
version line are not offered: ``serve`` is the server, every change goes through a command
that audits it, and ``/api/openapi.json`` lists the routes. Errors an operator can fix print
one line and exit 1, never a traceback (``user_error``).
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import sys
import tempfile
import threading

import click
import requests
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from flask_migrate.cli import db as db_commands
from flask_smorest.spec import openapi_cli
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from . import create_app
from .audit import acting_as
from .demo.handoff import HandoffUnavailable
from .demo.launcher import DemoUnavailable
from .errors import Problem
from .queue import QUEUES
from .settings import SettingsError


def user_error(error: BaseException, database_url: str = "") -> str | None:
    """The one line to print for an error the operator can fix; None for a bug."""
    if isinstance(error, Problem):
        return error.detail or error.problem_type.title
    if isinstance(error, requests.ConnectionError):
        url = getattr(error.request, "url", None) or "the server"
        return f"cannot connect to {url}: is the server running?"
    if isinstance(error, requests.Timeout):
        return f"no answer from {getattr(error.request, 'url', None) or 'the server'} in time"
    if isinstance(error, OperationalError):
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        if "no such table" in reason or "does not exist" in reason:
            return f"database not migrated ({reason}): run `loyalty-social db upgrade`"
        return f"database unreachable at {database_url or 'DATABASE_URL'}: {reason}"
    if isinstance(error, (RedisConnectionError, RedisTimeoutError)):
        return f"Redis unreachable: {error}"
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON: {error}"
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.strerror or error}: {error.filename}"
    if isinstance(error, (SettingsError, ArgumentError, HandoffUnavailable, DemoUnavailable)):
        return str(error)
    if isinstance(error, ValueError) and type(error).__module__.startswith(__package__):
        return str(error)  # the features' own refusals (unknown source, invalid rule, ...)
    return None


def _database_url(ctx: click.Context) -> str:
    """The configured database, password hidden (the app is loaded: the command ran in it)."""
    try:
        url = ctx.ensure_object(ScriptInfo).load_app().config["DATABASE_URL"]
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (a container): the uid says who
        return str(os.getuid())


class Cli(AppGroup):
    """A click group whose commands get the app from ``create_app`` (through Flask's
    ``ScriptInfo``), and whose user errors end as one line (see ``user_error``)."""

    def make_context(self, info_name, args, parent=None, **extra):
        extra.setdefault(
            "obj",
            ScriptInfo(create_app=create_app, set_debug_flag=False, load_dotenv_defaults=False),
        )
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx):
        try:
            with acting_as(f"cli:{_os_user()}"):
                return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            database = _database_url(ctx) if isinstance(error, OperationalError) else ""
            message = user_error(error, database)
            if message is None:
                raise
            raise click.ClickException(message) from None


@click.group(cls=Cli)
@click.version_option(
    package_name="loyalty-social", prog_name="loyalty-social", message="%(prog)s %(version)s"
)
def main():
    """Loyalty Social: social engagement in, loyalty rewards out."""


def _register_feature_commands() -> None:
    from .features import commands

    main.add_command(db_commands, "db")  # Flask-Migrate: the only way the schema is made
    main.add_command(openapi_cli, "openapi")  # flask-smorest: print/write the document
    for command in commands():
        main.add_command(command)


def listen_address(bind: str) -> tuple[str, str]:
    """host and port of ``bind``, once a trial bind shows the server will be able to listen."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"{bind!r} is not HOST:PORT", param_hint="'--bind'")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family) as trial:
            trial.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            trial.bind((host.strip("[]"), int(port)))
    except OSError as error:
        raise click.ClickException(f"cannot listen on {bind}: {error.strerror}") from None
    return host, port


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
                "no enabled webhook source has a secret or a public key to verify with: run "
                "`loyalty-social source add NAME` (or `source add NAME --public-key whpk_...`)"
            )
    host, port = listen_address(bind or config["BIND"])
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
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    type=click.Choice(QUEUES),
    help="Serve this queue (repeat for several, in priority order). Default: all, in order "
    + ", ".join(QUEUES)
    + ".",
)
@click.option(
    "--with-scheduler/--without-scheduler",
    default=True,
    show_default=True,
    help="Also be a candidate to run the periodic schedule (one leader per deployment).",
)
def worker(burst, queues, with_scheduler):
    """Run an RQ worker (SimpleWorker: jobs run in this process; see the README)."""
    from rq import SimpleWorker

    from .queue import redis_connection, rq_queues, set_worker_app
    from .schedule import start_leader_thread

    app = current_app._get_current_object()
    if not app.config["REDIS_URL"]:
        raise click.ClickException(
            "REDIS_URL is not set: on the embedded default jobs run in-process"
        )
    set_worker_app(app)
    schedule = start_leader_thread(app) if with_scheduler and not burst else None
    try:
        # with_scheduler: jobs retried with backoff (queue.RETRY_INTERVALS) wait in RQ's
        # scheduled registry; a scheduler (one at a time, whatever the number of workers)
        # puts them back on their queue when due.
        SimpleWorker(rq_queues(app, queues or QUEUES), connection=redis_connection(app)).work(
            burst=burst, logging_level=app.config["LOG_LEVEL"], with_scheduler=not burst
        )
    finally:
        if schedule is not None:
            thread, stop = schedule
            stop.set()
            thread.join(timeout=5)


@main.command()
def scheduler():
    """Run the periodic schedule (a candidate: one leads the deployment, others stand by)."""
    import signal

    from .schedule import LeaderScheduler

    app = current_app._get_current_object()
    if not app.config["REDIS_URL"]:
        raise click.ClickException(
            "REDIS_URL is not set: on the embedded default the web process runs the schedule"
        )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    LeaderScheduler(app).run(stop)


@main.command()
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
@click.option("--demo-id/--no-demo-id", default=True, help="Start the Demo ID provider.")
def dev(bind, demo_id):
    """Embedded default in one command: migrate, seed a demo, serve (SQLite, jobs in-process)."""
    from flask_migrate import upgrade

    from .demo.guide import guide
    from .demo.handoff import portal_link
    from .demo.launcher import start_provider
    from .demo.seed import DEMO_MEMBER, seed_demo

    if current_app.config["ENV"] == "production":
        raise click.ClickException("dev runs the demo; in production run `loyalty-social serve`")
    listen_address(bind)  # before anything is printed
    upgrade()
    seeded = seed_demo()
    base_url = f"http://{bind}"
    provider_url = start_provider() if demo_id else None
    if provider_url:
        os.environ["LOYALTY_SOCIAL_DEMO_OIDC_URL"] = provider_url  # for the server's app
    click.echo(guide(base_url, seeded, portal_link(base_url, DEMO_MEMBER), provider_url))
    if demo_id and not provider_url:
        click.echo("(no Demo ID: install the demo extra, pip install 'loyalty-social[demo]')")
    ctx = click.get_current_context()
    ctx.invoke(serve, bind=bind, workers=1, threads=None)


@main.command("portal-link")
@click.option("--member", default="M-1001", show_default=True)
@click.option("--url", default="http://127.0.0.1:5000", show_default=True)
def portal_link_command(member, url):
    """Print a link that opens a member's portal session (development: plays the portal)."""
    from .demo.handoff import portal_link

    if current_app.config["ENV"] == "production":
        raise click.ClickException("the loyalty portal signs member assertions in production")
    click.echo(portal_link(url, member))


_register_feature_commands()

if __name__ == "__main__":
    main()
