import sys

import click
from flask.cli import AppGroup

from . import service, users


@click.group(cls=AppGroup)
def apikey():
    """API keys: create (shown once), list, revoke."""


@apikey.command("create")
@click.option("--name", required=True)
@click.option(
    "--scope", "scopes", multiple=True, required=True, type=click.Choice(list(service.SCOPES))
)
def create(name, scopes):
    """Create a key; its token is printed once and never stored."""
    click.echo(service.create_key(name, list(scopes)))


@apikey.command("list")
def list_():
    for key in service.list_keys():
        state = "revoked" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        click.echo(f"{key.id}  {key.name}  {','.join(key.scopes)}  {state}  last used {used}")


@apikey.command("revoke")
@click.argument("key_id")
def revoke(key_id):
    if not service.revoke_key(key_id):
        raise click.ClickException(f"no key {key_id}")
    click.echo(f"revoked {key_id}")


@click.group(cls=AppGroup)
def user():
    """Console users: create, list, role, disable, enable, unlock, password."""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@user.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(users.ROLES))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--sso-only", is_flag=True, help="No password: signs in by single sign-on only.")
def user_create(email, role, password_stdin, sso_only):
    """Create a console user; the password is prompted for (or read from stdin)."""
    password = None if sso_only else _password(password_stdin)
    created = users.create_user(email, role, password)
    click.echo(f"created {created.id}  {created.email}  {created.role}")


@user.command("list")
def user_list():
    for item in users.list_users():
        state = "disabled" if item.disabled_at else "active"
        click.echo(f"{item.id}  {item.email}  {item.role}  {state}")


@user.command("role")
@click.argument("user")
@click.argument("role", type=click.Choice(users.ROLES))
def user_role(user, role):
    """Change USER's (id or email) role."""
    changed = users.set_role(user, role)
    click.echo(f"{changed.email} is now {changed.role}")


@user.command("disable")
@click.argument("user")
def user_disable(user):
    """USER can no longer sign in (sessions end at their next request)."""
    click.echo(f"disabled {users.set_disabled(user, True).email}")


@user.command("enable")
@click.argument("user")
def user_enable(user):
    click.echo(f"enabled {users.set_disabled(user, False).email}")


@user.command("unlock")
@click.argument("user")
def user_unlock(user):
    """Lift a lock-out after failed sign-ins."""
    users.unlock(user)
    click.echo("unlocked")


@user.command("password")
@click.argument("user")
@click.option("--password-stdin", is_flag=True)
def user_password(user, password_stdin):
    """Set USER's password (prompted, or read from stdin)."""
    users.set_password(user, _password(password_stdin))
    click.echo("password set")


COMMANDS = [apikey, user]
