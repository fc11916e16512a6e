"""The list of conversations, filtered and paged (also as JSON)."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request

from bot.review import queries
from bot.review.auth import Account
from bot.review.queries import Filters
from bot.web.review.site import Site, blocking, public_row


def add_routes(bp: Blueprint, site: Site) -> None:
    dash = site.dash
    render = site.render
    signed_in = site.signed_in

    @bp.get("/")
    @signed_in()
    async def home(request: Request, account: Account):
        return response.redirect("/review/conversations", status=303)

    @bp.get("/conversations")
    @signed_in()
    async def conversation_list(request: Request, account: Account):
        await blocking(dash.read_model.update_if_due)
        filters = Filters.from_args(request.args)
        rows, cursor = await blocking(queries.conversation_page, dash.db, account, filters, request.args.get("after"))
        cohorts, channels = await blocking(queries.cohorts_and_channels, dash.db, account)
        tags = await blocking(queries.tag_names, dash.db, account)
        if "application/json" in (request.headers.get("accept") or ""):
            return response.json({"conversations": [public_row(r) for r in rows], "next": cursor})
        return render(
            request,
            "list.html",
            rows=rows,
            cursor=cursor,
            filters=filters,
            cohorts=cohorts,
            channels=channels,
            tags=tags,
            stages=queries.waiting_places(),
            first_page=not request.args.get("after"),
        )
