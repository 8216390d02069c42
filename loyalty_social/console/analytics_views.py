"""Analytics and budgets: charts of the rollups (``analytics.report``) with a table, a text
summary and a CSV of each; budget usage bars and the banner every page shows from 80 %.

Charts are drawn by the vendored Chart.js (``static/vendor``) from each canvas's
``data-chart`` attribute (the CSP allows no inline script); the same figures are in the
table beside it, so nothing is known only to those who can see the chart."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import Response, abort, render_template, request

from ..analytics import queries, report
from ..consent.service import consenting
from ..extensions import db
from ..rules import budget_alerts
from ..rules.models import Rule
from .blueprint import console, nav_item
from .campaigns_views import budgets_page

nav_item("Analytics", "console.analytics", "viewer", order=40)
nav_item("Budgets", "console.budgets", "viewer", order=42)

# The charts of the page: (chart, what is plotted, title)
CHARTS = (
    ("points-by-rule", "amount", "Points issued per day, by rule"),
    ("points-by-network", "amount", "Points issued per day, by network"),
    ("events-by-type", "count", "Events per day, by type"),
    ("events-by-source", "count", "Events per day, by source"),
)
TABLES = {chart: title for chart, _value, title in CHARTS} | {
    "funnel": "Share → click → sign-up",
    "consent": "Consent opt-in rates",
    "advocates": "Top advocates",
}


def window() -> tuple[date, date, dict]:
    """The date range of the request (native date inputs), checked."""
    errors, days = {}, {}
    for name in ("since", "until"):
        value = (request.args.get(name) or "").strip()
        days[name] = None
        if value:
            try:
                days[name] = date.fromisoformat(value[:10])
            except ValueError:
                errors[name] = "Pick a date (YYYY-MM-DD)."
    if days["since"] and days["until"] and days["until"] < days["since"]:
        errors["until"] = "The end date is before the start date."
    since, until = report.days(days["since"], days["until"])
    return since, until, errors


def shown(member_ids: list[str]) -> set[str]:
    """Top advocates: only members who consent to the use of their social activity now."""
    return consenting(member_ids, report.ADVOCATE_PURPOSE)


def rule_names() -> dict[str, str]:
    return dict(db.session.execute(db.select(Rule.id, Rule.name)).all())


def chart(chart_id: str, value: str, since: date, until: date, names: dict) -> dict:
    rows = report.chart(chart_id, since, until)["rows"]
    if chart_id.startswith("points-by-rule"):
        rows = [{**r, "key": names.get(r["key"], r["key"])} for r in rows]
    data = queries.pivot(rows, since, until, value)
    total = sum(data["totals"].values())
    top = next(iter(data["totals"].items()), None)
    unit = "points" if value == "amount" else "events"
    summary = f"{total:,} {unit} from {since} to {until}" + (
        f"; most from {top[0]} ({top[1]:,})." if top else "."
    )
    return {"id": chart_id, "value": value, "data": data, "summary": summary, "unit": unit}


@console.get("/analytics")
def analytics():
    since, until, errors = window()
    names = rule_names()
    charts = [
        {**chart(chart_id, value, since, until, names), "title": title}
        for chart_id, value, title in CHARTS
    ]
    return render_template(
        "console/analytics.html",
        since=since,
        until=until,
        errors=errors,
        charts=charts,
        funnel=report.funnel(since, until)["steps"],
        consent=report.consent_rates(),
        advocates=report.top_advocates(20, shown),
    ), (422 if errors else 200)


def table_rows(table: str, since: date, until: date) -> tuple[list[str], list[list]]:
    if table in dict((c, 1) for c, _v, _t in CHARTS):
        names = rule_names() if table == "points-by-rule" else {}
        rows = report.series(table, since, until)["rows"]
        header = ["day", table.split("-by-")[1], "count", "points"]
        return header, [
            [r["day"].isoformat(), names.get(r["key"], r["key"]), r["count"], r["amount"]]
            for r in rows
        ]
    if table == "funnel":
        steps = report.funnel(since, until)["steps"]
        return ["step", "count"], [[s["step"], s["count"]] for s in steps]
    if table == "consent":
        rows = report.consent_rates()
        return ["purpose", "decided", "opted_in", "rate_percent"], [
            [r["purpose"], r["decided"], r["opted_in"], r["rate"]] for r in rows
        ]
    if table == "advocates":
        rows = report.top_advocates(100, shown)
        return ["member_id", "points", "awards"], [
            [r["member_id"], r["points"], r["awards"]] for r in rows
        ]
    abort(404, "No such table.")


def csv_response(filename: str, header: list[str], rows: list[list]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:  # a leading = + - @ would be a formula in a spreadsheet
        writer.writerow([f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@console.get("/analytics/<table>.csv")
def analytics_csv(table):
    if table not in TABLES:
        abort(404, "No such table.")
    since, until, errors = window()
    if errors:
        abort(422, " ".join(errors.values()))
    header, rows = table_rows(table, since, until)
    return csv_response(f"{table}_{since}_{until}.csv", header, rows)


@console.get("/budgets")
def budgets():
    return budgets_page()


@console.get("/budgets.csv")
def budgets_csv():
    rows = budget_alerts.usage()
    header = [
        "kind",
        "id",
        "name",
        "budget_points",
        "budget_count",
        "spent_points",
        "spent_count",
        "percent",
        "alert",
    ]
    return csv_response("budgets.csv", header, [[u[h] for h in header] for u in rows])


@console.context_processor
def _budget_banner():
    """``budget_warnings()`` for the layout's banner: budgets at or above 80 %."""

    def warnings() -> list[dict]:
        return [u for u in budget_alerts.usage() if u["percent"] >= budget_alerts.THRESHOLDS[0]]

    return {"budget_warnings": warnings}
