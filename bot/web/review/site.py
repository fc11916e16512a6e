"""What every page of the review dashboard shares: its settings, its databases and
read model (Dashboard), and the Site the pages' handlers use to answer: rendering a
template, refusing a caller, the sign-in check every route but the sign-in page has."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Optional
from urllib.parse import quote, urlencode, urlparse

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import response
from sanic.request import Request
from sqlalchemy.exc import OperationalError

from bot.coach.store import CanvasStore, StoreUnavailable
from bot.review import queries, transcript
from bot.review.auth import AuthError, Users, csrf_matches
from bot.review.db import ReviewDB
from bot.review.queries import BadRequest, NotFound
from bot.review.read_model import ReadModel
from bot.review.tracker import TrackerEvents

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "review"
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
    db_url: Optional[str] = None  # REVIEW_DB_URL (default: bot.review.db.DEFAULT_URL)
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


class Site:
    """The dashboard and what its pages' handlers share to answer a request."""

    def __init__(self, settings: ReviewSettings) -> None:
        self.dash = Dashboard(settings)
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.globals.update(
            when=when,
            question=queries.question_label,
            quote=lambda s: quote(str(s), safe=""),
            urlencode=urlencode,
            low_confidence=transcript.LOW_CONFIDENCE,
        )

    def render(self, request: Request, name: str, status: int = 200, **context: Any):
        account = getattr(request.ctx, "account", None)
        return response.html(self.templates.get_template(name).render(account=account, **context), status=status)

    def wants_html(self, request: Request) -> bool:
        return "text/html" in (request.headers.get("accept") or "") and not request.headers.get("hx-request")

    def refuse_unsigned(self, request: Request):
        if self.wants_html(request) and request.method == "GET":
            return response.redirect(
                "/review/login?"
                + urlencode({"next": request.path + ("?" + request.query_string if request.query_string else "")}),
                status=303,
            )
        headers = {"HX-Redirect": "/review/login"} if request.headers.get("hx-request") else {}
        return response.json({"error": "sign in first"}, status=401, headers=headers)

    def origin_ok(self, request: Request) -> bool:
        origin = (request.headers.get("origin") or "").rstrip("/")
        own = f"{request.scheme}://{request.host}"
        return bool(origin) and (origin == own or origin in self.dash.settings.origins)

    def problem(self, request: Request, status: int, message: str):
        if self.wants_html(request) or request.headers.get("hx-request"):
            return self.render(request, "error.html", status=status, status_code=status, message=message)
        return response.json({"error": message}, status=status)

    def busy(self, request: Request):
        """A database is locked or unreachable: nothing was changed, try again."""
        log.warning("review dashboard: a database is busy or away (%s)", request.path)
        resp = self.problem(request, 503, "the dashboard's data is busy or unreachable: nothing was changed, try again")
        resp.headers["Retry-After"] = "2"
        return resp

    def signed_in(self, admin: bool = False):
        def decorate(handler: Callable):
            @functools.wraps(handler)
            async def wrapper(request: Request, *args: Any, **kwargs: Any):
                try:
                    account = await blocking(self.dash.users.account, request.cookies.get(COOKIE))
                except OperationalError:
                    return self.busy(request)
                if account is None:
                    return self.refuse_unsigned(request)
                request.ctx.account = account
                if request.method == "POST":
                    if not self.origin_ok(request):
                        return self.problem(request, 403, "this request did not come from the dashboard's own page")
                    token = request.headers.get("x-csrf-token") or (
                        request.form.get("csrf_token") if request.form else None
                    )
                    if not csrf_matches(account.csrf_token, token):
                        return self.problem(
                            request, 403, "the form's security token is missing or old: reload the page"
                        )
                if admin and not account.is_admin:
                    return self.problem(request, 404, "not found")
                try:
                    return await handler(request, account, *args, **kwargs)
                except NotFound:
                    return self.problem(request, 404, "not found")
                except (BadRequest, AuthError) as exc:
                    return self.problem(request, 400, str(exc))
                except (OperationalError, StoreUnavailable):
                    return self.busy(request)

            return wrapper

        return decorate

    def set_cookie(self, request: Request, resp, name: str, value: str, max_age: int) -> None:
        resp.cookies[name] = value
        cookie = resp.cookies[name]
        cookie["path"] = "/review"
        cookie["httponly"] = True
        cookie["samesite"] = "Lax"
        cookie["max-age"] = max_age
        secure = self.dash.settings.cookie_secure
        if secure or (secure is None and request.scheme == "https"):
            cookie["secure"] = True


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
