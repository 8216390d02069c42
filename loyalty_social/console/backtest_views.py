"""Backtests in the console: pick a rule and a period, start the job (the queue runs
``rules.run_backtest`` by name), watch its progress (htmx polls the partial) and read the
would-be awards and points cost per day as a chart and a table."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import abort, g, redirect, render_template, request, url_for

from ..extensions import db
from ..queue import enqueue
from ..rules import backtest, service
from ..rules.models import Backtest, Rule
from .analytics_views import csv_response
from .blueprint import console, nav_item, role_required

nav_item("Backtests", "console.backtests", "viewer", order=45)
RECENT = 20


def _rules():
    return db.session.execute(
        db.select(Rule.id, Rule.name, Rule.status)
        .where(Rule.status != "archived")
        .order_by(Rule.name)
    ).all()


def _recent():
    return db.session.scalars(
        db.select(Backtest).order_by(Backtest.created_at.desc()).limit(RECENT)
    ).all()


def _page(errors=None, form=None, status=200):
    return render_template(
        "console/backtests.html",
        rules=_rules(),
        recent=_recent(),
        errors=errors or {},
        form=form or {},
        today=datetime.now(UTC).date(),
    ), status


@console.get("/backtests")
def backtests():
    return _page(form={"rule_id": request.args.get("rule_id", "")})


def _day(value: str, field: str, errors: dict):
    try:
        return datetime.combine(datetime.strptime(value.strip(), "%Y-%m-%d").date(), time(), UTC)
    except ValueError:
        errors[field] = "Pick a date (YYYY-MM-DD)."
        return None


@console.post("/backtests")
@role_required("editor")
def backtest_start():
    form = {k: (request.form.get(k) or "")[:64] for k in ("rule_id", "since", "until")}
    errors: dict[str, str] = {}
    since = _day(form["since"], "since", errors)
    until = _day(form["until"], "until", errors)
    if since and until and until < since:
        errors["until"] = "The end date is before the start date."
    if db.session.get(Rule, form["rule_id"]) is None:
        errors["rule_id"] = "Pick a rule."
    if errors:
        return _page(errors, form, 422)
    try:
        backtest_id = backtest.start(
            form["rule_id"], since, until + timedelta(days=1), actor=g.console_user.actor
        )
    except service.RuleError as error:
        return _page({"rule_id": str(error)}, form, 422)
    enqueue("rules.run_backtest", backtest_id)
    return redirect(url_for("console.backtest_page", backtest_id=backtest_id), 303)


def _get(backtest_id: str) -> Backtest:
    found = db.session.get(Backtest, backtest_id[:40])
    if found is None:
        abort(404, "No such backtest.")
    return found


def _view(found: Backtest) -> dict:
    report = found.report or {}
    days = report.get("days") or []
    chart = {
        "labels": [d["date"] for d in days],
        "series": [
            {"name": "points cost", "values": [d["points"] for d in days]},
            {"name": "awards", "values": [d["awards"] + d["held"] for d in days]},
        ],
        "kind": "bar",
        "stacked": False,  # points and awards side by side: two units, not parts of a whole
    }
    percent = (
        100
        if found.status == "done"
        else (round(100 * found.scanned / found.total) if found.total else 0)
    )
    rule = db.session.get(Rule, found.rule_id) if found.rule_id else None
    return {"bt": found, "report": report, "chart": chart, "percent": percent, "rule": rule}


@console.get("/backtests/<backtest_id>")
def backtest_page(backtest_id):
    return render_template("console/backtest.html", **_view(_get(backtest_id)))


@console.get("/backtests/<backtest_id>/progress")
def backtest_progress(backtest_id):
    """The part of the page htmx polls while the job runs."""
    return render_template("console/_backtest_result.html", **_view(_get(backtest_id)))


@console.get("/backtests/<backtest_id>.csv")
def backtest_csv(backtest_id):
    days = (_get(backtest_id).report or {}).get("days") or []
    header = ["date", "members", "awards", "held", "points"]
    return csv_response(
        f"backtest_{backtest_id}.csv", header, [[d[h] for h in header] for d in days]
    )
