"""What advocates contribute to analytics: the share -> click -> sign-up funnel per UTC day
(links made, distinct human clicks, referrals credited or held). The rebuild source;
``links``, ``clicks`` and ``referrals`` add the same figures as they write."""

from __future__ import annotations

from sqlalchemy import func, select

from ..analytics.sources import Source, utc_day
from ..extensions import db
from .models import Click, Referral, ShareLink


def _daily():
    steps = (
        ("advocates.share", ShareLink.created_at, None),
        ("advocates.click", Click.at, Click.counted.is_(True)),
        ("advocates.signup", Referral.converted_at, Referral.status.in_(("credited", "held"))),
    )
    for metric, column, where in steps:
        day = utc_day(column)
        query = select(day, func.count()).group_by(day)
        query = query.select_from(column.class_) if where is None else query.where(where)
        for row_day, count in db.session.execute(query):
            yield (metric, row_day, "", "", count, 0)


SOURCE = Source("advocates", ("advocates.share", "advocates.click", "advocates.signup"), _daily)
