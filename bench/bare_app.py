"""The baseline: a bare Flask JSON endpoint, served exactly like the app.

``granian --interface wsgi bench.bare_app:app`` (or ``gunicorn bench.bare_app:app``).
It reads the body like the webhook endpoint does and answers {"ok": true}; no database.
"""

from flask import Flask, request

app = Flask(__name__)


@app.post("/webhooks/<source_name>")
def receive(source_name: str):
    request.get_data(cache=False)
    return {"ok": True}


@app.get("/")
def index():
    return {"ok": True}
