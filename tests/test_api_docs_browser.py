"""/api/docs in headless Chromium against the app under its production server, with every
request to another host refused: the page must render the API from the app's own files."""

from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def test_api_docs_render_offline(sqlite_config, serve, chromium):
    server = serve(sqlite_config)
    context = chromium.new_context()
    loaded, refused = [], []

    def only_loopback(route):
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(30000)
    page.on("requestfinished", lambda request: loaded.append(request.url))
    page.goto(f"{server.url}/api/docs")

    # an operation's summary (its docstring), its request example, and the condition grammar
    page.get_by_role("heading", name="Create a rule (a draft unless status").wait_for()
    page.get_by_text("Long verified reviews").first.wait_for()

    assert refused == []  # nothing even tried another host (the page's policy refuses it)
    assert f"{server.url}/static/vendor/redoc/redoc.standalone.js" in loaded
    remote = [url for url in loaded if urlsplit(url).hostname not in LOOPBACK]
    assert all(url.startswith(("data:", "blob:")) for url in remote), remote
    context.close()
