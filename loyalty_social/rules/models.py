"""Tables of the rules engine: rules and their versions, campaigns, counters, backtests."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import UTCDateTime
from ..extensions import db


class Rule(db.Model):
    """A reward rule: what it listens to, when it pays, how much, and how often.

    The definition (conditions, rewards, limits, evidence, hold, targeting) is one JSON
    document validated on save (``schemas.RuleSchema``); the columns are what SQL must see:
    status for loading, budgets for atomic consumption. ``event_type``, ``points`` and
    ``min_evidence`` are summaries kept so the skeleton's readers (and a downgrade) still work.
    """

    __tablename__ = "rule"
    __table_args__ = (Index("ix_rule_event_type_status", "event_type", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(Integer)
    min_evidence: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # draft | active | paused | archived
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Nullable: added to a table that had rows (the skeleton's rules read as fixed points).
    event_types: Mapped[list | None] = mapped_column(JSON, nullable=True, default=list)
    definition: Mapped[dict | None] = mapped_column(JSON, nullable=True, default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    # No foreign key: added to an existing table, where SQLite cannot add one without a rebuild.
    campaign_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Budgets: NULL = unlimited. Consumed with UPDATE ... WHERE spent + x <= budget.
    budget_points: Mapped[int | None] = mapped_column(Integer, nullable=True)
    budget_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    spent_points: Mapped[int] = mapped_column(Integer, default=0)
    spent_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class RuleVersion(db.Model):
    """Every change of a rule (definition or status): a full snapshot, who and when."""

    __tablename__ = "rule_version"

    rule_id: Mapped[str] = mapped_column(ForeignKey("rule.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    snapshot: Mapped[dict] = mapped_column(JSON)
    change: Mapped[str] = mapped_column(String(200))
    changed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Campaign(db.Model):
    """A group of rules sharing one budget."""

    __tablename__ = "campaign"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    budget_points: Mapped[int | None] = mapped_column(Integer, nullable=True)
    budget_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    spent_points: Mapped[int] = mapped_column(Integer, default=0)
    spent_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class RuleCounter(db.Model):
    """One counter a limit or condition reads in O(1): (member, bucket, scope) -> count, points.

    scope: ``r:<rule id>`` (a rule's awards), ``t:<event type>`` / ``t:*`` (the member's
    activity), ``g`` (every rule's points: the member's daily ceiling). bucket: ``d:<date>``,
    ``w:<iso week>``, ``m:<month>``, ``life``, ``o:<object digest>``. Written only by
    transactions that hold the member's row lock, always as increments.
    """

    __tablename__ = "rule_counter"

    member_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Backtest(db.Model):
    """A dry run of a rule over stored events of a past period; the report is per day."""

    __tablename__ = "backtest"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule_id: Mapped[str | None] = mapped_column(ForeignKey("rule.id"), nullable=True, index=True)
    rule: Mapped[dict] = mapped_column(JSON)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    scanned: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)  # to scan (progress)
    report: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RuleSetSnapshot(db.Model):
    """One set of active rules as the rule index saw it: for each event type, which rule
    versions were gated on which first clause (``index.RuleSet.gates``).

    Content-addressed and written once per change of the active rules, not per event: an
    event's outcome names it and stores the values seen, and explanations of the rules it
    gated out are expanded from it on reading.
    """

    __tablename__ = "rule_set"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    gates: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BudgetAlert(db.Model):
    """A rule's or campaign's budget reached a threshold (80 or 100 percent): raised once per
    threshold and budget ``period`` (the budget's values: a changed budget is a new period),
    its outbound event written by the transaction that inserted the row."""

    __tablename__ = "budget_alert"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # rule | campaign
    target_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    threshold: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(64), primary_key=True)
    spent_points: Mapped[int] = mapped_column(Integer)
    spent_count: Mapped[int] = mapped_column(Integer)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RuleReview(db.Model):
    """Maker-checker: a change waiting for a second person. For a draft rule the draft itself
    is the change; for an active or paused rule ``proposed`` holds the new document while the
    live one keeps paying. ``state``: editing | requested | sent_back. Gone once approved."""

    __tablename__ = "rule_review"

    rule_id: Mapped[str] = mapped_column(ForeignKey("rule.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    proposed: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    proposed_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
