"""WSGI entry point for production servers: ``loyalty_social.wsgi:app``."""

from . import create_app

app = create_app()
