"""Request examples the OpenAPI document shows for rules, previews and backtests: what a
marketer would send. Tests check each one against the document and send it to the API."""

from __future__ import annotations

from ..intake.catalogue import lookup

RULE = {
    "name": "Long verified reviews",
    "description": "25 points for a verified review of 100+ characters; gold members x1.5",
    "event_types": ["review.published"],
    "conditions": {
        "all": [
            {"field": "data.text_length", "op": "ge", "value": 100},
            {"field": "data.verified_purchase", "op": "eq", "value": True},
            {
                "any": [
                    {"field": "member.tier", "op": "in", "value": ["gold", "silver"]},
                    {
                        "counter": {"event_type": "review.published", "period": "month"},
                        "op": "le",
                        "value": 3,
                    },
                ]
            },
        ]
    },
    "rewards": [
        {"kind": "fixed", "points": 25},
        {"kind": "tier_multiplier", "tiers": {"gold": 1.5}},
    ],
    "evidence": {"min": "tracked", "scale": {"tracked": 0.5, "verified": 1}},
    "limits": {
        "per_member": [
            {"period": "day", "count": 1},
            {"period": "rolling", "days": 30, "points": 200},
        ],
        "once_per": "object",
    },
    "schedule": {"starts_at": "2026-12-01T00:00:00Z", "timezone": "Europe/Paris"},
}
RULE_CREATE = {**RULE, "status": "draft"}
RULE_UPDATE = {**RULE, "note": "verified purchases only"}
STATUS_CHANGE = {"status": "active", "note": "approved by the brand team"}
SAMPLE = {
    "member_id": "M-1001",
    "event": {
        "type": "review.published",
        "data": lookup("review.published", 1).example,
        "evidence": "verified",
        "occurred_at": "2026-12-03T09:30:00Z",
    },
}
PREVIEW = {**SAMPLE, "rule": RULE}
BACKTEST = {"since": "2026-11-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"}
CAMPAIGN = {"name": "Holiday reviews", "budget_points": 500_000, "budget_count": 20_000}
