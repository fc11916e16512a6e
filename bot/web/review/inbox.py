"""The inbox (/review/inbox): what the coach misread, grouped, and the reviewers'
corrections (bot/review/inbox.py). Every action takes a group's key; another
cohort's group is a 404, and a mentor's correction a 403 (they read the inbox).
A script (Accept: application/json) gets JSON, as the bench's loop uses it."""

from __future__ import annotations

from typing import Any, Dict, List

from sanic import Blueprint, response
from sanic.request import Request

from bot.review import inbox
from bot.review.auth import Account
from bot.review.inbox import Forbidden
from bot.review.nlu_data import NLU_DIR, load_domain, load_examples, training_files
from bot.web.review.site import Site, blocking

MAX_ENTITY_MARKS = 3


def group_json(group: inbox.Group) -> Dict[str, Any]:
    return dict(
        key=group.key,
        text=group.text,
        count=group.count,
        intent=group.intent,
        confidence=group.confidence,
        runner_ups=group.runner_ups,
        corrected_intent=group.corrected_intent,
        ignored=group.ignored,
        entities=group.entities,
        corrected_by=group.corrected_by or None,
        corrected_at=group.corrected_at or None,
        messages=[dict(sender_id=o.sender_id, event_id=o.event_id, cohort=o.cohort) for o in group.occurrences],
    )


def add_routes(bp: Blueprint, site: Site) -> None:
    dash = site.dash
    render = site.render
    problem = site.problem
    signed_in = site.signed_in
    domain = load_domain()
    # Which intents take entities (the answers): those whose training examples mark some.
    entities_of = {i: sorted(e) for i, e in load_examples(training_files(NLU_DIR)).entities_of.items()}

    def wants_json(request: Request) -> bool:
        return "application/json" in (request.headers.get("accept") or "")

    @bp.get("/inbox")
    @signed_in()
    async def inbox_page(request: Request, account: Account):
        await blocking(dash.read_model.update_if_due)
        done = request.args.get("view") == "done"
        groups = await blocking(inbox.groups, dash.db, account, done)
        if wants_json(request):
            return response.json({"groups": [group_json(g) for g in groups]})
        return render(
            request,
            "inbox.html",
            groups=groups,
            done=done,
            intents=domain.intents,
            entities=domain.entities,
            entities_of=entities_of,
            marks=range(1, MAX_ENTITY_MARKS + 1),
            message=request.args.get("message") or "",
        )

    async def act(request: Request, fn, *args: Any, message: str):
        try:
            count = await blocking(fn, *args)
        except Forbidden:
            return problem(request, 403, "mentors read the inbox; admins and coordinators correct it")
        if wants_json(request):
            return response.json({"ok": True, "messages": count})
        view = "&view=done" if request.form.get("view") == "done" else ""
        return response.redirect(f"/review/inbox?message={message}{view}", status=303)

    def key_of(request: Request) -> str:
        return (request.form.get("key") or "").strip()

    def marks_of(request: Request) -> List[Dict[str, str]]:
        return [
            dict(entity=request.form.get(f"entity_{i}") or "", value=request.form.get(f"value_{i}") or "")
            for i in range(1, MAX_ENTITY_MARKS + 1)
        ]

    @bp.post("/inbox/correct")
    @signed_in()
    async def correct(request: Request, account: Account):
        intent = (request.form.get("intent") or "").strip()
        marks = [m for m in marks_of(request) if m["entity"] or m["value"]]
        if marks and intent not in entities_of:
            return problem(request, 400, f"{intent or 'this intent'} takes no entities (only answers do)")
        return await act(
            request, inbox.correct, dash.db, account, key_of(request), intent, domain, marks, message="labelled"
        )

    @bp.post("/inbox/ignore")
    @signed_in()
    async def ignore(request: Request, account: Account):
        return await act(request, inbox.correct, dash.db, account, key_of(request), None, domain, message="ignored")

    @bp.post("/inbox/undo")
    @signed_in()
    async def undo(request: Request, account: Account):
        return await act(request, inbox.undo, dash.db, account, key_of(request), message="undone")

    @bp.post("/inbox/text")
    @signed_in()
    async def edit_text(request: Request, account: Account):
        text = request.form.get("text") or ""
        return await act(request, inbox.edit_text, dash.db, account, key_of(request), text, domain, message="edited")
