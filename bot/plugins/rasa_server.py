"""`python -m bot.plugins.rasa_server run ...`: Rasa's own command line, with two fixes.

1. Rasa 3.6 checks every answer of the action server with `jsonschema.validate()`,
   which first validates Rasa's whole events schema against the JSON-Schema
   metaschema, then the answer: 21 ms per action call, a quarter of a coach turn
   (docs/benchmarks.md). Here the same check runs with the schema compiled once,
   each event against its own type's schema.
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
from typing import Any, Dict, List, Tuple

from jsonschema import validators
from rasa.core.actions.action import ActionSessionStart, RemoteAction
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker


def _compiled(schema: Dict[str, Any]) -> Any:
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@lru_cache(maxsize=1)
def answer_validators() -> Tuple[Any, Dict[str, Any]]:
    """Rasa's answer schema, compiled once: the answer without its events, and one
    validator per event type. Rasa's event schema is a oneOf of per-type schemas,
    each fixing "event" to a different constant, so an event is valid exactly when
    it fits its own type's schema; checking only that one skips 22 failed tries."""
    answer = RemoteAction.action_response_format_spec()
    envelope = {**answer, "properties": {**answer["properties"], "events": {"type": "array"}}}
    event_schema = answer["properties"]["events"]["items"]
    shared = {key: value for key, value in event_schema.items() if key != "oneOf"}
    by_type = {one["properties"]["event"]["const"]: _compiled({**shared, "allOf": [one]})
               for one in event_schema["oneOf"]}
    return _compiled(envelope), by_type


def answer_is_valid(result: Dict[str, Any]) -> bool:
    envelope, by_type = answer_validators()
    if not envelope.is_valid(result):
        return False
    for event in result.get("events") or []:
        validator = by_type.get(event.get("event")) if isinstance(event, dict) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_answer(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the compiled validators. A bad
    answer (rare) goes through Rasa's own method, so it fails with Rasa's error."""
    if answer_is_valid(result):
        return True
    return RemoteAction._rasa_validate_action_result(self, result)


def carried_slots(tracker: DialogueStateTracker) -> List[SlotSet]:
    """One SlotSet per slot whose value differs from its initial one: all the coach
    remembers. requested_slot only matters while a form asks, and no form runs
    across a session."""
    return [SlotSet(slot.name, slot.value) for slot in tracker.slots.values()
            if slot.name != REQUESTED_SLOT and slot.value is not None and slot.value != slot.initial_value]


def install() -> None:
    from bot.plugins import scaleout

    scaleout.install()
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
