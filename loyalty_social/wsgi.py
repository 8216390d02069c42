"""WSGI entry point for production servers: ``loyalty_social.wsgi:app``."""

import sys

from . import create_app
from .schedule import start_in_process

# Intake's committer thread waits on the database and then needs the GIL back while request
# threads compute; Python's default 5 ms switch interval turns each of its round trips into
# a queue. A shorter interval keeps group commits, and so webhook latency, short.
sys.setswitchinterval(0.001)

app = create_app()
# The embedded default runs its periodic jobs here (with Redis, workers and schedulers do).
start_in_process(app)
