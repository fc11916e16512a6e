"""The full-text search over what founders and the coach said."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request

from bot.review import queries
from bot.review.auth import Account
from bot.web.review.site import Site, blocking


def add_routes(bp: Blueprint, site: Site) -> None:
    dash = site.dash
    render = site.render
    signed_in = site.signed_in

    @bp.get("/search")
    @signed_in()
    async def search(request: Request, account: Account):
        await blocking(dash.read_model.update_if_due)
        text = (request.args.get("q") or "").strip()[:200]
        cohort = request.args.get("cohort") or None
        hits = await blocking(queries.search, dash.db, account, text, cohort) if text else []
        if "application/json" in (request.headers.get("accept") or ""):
            return response.json({"hits": [dict(h, snippet=str(h["snippet"])) for h in hits]})
        cohorts, _ = await blocking(queries.cohorts_and_channels, dash.db, account)
        return render(request, "search.html", q=text, cohort=cohort or "", cohorts=cohorts, hits=hits)
