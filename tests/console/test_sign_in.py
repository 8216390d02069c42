"""Signing in to the console: argon2id hashes, server-side sessions with safe cookies, idle
timeout, lock-out per account and per address, sign-out that ends every copy of the cookie."""

from __future__ import annotations

import time

import pytest

from loyalty_social.access import users
from loyalty_social.access.models import ConsoleUser
from loyalty_social.audit.models import AuditRecord
from loyalty_social.console.models import ConsoleSession
from loyalty_social.extensions import db

from ..conftest import make_config, run_cli
from .conftest import CSRF, PASSWORD, PEOPLE, ConsoleClient, add_people


def test_sign_in_opens_a_server_side_session_with_a_safe_cookie(app, people):
    browser = ConsoleClient(app)
    assert browser.get("/console/audit").location.startswith("/console/login?next=/console/audit")
    response = browser.login(PEOPLE["editor"], next="/console/audit")
    assert response.status_code == 303 and response.location == "/console/audit"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("ls_console="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    with app.app_context():
        row = db.session.scalars(db.select(ConsoleSession)).one()
        assert row.id != token and len(row.id) == 64  # only the token's hash is kept
        assert row.user_id == people["editor"] and row.via == "password"
        stored = db.session.get(ConsoleUser, people["editor"]).password_hash
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
    page = browser.get("/console/")
    assert page.status_code == 200 and PEOPLE["editor"] in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_next_never_leaves_the_console(app, people):
    for target in ("https://evil.test/", "//evil.test/console", "/portal/done", "/console\\@x"):
        response = ConsoleClient(app).login(PEOPLE["viewer"], next=target)
        assert response.location == "/console/", target


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(app, people):
    browser = ConsoleClient(app)
    browser.login(PEOPLE["viewer"])
    copied = app.test_client()
    cookie = browser.client.get_cookie("ls_console")
    copied.set_cookie("ls_console", cookie.value)
    assert copied.get("/console/").status_code == 200
    assert browser.post("/console/logout").status_code == 303
    assert browser.get("/console/").status_code == 302
    assert copied.get("/console/").status_code == 302  # the row decides, not the cookie


def test_wrong_password_and_unknown_email_get_the_same_answer(app, people):
    wrong = ConsoleClient(app).login(PEOPLE["viewer"], "not the password at all")
    unknown = ConsoleClient(app).login("nobody@example.test")
    assert wrong.status_code == unknown.status_code == 401
    assert "The email or password is wrong." in wrong.text
    assert "The email or password is wrong." in unknown.text


def test_an_account_locks_after_repeated_failures_then_an_admin_unlocks_it(make_app, sqlite_config):
    app = make_app(sqlite_config | {"CONSOLE_LOCKOUT_ATTEMPTS": 3})
    ids = add_people(app)
    for _ in range(3):
        assert ConsoleClient(app).login(PEOPLE["editor"], "wrong password!!").status_code == 401
    locked = ConsoleClient(app).login(PEOPLE["editor"])  # the right password, now refused
    assert locked.status_code == 401 and "locked" in locked.text
    with app.app_context():
        assert (
            db.session.scalars(
                db.select(AuditRecord).where(AuditRecord.action == "console_user.locked")
            )
            .one()
            .target_id
            == ids["editor"]
        )
    admin = ConsoleClient(app)
    admin.login(PEOPLE["admin"])
    assert (
        admin.post(f"/console/users/{ids['editor']}/unlock", page="/console/users").status_code
        == 303
    )
    assert ConsoleClient(app).login(PEOPLE["editor"]).status_code == 303


def test_a_success_resets_the_count(make_app, sqlite_config):
    app = make_app(sqlite_config | {"CONSOLE_LOCKOUT_ATTEMPTS": 3})
    add_people(app)
    for _ in range(2):
        ConsoleClient(app).login(PEOPLE["editor"], "wrong password!!")
    assert ConsoleClient(app).login(PEOPLE["editor"]).status_code == 303
    for _ in range(2):
        ConsoleClient(app).login(PEOPLE["editor"], "wrong password!!")
    assert ConsoleClient(app).login(PEOPLE["editor"]).status_code == 303


def test_one_address_failing_on_many_accounts_is_stopped(make_app, stack_config):
    """Per address with `limits` (Redis on the production stack): spraying one password over
    many accounts locks none of them, but the address is refused."""
    app = make_app(stack_config | {"CONSOLE_IP_LOCKOUT_ATTEMPTS": 4})
    add_people(app)
    for n in range(4):
        assert (
            ConsoleClient(app).login(f"spray{n}@example.test", "Summer2026!!!").status_code == 401
        )
    refused = ConsoleClient(app).login(PEOPLE["admin"])
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text
    other = app.test_client()  # another address is not affected
    other.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    browser = ConsoleClient(app)
    browser.client = other
    assert browser.login(PEOPLE["admin"]).status_code == 303


def test_an_idle_session_ends(make_app, sqlite_config):
    app = make_app(sqlite_config | {"CONSOLE_IDLE_SECONDS": 2})
    add_people(app)
    browser = ConsoleClient(app)
    browser.login(PEOPLE["viewer"])
    for _ in range(3):  # activity keeps it alive past the idle time
        time.sleep(0.8)
        assert browser.get("/console/").status_code == 200
    time.sleep(2.2)
    response = browser.get("/console/audit")
    assert response.status_code == 302 and "ended=idle" in response.location
    assert "without activity" in browser.get(response.location).text
    with app.app_context():
        assert db.session.scalars(db.select(ConsoleSession)).one().ended_reason == "idle"


def test_a_disabled_user_is_signed_out_at_the_next_request(app, people):
    browser = ConsoleClient(app)
    browser.login(PEOPLE["editor"])
    with app.app_context():
        users.set_disabled(people["editor"], True)
    assert browser.get("/console/").status_code == 302
    assert ConsoleClient(app).login(PEOPLE["editor"]).status_code == 401


@pytest.mark.parametrize("password", ["short", "x" * 257, "twelve chars\x00!"])
def test_weak_or_unstorable_passwords_are_refused(app, password):
    with app.app_context(), pytest.raises(users.UserError):
        users.create_user("weak@example.test", "viewer", password)


def test_cookie_is_secure_and_host_prefixed_behind_https(make_app, sqlite_config):
    app = make_app(sqlite_config | {"PUBLIC_URL": "https://loyalty.example.test"})
    add_people(app)
    client = app.test_client()
    https = "https://loyalty.example.test"
    token = CSRF.search(client.get("/console/login", base_url=https).text).group(1)
    response = client.post(
        "/console/login",
        data={"email": PEOPLE["viewer"], "password": PASSWORD, "csrf_token": token},
        base_url=https,
    )
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "ls_console=" in c)
    assert cookie.startswith("__Host-ls_console=") and "Secure" in cookie


def test_cli_creates_the_first_admin_with_the_password_from_stdin(sqlite_config, make_app):
    import subprocess
    import sys

    from ..conftest import ROOT, process_env

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "loyalty_social.cli",
            "user",
            "create",
            "--email",
            "First@Example.test",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env=process_env(sqlite_config),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "first@example.test  admin" in done.stdout
    again = run_cli(
        sqlite_config,
        "user",
        "create",
        "--email",
        "first@example.test",
        "--role",
        "viewer",
        "--sso-only",
    )
    assert again.returncode == 1 and "exists already" in again.stderr
    app = make_app(sqlite_config)
    assert ConsoleClient(app).login("first@example.test").status_code == 303
    with app.app_context():
        created = db.session.scalars(
            db.select(AuditRecord).where(AuditRecord.action == "console_user.created")
        ).one()
        assert created.actor.startswith("cli:") and "password" not in str(created.after)


__all__ = ["make_config"]
