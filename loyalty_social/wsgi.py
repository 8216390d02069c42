"""WSGI entry point for production servers: ``loyalty_social.wsgi:app``."""

import sys

from . import create_app

# Intake's committer thread waits on the database and then needs the GIL back while request
# threads compute; Python's default 5 ms switch interval turns each of its round trips into
# a queue. A shorter interval keeps group commits, and so webhook latency, short.
sys.setswitchinterval(0.001)

app = create_app()
