"""The sign-in page, signing in and out."""

from __future__ import annotations

import asyncio
import secrets

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.exc import OperationalError

from bot.review.auth import FAILURE_WINDOW_S, Account, TooManyAttempts, csrf_matches
from bot.web.review.site import COOKIE, LOGIN_COOKIE, Site, blocking, safe_next


def add_routes(bp: Blueprint, site: Site) -> None:
    dash = site.dash
    render = site.render
    problem = site.problem
    busy = site.busy
    signed_in = site.signed_in
    origin_ok = site.origin_ok
    set_cookie = site.set_cookie

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
            # The address a proxy forwards when one is configured (Sanic's SANIC_PROXIES_COUNT,
            # SANIC_REAL_IP_HEADER or SANIC_FORWARDED_SECRET; README), else the peer's:
            # without that setting a forwarding header is the client's own word, ignored.
            client = request.remote_addr or request.ip or ""
            attempt = await blocking(dash.users.start_sign_in, username, client)
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
