"""The coordinators' review dashboard at /review: a Sanic blueprint over
bot.review (users and sessions, the read model, queries, exports).

Every route but the sign-in page needs a session: a browser is sent to sign in,
a script gets 401. Every POST needs the Origin header of this app and the
session's CSRF token (form field csrf_token or header X-CSRF-Token). Another
cohort's conversation, search, chart or export is a 404.

Settings: REVIEW_DB_URL, REVIEW_SECRET_KEY, REVIEW_ADMIN_USER and
REVIEW_ADMIN_PASSWORD (the first admin), REVIEW_SESSION_HOURS, REVIEW_ORIGIN,
REVIEW_COOKIE_SECURE; TRACKER_DB / TRACKER_DB_URL and CANVAS_DB_URL to read.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import quote, urlencode, urlparse

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.exc import OperationalError

from bot.coach.export import to_markdown as block_markdown
from bot.coach.store import CanvasStore, StoreUnavailable, founder_channel
from bot.review import exports, queries, transcript
from bot.review.auth import FAILURE_WINDOW_S, Account, AuthError, TooManyAttempts, Users, csrf_matches
from bot.review.db import ReviewDB
from bot.review.models import ROLES
from bot.review.queries import BadRequest, Filters, NotFound
from bot.review.read_model import SWEEP_EVERY_S, ReadModel
from bot.review.tracker import TrackerEvents

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
COOKIE = "rapport_review"
LOGIN_COOKIE = "rapport_review_login"
SECURITY_HEADERS = {
    # Scripts only from this app (no inline script: the founder's text can never run).
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class ReviewSettings:
    db_url: Optional[str] = None  # REVIEW_DB_URL (default sqlite:///var/review.db)
    secret_key: str = ""
    session_hours: float = 12.0
    origins: tuple = ()  # extra origins this dashboard is reached at (behind a proxy)
    cookie_secure: Optional[bool] = None  # None: when the request came over https
    admin_user: str = ""
    admin_password: str = ""
    tracker_url: Optional[str] = None
    canvas_url: Optional[str] = None

    @classmethod
    def from_env(cls) -> "ReviewSettings":
        env = os.environ
        secure = (env.get("REVIEW_COOKIE_SECURE") or "").strip().lower()
        return cls(
            db_url=env.get("REVIEW_DB_URL") or None,
            secret_key=env.get("REVIEW_SECRET_KEY") or "",
            session_hours=float(env.get("REVIEW_SESSION_HOURS") or 12),
            origins=tuple(o.strip().rstrip("/") for o in (env.get("REVIEW_ORIGIN") or "").split(",") if o.strip()),
            cookie_secure=None if not secure else secure in ("1", "true", "yes"),
            admin_user=env.get("REVIEW_ADMIN_USER") or "",
            admin_password=env.get("REVIEW_ADMIN_PASSWORD") or "",
        )


class Dashboard:
    """What the routes share: the databases and the read model."""

    def __init__(self, settings: ReviewSettings) -> None:
        self.settings = settings
        secret = settings.secret_key
        if not secret:
            secret = secrets.token_urlsafe(48)
            log.warning(
                "REVIEW_SECRET_KEY is not set: sessions are signed with a random key and end when the web "
                "app restarts (set it, the same for every web app process)"
            )
        self.db = ReviewDB(settings.db_url)
        self.users = Users(self.db, secret, settings.session_hours)
        self.tracker = TrackerEvents(settings.tracker_url)
        self.read_model = ReadModel(self.db, self.tracker)
        self.canvas = CanvasStore(settings.canvas_url)
        if settings.admin_user and settings.admin_password and self.users.count() == 0:
            self.users.add(settings.admin_user, settings.admin_password, "admin")
            log.info("review dashboard: first admin %r added from REVIEW_ADMIN_USER", settings.admin_user)

    def close(self) -> None:
        for part in (self.db, self.tracker, self.canvas):
            part.close()


async def blocking(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Database work off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args, **kwargs))


def when(timestamp: Optional[float], seconds: bool = False) -> str:
    if not timestamp:
        return ""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def review_blueprint(settings: Optional[ReviewSettings] = None) -> Blueprint:
    dash = Dashboard(settings or ReviewSettings.from_env())
    bp = Blueprint("review", url_prefix="/review")
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates" / "review"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.globals.update(
        when=when,
        question=queries.question_label,
        quote=lambda s: quote(str(s), safe=""),
        urlencode=urlencode,
        low_confidence=transcript.LOW_CONFIDENCE,
    )

    def render(request: Request, name: str, status: int = 200, **context: Any):
        account = getattr(request.ctx, "account", None)
        return response.html(templates.get_template(name).render(account=account, **context), status=status)

    # --- refusals ------------------------------------------------------------------

    def wants_html(request: Request) -> bool:
        return "text/html" in (request.headers.get("accept") or "") and not request.headers.get("hx-request")

    def refuse_unsigned(request: Request):
        if wants_html(request) and request.method == "GET":
            return response.redirect(
                "/review/login?"
                + urlencode({"next": request.path + ("?" + request.query_string if request.query_string else "")}),
                status=303,
            )
        headers = {"HX-Redirect": "/review/login"} if request.headers.get("hx-request") else {}
        return response.json({"error": "sign in first"}, status=401, headers=headers)

    def origin_ok(request: Request) -> bool:
        origin = (request.headers.get("origin") or "").rstrip("/")
        own = f"{request.scheme}://{request.host}"
        return bool(origin) and (origin == own or origin in dash.settings.origins)

    def problem(request: Request, status: int, message: str):
        if wants_html(request) or request.headers.get("hx-request"):
            return render(request, "error.html", status=status, status_code=status, message=message)
        return response.json({"error": message}, status=status)

    def busy(request: Request):
        """A database is locked or unreachable: nothing was changed, try again."""
        log.warning("review dashboard: a database is busy or away (%s)", request.path)
        resp = problem(request, 503, "the dashboard's data is busy or unreachable: nothing was changed, try again")
        resp.headers["Retry-After"] = "2"
        return resp

    def signed_in(admin: bool = False):
        def decorate(handler: Callable):
            @functools.wraps(handler)
            async def wrapper(request: Request, *args: Any, **kwargs: Any):
                try:
                    account = await blocking(dash.users.account, request.cookies.get(COOKIE))
                except OperationalError:
                    return busy(request)
                if account is None:
                    return refuse_unsigned(request)
                request.ctx.account = account
                if request.method == "POST":
                    if not origin_ok(request):
                        return problem(request, 403, "this request did not come from the dashboard's own page")
                    token = request.headers.get("x-csrf-token") or (
                        request.form.get("csrf_token") if request.form else None
                    )
                    if not csrf_matches(account.csrf_token, token):
                        return problem(request, 403, "the form's security token is missing or old: reload the page")
                if admin and not account.is_admin:
                    return problem(request, 404, "not found")
                try:
                    return await handler(request, account, *args, **kwargs)
                except NotFound:
                    return problem(request, 404, "not found")
                except (BadRequest, AuthError) as exc:
                    return problem(request, 400, str(exc))
                except (OperationalError, StoreUnavailable):
                    return busy(request)

            return wrapper

        return decorate

    @bp.listener("after_server_start")
    async def start_sweeping(app, loop):
        app.add_task(sweep_forever())

    async def sweep_forever():
        """Deleted founders leave the read model within SWEEP_EVERY_S, off the requests' path."""
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                await blocking(dash.read_model.update, True)
            except Exception:  # noqa: BLE001 - logged; the next round tries again
                log.exception("review dashboard: the read model's sweep failed")

    @bp.middleware("response")
    async def security_headers(request: Request, resp):
        for name, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(name, value)

    def set_cookie(request: Request, resp, name: str, value: str, max_age: int) -> None:
        resp.cookies[name] = value
        cookie = resp.cookies[name]
        cookie["path"] = "/review"
        cookie["httponly"] = True
        cookie["samesite"] = "Lax"
        cookie["max-age"] = max_age
        secure = dash.settings.cookie_secure
        if secure or (secure is None and request.scheme == "https"):
            cookie["secure"] = True

    # --- signing in and out ------------------------------------------------------------

    @bp.get("/login")
    async def login_page(request: Request):
        token = secrets.token_urlsafe(24)
        resp = render(request, "login.html", csrf_token=token, next=safe_next(request.args.get("next")))
        set_cookie(request, resp, LOGIN_COOKIE, token, 3600)
        return resp

    @bp.post("/login")
    async def login(request: Request):
        form = request.form or {}
        if not origin_ok(request) or not csrf_matches(request.cookies.get(LOGIN_COOKIE, ""), form.get("csrf_token")):
            return problem(request, 403, "this sign-in did not come from the dashboard's own page: reload it")
        username, password = form.get("username") or "", form.get("password") or ""
        try:
            attempt = await blocking(dash.users.start_sign_in, username, request.ip or "")
            if attempt.delay_s:
                await asyncio.sleep(attempt.delay_s)  # a name under attack is slowed down, not locked
            cookie = await blocking(dash.users.finish_sign_in, attempt, password)
        except OperationalError:
            return busy(request)
        except TooManyAttempts:
            resp = render(
                request,
                "login.html",
                status=429,
                csrf_token=form.get("csrf_token"),
                next="",
                error="Too many failed sign-ins from here: wait 15 minutes and try again.",
            )
            resp.headers["Retry-After"] = str(FAILURE_WINDOW_S)
            return resp
        if cookie is None:
            return render(
                request,
                "login.html",
                status=401,
                csrf_token=form.get("csrf_token"),
                next=safe_next(form.get("next")),
                error="Wrong user name or password.",
            )
        resp = response.redirect(safe_next(form.get("next")) or "/review/conversations", status=303)
        set_cookie(request, resp, COOKIE, cookie, int(dash.settings.session_hours * 3600))
        return resp

    @bp.post("/logout")
    @signed_in()
    async def logout(request: Request, account: Account):
        await blocking(dash.users.sign_out, request.cookies.get(COOKIE))
        resp = response.redirect("/review/login", status=303)
        set_cookie(request, resp, COOKIE, "", 0)
        return resp

    # --- conversations -------------------------------------------------------------------

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
            stages=[s for s in queries.QUESTIONS if s],
            first_page=not request.args.get("after"),
        )

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

    # --- charts and exports -------------------------------------------------------------

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

    # --- users (admins) -----------------------------------------------------------------

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

    bp.ctx.dashboard = dash
    return bp


def safe_next(value: Optional[str]) -> str:
    """Only a path inside the dashboard (no open redirect to another site)."""
    value = value or ""
    parsed = urlparse(value)
    if parsed.scheme or parsed.netloc or not value.startswith("/review") or value.startswith("//"):
        return ""
    return value


def file_part(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:60] or "x"


def public_row(row: Dict[str, Any]) -> Dict[str, Any]:
    return {**row, "reviewed": bool(row.get("reviewed")), "reviewed_by": (row.get("reviewed") or (None,))[0]}
