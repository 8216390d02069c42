"""Reading the rollups for charts, tables, CSV and the API: every figure is an indexed range
of the rollups (``rollup_daily`` and its monthly and daily-total grains) or the member
ranking's index, never a scan of history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from operator import itemgetter

from sqlalchemy import func, select, union_all

from ..extensions import db
from .models import DailyRollup, DailyTotal, MemberRollup, MonthlyRollup

# Each chart: the metric it reads and the dimension it breaks down by.
CHARTS = {
    "points-by-rule": ("points", "key"),
    "points-by-network": ("points.network", "key"),
    "reversed-by-rule": ("points.reversed", "key"),
    "events-by-type": ("events", "key"),
    "events-by-source": ("events", "key2"),
    "held-by-rule": ("awards.held", "key"),
    "offers-granted": ("offers.granted", "key"),
    "offers-redeemed": ("offers.redeemed", "key"),
    "consent-opt-in": ("consent.opt_in", "key"),
    "consent-opt-out": ("consent.opt_out", "key"),
}
MAX_DAYS = 366
OTHER = "\x1fother"  # the rest of a top-N breakdown (no real key holds a control character)


def window(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    """An inclusive range of days: the last 30 by default, at most MAX_DAYS."""
    until = until or today
    since = since or until - timedelta(days=29)
    if since > until:
        since, until = until, since
    return max(since, until - timedelta(days=MAX_DAYS - 1)), until


def breakdown(chart: str, since: date, until: date) -> list[dict]:
    """Per day and per key of the chart's dimension: count and amount (points)."""
    metric, by = CHARTS[chart]
    t = DailyRollup.__table__
    dimension = t.c[by]
    query = (
        select(t.c.day, dimension, func.sum(t.c["count"]), func.sum(t.c.amount))
        .where(t.c.metric == metric, t.c.day >= since, t.c.day <= until)
        .group_by(t.c.day, dimension)
        .order_by(t.c.day, dimension)
    )
    return [
        {"day": day, "key": key, "count": int(count), "amount": int(amount)}
        for day, key, count, amount in db.session.execute(query)
    ]


def top_breakdown(chart: str, since: date, until: date, top: int = 8) -> list[dict]:
    """``breakdown`` for a chart: the ``top`` keys by amount (by count where the chart has no
    amounts) and the rest summed as "other". A year of 200 rules is 73,000 daily rows; this
    reads the top keys' rows (index ``ix_rollup_daily_key``), one total a day, and to rank the
    keys the window's whole months from ``rollup_monthly`` and only its partial months' days."""
    metric, by = CHARTS[chart]
    leaders = _leaders(metric, by, since, until, top)
    if not leaders:
        return []
    t, totals = DailyRollup.__table__, DailyTotal.__table__
    dimension = t.c[by]
    query = (
        select(t.c.day, dimension, func.sum(t.c["count"]), func.sum(t.c.amount))
        .where(t.c.metric == metric, t.c.day >= since, t.c.day <= until, dimension.in_(leaders))
        .group_by(t.c.day, dimension)
    )
    rows, shown = [], {}
    for day, key, count, amount in db.session.execute(query).all():  # fetchall: 3,285 a year
        rows.append({"day": day, "key": key, "count": int(count), "amount": int(amount)})
        seen = shown.setdefault(day, [0, 0])
        seen[0] += int(count)
        seen[1] += int(amount)
    query = select(totals.c.day, totals.c["count"], totals.c.amount).where(
        totals.c.metric == metric, totals.c.day >= since, totals.c.day <= until
    )
    for day, count, amount in db.session.execute(query).all():
        seen = shown.get(day, (0, 0))
        if count != seen[0] or amount != seen[1]:
            rows.append(
                {"day": day, "key": OTHER, "count": count - seen[0], "amount": amount - seen[1]}
            )
    return sorted(rows, key=itemgetter("day", "key"))


def _leaders(metric: str, by: str, since: date, until: date, top: int) -> list[str]:
    """The ``top`` keys of the window by amount + count: whole months from the monthly grain,
    the days before the first and after the last whole month from the daily one."""
    daily, monthly = DailyRollup.__table__, MonthlyRollup.__table__
    first = since if since.day == 1 else (since.replace(day=1) + timedelta(days=31)).replace(day=1)
    end = until + timedelta(days=1)
    end = end if end.day == 1 else end.replace(day=1)  # whole months: first <= month < end
    days = [(since, until)]
    parts = []
    if first < end:
        days = [(since, first - timedelta(days=1)), (end, until)]
        parts.append(
            select(monthly.c[by].label("k"), monthly.c["count"], monthly.c.amount).where(
                monthly.c.metric == metric, monthly.c.month >= first, monthly.c.month < end
            )
        )
    parts += [
        select(daily.c[by].label("k"), daily.c["count"], daily.c.amount).where(
            daily.c.metric == metric, daily.c.day >= low, daily.c.day <= high
        )
        for low, high in days
        if low <= high
    ]
    rows = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    size = func.sum(rows.c.amount) + func.sum(rows.c["count"])
    query = select(rows.c.k).group_by(rows.c.k).order_by(size.desc(), rows.c.k).limit(top)
    return list(db.session.scalars(query))


def funnel(steps: tuple[str, ...], since: date, until: date) -> list[dict]:
    """Totals of the funnel's metrics over the window, in order (a step nobody registered
    counts zero)."""
    t = DailyRollup.__table__
    query = (
        select(t.c.metric, func.sum(t.c["count"]))
        .where(t.c.metric.in_(steps), t.c.day >= since, t.c.day <= until)
        .group_by(t.c.metric)
    )
    found = dict(db.session.execute(query).all())
    return [{"step": step, "count": int(found.get(step) or 0)} for step in steps]


def consent_rates(purposes: list[str]) -> list[dict]:
    """Per purpose, all time: members who decided, those opted in now, the rate."""
    t = DailyRollup.__table__
    query = (
        select(t.c.metric, t.c.key, func.sum(t.c["count"]))
        .where(t.c.metric.in_(("consent.decided", "consent.opt_in", "consent.opt_out")))
        .group_by(t.c.metric, t.c.key)
    )
    sums = {(metric, key): int(n) for metric, key, n in db.session.execute(query)}
    rows = []
    for purpose in purposes:
        decided = sums.get(("consent.decided", purpose), 0)
        opted_in = sums.get(("consent.opt_in", purpose), 0) - sums.get(
            ("consent.opt_out", purpose), 0
        )
        rate = round(100 * opted_in / decided, 1) if decided else None
        rows.append({"purpose": purpose, "decided": decided, "opted_in": opted_in, "rate": rate})
    return rows


def top_members(limit: int, allowed: Callable[[list[str]], set[str]]) -> list[dict]:
    """The members with the most points, all time, among those ``allowed`` says may be shown
    (consent): read down the ranking's index a page at a time until ``limit`` are found."""
    t = MemberRollup.__table__
    found: list[dict] = []
    after = None
    page = max(limit * 4, 50)
    while len(found) < limit:
        query = select(t.c.member_id, t.c.points, t.c.awards).order_by(
            t.c.points.desc(), t.c.member_id
        )
        if after is not None:
            query = query.where(
                (t.c.points < after[0]) | ((t.c.points == after[0]) & (t.c.member_id > after[1]))
            )
        rows = db.session.execute(query.limit(page)).all()
        if not rows:
            break
        ok = allowed([r.member_id for r in rows])
        found.extend(
            {"member_id": r.member_id, "points": int(r.points), "awards": int(r.awards)}
            for r in rows
            if r.member_id in ok
        )
        after = (rows[-1].points, rows[-1].member_id)
    return found[:limit]


def pivot(rows: list[dict], since: date, until: date, value: str = "amount", top: int = 8):
    """Rows -> a chart's series: every day of the window, one series per key (the ``top``
    biggest; the rest summed as "other")."""
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["key"]] = totals.get(row["key"], 0) + row[value]
    keys = sorted((k for k in totals if k != OTHER), key=lambda k: (-totals[k], k))
    shown, rest = keys[:top], set(keys[top:]) | ({OTHER} & totals.keys())
    index = {d: i for i, d in enumerate(days)}
    series = {k: [0] * len(days) for k in shown}
    if rest:
        series["other"] = [0] * len(days)
    for row in rows:
        name = "other" if row["key"] in rest else row["key"]
        series[name][index[row["day"]]] += row[value]
    return {
        "labels": [d.isoformat() for d in days],
        "series": [{"name": k or "(none)", "values": v} for k, v in series.items()],
        "totals": {k or "(none)": totals[k] for k in shown}
        | ({"other": sum(totals[k] for k in rest)} if rest else {}),
    }
