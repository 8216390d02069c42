"""The member timeline's cost against the size of a member's history (PostgreSQL).

Fills a migrated database with one member's history (activities, awards, clicks on five share
links, consent changes) among other members' rows, then times pages of
``timeline.service.member_timeline``: the first page and pages deep in the history (by
cursor). Usage:

    DATABASE_URL=postgresql://.../scratch python bench/timeline.py [--events N] [--clicks N]

The database must be migrated (``loyalty-social db upgrade``) and is written to.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import text

from loyalty_social import create_app
from loyalty_social.extensions import db
from loyalty_social.timeline import service

MEMBER = "M-big"
FILL = [
    "INSERT INTO source (name, max_evidence, enabled, created_at) "
    "VALUES ('bench', 'verified', false, now()) ON CONFLICT DO NOTHING",
    "INSERT INTO member (id, attributes, created_at, updated_at) "
    "SELECT 'M-' || g, '{}', now(), now() FROM generate_series(0, 999) g ON CONFLICT DO NOTHING",
    "INSERT INTO member (id, attributes, created_at, updated_at) "
    "VALUES (:member, '{}', now(), now()) ON CONFLICT DO NOTHING",
    # the member's activities, one a minute, and as many of other members'
    "INSERT INTO activity_event (id, source_name, webhook_id, type, type_version, member_id, "
    "occurred_at, received_at, evidence, evidence_claimed, data, body_sha256, status, attempts) "
    "SELECT 'evt_bench' || lpad(g::text, 10, '0') || m, 'bench', 'w' || g || m, "
    "'review.published', 1, CASE m WHEN 0 THEN :member ELSE 'M-' || (g % 1000) END, "
    "now() - g * interval '1 minute', now() - g * interval '1 minute', 'verified', "
    "'verified', '{}', repeat('0', 64), 'processed', 1 "
    "FROM generate_series(1, :events) g, generate_series(0, 1) m",
    "INSERT INTO rule (id, name, event_type, points, min_evidence, status, version, created_at, "
    "updated_at) VALUES ('rul_bench', 'bench', 'review.published', 5, 'claimed', 'active', 1, "
    "now(), now()) ON CONFLICT DO NOTHING",
    "INSERT INTO award (id, rule_id, rule_version, event_id, member_id, points, status, "
    "created_at) SELECT 'awd_bench' || lpad(g::text, 10, '0') || m, 'rul_bench', 1, "
    "'evt_bench' || lpad(g::text, 10, '0') || m, "
    "CASE m WHEN 0 THEN :member ELSE 'M-' || (g % 1000) END, 5, 'granted', "
    "now() - g * interval '1 minute' FROM generate_series(1, :events) g, generate_series(0, 1) m",
    "INSERT INTO share_link (code, member_id, target_url, target_hash, created_at, clicks, "
    "bot_clicks, repeat_clicks) SELECT 'bench' || k, :member, 'https://shop.example/' || k, "
    "md5(k::text) || md5(k::text), now(), 0, 0, 0 FROM generate_series(1, 5) k",
    "INSERT INTO share_click (link_code, at, agent, visitor, counted, bot, repeat) "
    "SELECT 'bench' || (1 + g % 5), now() - g * interval '1 second', 'desktop', 'v' || g, "
    "true, false, false FROM generate_series(1, :clicks) g",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clicks", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        for statement in FILL:
            db.session.execute(
                text(statement), {"member": MEMBER, "events": args.events, "clicks": args.clicks}
            )
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(
            f"filled in {time.perf_counter() - started:.1f} s: {args.events} activities and "
            f"awards of {MEMBER} (as many of others), {args.clicks} clicks on its links"
        )
        cursor = None
        deep = None
        for page_number in range(200):  # walk 200 pages to find a deep cursor
            page = service.member_timeline(MEMBER, cursor, 50)
            cursor = page["next_cursor"]
            if page_number == 199:
                deep = cursor
        for label, at in (("first page", None), ("page 200", deep)):
            times = []
            for _ in range(args.repeat):
                begin = time.perf_counter()
                page = service.member_timeline(MEMBER, at, 50)
                times.append((time.perf_counter() - begin) * 1000)
                db.session.rollback()
            times.sort()
            print(
                f"{label}: {len(page['items'])} items, median {statistics.median(times):.1f} ms,"
                f" p95 {times[int(len(times) * 0.95) - 1]:.1f} ms"
            )


if __name__ == "__main__":
    main()
