"""The coach's actions, with the greeting broken: what the Rasa server runs in
tests/test_local_actions.py (ACTIONS_PACKAGE) to see a failing action answered."""

from typing import Any, List

from actions.conversation import ActionGreet


class GreetingThatFails(ActionGreet):
    """Registered after ActionGreet under the same name, so it replaces it."""

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> List[Any]:
        raise RuntimeError(f"the coach's code failed on {tracker.latest_message.get('text')!r}")
