"""A cohort's blocks as CSV, JSON and printable cards."""

from __future__ import annotations

from typing import Any, Dict, List

from sanic import Blueprint, response
from sanic.request import Request

from bot.review import exports, queries
from bot.review.auth import Account
from bot.review.queries import Filters
from bot.web.review.site import Site, blocking, file_part


def add_routes(bp: Blueprint, site: Site) -> None:
    dash = site.dash
    render = site.render
    signed_in = site.signed_in

    async def export_rows(account: Account, filters: Filters) -> List[Dict[str, Any]]:
        await blocking(dash.read_model.update_if_due)
        rows = await blocking(queries.all_conversations, dash.db, account, filters)
        blocks = await blocking(dash.canvas.latest_blocks, [r["sender_id"] for r in rows])
        return exports.export_rows(rows, blocks)

    async def send_export(request: Request, account: Account, kind: str):
        filters = Filters.from_args(request.args)
        rows = await export_rows(account, filters)
        body, content_type = (
            (exports.to_csv(rows), "text/csv") if kind == "csv" else (exports.to_json(rows), "application/json")
        )
        name = f"blocks-{file_part(filters.get('cohort') or 'all')}.{kind}"
        return response.text(
            body,
            content_type=f"{content_type}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @bp.get("/export.csv")
    @signed_in()
    async def export_csv(request: Request, account: Account):
        return await send_export(request, account, "csv")

    @bp.get("/export.json")
    @signed_in()
    async def export_json(request: Request, account: Account):
        return await send_export(request, account, "json")

    @bp.get("/cards")
    @signed_in()
    async def cards(request: Request, account: Account):
        filters = Filters.from_args(request.args)
        rows = [r for r in await export_rows(account, filters) if r["block"]]
        return render(request, "cards.html", rows=rows, filters=filters)
