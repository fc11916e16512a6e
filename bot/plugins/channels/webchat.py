"""Rasa's socket.io channel, fitted to the rasa-webchat widget.

credentials.yml names this class instead of the stock `socketio:` because the
stock channel, in Rasa 3.6:
- lets any web page talk to the coach: it turns python-socketio's Origin check
  off (cors_allowed_origins=[]), and `rasa run --cors` only stops browsers from
  reading HTTP polling responses, while a websocket opened directly needs no CORS;
- crashes on custom JSON: it passes the message's keys to sio.emit() as keyword
  arguments, so the coach's {"type": "canvas_block", ...} raises a TypeError and
  the rest of the turn is lost;
- never joins a session's room with python-socketio 5.x (enter_room became a
  coroutine that Rasa 3.6 does not await), so with session_persistence no
  answer reaches the widget;
- splits every text on blank lines into separate bubbles, which breaks the
  coach's Markdown (the widget renders Markdown);
- sends each reply as soon as it is made, before the turn is stored, so a turn
  that cannot be stored has already been answered; and it ignores a message id
  from the client. Here the replies wait until the turn is stored (or the
  founder gets a clear error instead), and the widget's message id
  (`message_id`, in the message or in its customData) is processed at most
  once per conversation (bot/plugins/patches/message_ids.py);
- takes the session id a client sends as the conversation's id, unchecked, so any
  script could name another founder's conversation (a Slack DM's key, a REST id,
  another widget's) and read, delete or move it. Here the server issues every
  session, `web:<random>`, signed (bot/plugins/channels/identity.py); a request
  without a valid proof gets a new session of its own.

Founders still appear as channel "socketio" in the tracker and the canvas store.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from rasa.core.lock_store import LockError
from sanic import Blueprint
from socketio.exceptions import ConnectionRefusedError

from bot.coach.conversation import MESSAGE_NOT_STORED
from bot.plugins.channels import identity
from bot.plugins.channels.client_messages import client_message, valid_message_id
from bot.plugins.channels.cohorts import fixed_metadata_off_loop
from bot.request_limits import install_on_rasa_server, limit_socketio
from bot.web.origins import allowed_origins

logger = logging.getLogger(__name__)


class WebchatOutput(SocketIOOutput):
    """One socket.io message per coach message, in the shapes rasa-webchat draws."""

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": text})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        quick_replies = [{"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons]
        await self._send_message(recipient_id, {"text": text, "quick_replies": quick_replies})

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        # As the REST channel shapes it: {"custom": {...}}. The widget draws
        # {"custom": {"type": "canvas_block", ...}} as the block's card.
        await self._send_message(recipient_id, {"custom": json_message})


class HeldWebchatOutput(WebchatOutput):
    """Holds the turn's replies until release(): they go out only once the turn is stored."""

    def __init__(self, sio: Any, bot_message_evt: Text) -> None:
        super().__init__(sio, bot_message_evt)
        self.held: List[Dict[Text, Any]] = []

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.held.append(message)

    async def release(self, recipient_id: Text) -> None:
        for message in self.held:
            await super().send_response(recipient_id, message)
        self.held = []


class WebchatInput(SocketIOInput):
    """The socket.io channel with the Origin check on and WebchatOutput replies."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            return super().get_output_channel()
        return WebchatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        identity.process_secret()  # a bad WIDGET_SECRET stops the server now, not at the first founder
        install_on_rasa_server(blueprint)
        limit_socketio(sio)
        origins = allowed_origins()
        logger.info("Web widget origins allowed: %s", ", ".join(origins))
        stock_connect = sio.handlers[self.namespace or "/"]["connect"]

        # The handlers below replace the stock ones of the same events.

        # The Origin check, then the stock handler (its JWT check). Done here
        # rather than by python-socketio's cors_allowed_origins, which would add
        # a second Access-Control-Allow-Origin header to the one from
        # `rasa run --cors`: browsers refuse a response with two.
        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            # No Origin: not a browser (nor a page), as python-socketio treats it.
            if origin and origin not in origins and "*" not in origins:
                logger.warning("Web widget connection from %s refused: not in WEB_ORIGINS.", origin)
                raise ConnectionRefusedError("origin not allowed")
            return await stock_connect(sid, environ, auth)

        async def join_session(sid: Text, session_id: Text) -> None:
            # python-socketio 5.x made enter_room a coroutine; Rasa 3.6 calls it
            # without await, so the stock channel never joins the session's room
            # and no answer reaches a widget with session_persistence on.
            await sio.enter_room(sid, session_id, namespace=self.namespace)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            # The session the widget kept, if we signed it; anything else (no id, an id
            # from before signed sessions, another channel's, a forged one) starts anew.
            session = data.get("session_id") if isinstance(data, dict) else None
            sender_id = identity.verified_sender(session)
            if sender_id is None:
                sender_id, session = identity.new_session()
            if self.session_persistence:
                await join_session(sid, sender_id)
            await sio.emit("session_confirm", session, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                sender_id = identity.verified_sender(data.get("session_id"))
                if sender_id is None:
                    # Not a session we issued: a new one, announced, and the message goes nowhere.
                    logger.warning("A web widget message without a valid signed session was not processed.")
                    await session_request(sid, None)
                    return
                # A message sent while the widget reconnects can arrive before its
                # session_request: join the room now so that the answer reaches it.
                await join_session(sid, sender_id)
            else:
                sender_id = sid
            text = data.get("message")
            text = text if isinstance(text, str) else ""
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            # The widget sends its id in customData (rapport-widget.js); a client may also send it beside the text.
            message_id = data.get("message_id", metadata.pop("message_id", None))
            if not valid_message_id(message_id):
                message_id = None
            output = HeldWebchatOutput(sio, self.bot_message_evt)
            try:
                metadata = await fixed_metadata_off_loop(self.name(), sender_id, metadata)
                await on_new_message(
                    client_message(text, output, sender_id, message_id, input_channel=self.name(), metadata=metadata)
                )
            except Exception as error:
                if not isinstance(error, LockError):
                    logger.exception("A web widget message could not be processed and stored.")
                await WebchatOutput(sio, self.bot_message_evt).send_text_message(sender_id, MESSAGE_NOT_STORED)
                return
            await output.release(sender_id)

        return blueprint
