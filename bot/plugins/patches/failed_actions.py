"""A clear reply when a custom action fails.

When the action server cannot be reached (or fails), Rasa logs "the action's events
are lost", predicts the same action again up to ten times, and the founder gets no
reply at all. Here the turn ends at the first failure with a clear reply (the coach's
ACTIONS_UNREACHABLE, which the Slack channel also sends when a turn has no reply),
stored like any other; the founder's message is stored too, and the next turn starts afresh.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any, Callable, Sequence

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered
from rasa.shared.exceptions import RasaException

from bot.coach.conversation import ACTIONS_UNREACHABLE
from bot.plugins.patches import Patch

logger = logging.getLogger(__name__)

# Set by a custom action that failed, in the turn's own context (actions run one after another).
_action_failed: ContextVar[bool] = ContextVar("rapport_action_failed", default=False)


def _flag_failure(run: Callable) -> Callable:
    async def run_flagging_failure(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise  # a form's "not this slot": the normal course of a form
        except RasaException:
            _action_failed.set(True)
            raise

    run_flagging_failure.__wrapped__ = run
    return run_flagging_failure


def _end_turn_on_failure(run_action: Callable) -> Callable:
    async def run_action_or_say_so(
        self: MessageProcessor, action: Any, tracker: Any, output_channel: Any, nlg: Any, prediction: Any
    ) -> bool:
        _action_failed.set(False)
        predict_another = await run_action(self, action, tracker, output_channel, nlg, prediction)
        if not _action_failed.get():
            return predict_another
        _action_failed.set(False)
        logger.error("Custom action %s failed; the founder is told, and the turn ends.", action.name())
        await output_channel.send_response(tracker.sender_id, {"text": ACTIONS_UNREACHABLE})
        tracker.update(BotUttered(ACTIONS_UNREACHABLE))
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        return False

    run_action_or_say_so.__wrapped__ = run_action
    return run_action_or_say_so


def patches() -> Sequence[Patch]:
    return (
        Patch(
            RemoteAction,
            "run",
            "ccabf6f1160d527a157fad5bd285ce69e8221b1bcad23f8a61499b4360a1c17e",
            lambda: _flag_failure(RemoteAction.run),
            "a failed custom action is noted for the turn",
        ),
        Patch(
            MessageProcessor,
            "_run_action",
            "6d383d0179ef1187639887289168959a5a82f94e6949e4e27bb83b2165094995",
            lambda: _end_turn_on_failure(MessageProcessor._run_action),
            "a failed custom action ends the turn with a clear reply",
        ),
    )
