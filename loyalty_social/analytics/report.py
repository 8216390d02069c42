"""What the console and the API show: figures over a window of UTC days, read from the
rollups (``queries``), with the window's defaults and bounds applied in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import current_app

from ..timeutil import utcnow
from . import queries

# The share -> click -> sign-up funnel: metrics the advocates feature adds (``rollups.add``)
# and registers a rebuild source for; a step nobody counts yet shows zero.
FUNNEL = ("advocates.share", "advocates.click", "advocates.signup")
# Shown only for members who consent to the use of their social activity.
ADVOCATE_PURPOSE = "social_activity_use"


def days(since: date | None, until: date | None) -> tuple[date, date]:
    return queries.window(since, until, utcnow().date())


def series(chart: str, since: date | None = None, until: date | None = None) -> dict:
    since, until = days(since, until)
    rows = queries.breakdown(chart, since, until)
    return {"chart": chart, "since": since, "until": until, "rows": rows}


def chart(chart: str, since: date | None = None, until: date | None = None) -> dict:
    """What a chart draws: the top keys and "other", per day (``queries.top_breakdown``)."""
    since, until = days(since, until)
    rows = queries.top_breakdown(chart, since, until)
    return {"chart": chart, "since": since, "until": until, "rows": rows}


def funnel(since: date | None = None, until: date | None = None) -> dict:
    since, until = days(since, until)
    return {"since": since, "until": until, "steps": queries.funnel(FUNNEL, since, until)}


def consent_rates() -> list[dict]:
    return queries.consent_rates(sorted(current_app.config["CONSENT_PURPOSES"]))


def top_advocates(limit: int, consenting: Callable[[list[str]], set[str]]) -> list[dict]:
    """``consenting``: of these members, those who consent to ADVOCATE_PURPOSE now."""
    return queries.top_members(limit, consenting)
