"""The `loyalty-social` command is the product's own: its version, only its commands, and
errors an operator can fix as one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import socket
from importlib.metadata import version

import pytest

from .conftest import ROOT, TEST_SECRETS, make_config, run_cli
from .services import free_port

EXAMPLE = str(ROOT / "webhooks" / "examples" / "social.shared.json")
SECRET = "whsec_bG95YWx0eS1zb2NpYWwtZXhhbXBsZS1zZWNyZXQtMzJi"


def one_line_error(result, *parts: str) -> None:
    """Exit 1, and stderr is exactly one line naming the problem."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines
    for part in parts:
        assert part in lines[0], lines[0]


def test_version_is_the_package_version(sqlite_config):
    result = run_cli(sqlite_config, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"loyalty-social {version('loyalty-social')}"
    assert "Flask" not in result.stdout


def test_only_the_products_commands_and_options_are_offered(sqlite_config):
    result = run_cli(sqlite_config, "--help")
    assert result.returncode == 0
    for foreign in ("--env-file", "--app", "--debug", "Flask"):
        assert foreign not in result.stdout
    commands = {
        line.split()[0]
        for line in result.stdout.split("Commands:")[1].splitlines()
        if line.startswith("  ")
    }
    assert {"serve", "worker", "dev", "db", "source", "rule", "webhook"} <= commands
    assert not commands & {"run", "shell", "routes"}
    refused = run_cli(sqlite_config, "run")
    assert refused.returncode == 2 and "No such command 'run'" in refused.stderr


def test_unknown_source(sqlite_config):
    result = run_cli(sqlite_config, "webhook", "send", "--source", "nope", "--example", EXAMPLE)
    one_line_error(result, "'nope'")


def test_connection_refused(sqlite_config):
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cli(
        sqlite_config,
        *("webhook", "send", "--source", "demo", "--secret", SECRET),
        *("--example", EXAMPLE, "--url", url),
    )
    one_line_error(result, f"cannot connect to {url}/webhooks/demo")


def test_bad_files(sqlite_config, tmp_path):
    broken = tmp_path / "data.json"
    broken.write_text("{not json")
    result = run_cli(
        sqlite_config,
        *("webhook", "send", "--source", "demo", "--secret", SECRET),
        *("--type", "social.shared", "--file", str(broken)),
    )
    one_line_error(result, "not valid JSON")
    example = run_cli(
        sqlite_config,
        *("webhook", "send", "--source", "demo", "--secret", SECRET),
        *("--example", str(tmp_path / "missing.json")),
    )
    assert example.returncode == 2 and "does not exist" in example.stderr
    assert "Traceback" not in example.stderr


def test_database_unreachable():
    port = free_port()
    config = make_config(f"postgresql://nobody:hunter2@127.0.0.1:{port}/nowhere")
    result = run_cli(config, "source", "list")
    one_line_error(
        result, f"database unreachable at postgresql+psycopg://nobody:***@127.0.0.1:{port}"
    )
    assert "hunter2" not in result.stderr


def test_database_not_migrated(tmp_path):
    result = run_cli(make_config(f"sqlite:///{tmp_path}/empty.db"), "rule", "list")
    one_line_error(result, "loyalty-social db upgrade")


def test_invalid_settings(sqlite_config):
    result = run_cli(sqlite_config | {"PROGRAM_TIMEZONE": "Mars/Olympus"}, "source", "list")
    one_line_error(result, "PROGRAM_TIMEZONE 'Mars/Olympus' is not an IANA time zone")


@pytest.mark.parametrize("command", [("dev",), ("portal-link",)])
def test_demo_commands_refuse_production(tmp_path, command):
    config = make_config("postgresql://db.invalid/loyalty", ENV="production") | TEST_SECRETS
    result = run_cli(config, *command)
    one_line_error(result, "production")


@pytest.mark.parametrize("command", ["serve", "dev"])
def test_address_in_use(sqlite_config, tmp_path, command):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bind = f"127.0.0.1:{taken.getsockname()[1]}"
        config = sqlite_config | {"ENV": "development", "INSTANCE_PATH": str(tmp_path)}
        result = run_cli(config, command, "--bind", bind)
    one_line_error(result, f"cannot listen on {bind}: Address already in use")
    assert "Loyalty Social" not in result.stdout  # dev printed no demo it cannot serve
