"""Rule pages: the list, the form (new, edit), a rule's page with its review, preview and
version history. Each view parses the form, calls one rules service function, renders."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from flask import abort, current_app, g, redirect, render_template, request, url_for

from ..access import users
from ..intake.catalogue import EVIDENCE_LEVELS, known_types
from ..intake.service import list_events
from ..rewards import offers
from ..rewards.reports import points_by_rule
from ..rules import reviews
from ..rules import service as rules
from ..rules.documents import NotFound, RuleError, document, json_safe
from ..rules.field_types import payload_fields
from ..rules.vocabulary import EVENT_FIELDS, MEMBER_FIELDS, PERIODS
from ..timeutil import utcnow
from . import rule_form, rule_values
from .blueprint import console, nav_item, role_required

nav_item("Rules", "console.rule_list", "viewer", order=10)
STATUS_CHANGES = {"paused": "Pause", "active": "Resume", "archived": "Archive"}


def week_start() -> datetime:
    """Monday 00:00 in the program's time zone, as UTC."""
    zone = ZoneInfo(current_app.config["PROGRAM_TIMEZONE"])
    local = utcnow().astimezone(zone)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return monday.astimezone(ZoneInfo("UTC"))


def people() -> dict[str, str]:
    """Actor strings -> the person's email, for "who" columns."""
    return {f"console:{u.id}": u.email for u in users.list_users()}


def _rule(rule_id: str):
    try:
        return rules.get_rule(rule_id)
    except NotFound:
        abort(404, "No such rule.")


@console.get("/rules")
def rule_list():
    return render_template(
        "console/rules/list.html",
        rules=rules.list_rules(),
        paid=points_by_rule(week_start()),
        reviews=reviews.reviews_by_rule(),
        people=people(),
    )


def _form_page(doc_values: dict, rule=None, errors=None, status: int = 200):
    return render_template(
        "console/rules/form.html",
        form=doc_values,
        rule=rule,
        errors=errors or {},
        event_types=known_types(),
        fields=_field_choices(doc_values.get("event_types")),
        comparisons=rule_form.COMPARISONS,
        periods=PERIODS,
        evidence_levels=EVIDENCE_LEVELS,
        campaigns=rules.list_campaigns(),
        offers=offers.list_offers(),
        zones=_zones(),
    ), status


def _field_choices(event_types) -> list[tuple[str, str]]:
    """The fields a clause may name, for the form's suggestions (payload fields of the
    listened types first)."""
    listened = payload_fields(event_types or known_types())
    found = [(f"data.{name}", ", ".join(sorted(kinds))) for name, kinds in sorted(listened.items())]
    found += [(f"member.{name}", label) for name, label in MEMBER_FIELDS.items()]
    found += [(f"event.{name}", label) for name, label in EVENT_FIELDS.items()]
    return found


def _zones() -> list[str]:
    return sorted(available_timezones() | {"UTC"})


@console.get("/rules/new")
@role_required("editor")
def rule_new():
    return _form_page(rule_values.values({"event_types": [], "priority": 100}))


@console.post("/rules")
@role_required("editor")
def rule_create():
    parsed = rule_form.parse(request.form)
    if parsed.errors:
        return _form_page(_resubmitted(parsed), errors=parsed.errors, status=422)
    try:
        rule = reviews.create_draft(parsed.doc, g.console_user.actor)
    except RuleError as error:
        return _refused(parsed, error)
    return redirect(url_for("console.rule_show", rule_id=rule.id), 303)


def _resubmitted(parsed: rule_form.Parsed) -> dict:
    """What was typed, shown again (a document made of it, then the raw advanced texts)."""
    shown = rule_values.values(json_safe(parsed.doc))
    for name in ("conditions_json", "rewards_json"):
        if request.form.get(name):
            shown[name] = request.form[name]
    for name in ("conditions_mode", "rewards_mode"):
        shown[name] = request.form.get(name) or shown[name]
    return shown


def _refused(parsed: rule_form.Parsed, error: RuleError, rule=None):
    placed = rule_form.field_errors(error.errors or {"": [str(error)]}, parsed.origin)
    return _form_page(_resubmitted(parsed), rule=rule, errors=placed, status=error.status)


@console.get("/rules/<rule_id>")
def rule_show(rule_id):
    rule = _rule(rule_id)
    review = reviews.review_of(rule.id)
    proposal = reviews.proposal(rule) if review is not None or rule.status == "draft" else None
    live = reviews.live(rule)
    return render_template(
        "console/rules/show.html",
        rule=rule,
        doc=json_safe(document(rule)),
        review=review,
        proposal=proposal,
        changes=reviews.diff(live or {}, proposal) if proposal is not None else [],
        people=people(),
        status_changes={
            s: label for s, label in STATUS_CHANGES.items() if s in rules.TRANSITIONS[rule.status]
        },
        samples=_samples(rule),
    )


def _samples(rule) -> list:
    found = []
    for event_type in rule.event_types or [rule.event_type]:
        found += list_events(type=event_type, limit=10)[0]
    return sorted(found, key=lambda e: e.id, reverse=True)[:20]


@console.get("/rules/<rule_id>/edit")
@role_required("editor")
def rule_edit(rule_id):
    rule = _rule(rule_id)
    if rule.status == "archived":
        abort(409, "An archived rule cannot change.")
    return _form_page(rule_values.values(reviews.proposal(rule) or document(rule)), rule=rule)


@console.post("/rules/<rule_id>")
@role_required("editor")
def rule_save(rule_id):
    rule = _rule(rule_id)
    parsed = rule_form.parse(request.form)
    if parsed.errors:
        return _form_page(_resubmitted(parsed), rule=rule, errors=parsed.errors, status=422)
    try:
        reviews.save_draft(rule.id, parsed.doc, g.console_user.actor)
    except RuleError as error:
        return _refused(parsed, error, rule)
    return redirect(url_for("console.rule_show", rule_id=rule.id), 303)


def _step(rule_id: str, action):
    _rule(rule_id)
    try:
        action()
    except RuleError as error:
        abort(error.status if error.status in (403, 409) else 422, str(error))
    return redirect(url_for("console.rule_show", rule_id=rule_id), 303)


@console.post("/rules/<rule_id>/request")
@role_required("editor")
def rule_request(rule_id):
    note = request.form.get("note", "")
    return _step(rule_id, lambda: reviews.request_activation(rule_id, g.console_user.actor, note))


@console.post("/rules/<rule_id>/approve")
@role_required("approver")
def rule_approve(rule_id):
    return _step(rule_id, lambda: reviews.approve(rule_id, g.console_user.actor))


@console.post("/rules/<rule_id>/send-back")
@role_required("approver")
def rule_send_back(rule_id):
    comment = request.form.get("comment", "")
    return _step(rule_id, lambda: reviews.send_back(rule_id, g.console_user.actor, comment))


@console.post("/rules/<rule_id>/status")
@role_required("approver")
def rule_status(rule_id):
    status = request.form.get("status", "")
    if status not in STATUS_CHANGES:
        abort(422, "Choose pause, resume or archive.")
    return _step(rule_id, lambda: rules.set_status(rule_id, status, actor=g.console_user.actor))


@console.get("/rules/<rule_id>/versions")
def rule_versions(rule_id):
    rule = _rule(rule_id)
    history = rules.versions(rule.id)
    rows = []
    for index, version in enumerate(history):
        older = history[index + 1].snapshot if index + 1 < len(history) else {}
        rows.append((version, reviews.diff(older, version.snapshot)))
    return render_template("console/rules/versions.html", rule=rule, rows=rows, people=people())
