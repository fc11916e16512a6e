"""A slot's text in a response template is the founder's, so it marks up nothing.

domain.yml's responses are the coach's Markdown, and Rasa fills their `{slot}`
placeholders with the slots' values as they are: a venture called
`[Claim](https://example.com)` became a link in "what does {venture_name} offer?",
in Slack and in the widget. Here every text slot value is escaped as literal
Markdown (bot.coach.markdown) before Rasa fills a template; the coach's own
keyword arguments are left as they are. Each channel reads the escapes back as
the characters themselves.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Sequence, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from bot.coach.markdown import literal
from bot.plugins.patches import Patch


def _literal_slots(response_variables: Callable) -> Callable:
    def literal_slot_variables(filled_slots: Optional[Dict[Text, Any]], kwargs: Dict[Text, Any]) -> Dict[Text, Any]:
        slots = {
            name: literal(value) if isinstance(value, str) else value for name, value in (filled_slots or {}).items()
        }
        return response_variables(slots, kwargs)

    literal_slot_variables.__wrapped__ = response_variables
    return literal_slot_variables


def patches() -> Sequence[Patch]:
    return (
        Patch(
            TemplatedNaturalLanguageGenerator,
            "_response_variables",
            "a8d1d559f74e5c4d34ed2a5ced38fcd4484bede0450c531e79c6dcea8dcbc601",
            lambda: staticmethod(
                _literal_slots(TemplatedNaturalLanguageGenerator.__dict__["_response_variables"].__func__)
            ),
            "a founder's text in a response template marks up nothing",
        ),
    )
