"""The wire format of rules, campaigns, previews and backtests (marshmallow).

A rule document is validated as a whole: the JSON parts (conditions, rewards, limits) by the
registries in ``conditions`` and ``payouts``, whose errors are keyed by JSON pointer
(``/conditions/all/1/value``) so the console can point at the offending clause.
"""

from __future__ import annotations

from zoneinfo import available_timezones

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from ..intake.catalogue import EVIDENCE_LEVELS, known_types
from . import conditions
from .conditions import MAX_ROLLING_DAYS, _validate_field
from .field_types import check_values, payload_fields
from .fields import StrictBoolean, WholeNumber
from .grammar import Strict, condition, data_field_names, data_field_pattern, reward
from .payouts import validate_rewards

STATUSES = ("draft", "active", "paused", "archived")
PERIODS = ("day", "week", "month", "lifetime", "rolling")
_TIMEZONES = None


def _timezones() -> set[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = available_timezones() | {"UTC"}
    return _TIMEZONES


def data_fields() -> set[str]:
    """Fields some event type declares: a condition on anything else is a typo. (Any type's,
    not only the listened types': the document can say so, and preview shows the rest.)"""
    return set(data_field_names())


class PeriodLimitSchema(Strict):
    class Meta(Strict.Meta):
        json_schema = {  # what _check says, for the document
            "allOf": [
                {"anyOf": [{"required": ["count"]}, {"required": ["points"]}]},
                {
                    "anyOf": [
                        {"properties": {"period": {"const": "rolling"}}, "required": ["days"]},
                        {
                            "properties": {
                                "period": {"not": {"const": "rolling"}},
                                "days": {"not": {}},
                            }
                        },
                    ]
                },
            ]
        }

    period = fields.String(required=True, validate=validate.OneOf(PERIODS))
    days = WholeNumber(validate=validate.Range(1, MAX_ROLLING_DAYS))
    count = WholeNumber(validate=validate.Range(1, 1_000_000))
    points = WholeNumber(validate=validate.Range(1, 100_000_000))

    @validates_schema
    def _check(self, data, **kwargs):
        if data.get("count") is None and data.get("points") is None:
            raise ValidationError("give count, points or both", "count")
        if data["period"] == "rolling" and not data.get("days"):
            raise ValidationError("a rolling period needs days", "days")
        if data["period"] != "rolling" and "days" in data:
            raise ValidationError("days applies to rolling periods only", "days")


class LimitsSchema(Strict):
    per_member = fields.List(
        fields.Nested(PeriodLimitSchema), validate=validate.Length(max=10), load_default=list
    )
    once_per = fields.String(
        allow_none=True,
        validate=validate.Regexp(rf"^(object|{data_field_pattern()})$"),
        metadata={"description": "'object' (the event's object: review, URL) or a data.<field>"},
    )

    cooldown_seconds = WholeNumber(validate=validate.Range(1, 366 * 86400), allow_none=True)


class ScaleSchema(Strict):
    """Evidence level -> factor on the points; a level not listed uses the nearest below."""

    claimed = fields.Float(validate=validate.Range(0, 100))
    tracked = fields.Float(validate=validate.Range(0, 100))
    verified = fields.Float(validate=validate.Range(0, 100))
    confirmed = fields.Float(validate=validate.Range(0, 100))


class EvidenceSchema(Strict):
    min = fields.String(validate=validate.OneOf(EVIDENCE_LEVELS), load_default="claimed")
    scale = fields.Nested(
        ScaleSchema,
        allow_none=True,
        metadata={
            "description": 'e.g. {"claimed": 0.1, "verified": 1}: 2 points of 20 for a claimed '
            "share, 20 for a verified one"
        },
    )


class ScheduleSchema(Strict):
    starts_at = fields.AwareDateTime(allow_none=True)
    ends_at = fields.AwareDateTime(allow_none=True)
    timezone = fields.String(load_default="UTC", validate=validate.OneOf(sorted(_timezones())))


class BudgetSchema(Strict):
    points = WholeNumber(validate=validate.Range(1, 2_000_000_000), allow_none=True)
    count = WholeNumber(validate=validate.Range(1, 2_000_000_000), allow_none=True)


class HoldSchema(Strict):
    above_points = WholeNumber(validate=validate.Range(0, 100_000_000), allow_none=True)
    flagged_members = StrictBoolean(load_default=False)


class RuleSchema(Strict):
    """A rule as marketers write it."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    event_types = fields.List(
        fields.String(validate=validate.OneOf(known_types())),
        required=True,
        validate=validate.Length(1, 10),
    )
    conditions = condition(allow_none=True, load_default=None)
    rewards = fields.List(reward(), required=True, validate=validate.Length(1, 20))
    evidence = fields.Nested(EvidenceSchema, load_default=lambda: {"min": "claimed"})
    limits = fields.Nested(LimitsSchema, load_default=dict)
    budget = fields.Nested(BudgetSchema, load_default=dict)
    campaign_id = fields.String(allow_none=True, validate=validate.Length(1, 40))
    schedule = fields.Nested(ScheduleSchema, load_default=lambda: {"timezone": "UTC"})
    priority = WholeNumber(load_default=100, validate=validate.Range(-1_000_000, 1_000_000))
    exclusive = StrictBoolean(load_default=False)
    targeted = StrictBoolean(
        load_default=False,
        metadata={"description": "Aimed at a segment: pays only with 'targeted_rewards' consent"},
    )
    hold = fields.Nested(HoldSchema, load_default=dict)

    @validates_schema(skip_on_field_errors=False)
    def _check(self, data, **kwargs):
        """The JSON parts, by the registries; errors keyed by JSON pointer."""
        errors: dict[str, list[str]] = {}
        listened = payload_fields(data.get("event_types"))
        # The listened types' fields (each known type declares some); any type's when the
        # event types themselves are refused, so the other errors still name the parts.
        carried = set(listened) if listened else data_fields()
        if data.get("conditions") is not None:  # {} is not "no conditions": null is
            errors.update(
                conditions.validate(data["conditions"], "/conditions", known_types(), carried)
            )
            for pointer, messages in check_values(data["conditions"], listened).items():
                errors.setdefault(pointer, messages)  # one message a value is enough
        if isinstance(data.get("rewards"), list):
            errors.update(validate_rewards(data["rewards"], carried))
        once_per = (data.get("limits") or {}).get("once_per")
        if once_per not in (None, "object"):
            _validate_field(once_per, "/limits/once_per", carried, errors)
        if errors:
            raise ValidationError(errors)


class RuleUpdateSchema(RuleSchema):
    """A change: the whole new definition, and optionally a note for the version history."""

    note = fields.String(validate=validate.Length(max=200), load_default=None)


class RuleCreateSchema(RuleSchema):
    status = fields.String(load_default="draft", validate=validate.OneOf(("draft", "active")))


class RuleOutSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    version = WholeNumber(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    event_types = fields.List(fields.String(), required=True)
    conditions = fields.Dict(allow_none=True)
    rewards = fields.List(fields.Dict())
    evidence = fields.Dict()
    limits = fields.Dict()
    budget = fields.Dict()
    spent = fields.Dict()
    campaign_id = fields.String(allow_none=True)
    schedule = fields.Dict()
    priority = WholeNumber()
    exclusive = StrictBoolean()
    targeted = StrictBoolean()
    hold = fields.Dict()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    created_by = fields.String(allow_none=True)
    updated_by = fields.String(allow_none=True)


class RuleListQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.OneOf(STATUSES))
    event_type = fields.String(validate=validate.Length(1, 64))


class RuleListSchema(Schema):
    items = fields.List(fields.Nested(RuleOutSchema), required=True)


class StatusChangeSchema(Strict):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    note = fields.String(validate=validate.Length(max=200), load_default=None)


class RuleVersionSchema(Schema):
    version = WholeNumber(required=True)
    status = fields.String(required=True)
    change = fields.String(required=True)
    changed_by = fields.String(allow_none=True)
    changed_at = fields.AwareDateTime(required=True)
    snapshot = fields.Dict(required=True)


class RuleVersionListSchema(Schema):
    items = fields.List(fields.Nested(RuleVersionSchema), required=True)


class CampaignSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    budget_points = WholeNumber(validate=validate.Range(1, 2_000_000_000), allow_none=True)
    budget_count = WholeNumber(validate=validate.Range(1, 2_000_000_000), allow_none=True)


class CampaignOutSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    budget_points = WholeNumber(allow_none=True)
    budget_count = WholeNumber(allow_none=True)
    spent_points = WholeNumber()
    spent_count = WholeNumber()
    created_at = fields.AwareDateTime()


class CampaignListSchema(Schema):
    items = fields.List(fields.Nested(CampaignOutSchema), required=True)


# --- Preview -------------------------------------------------------------------------------


class SampleEventSchema(Strict):
    type = fields.String(required=True, validate=validate.OneOf(known_types()))
    data = fields.Dict(required=True)
    evidence = fields.String(validate=validate.OneOf(EVIDENCE_LEVELS), load_default="claimed")
    occurred_at = fields.AwareDateTime(load_default=None, allow_none=True)


class SavedPreviewSchema(Strict):
    member_id = fields.String(required=True, validate=validate.Length(1, 128))
    event = fields.Nested(SampleEventSchema, required=True)


class PreviewSchema(SavedPreviewSchema):
    rule = fields.Nested(RuleSchema, required=True, metadata={"description": "A draft rule"})


class PreviewResultSchema(Schema):
    result = fields.String(required=True)
    code = fields.String(required=True)
    reason = fields.String(required=True)
    points = WholeNumber(required=True)
    offers = fields.List(fields.String())
    steps = fields.List(fields.String())
    conditions = fields.Dict(allow_none=True, metadata={"description": "every clause's result"})
    frees_at = fields.AwareDateTime(allow_none=True)


# --- Explanations --------------------------------------------------------------------------


class ExplanationItemSchema(Schema):
    rule_id = fields.String(required=True)
    rule_name = fields.String(allow_none=True)
    rule_version = WholeNumber(allow_none=True)
    result = fields.String(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)
    points = WholeNumber()
    frees_at = fields.String(allow_none=True)


class ExplanationSchema(Schema):
    member_id = fields.String(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    status = fields.String(required=True)
    summary = fields.String(required=True)
    rules = fields.List(fields.Nested(ExplanationItemSchema), required=True)


class RuleExplanationQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    result = fields.String(validate=validate.OneOf(("paid", "held", "skipped", "duplicate")))
    limit = WholeNumber(load_default=50, validate=validate.Range(1, 500))


class RuleExplanationSchema(Schema):
    event_id = fields.String(required=True)
    member_id = fields.String(required=True)
    occurred_at = fields.AwareDateTime()
    result = fields.String(required=True)
    code = fields.String(required=True)
    reason = fields.String(required=True)
    points = WholeNumber()
    failure = fields.Dict(allow_none=True)
    frees_at = fields.String(allow_none=True)


class RuleExplanationListSchema(Schema):
    items = fields.List(fields.Nested(RuleExplanationSchema), required=True)


# --- Backtests -----------------------------------------------------------------------------


class BacktestRequestSchema(Strict):
    since = fields.AwareDateTime(required=True)
    until = fields.AwareDateTime(load_default=None, allow_none=True)
    rule = fields.Nested(
        RuleSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "A changed definition to try instead of the saved one"},
    )


class BacktestSchema(Schema):
    id = fields.String(required=True)
    rule_id = fields.String(allow_none=True)
    status = fields.String(required=True)
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    scanned = WholeNumber()
    total = WholeNumber(allow_none=True, metadata={"description": "events to scan (progress)"})
    report = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)
