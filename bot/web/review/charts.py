"""A cohort's charts: the funnel, where founders stopped, what was chosen."""

from __future__ import annotations

from typing import List

from sanic import Blueprint
from sanic.request import Request

from bot.review import queries
from bot.review.auth import Account
from bot.web.review.site import Site, blocking


def add_routes(bp: Blueprint, site: Site) -> None:
    dash = site.dash
    render = site.render
    signed_in = site.signed_in

    def chosen_cohort(request: Request, account: Account, cohorts: List[str]) -> str:
        cohort = request.args.get("cohort")
        return cohorts[0] if cohort is None else cohort

    @bp.get("/charts")
    @signed_in()
    async def charts(request: Request, account: Account):
        await blocking(dash.read_model.update_if_due)
        cohorts, _ = await blocking(queries.cohorts_and_channels, dash.db, account)
        if not cohorts and request.args.get("cohort") is None:
            return render(request, "charts.html", cohort=None, cohorts=[], data=None)
        cohort = chosen_cohort(request, account, cohorts)
        data = await blocking(queries.charts, dash.db, account, cohort)
        return render(request, "charts.html", cohort=cohort, cohorts=cohorts, data=data)
