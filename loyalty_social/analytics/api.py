"""Analytics figures for reporting tools: the same rollups the console charts (read scope)."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access.auth import SECURITY, require_scope
from ..consent.service import consenting
from . import report
from .schemas import (
    AdvocatesQuerySchema,
    AdvocatesSchema,
    ConsentRatesSchema,
    FunnelSchema,
    SeriesQuerySchema,
    SeriesSchema,
    WindowSchema,
)

analytics_api = Blueprint(
    "analytics",
    __name__,
    url_prefix="/api/v1/analytics",
    description="Daily figures from the rollups: points, events, offers, consent, funnel",
)


@analytics_api.route("/series")
class Series(MethodView):
    @require_scope("read")
    @analytics_api.doc(security=SECURITY)
    @analytics_api.arguments(SeriesQuerySchema, location="query")
    @analytics_api.response(200, SeriesSchema)
    def get(self, query):
        """One chart's figures per UTC day and key (rule, network, type, source, offer ...)."""
        return report.series(query["chart"], query.get("since"), query.get("until"))


@analytics_api.route("/funnel")
class Funnel(MethodView):
    @require_scope("read")
    @analytics_api.doc(security=SECURITY)
    @analytics_api.arguments(WindowSchema, location="query")
    @analytics_api.response(200, FunnelSchema)
    def get(self, query):
        """Share -> click -> sign-up counts over the window."""
        return report.funnel(query.get("since"), query.get("until"))


@analytics_api.route("/consent")
class ConsentRates(MethodView):
    @require_scope("read")
    @analytics_api.doc(security=SECURITY)
    @analytics_api.response(200, ConsentRatesSchema)
    def get(self):
        """Per purpose: members who decided, opted in now, and the opt-in rate."""
        return {"purposes": report.consent_rates()}


@analytics_api.route("/advocates")
class Advocates(MethodView):
    @require_scope("read")
    @analytics_api.doc(security=SECURITY)
    @analytics_api.arguments(AdvocatesQuerySchema, location="query")
    @analytics_api.response(200, AdvocatesSchema)
    def get(self, query):
        """Members with the most points, among those who consent to the use of their social
        activity (``social_activity_use``)."""
        return {"items": report.top_advocates(query["limit"], shown)}


def shown(member_ids: list[str]) -> set[str]:
    return consenting(member_ids, report.ADVOCATE_PURPOSE)
