"""Budget alerts: when spending takes a rule's or campaign's budget to 80 % or 100 %, an
outbound ``budget.threshold_reached`` event, once per threshold and budget period, and the
console's banner (``usage``).

Once: the alert row's key is (kind, id, threshold, period), inserted ignoring duplicates in
the transaction that spent the budget; only the transaction whose insert went in publishes
the event (in the same transaction, so both commit or neither). The budget rows are locked
by the spender (``Budgets``), so two workers cannot both see themselves cross a threshold.
"""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..outbound import publish
from ..sql import insert_ignoring_duplicates
from ..timeutil import isoformat, utcnow
from .models import BudgetAlert, Campaign, Rule

THRESHOLDS = (80, 100)
EVENT = "budget.threshold_reached"


def period(budget_points: int | None, budget_count: int | None) -> str:
    """The budget a period is spent against: changing the budget starts a new period."""
    return f"points={budget_points or '-'};count={budget_count or '-'}"


def percent_used(budget_points, budget_count, spent_points, spent_count) -> float | None:
    """The larger share of either budget used, in percent; None without a budget."""
    shares = []
    if budget_points:
        shares.append(100 * spent_points / budget_points)
    if budget_count:
        shares.append(100 * spent_count / budget_count)
    return max(shares) if shares else None


def check(rows: dict[tuple[str, str], list], spent: set[tuple[str, str]]) -> list[dict]:
    """After a batch spent the budgets ``spent`` (keys of ``rows``: [budget_points,
    budget_count, spent_points, spent_count] as now written): raise what was crossed."""
    now = utcnow()
    alerts = []
    for kind, target_id in sorted(spent):
        values = rows.get((kind, target_id))
        if values is None:
            continue
        used = percent_used(*values)
        if used is None:
            continue
        for threshold in THRESHOLDS:
            if used >= threshold:
                alerts.append(
                    {
                        "kind": kind,
                        "target_id": target_id,
                        "threshold": threshold,
                        "period": period(values[0], values[1]),
                        "spent_points": values[2],
                        "spent_count": values[3],
                        "raised_at": now,
                    }
                )
    if not alerts:
        return []
    connection = db.session.connection()
    keys = ["kind", "target_id", "threshold", "period"]
    inserted = {
        tuple(r)
        for r in insert_ignoring_duplicates(connection, BudgetAlert.__table__, alerts, keys)
    }
    raised = [a for a in alerts if tuple(a[k] for k in keys) in inserted]
    for alert in raised:
        budget_points, budget_count = rows[(alert["kind"], alert["target_id"])][:2]
        publish(
            EVENT,
            {
                "kind": alert["kind"],
                "id": alert["target_id"],
                "threshold_percent": alert["threshold"],
                "budget_points": budget_points,
                "budget_count": budget_count,
                "spent_points": alert["spent_points"],
                "spent_count": alert["spent_count"],
                "at": isoformat(now),
            },
        )
    return raised


def usage() -> list[dict]:
    """Every active rule's and every campaign's budget: spent, budget, percent, alerts raised
    in the current period (the console's bars and banner)."""
    items = []
    rules = db.session.execute(
        select(
            Rule.id,
            Rule.name,
            Rule.budget_points,
            Rule.budget_count,
            Rule.spent_points,
            Rule.spent_count,
        )
        .where(Rule.status.in_(("active", "paused")))
        .where((Rule.budget_points.is_not(None)) | (Rule.budget_count.is_not(None)))
        .order_by(Rule.name)
    )
    campaigns = db.session.execute(
        select(
            Campaign.id,
            Campaign.name,
            Campaign.budget_points,
            Campaign.budget_count,
            Campaign.spent_points,
            Campaign.spent_count,
        )
        .where((Campaign.budget_points.is_not(None)) | (Campaign.budget_count.is_not(None)))
        .order_by(Campaign.name)
    )
    for kind, rows in (("rule", rules), ("campaign", campaigns)):
        for target_id, name, budget_points, budget_count, spent_points, spent_count in rows:
            used = percent_used(budget_points, budget_count, spent_points, spent_count) or 0
            items.append(
                {
                    "kind": kind,
                    "id": target_id,
                    "name": name,
                    "budget_points": budget_points,
                    "budget_count": budget_count,
                    "spent_points": spent_points,
                    "spent_count": spent_count,
                    "percent": round(used, 1),
                    "period": period(budget_points, budget_count),
                }
            )
    raised = {
        (a.kind, a.target_id, a.period): a.threshold
        for a in db.session.scalars(select(BudgetAlert).order_by(BudgetAlert.threshold))
    }
    for item in items:
        item["alert"] = raised.get((item["kind"], item["id"], item["period"]))
    return items
