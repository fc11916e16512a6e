"""The founder's own data actions run in the Rasa server (bot/plugins/founder_data.py).

The confirmed "delete my data" runs here, since only here can the tracker's events be
deleted safely, and so does "export my data", since only here is the whole
conversation at hand. Rasa has no public way to add an action that runs in the Rasa
server, so the action lookup serves them.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import rasa.core.actions.action as rasa_actions

from bot.plugins.founder_data import EXPORT_ACTION, FORGET_ACTION, ActionDeleteData, ActionExportData
from bot.plugins.patches import Patch

IN_PROCESS = {FORGET_ACTION: ActionDeleteData, EXPORT_ACTION: ActionExportData}


def in_process_action_lookup(rasa_lookup: Callable[..., Any]) -> Callable[..., Any]:
    def action_for_name_or_text(action_name_or_text: str, domain: Any, action_endpoint: Any) -> Any:
        if action_name_or_text in IN_PROCESS and action_name_or_text in domain.action_names_or_texts:
            return IN_PROCESS[action_name_or_text]()
        return rasa_lookup(action_name_or_text, domain, action_endpoint)

    action_for_name_or_text.__wrapped__ = rasa_lookup  # type: ignore[attr-defined]
    return action_for_name_or_text


def patches() -> Sequence[Patch]:
    return (
        Patch(
            rasa_actions,
            "action_for_name_or_text",
            "a63fb2d066efa0bc5a116dc4932299c77736aad3b6b8a85170e0dcafe615bf52",
            lambda: in_process_action_lookup(rasa_actions.action_for_name_or_text),
            "the confirmed delete runs in the Rasa server",
        ),
    )
