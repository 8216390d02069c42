import click
from flask.cli import AppGroup

from . import service


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
        click.echo(f"{key.id}  {key.name}  {','.join(key.scopes)}  {state}")


@apikey.command("revoke")
@click.argument("key_id")
def revoke(key_id):
    if not service.revoke_key(key_id):
        raise click.ClickException(f"no key {key_id}")
    click.echo(f"revoked {key_id}")


COMMANDS = [apikey]
