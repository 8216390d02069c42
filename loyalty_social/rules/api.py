"""The marketer API: rules, campaigns, previews, backtests, approvals, explanations per rule.

Views parse, call one service function, serialise; errors are problems (RFC 9457).
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ..access.auth import SECURITY, require_scope
from ..errors import Problem
from ..queue import enqueue
from . import backtest, documents, examples, explanations, preview, service
from .schemas import (
    BacktestRequestSchema,
    BacktestSchema,
    CampaignListSchema,
    CampaignOutSchema,
    CampaignSchema,
    PreviewResultSchema,
    PreviewSchema,
    RuleCreateSchema,
    RuleExplanationListSchema,
    RuleExplanationQuerySchema,
    RuleListQuerySchema,
    RuleListSchema,
    RuleOutSchema,
    RuleUpdateSchema,
    RuleVersionListSchema,
    SavedPreviewSchema,
    StatusChangeSchema,
)

rules_api = Blueprint(
    "rules", __name__, url_prefix="/api/v1/rules", description="Reward rules (marketers)"
)
campaigns_api = Blueprint(
    "campaigns", __name__, url_prefix="/api/v1/campaigns", description="Campaign budgets"
)
previews_api = Blueprint(
    "previews", __name__, url_prefix="/api/v1/previews", description="Draft rule previews"
)
backtests_api = Blueprint(
    "backtests", __name__, url_prefix="/api/v1/backtests", description="Rule backtests"
)


def actor() -> str | None:
    principal = getattr(g, "principal", None)
    return principal.name if principal else None


def _call(func, *args, **kwargs):
    """Service errors as problems: invalid definitions point at the offending clause."""
    try:
        return func(*args, **kwargs)
    except service.NotFound as error:
        raise Problem("not-found", str(error)) from None
    except service.RuleError as error:
        if error.status == 409:
            raise Problem(error.slug, str(error), errors=error.errors) from None
        raise Problem(error.slug, str(error), errors=error.errors) from None


@rules_api.route("")
class Rules(MethodView):
    @require_scope("marketer")
    @rules_api.doc(security=SECURITY)
    @rules_api.arguments(RuleListQuerySchema, location="query")
    @rules_api.response(200, RuleListSchema)
    def get(self, query):
        """Every rule (filter by status or event type)."""
        return {"items": [documents.view(r) for r in service.list_rules(**query)]}

    @require_scope("marketer")
    @rules_api.doc(security=SECURITY)
    @rules_api.arguments(RuleCreateSchema, example=examples.RULE_CREATE)
    @rules_api.response(201, RuleOutSchema)
    def post(self, body):
        """Create a rule (a draft unless status "active"); errors point at the clause."""
        status = body.pop("status", "draft")
        return documents.view(_call(service.create_rule, body, actor(), status, loaded=True))


@rules_api.route("/<rule_id>")
class RuleItem(MethodView):
    @require_scope("marketer")
    @rules_api.doc(security=SECURITY)
    @rules_api.response(200, RuleOutSchema)
    def get(self, rule_id):
        return documents.view(_call(service.get_rule, rule_id))

    @require_scope("marketer")
    @rules_api.doc(security=SECURITY)
    @rules_api.arguments(RuleUpdateSchema, example=examples.RULE_UPDATE)
    @rules_api.response(200, RuleOutSchema)
    def put(self, body, rule_id):
        """Replace the definition: a new version; awards keep the version that paid them."""
        note = body.pop("note", None)
        return documents.view(_call(service.update_rule, rule_id, body, actor(), note, loaded=True))


@rules_api.route("/<rule_id>/status")
class RuleStatus(MethodView):
    @require_scope("marketer")
    @rules_api.doc(security=SECURITY)
    @rules_api.arguments(StatusChangeSchema, example=examples.STATUS_CHANGE)
    @rules_api.response(200, RuleOutSchema)
    def post(self, body, rule_id):
        """draft -> active -> paused <-> active -> archived."""
        return documents.view(
            _call(service.set_status, rule_id, body["status"], actor(), body.get("note"))
        )


@rules_api.route("/<rule_id>/versions")
class RuleVersions(MethodView):
    @require_scope("marketer")
    @rules_api.doc(security=SECURITY)
    @rules_api.response(200, RuleVersionListSchema)
    def get(self, rule_id):
        """Every change, newest first: the full definition, who and when."""
        return {"items": _call(service.versions, rule_id)}


@rules_api.route("/<rule_id>/explanations")
class RuleExplanations(MethodView):
    @require_scope("marketer")
    @rules_api.doc(security=SECURITY)
    @rules_api.arguments(RuleExplanationQuerySchema, location="query")
    @rules_api.response(200, RuleExplanationListSchema)
    def get(self, query, rule_id):
        """Why this rule paid or did not, per event, newest first."""
        return {"items": _call(explanations.rule_explanations, rule_id, **query)}


@previews_api.route("")
class RulePreview(MethodView):
    @require_scope("marketer")
    @previews_api.doc(security=SECURITY)
    @previews_api.arguments(PreviewSchema, example=examples.PREVIEW)
    @previews_api.response(200, PreviewResultSchema)
    def post(self, body):
        """Evaluate a draft rule against a sample event and member; every clause's result.
        Nothing is paid or counted."""
        return _call(preview.preview, body)


@rules_api.route("/<rule_id>/preview")
class SavedRulePreview(MethodView):
    @require_scope("marketer")
    @rules_api.doc(security=SECURITY)
    @rules_api.arguments(SavedPreviewSchema, example=examples.SAMPLE)
    @rules_api.response(200, PreviewResultSchema)
    def post(self, body, rule_id):
        """Evaluate a saved rule against a sample event and member, as preview does."""
        return _call(preview.preview, {**body, "rule_id": rule_id})


@rules_api.route("/<rule_id>/backtests")
class RuleBacktests(MethodView):
    @require_scope("marketer")
    @rules_api.doc(security=SECURITY)
    @rules_api.arguments(BacktestRequestSchema, example=examples.BACKTEST)
    @rules_api.response(202, BacktestSchema)
    def post(self, body, rule_id):
        """Run the rule (or a changed definition) over past events as a job; poll the result."""
        backtest_id = _call(
            backtest.start,
            rule_id,
            body["since"],
            body.get("until"),
            body.get("rule"),
            actor(),
            loaded=True,
        )
        enqueue("rules.run_backtest", backtest_id)
        return backtest.get(backtest_id)


@backtests_api.route("/<backtest_id>")
class BacktestItem(MethodView):
    @require_scope("marketer")
    @backtests_api.doc(security=SECURITY)
    @backtests_api.response(200, BacktestSchema)
    def get(self, backtest_id):
        """A backtest's status and, when done, its report per day."""
        return _call(backtest.get, backtest_id)


@campaigns_api.route("")
class Campaigns(MethodView):
    @require_scope("marketer")
    @campaigns_api.doc(security=SECURITY)
    @campaigns_api.response(200, CampaignListSchema)
    def get(self):
        return {"items": service.list_campaigns()}

    @require_scope("marketer")
    @campaigns_api.doc(security=SECURITY)
    @campaigns_api.arguments(CampaignSchema, example=examples.CAMPAIGN)
    @campaigns_api.response(201, CampaignOutSchema)
    def post(self, body):
        """A budget shared by the rules that name it."""
        return service.create_campaign(body, actor())


@campaigns_api.route("/<campaign_id>")
class CampaignItem(MethodView):
    @require_scope("marketer")
    @campaigns_api.doc(security=SECURITY)
    @campaigns_api.response(200, CampaignOutSchema)
    def get(self, campaign_id):
        return _call(service.get_campaign, campaign_id)
