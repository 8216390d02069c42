"""The webhook endpoint's source cache: an expiry under load costs one reload, not one per
server thread, and a change is seen after the cache's time-to-live."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from loyalty_social.extensions import db
from loyalty_social.intake.sources import SourceCache, add_source, set_enabled


def test_an_expired_source_is_reloaded_once_while_threads_keep_answering(app):
    with app.app_context():
        add_source("crm")
        cache = SourceCache(ttl=0.2)
        assert cache.get("crm").enabled
        loads = []

        def count(conn, cursor, statement, *args):
            if "FROM source " in statement or "FROM source\n" in statement:
                loads.append(statement)

        set_enabled("crm", False)
        time.sleep(0.25)
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            barrier = threading.Barrier(16)
            answers = []

            def request():
                with app.app_context():
                    barrier.wait()
                    answers.append(cache.get("crm"))
                    db.session.remove()

            threads = [threading.Thread(target=request) for _ in range(16)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        source_loads = [s for s in loads if "source_secret" not in s and "public_key" not in s]
        assert len(source_loads) == 1, source_loads
        assert len(answers) == 16
        # Every thread answered; after the reload, the change is what the cache holds.
        assert cache.get("crm").enabled is False
