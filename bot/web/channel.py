"""Rasa's socket.io channel, fitted to the rasa-webchat widget.

credentials.yml names this class instead of the stock `socketio:` because the
stock channel, in Rasa 3.6:
- lets any web page open a websocket: it turns python-socketio's Origin check
  off (cors_allowed_origins=[]), and `rasa run --cors` only covers HTTP polling;
- crashes on custom JSON: it passes the message's keys to sio.emit() as keyword
  arguments, so the coach's {"type": "canvas_block", ...} raises a TypeError and
  the rest of the turn is lost;
- splits every text on blank lines into separate bubbles, which breaks the
  coach's Markdown (the widget renders Markdown).

Founders still appear as channel "socketio" in the tracker and the canvas store.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot.web.origins import allowed_origins

logger = logging.getLogger(__name__)


class WebchatOutput(SocketIOOutput):
    """One socket.io message per coach message, in the shapes rasa-webchat draws."""

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": text})

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        quick_replies = [{"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons]
        await self._send_message(recipient_id, {"text": text, "quick_replies": quick_replies})

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        # As the REST channel shapes it: {"custom": {...}}. The widget draws
        # {"custom": {"type": "canvas_block", ...}} as the block's card.
        await self._send_message(recipient_id, {"custom": json_message})


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
        origins = allowed_origins()
        # Checked on every connection, websocket included; a connection without
        # an Origin header (not a browser) is let through, as python-socketio does.
        sio.eio.cors_allowed_origins = origins
        logger.info("Web widget origins allowed: %s", ", ".join(origins))

        # Replaces the stock handler of the same event.
        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                session_id = data.get("session_id")
                if not session_id or not isinstance(session_id, str):
                    logger.warning("A web widget message without a session_id was ignored.")
                    return
                # A message sent while the widget reconnects can arrive before its
                # session_request: join the session's room so the answer reaches it.
                sio.enter_room(sid, session_id)
                sender_id = session_id
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
            await on_new_message(UserMessage(text, WebchatOutput(sio, self.bot_message_evt), sender_id,
                                             input_channel=self.name(), metadata=metadata))

        return blueprint
