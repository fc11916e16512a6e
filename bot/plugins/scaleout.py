"""Patches of Rasa 3.6 for running several Rasa servers on one database. Each is
one `Patch` in patches(), which bot/plugins/rasa_server.py checks (Rasa's version,
the source of each member replaced) and installs at start-up:

- `no_failsafe_tracker_store`: Rasa wraps every tracker store in
  FailSafeTrackerStore, which, when the database cannot save a turn, logs the
  error and keeps the turn's events in memory only: the founder is answered,
  and the events are lost at the next restart (or never seen by the other Rasa
  servers). Without the wrapper the error reaches the channel, which answers
  with a clear error and sends none of the turn's replies.
- `message_ids_once`: the REST and socket.io channels take a client's message id
  (REST `message_id`, the widget's own), and Rasa stores it on the user event,
  but never looks at it: a client that retries after a timeout makes the coach
  process the message twice. Here a message whose id is already stored for the
  conversation is not processed again; the replies that followed it the first
  time are sent again instead. The check runs under the conversation's lock,
  so with the atomic lock store (bot/plugins/lock_store.py) it holds across
  Rasa servers.
- `say_so_when_actions_fail`: when the action server cannot be reached (or
  fails), Rasa logs "the action's events are lost", predicts the same action
  again up to ten times, and the founder gets no reply at all. Here the turn
  ends at the first failure with a clear reply, stored like any other; the
  founder's message is stored too, and the next turn starts afresh.
- `parse_long_messages_by_their_start`: spaCy's tokenizer takes quadratic time
  on a run of punctuation (20,000 "]" block a Rasa server for over a minute,
  and every conversation on it waits). The coach refuses any message over
  MAX_MESSAGE_CHARS anyway (it asks to sum up), so the NLU reads only the first
  MAX_MESSAGE_CHARS + 1 characters, still over the limit; the tracker keeps
  the whole text.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from contextvars import ContextVar
from typing import Any, Callable, Dict, List, Optional, Sequence, Text

import sqlalchemy as sa
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.exceptions import RasaException

from bot.coach.conversation import ACTIONS_UNREACHABLE

logger = logging.getLogger(__name__)

# A client's message id: what the channels accept (anything else is refused with
# a clear error). It is matched inside the stored event's JSON, so it holds no
# character that JSON would escape.
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
# At most this many events after a message are read back to replay its replies.
REPLAY_LIMIT = 200


def valid_message_id(value: Any) -> bool:
    return isinstance(value, str) and bool(MESSAGE_ID.match(value))


# ---------------------------------------------------------------- no FailSafeTrackerStore


def _tracker_store_as_configured(store: Optional[TrackerStore], domain: Any) -> TrackerStore:
    """Agent._create_tracker_store without the FailSafeTrackerStore wrapper."""
    if store is None:
        return InMemoryTrackerStore(domain)
    store.domain = domain
    return store


# ---------------------------------------------------------------- message ids, once


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


# ---------------------------------------------------------------- failed actions


# The coach's own words for it, which the Slack channel also sends when a turn has no reply.
ACTIONS_FAILED = ACTIONS_UNREACHABLE
# Set by a custom action that failed, in the turn's own context (actions run one after another).
_action_failed: ContextVar[bool] = ContextVar("rapport_action_failed", default=False)


def _flag_failure(run: Callable) -> Callable:
    async def run_flagging_failure(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise  # a form's "not this slot": the normal course of a form
        except RasaException:
            _action_failed.set(True)
            raise

    run_flagging_failure.__wrapped__ = run
    return run_flagging_failure


def _end_turn_on_failure(run_action: Callable) -> Callable:
    async def run_action_or_say_so(
        self: MessageProcessor, action: Any, tracker: Any, output_channel: Any, nlg: Any, prediction: Any
    ) -> bool:
        _action_failed.set(False)
        predict_another = await run_action(self, action, tracker, output_channel, nlg, prediction)
        if not _action_failed.get():
            return predict_another
        _action_failed.set(False)
        logger.error("Custom action %s failed; the founder is told, and the turn ends.", action.name())
        await output_channel.send_response(tracker.sender_id, {"text": ACTIONS_FAILED})
        tracker.update(BotUttered(ACTIONS_FAILED))
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        return False

    run_action_or_say_so.__wrapped__ = run_action
    return run_action_or_say_so


# ---------------------------------------------------------------- long messages


def _parse_by_start(parse: Callable) -> Callable:
    from bot.coach.conversation import MAX_MESSAGE_CHARS

    def parse_by_start(self: MessageProcessor, message: UserMessage, *args: Any, **kwargs: Any) -> Dict[Text, Any]:
        text = message.text
        if not isinstance(text, str) or len(text) <= MAX_MESSAGE_CHARS + 1:
            return parse(self, message, *args, **kwargs)
        start = copy.copy(message)
        start.text = text[: MAX_MESSAGE_CHARS + 1]
        parse_data = parse(self, start, *args, **kwargs)
        parse_data["text"] = text
        return parse_data

    parse_by_start.__wrapped__ = parse
    return parse_by_start


# ---------------------------------------------------------------- the patches


def patches() -> Sequence[Any]:
    from bot.plugins.rasa_server import Patch

    return (
        Patch(
            Agent,
            "_create_tracker_store",
            "97499b594b45581b2c6d8ff7adb9083af24eba85654995a40350de65633ca574",
            lambda: staticmethod(_tracker_store_as_configured),
            "no FailSafeTrackerStore: a turn that cannot be stored fails visibly",
        ),
        Patch(
            MessageProcessor,
            "handle_message",
            "0c41d4780d2d46769ef2ae2b3f450b88d2602e916590e8be9975aa474db9f7f4",
            lambda: _once(MessageProcessor.handle_message),
            "a client's message id processed at most once",
        ),
        Patch(
            RemoteAction,
            "run",
            "ccabf6f1160d527a157fad5bd285ce69e8221b1bcad23f8a61499b4360a1c17e",
            lambda: _flag_failure(RemoteAction.run),
            "a failed custom action is noted for the turn",
        ),
        Patch(
            MessageProcessor,
            "_run_action",
            "6d383d0179ef1187639887289168959a5a82f94e6949e4e27bb83b2165094995",
            lambda: _end_turn_on_failure(MessageProcessor._run_action),
            "a failed custom action ends the turn with a clear reply",
        ),
        Patch(
            MessageProcessor,
            "_parse_message_with_graph",
            "0bd50a53b5c013af8458cbefe5dbcbd5c02c82a671a841b1947b3e8964e5c3d1",
            lambda: _parse_by_start(MessageProcessor._parse_message_with_graph),
            "the NLU reads only the start of an over-long message",
        ),
    )
