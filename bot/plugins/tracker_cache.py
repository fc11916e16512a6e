"""The trackers the Rasa server holds between turns, and the turns' new events.

Rasa's SQL tracker store reads a conversation's whole session from SQL at the start
of every turn (a query that finds the session's start among all the sender's
events, then JSON for each event, then a replay of every event into a new tracker:
6.1 ms a turn), and at its end counts the session's rows again to find the new
events, which it inserts one by one (6.8 ms). docs/benchmarks.md has the profile.

CoachTrackerStore (bot/plugins/tracker_store.py) keeps here the tracker of each
recent conversation as the turn left it, with what it knows of the table then: how
many of the tracker's events are stored, and the sender's newest row id and row
count. A turn's load asks SQL one cheap question, the sender's newest id and count
(read from the sender's index), and when both are unchanged it takes the tracker
from here, skipping the query, the JSON and the replay. Anything else wrote to the
conversation (a second Rasa server, a forget) changes the answer, and the tracker
is read from SQL as before. The save inserts only the events past the stored
count, in one statement, after checking the same question again.

A held tracker is lent to one turn at a time: the turn changes it in place, so
until the turn's save gives it back, another load of the same conversation reads
SQL. A turn that fails before its save never gives it back, and the next load
reads SQL. A turn that starts a new session is not kept: Rasa loads only the
current session, and the held tracker would still hold the last one.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional, Text, Tuple

# The sender's newest event id and row count: what a held tracker is checked against.
Mark = Tuple[Optional[int], int]


@dataclass
class Held:
    tracker: Any  # rasa's DialogueStateTracker
    stored: int  # tracker.events[:stored] are rows in the table
    mark: Mark  # the sender's (newest id, rows) when the tracker was last read or written
    lent: bool = True  # a turn has it now


class TrackerCache:
    """At most `size` conversations' trackers, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._held: "OrderedDict[Text, Held]" = OrderedDict()
        self.hits = self.misses = 0  # loads served from here, and read from SQL (for the benchmark)

    def lend(self, sender_id: Text, mark: Mark) -> Optional[Any]:
        """The held tracker, if it is resting and the table still has `mark` for the sender."""
        held = self._held.get(sender_id)
        if held is None or held.lent or held.mark != mark:
            self.misses += 1
            return None
        self.hits += 1
        held.lent = True
        self._held.move_to_end(sender_id)
        return held.tracker

    def hold(self, sender_id: Text, tracker: Any, stored: int, mark: Mark) -> None:
        """`tracker`, just read from the table, is lent to a turn from now on."""
        if self.size <= 0:
            return
        self._held[sender_id] = Held(tracker, stored, mark)
        self._held.move_to_end(sender_id)
        while len(self._held) > self.size:
            self._held.popitem(last=False)

    def lent(self, sender_id: Text, tracker: Any) -> Optional[Held]:
        """What is known of `tracker`, if it is the one this cache lent for the sender."""
        held = self._held.get(sender_id)
        return held if held is not None and held.lent and held.tracker is tracker else None

    def give_back(self, sender_id: Text, stored: int, mark: Mark) -> None:
        held = self._held[sender_id]
        held.stored, held.mark, held.lent = stored, mark, False

    def drop(self, sender_id: Text) -> None:
        self._held.pop(sender_id, None)

    def __contains__(self, sender_id: Text) -> bool:
        return sender_id in self._held

    def __len__(self) -> int:
        return len(self._held)
