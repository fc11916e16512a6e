"""One conversation: its transcript, its Markdown, and the review actions on its page (reviewed, tags, notes,
flags, and an admin's cohort move)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from sanic import Blueprint, response
from sanic.request import Request

from bot.coach.export import to_markdown as block_markdown
from bot.coach.store import founder_channel
from bot.review import queries, saved_tests, transcript
from bot.review.auth import Account
from bot.web.review.site import Site, blocking, file_part

ROOT = Path(__file__).resolve().parents[3]
NOTHING_TO_SAVE = 3  # bot.plugins.test_stories's exit status when there is no story yet (the web app loads no Rasa)
SAVE_TEST_TIMEOUT_S = 300  # loading Rasa's story writer takes a while on a busy machine


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
            request,
            "transcript.html",
            c=summary,
            page=page,
            versions=versions,
            block_markdown=block_markdown,
            saved_test=request.args.get("saved_test") or "",
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

    @bp.post("/conversation/test-story")
    @signed_in()
    async def save_as_test(request: Request, account: Account):
        """The conversation, with the corrected intents, as a Rasa test story (bot/plugins/test_stories.py,
        in a process of its own so the web app never loads Rasa)."""
        sender = request.form.get("sender") or ""
        await blocking(queries.conversation, dash.db, account, sender)  # 404 for another cohort's
        if not account.may_correct:
            return problem(request, 403, "mentors read conversations; admins and coordinators save tests")
        out = saved_tests.story_path(sender)  # removed again with the founder's data
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.plugins.test_stories",
            "--name",
            f"reviewed: {sender}",
            "--",  # a sender id that starts with "-" is not an option
            sender,
            str(out),
            cwd=str(ROOT),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(process.communicate(), SAVE_TEST_TIMEOUT_S)
        except asyncio.TimeoutError:
            process.kill()
            return problem(request, 503, "saving the test took too long: try again")
        if process.returncode == NOTHING_TO_SAVE:
            return problem(request, 400, output.decode(errors="replace").strip()[:500])
        if process.returncode != 0:
            log.error(
                "review dashboard: saving %s as a test failed: %s", sender, output.decode(errors="replace")[-2000:]
            )
            return problem(request, 500, "the conversation could not be saved as a test (see the web app's log)")
        if "application/json" in (request.headers.get("accept") or ""):
            return response.json({"file": str(out)})
        return response.redirect(
            "/review/conversation?" + urlencode({"sender": sender, "saved_test": out.name}), status=303
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
