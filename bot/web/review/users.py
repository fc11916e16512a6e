"""The users page (admins): adding users, their cohorts, removing them."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request

from bot.review.auth import Account, AuthError
from bot.review.models import ROLES
from bot.web.review.site import Site, blocking


def add_routes(bp: Blueprint, site: Site) -> None:
    dash = site.dash
    render = site.render
    signed_in = site.signed_in

    @bp.get("/users")
    @signed_in(admin=True)
    async def users(request: Request, account: Account):
        return render(request, "users.html", users=await blocking(dash.users.list), roles=ROLES)

    @bp.post("/users")
    @signed_in(admin=True)
    async def add_user(request: Request, account: Account):
        form = request.form
        action = form.get("action") or "add"
        name = form.get("username") or ""
        cohorts = (form.get("cohorts") or "").split(",")
        try:
            if action == "add":
                await blocking(
                    dash.users.add,
                    name,
                    form.get("password") or "",
                    form.get("role") or "",
                    cohorts,
                    form.get("slack_user") or None,
                )
            elif action == "cohorts":
                await blocking(dash.users.set_cohorts, name, cohorts)
                if form.get("mentor_row"):  # a mentor's row also carries their Slack user id (blank clears it:
                    # Sanic drops blank fields, so the row says it is a mentor's)
                    await blocking(dash.users.set_slack_user, name, form.get("slack_user") or "")
            elif action == "remove" and name != account.username:
                await blocking(dash.users.remove, name)
            else:
                raise AuthError("unknown action (an admin cannot remove themselves)")
        except AuthError as exc:
            return render(
                request, "users.html", status=400, users=await blocking(dash.users.list), roles=ROLES, error=str(exc)
            )
        return response.redirect("/review/users", status=303)
