"""A client's message id, as the REST and socket.io channels take it.

A message carrying one is processed at most once per conversation
(bot/plugins/patches/message_ids.py replays the first time's replies instead).
"""

from __future__ import annotations

import re
from typing import Any, Optional, Text

from rasa.core.channels.channel import UserMessage

# A client's message id: what the channels accept (anything else is refused with
# a clear error). It is matched inside the stored event's JSON, so it holds no
# character that JSON would escape.
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def valid_message_id(value: Any) -> bool:
    return isinstance(value, str) and bool(MESSAGE_ID.match(value))


def client_message(
    text: Text, output_channel: Any, sender_id: Text, message_id: Optional[Text], **kwargs: Any
) -> UserMessage:
    """A UserMessage carrying the client's id, marked so that it is checked once.
    (Without one, Rasa gives the message a fresh uuid that needs no check.)"""
    message = UserMessage(text, output_channel, sender_id, message_id=message_id, **kwargs)
    # Rasa strips the text; the tracker keeps exactly what the founder sent.
    message.text = text
    message.client_message_id = message_id is not None
    return message
