"""Rule and campaign budgets: shared across members, locked for a batch, spent in memory,
written back once; given back when a held award is rejected."""

from __future__ import annotations

from sqlalchemy import bindparam, update

from ..extensions import db
from .compiled import CompiledRule
from .models import Campaign, Rule


class Budgets:
    """The rule and campaign budgets a batch may spend, locked for its transaction.

    The rows are read FOR UPDATE up front in one global order (rules, then campaigns, each
    sorted), so two workers paying under the same rules never deadlock and never spend the
    same points: the second waits for the first's commit and then reads what is left. Awards
    spend from these copies; ``flush`` writes the new totals, one statement per table, in the
    batch's transaction. (An UPDATE per award cost more than evaluating the award.)
    """

    def __init__(self, rules: list[CompiledRule]):
        self.rows: dict[tuple[str, str], list] = {}
        self.dirty: set[tuple[str, str]] = set()
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
            row = self.rows[key]
            row[2] += points
            row[3] += 1
            self.dirty.add(key)
        return None

    def flush(self) -> None:
        connection = db.session.connection()
        for kind, model in (("rule", Rule), ("campaign", Campaign)):
            changes = [
                {"b_id": row_id, "b_points": row[2], "b_count": row[3]}
                for (k, row_id), row in sorted((key, self.rows[key]) for key in self.dirty)
                if k == kind
            ]
            if changes:
                table = model.__table__
                statement = (
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(spent_points=bindparam("b_points"), spent_count=bindparam("b_count"))
                )
                connection.execute(statement, changes)
        self.dirty.clear()


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
