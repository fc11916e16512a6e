"""`python -m bot.rasa_server run ...`: Rasa's own command line, with one fix.

Rasa 3.6 checks every answer of the action server with `jsonschema.validate()`,
which first validates Rasa's whole events schema against the JSON-Schema
metaschema, then the answer: 21 ms per action call, a quarter of a coach turn
(docs/benchmarks.md). The check below is the same check, with the schema checked
and compiled once. Everything else is `rasa` unchanged.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any, Dict

from jsonschema import validators
from rasa.core.actions.action import RemoteAction


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


def install() -> None:
    if not hasattr(RemoteAction, "_rasa_validate_action_result"):
        RemoteAction._rasa_validate_action_result = RemoteAction._validate_action_result
        RemoteAction._validate_action_result = validate_action_answer


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
