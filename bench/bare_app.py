"""The baseline: a bare Flask JSON endpoint, served exactly like the app.

``granian --interface wsgi bench.bare_app:app`` (or ``gunicorn bench.bare_app:app``).
It reads the body like the webhook endpoint does and answers {"ok": true}; no database.
``GET /s/<code>`` answers a fixed 302 (the share-link redirect's baseline).
"""

from flask import Flask, redirect, request

app = Flask(__name__)


@app.post("/webhooks/<source_name>")
def receive(source_name: str):
    request.get_data(cache=False)
    return {"ok": True}


@app.get("/s/<code>")
def share(code: str):
    """The redirect's baseline (bench/redirect.py): a 302, nothing looked up or recorded."""
    return redirect(f"https://shop.example/p/1?ref={code}", 302)


@app.get("/")
def index():
    return {"ok": True}
