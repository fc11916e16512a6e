"""One conversation: its transcript, its Markdown, and the review actions on its page (reviewed, tags, notes,
flags, and an admin's cohort move)."""

from __future__ import annotations

import inspect
import logging
from typing import Any, Callable
from urllib.parse import urlencode

from sanic import Blueprint, response
from sanic.request import Request

from bot.coach.export import to_markdown as block_markdown
from bot.coach.store import founder_channel
from bot.review import queries, transcript
from bot.review.auth import Account
from bot.web.review.site import Site, blocking, file_part

log = logging.getLogger(__name__)


def add_routes(bp: Blueprint, site: Site) -> None:
    dash = site.dash
    render = site.render
    problem = site.problem
    signed_in = site.signed_in

    @bp.get("/conversation")
    @signed_in()
    async def conversation(request: Request, account: Account):
        await blocking(dash.read_model.update_if_due)
        sender = request.args.get("sender") or ""
        summary = await blocking(queries.conversation, dash.db, account, sender)
        before = request.args.get("before")
        page = await blocking(
            transcript.page,
            dash.tracker,
            sender,
            summary["first_event_id"],
            int(before) if before and before.isdigit() else None,
        )
        versions = await blocking(dash.canvas.block_versions, summary["channel"] or "rest", sender)
        return render(
            request, "transcript.html", c=summary, page=page, versions=versions, block_markdown=block_markdown
        )

    @bp.get("/conversation.md")
    @signed_in()
    async def conversation_markdown(request: Request, account: Account):
        sender = request.args.get("sender") or ""
        summary = await blocking(queries.conversation, dash.db, account, sender)
        events = await blocking(dash.tracker.events_of, sender)
        text = transcript.to_markdown(summary, events)
        return response.text(
            text,
            content_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="conversation-{file_part(sender)}.md"'},
        )

    # --- review actions -----------------------------------------------------------------

    async def after_action(request: Request, sender: str, fragment: Callable[[], Any]):
        """htmx gets the changed part of the page; a plain form post goes back to the transcript."""
        if request.headers.get("hx-request"):
            result = fragment()
            return await result if inspect.isawaitable(result) else result
        return response.redirect("/review/conversation?" + urlencode({"sender": sender}), status=303)

    async def panel(request: Request, account: Account, sender: str):
        summary = await blocking(queries.conversation, dash.db, account, sender)
        return render(request, "_panel.html", c=summary)

    @bp.post("/conversation/reviewed")
    @signed_in()
    async def mark_reviewed(request: Request, account: Account):
        sender = request.form.get("sender") or ""
        await blocking(queries.set_reviewed, dash.db, account, sender, request.form.get("reviewed") == "yes")
        return await after_action(request, sender, lambda: panel(request, account, sender))

    @bp.post("/conversation/tags")
    @signed_in()
    async def add_tag(request: Request, account: Account):
        sender = request.form.get("sender") or ""
        if request.form.get("remove"):
            await blocking(queries.remove_tag, dash.db, account, sender, request.form.get("remove"))
        else:
            await blocking(queries.add_tag, dash.db, account, sender, request.form.get("tag") or "")
        return await after_action(request, sender, lambda: panel(request, account, sender))

    @bp.post("/conversation/notes")
    @signed_in()
    async def add_note(request: Request, account: Account):
        sender = request.form.get("sender") or ""
        await blocking(queries.add_note, dash.db, account, sender, request.form.get("text") or "")
        return await after_action(request, sender, lambda: panel(request, account, sender))

    @bp.post("/conversation/flag")
    @signed_in()
    async def flag(request: Request, account: Account):
        sender = request.form.get("sender") or ""
        event_id = request.form.get("event_id") or ""
        if not event_id.isdigit():
            return problem(request, 400, "event_id must be a number")
        flagged = request.form.get("flagged") == "yes"
        await blocking(queries.set_flag, dash.db, account, sender, int(event_id), flagged)
        return await after_action(
            request,
            sender,
            lambda: render(request, "_flag.html", sender=sender, event_id=int(event_id), flagged=flagged),
        )

    @bp.post("/conversation/cohort")
    @signed_in(admin=True)
    async def move_cohort(request: Request, account: Account):
        """An admin moves a conversation to another cohort (recorded); the coach's own
        record follows, so the founder's next messages and saves keep it."""
        sender = request.form.get("sender") or ""
        before = await blocking(queries.move_cohort, dash.db, account, sender, request.form.get("cohort") or "")
        moved_to = (await blocking(queries.conversation, dash.db, account, sender))["cohort"]
        await blocking(dash.canvas.set_cohort, founder_channel(before["channel"] or None), sender, moved_to)
        log.info("review dashboard: %s moved a conversation to another cohort", account.username)
        return response.redirect("/review/conversation?" + urlencode({"sender": sender}), status=303)
