"""`python -m bot.rasa_server run ...`: Rasa's own command line, with two fixes.

1. Rasa 3.6 checks every answer of the action server with `jsonschema.validate()`,
   which first validates Rasa's whole events schema against the JSON-Schema
   metaschema, then the answer: 21 ms per action call, a quarter of a coach turn
   (docs/benchmarks.md). Here the same check runs with the schema compiled once.
2. The coach starts a new Rasa session after each segment's interview
   (data/rules/coaching.yml), so that no turn loads, replays and sends the whole
   conversation. Rasa's `action_session_start` carries over every SlotSet event of
   the session, so each session would start longer than the last; here it carries
   one SlotSet per slot, with its current value. It runs inside the Rasa server.

Everything else is `rasa` unchanged.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any, Dict, List

from jsonschema import validators
from rasa.core.actions.action import ActionSessionStart, RemoteAction
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker


@lru_cache(maxsize=1)
def action_answer_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_answer(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the compiled validator. A bad
    answer (rare) goes through Rasa's own method, so it fails with Rasa's error."""
    if action_answer_validator().is_valid(result):
        return True
    return RemoteAction._rasa_validate_action_result(self, result)


def carried_slots(tracker: DialogueStateTracker) -> List[SlotSet]:
    """One SlotSet per slot whose value differs from its initial one: all the coach
    remembers. requested_slot only matters while a form asks, and no form runs
    across a session."""
    return [SlotSet(slot.name, slot.value) for slot in tracker.slots.values()
            if slot.name != REQUESTED_SLOT and slot.value is not None and slot.value != slot.initial_value]


def install() -> None:
    if not hasattr(RemoteAction, "_rasa_validate_action_result"):
        RemoteAction._rasa_validate_action_result = RemoteAction._validate_action_result
        RemoteAction._validate_action_result = validate_action_answer
    ActionSessionStart._slot_set_events_from_tracker = staticmethod(carried_slots)


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
