"""A long session starts afresh at the next turn, carrying the slots and the open form.

The coach starts a new Rasa session after each segment's interview
(data/rules/coaching.yml), so that no turn loads, replays, featurizes and hands to
the actions the whole conversation. Within one segment's interview the session
still grew without bound: each question asked mid-form adds about nine events,
and a 60-turn interview full of digressions went from 130 to 330 ms a turn
(docs/benchmarks.md, 2.53x).

Here a session longer than MAX_SESSION_EVENTS has expired for Rasa, as it would
after session_expiration_time: at the start of the next turn, before the founder's
message, Rasa runs action_session_start, which carries every slot and the open
form with the question it asked (session_start.py). The form takes the message as
the answer it was waiting for, and the turns after it cost what the interview's
first turns cost. MAX_SESSION_EVENTS is above a segment's plain interview (about
60 events), so only an interview with many digressions or re-asks starts one.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import SessionStarted

from bot.plugins.patches import Patch

MAX_SESSION_EVENTS = 80


def session_is_long(tracker: Any, limit: Optional[int] = None) -> bool:
    """Whether more than `limit` (MAX_SESSION_EVENTS) events follow the latest session
    start, counted from the end."""
    limit = MAX_SESSION_EVENTS if limit is None else limit
    count = 0
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            return False
        count += 1
        if count > limit:
            return True
    return False


def _expired_when_long(has_session_expired: Callable) -> Callable:
    def has_session_expired_or_is_long(self: MessageProcessor, tracker: Any) -> bool:
        return has_session_expired(self, tracker) or session_is_long(tracker)

    has_session_expired_or_is_long.__wrapped__ = has_session_expired
    return has_session_expired_or_is_long


def patches() -> Sequence[Patch]:
    return (
        Patch(
            MessageProcessor,
            "_has_session_expired",
            "aa0e659a9cfa1f70616523da75045bd87d4424a03432726722c7dc80a9869200",
            lambda: _expired_when_long(MessageProcessor._has_session_expired),
            "a long session starts afresh at the next turn",
        ),
    )
