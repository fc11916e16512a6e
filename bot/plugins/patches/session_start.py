"""Slots carried into a new session once each.

The coach starts a new Rasa session after each segment's interview
(data/rules/coaching.yml), so that no turn loads, replays and sends the whole
conversation. Rasa's `action_session_start` carries over every SlotSet event of the
session, so each session would start longer than the last; here it carries one
SlotSet per slot, with its current value. A custom action_session_start in the
action server would do the same through a public extension point, but it costs one
more action-server call on every segment's last turn (bench/changes.md), so it
stays here.
"""

from __future__ import annotations

from typing import Any, List, Sequence

from rasa.core.actions.action import ActionSessionStart
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.events import SlotSet

from bot.plugins.patches import Patch


def carried_slots(tracker: Any) -> List[Any]:
    """One SlotSet per slot whose value differs from its initial one: all the coach
    remembers. requested_slot only matters while a form asks, and no form runs
    across a session."""
    return [
        SlotSet(slot.name, slot.value)
        for slot in tracker.slots.values()
        if slot.name != REQUESTED_SLOT and slot.value is not None and slot.value != slot.initial_value
    ]


def patches() -> Sequence[Patch]:
    return (
        Patch(
            ActionSessionStart,
            "_slot_set_events_from_tracker",
            "d023605fda20a739d5ddb1d253c34c824f6c793bebdd312a9a7748b13e1e7fbd",
            lambda: staticmethod(carried_slots),
            "each slot carried into a new session once",
        ),
    )
