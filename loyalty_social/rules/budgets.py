"""Rule and campaign budgets: shared across members, locked for a batch, spent in memory,
written back once; given back when a held award is rejected."""

from __future__ import annotations

from sqlalchemy import bindparam, update

from ..extensions import db
from . import budget_alerts
from .compiled import CompiledRule
from .models import Campaign, Rule


class Budgets:
    """The rule and campaign budgets a batch may spend, locked for its transaction.

    The rows are read FOR UPDATE up front in one global order (rules, then campaigns, each
    sorted), so two workers paying under the same rules never deadlock and never spend the
    same points: the second waits for the first's commit and then reads what is left. Awards
    spend from these copies, and releases (a rejected held award, a clawback) give back to
    them; ``flush`` writes the batch's net change as increments (``spent = spent + delta``),
    one statement per table, in the batch's transaction. Increments, not the totals read at
    the start: nothing another write did to the row meanwhile is lost. (An UPDATE per award
    cost more than evaluating the award.)
    """

    def __init__(self, rules: list[CompiledRule]):
        self.rows: dict[tuple[str, str], list] = {}
        # Net change per row this batch: [points, count]
        self.deltas: dict[tuple[str, str], list[int]] = {}
        wanted = (
            ("rule", Rule, sorted({r.id for r in rules if r.has_budget})),
            ("campaign", Campaign, sorted({r.campaign_id for r in rules if r.campaign_id})),
        )
        for kind, model, ids in wanted:
            if not ids:
                continue
            query = (
                db.select(
                    model.id,
                    model.budget_points,
                    model.budget_count,
                    model.spent_points,
                    model.spent_count,
                )
                .where(model.id.in_(ids))
                .order_by(model.id)
                .with_for_update()
            )
            for row_id, *values in db.session.execute(query):
                self.rows[(kind, row_id)] = values

    def take(self, rule: CompiledRule, points: int) -> str | None:
        """Spend the rule's and its campaign's budget; words when either is spent."""
        keys = []
        if rule.has_budget:
            keys.append(("rule", rule.id))
        if rule.campaign_id:
            keys.append(("campaign", rule.campaign_id))
        for kind, row_id in keys:
            row = self.rows.get((kind, row_id))
            if row is None:
                return f"the {kind}'s budget is spent (unknown {kind})"
            budget_points, budget_count, spent_points, spent_count = row
            if (budget_points is not None and spent_points + points > budget_points) or (
                budget_count is not None and spent_count + 1 > budget_count
            ):
                return (
                    f"the {kind}'s budget is spent ({_budget_words(budget_points, budget_count)})"
                )
        for key in keys:
            self._change(key, points, 1)
        return None

    def release(self, rule_id: str, campaign_id: str | None, points: int, had_budget: bool):
        """Give back what an award consumed: spendable again in this batch, written with the
        batch's spending (a row this batch did not lock is locked by that write)."""
        if had_budget:
            self._change(("rule", rule_id), -points, -1)
        if campaign_id:
            self._change(("campaign", campaign_id), -points, -1)

    def _change(self, key: tuple[str, str], points: int, count: int) -> None:
        row = self.rows.get(key)
        if row is not None:
            row[2] += points
            row[3] += count
        delta = self.deltas.setdefault(key, [0, 0])
        delta[0] += points
        delta[1] += count

    def flush(self) -> None:
        """Write the net changes; then raise the alerts (80 %, 100 %) the spending crossed."""
        connection = db.session.connection()
        spent = {key for key, (points, count) in self.deltas.items() if points > 0 or count > 0}
        for kind, model in (("rule", Rule), ("campaign", Campaign)):
            changes = [
                {"b_id": row_id, "b_points": points, "b_count": count}
                for (k, row_id), (points, count) in sorted(self.deltas.items())
                if k == kind and (points or count)
            ]
            if changes:
                c = model.__table__.c
                statement = (
                    update(model.__table__)
                    .where(c.id == bindparam("b_id"))
                    .values(
                        spent_points=c.spent_points + bindparam("b_points"),
                        spent_count=c.spent_count + bindparam("b_count"),
                    )
                )
                connection.execute(statement, changes)
        self.deltas.clear()
        if spent:
            budget_alerts.check(self.rows, spent)


def _budget_words(points, count) -> str:
    parts = [f"{points} points" if points else "", f"{count} awards" if count else ""]
    return " / ".join(p for p in parts if p) or "none"


def _release(table, row_id: str, points: int) -> None:
    c = table.c
    db.session.execute(
        update(table)
        .where(c.id == row_id)
        .values(spent_points=c.spent_points - points, spent_count=c.spent_count - 1)
    )


def release_budget(rule_id: str, campaign_id: str | None, points: int, had_budget: bool) -> None:
    """Give back what a rejected held award consumed."""
    if had_budget:
        _release(Rule.__table__, rule_id, points)
    if campaign_id:
        _release(Campaign.__table__, campaign_id, points)
