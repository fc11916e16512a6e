"""`python -m bot.plugins.action_server`: rasa-sdk's action server, closed to everyone but the Rasa server.

rasa-sdk 3.6 listens on 0.0.0.0 and runs any action for anyone who can reach it:
one hand-written POST to /webhook could delete or read any founder's block. Here
the same server (rasa_sdk.endpoint.create_app, with the actions in actions/):

- listens on ACTIONS_HOST, 127.0.0.1 unless a deployment puts it on another machine;
- runs a call only when it carries ACTIONS_TOKEN as `Authorization: Bearer <token>`,
  a header Rasa sends with every call (endpoints.yml: `action_endpoint.headers`).
  A call without it gets 401, with a wrong one 403, and no action runs. A token in
  the query string (Rasa's `token:` setting) counts as none: proxies and access logs
  write URLs down, so it would leak. The token is compared in constant time and
  never logged;
- refuses to start without a token, rather than run open;
- answers no browser (no CORS headers): only the Rasa server calls it.

/health stays open: it says nothing about anyone.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from typing import Optional

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.known_warnings import quiet_known_warnings

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055
OPEN_PATHS = ("/health",)
MIN_TOKEN_CHARS = 16


class SettingsError(Exception):
    """A setting the action server cannot run without is missing or unusable."""


def token_from_environment() -> str:
    token = (os.environ.get("ACTIONS_TOKEN") or "").strip()
    if not token:
        raise SettingsError(
            "ACTIONS_TOKEN is not set. The action server only takes calls from the Rasa server, which sends "
            "this token; `make run` creates one in var/actions_token. Set ACTIONS_TOKEN to the same value for "
            "both servers."
        )
    if len(token) < MIN_TOKEN_CHARS:
        raise SettingsError(f"ACTIONS_TOKEN is too short to be a secret: use at least {MIN_TOKEN_CHARS} characters.")
    return token


def caller_refusal(request: Request, token: str) -> Optional[HTTPResponse]:
    """None when the caller may go on, else the answer that turns it away."""
    if request.path in OPEN_PATHS:
        return None
    authorization = request.headers.get("authorization") or ""
    scheme, _, given = authorization.partition(" ")
    given = given.strip() if scheme.lower() == "bearer" else ""
    if not given:
        return response.json({"error": "This server only takes calls from the coach's Rasa server."}, status=401)
    if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
        return response.json({"error": "Wrong token."}, status=403)
    return None


def create_app(token: str, actions_package: str = "actions") -> Sanic:
    from rasa_sdk.endpoint import create_app as create_rasa_sdk_app

    app = create_rasa_sdk_app(actions_package, cors_origins=None)

    @app.middleware("request")
    async def only_the_rasa_server(request: Request) -> Optional[HTTPResponse]:
        return caller_refusal(request, token)

    @app.exception(Exception)
    async def action_failed(request: Request, exception: Exception) -> HTTPResponse:
        # rasa-sdk's own handler answers with the whole request, the founder's
        # conversation included, and Rasa logs that answer: say only what failed.
        action = (request.json or {}).get("next_action") if _is_json(request) else None
        logger.error("action %s failed: %s", action, type(exception).__name__)
        return response.json({"error": "The action failed.", "action_name": action}, status=500)

    return app


def _is_json(request: Request) -> bool:
    try:
        return isinstance(request.json, dict)
    except Exception:  # noqa: BLE001 - a body that is not JSON is simply not JSON
        return False


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description="The coach's action server (rasa-sdk), for the Rasa server only.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT") or DEFAULT_PORT))
    parser.add_argument(
        "--host",
        default=os.environ.get("ACTIONS_HOST") or DEFAULT_HOST,
        help="address to listen on (ACTIONS_HOST); loopback unless the Rasa server is elsewhere",
    )
    parser.add_argument("--actions", default="actions", help="the package of rasa-sdk actions")
    args = parser.parse_args(argv)
    quiet_known_warnings()
    try:
        token = token_from_environment()
    except SettingsError as problem:
        print(f"action server: {problem}", file=sys.stderr)
        raise SystemExit(2) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(token, args.actions)
    logger.info("Action server on http://%s:%s (calls need the Rasa server's token)", args.host, args.port)
    app.run(host=args.host, port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
