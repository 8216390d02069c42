"""Campaigns from the budgets page: a campaign is a budget shared by the rules that name it
(the rule form's "Campaign"), so a marketer creates one here rather than through the API."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from ..rules import budget_alerts
from ..rules import service as rules
from .blueprint import console, role_required

FIELDS = ("name", "budget_points", "budget_count")


def budgets_page(form: dict | None = None, errors: dict | None = None, status: int = 200):
    """The budgets page: usage bars, the campaigns, and the form for a new one."""
    return render_template(
        "console/budgets.html",
        usage=budget_alerts.usage(),
        campaigns=rules.list_campaigns(),
        form=form or {},
        errors=errors or {},
    ), status


@console.post("/campaigns")
@role_required("editor")
def campaign_create():
    form = {name: (request.form.get(name) or "").strip() for name in FIELDS}
    data: dict = {"name": form["name"]}
    errors: dict[str, list[str]] = {}
    for name in ("budget_points", "budget_count"):
        if form[name]:
            try:
                data[name] = int(form[name])
            except ValueError:
                errors[name] = ["Enter a whole number."]
    if not errors:
        try:
            rules.create_campaign(data, actor=g.console_user.actor)
        except ValidationError as error:
            errors = {
                name: messages if isinstance(messages, list) else [str(messages)]
                for name, messages in error.messages.items()
            }
    if errors:
        return budgets_page(form, {k if k in FIELDS else "": v for k, v in errors.items()}, 422)
    return redirect(url_for("console.budgets"), 303)
