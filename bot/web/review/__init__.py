"""The coordinators' review dashboard at /review: a Sanic blueprint over
bot.review (users and sessions, the read model, queries, exports), one module per
page (login, conversation_list, search, conversation, charts, exports, users), each
adding its routes; site.py holds what they share.

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
from typing import Optional

from sanic import Blueprint
from sanic.request import Request

from bot.review.read_model import SWEEP_EVERY_S
from bot.web.review import charts, conversation, conversation_list, exports, login, search, users
from bot.web.review.site import SECURITY_HEADERS, ReviewSettings, Site, blocking, log

__all__ = ["ReviewSettings", "review_blueprint"]
PAGES = (login, conversation_list, search, conversation, charts, exports, users)


def review_blueprint(settings: Optional[ReviewSettings] = None) -> Blueprint:
    site = Site(settings or ReviewSettings.from_env())
    bp = Blueprint("review", url_prefix="/review")

    @bp.listener("after_server_start")
    async def start_sweeping(app, loop):
        app.add_task(sweep_forever())

    async def sweep_forever():
        """Deleted founders leave the read model within SWEEP_EVERY_S, off the requests' path."""
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                await blocking(site.dash.read_model.update, True)
            except Exception:  # noqa: BLE001 - logged; the next round tries again
                log.exception("review dashboard: the read model's sweep failed")

    @bp.middleware("response")
    async def security_headers(request: Request, resp):
        for name, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(name, value)

    for page in PAGES:
        page.add_routes(bp, site)
    bp.ctx.dashboard = site.dash
    return bp
