"""A client's message id processed at most once per conversation.

The REST and socket.io channels take a client's message id (REST `message_id`, the
widget's own; bot/plugins/channels/client_messages.py), and Rasa stores it on the
user event, but never looks at it: a client that retries after a timeout makes the
coach process the message twice. Here a message whose id is already stored for the
conversation is not processed again; the replies that followed it the first time
are sent again instead. The check runs under the conversation's lock, so with the
atomic lock store (bot/plugins/lock_store.py) it holds across Rasa servers.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Dict, List, Optional, Sequence, Text

import sqlalchemy as sa
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.events import BotUttered, Event, UserUttered

from bot.plugins.patches import Patch

logger = logging.getLogger(__name__)

# At most this many events after a message are read back to replay its replies.
REPLAY_LIMIT = 200


def _sql_store(store: TrackerStore) -> Optional[SQLTrackerStore]:
    """The SQL tracker store inside Rasa's wrappers, if that is what it is."""
    for _ in range(3):
        if isinstance(store, SQLTrackerStore):
            return store
        store = getattr(store, "_tracker_store", None)
    return None


def _like_pattern(message_id: Text) -> Text:
    quoted = json.dumps({"message_id": message_id})[1:-1]  # "message_id": "<id>", as the event is stored
    return "%" + quoted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _stored_replies_sql(store: SQLTrackerStore, sender_id: Text, message_id: Text) -> Optional[List[Dict]]:
    events = store.SQLEvent.__table__
    with store.engine.connect() as connection:
        first = connection.execute(
            sa.select(events.c.id)
            .where(
                events.c.sender_id == sender_id,
                events.c.type_name == UserUttered.type_name,
                events.c.data.like(_like_pattern(message_id), escape="\\"),
            )
            .order_by(events.c.id)
            .limit(1)
        ).scalar()
        if first is None:
            return None
        rows = connection.execute(
            sa.select(events.c.type_name, events.c.data)
            .where(events.c.sender_id == sender_id, events.c.id > first)
            .order_by(events.c.id)
            .limit(REPLAY_LIMIT)
        ).all()
    replies = []
    for type_name, data in rows:
        if type_name == UserUttered.type_name:
            break
        if type_name == BotUttered.type_name:
            replies.append(Event.from_parameters(json.loads(data)).message())
    return replies


async def _stored_replies_tracker(store: TrackerStore, sender_id: Text, message_id: Text) -> Optional[List[Dict]]:
    tracker = await store.retrieve_full_tracker(sender_id)
    if tracker is None:
        return None
    replies: Optional[List[Dict]] = None
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message_id:
                replies = []
        elif isinstance(event, BotUttered) and replies is not None:
            replies.append(event.message())
    return replies


async def stored_replies(store: TrackerStore, sender_id: Text, message_id: Text) -> Optional[List[Dict]]:
    """The coach's replies to the conversation's message with this id, or None
    if no such message is stored."""
    sql = _sql_store(store)
    if sql is not None:
        return _stored_replies_sql(sql, sender_id, message_id)
    return await _stored_replies_tracker(store, sender_id, message_id)


def _once(handle_message: Callable) -> Callable:
    async def handle_message_once(self: MessageProcessor, message: UserMessage) -> Optional[List[Dict[Text, Any]]]:
        if not getattr(message, "client_message_id", False):
            return await handle_message(self, message)
        replies = await stored_replies(self.tracker_store, message.sender_id, message.message_id)
        if replies is None:
            return await handle_message(self, message)
        logger.info("A message id already processed came again; its replies are sent again, it is not processed.")
        output = message.output_channel
        for reply in replies:
            await output.send_response(message.sender_id, reply)
        return output.messages if isinstance(output, CollectingOutputChannel) else None

    handle_message_once.__wrapped__ = handle_message
    return handle_message_once


def patches() -> Sequence[Patch]:
    return (
        Patch(
            MessageProcessor,
            "handle_message",
            "0c41d4780d2d46769ef2ae2b3f450b88d2602e916590e8be9975aa474db9f7f4",
            lambda: _once(MessageProcessor.handle_message),
            "a client's message id processed at most once",
        ),
    )
