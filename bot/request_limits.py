"""How big a request each public door takes (README, "Ports, and who may call them").

Sanic reads a request's whole body into memory before the handler runs, up to
REQUEST_MAX_SIZE: 100 MB unless set. Here every public server sets it, and each
route's own limit is set as soon as the route is known, before a byte of the body
is read (Sanic's `http.routing.after` signal), so a body over the limit gets 413
without being buffered, whether it says its length (Content-Length) or not
(chunked). A message longer than the NLU reads but within the limit is still
answered as before (it is asked to be summed up).
"""

from __future__ import annotations

from typing import Any, Sequence, Tuple

from sanic import Blueprint, Sanic

KB = 1024
REST_MAX_BYTES = 64 * KB  # the REST channel's messages
SOCKETIO_MAX_BYTES = 64 * KB  # the widget's socket.io messages (HTTP polling and websocket frames)
SLACK_MAX_BYTES = 1024 * KB  # Slack's events, clicks and slash commands
SIGN_IN_MAX_BYTES = 4 * KB  # the dashboard's sign-in form
WEB_MAX_BYTES = 64 * KB  # the rest of the web app (the dashboard's forms)

# (path prefix, limit): the first that matches wins; else the server's default.
RASA_SERVER_LIMITS: Sequence[Tuple[str, int]] = (
    ("/webhooks/slack/", SLACK_MAX_BYTES),
    ("/webhooks/rest/", REST_MAX_BYTES),
    ("/socket.io", SOCKETIO_MAX_BYTES),
)
# Rasa's other routes (its HTTP API, when a deployment turns it on with a token).
RASA_SERVER_DEFAULT = SOCKETIO_MAX_BYTES
WEB_APP_LIMITS: Sequence[Tuple[str, int]] = (("/review/login", SIGN_IN_MAX_BYTES),)


def limit_for(path: str, limits: Sequence[Tuple[str, int]], default: int) -> int:
    for prefix, limit in limits:
        if path.startswith(prefix):
            return limit
    return default


def install(target: Any, limits: Sequence[Tuple[str, int]], default: int) -> None:
    """Sets the limits on a Sanic app or on a blueprint (for the app it joins)."""

    ceiling = max([default, *(limit for _, limit in limits)])

    async def per_route_limit(request: Any, route: Any = None, kwargs: Any = None, handler: Any = None) -> None:
        stream = request.stream
        if stream is not None and stream.request_body:
            stream.request_max_size = limit_for(request.path, limits, default)

    target.signal("http.routing.after")(per_route_limit)

    def the_ceiling(app: Sanic, *_: Any) -> None:
        # What the connection allows before a route is known (and for unknown routes);
        # WEBSOCKET_MAX_SIZE is a websocket message's (the widget's socket.io frames).
        app.config.REQUEST_MAX_SIZE = ceiling
        app.config.WEBSOCKET_MAX_SIZE = SOCKETIO_MAX_BYTES

    if isinstance(target, Blueprint):
        target.listener("before_server_start")(the_ceiling)
    else:
        the_ceiling(target)


def install_on_rasa_server(blueprint: Blueprint) -> None:
    """Each of the Rasa server's channels adds the limits to its blueprint, so that
    they hold whichever channels a deployment turns on (each sets the same values)."""
    install(blueprint, RASA_SERVER_LIMITS, RASA_SERVER_DEFAULT)


def limit_socketio(sio: Any) -> None:
    """python-socketio's own cap on a message (engine.io's max_http_buffer_size)."""
    sio.eio.max_http_buffer_size = SOCKETIO_MAX_BYTES
