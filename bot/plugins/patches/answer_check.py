"""The action server's answers checked with a compiled schema.

Rasa 3.6 checks every answer with `jsonschema.validate()`, which first validates its
whole events schema against the JSON-Schema metaschema: 21 ms per action call, a
quarter of a coach turn (docs/benchmarks.md). Here the same check runs with the
schema compiled once, each event against its own type's schema.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Sequence, Tuple

from jsonschema import validators
from rasa.core.actions.action import RemoteAction

from bot.plugins.patches import Patch


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
    by_type = {
        one["properties"]["event"]["const"]: _compiled({**shared, "allOf": [one]}) for one in event_schema["oneOf"]
    }
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


def validate_action_answer(self: Any, result: Dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the compiled validators. A bad
    answer (rare) goes through Rasa's own method, so it fails with Rasa's error."""
    if answer_is_valid(result):
        return True
    return type(self)._rasa_validate_action_result(self, result)


def patches() -> Sequence[Patch]:
    return (
        Patch(
            RemoteAction,
            "_validate_action_result",
            "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42",
            lambda: validate_action_answer,
            "the action server's answers checked with a compiled schema",
        ),
    )
