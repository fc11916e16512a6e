"""The NLU reads only the start of an over-long message.

spaCy's tokenizer takes quadratic time on a run of punctuation (20,000 "]" block a
Rasa server for over a minute, and every conversation on it waits). The coach
refuses any message over MAX_MESSAGE_CHARS anyway (it asks to sum up), so the NLU
reads only the first MAX_MESSAGE_CHARS + 1 characters, still over the limit; the
tracker keeps the whole text.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict, Sequence, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor

from bot.coach.conversation import MAX_MESSAGE_CHARS
from bot.plugins.patches import Patch


def _parse_by_start(parse: Callable) -> Callable:
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


def patches() -> Sequence[Patch]:
    return (
        Patch(
            MessageProcessor,
            "_parse_message_with_graph",
            "0bd50a53b5c013af8458cbefe5dbcbd5c02c82a671a841b1947b3e8964e5c3d1",
            lambda: _parse_by_start(MessageProcessor._parse_message_with_graph),
            "the NLU reads only the start of an over-long message",
        ),
    )
