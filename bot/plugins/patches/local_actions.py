"""The coach's rasa-sdk actions run inside the Rasa server, unless ACTIONS_URL names an action server.

Rasa 3.6 runs every custom action over HTTP: each call posts the domain and the
session (about 28 KB) to the action server, which parses them, runs the action and
answers in JSON; 1.5 calls a turn cost 8.7 ms of a 35.6 ms turn (bench/changes.md).
Rasa Pro runs custom actions inside the assistant; Rasa 3.6 has no such option.

Here, when endpoints.yml's action_endpoint has no URL (ACTIONS_URL empty or unset,
the default), the Rasa server's action endpoint is an InProcessActionEndpoint.
Rasa's RemoteAction hands it the call it would have posted, and rasa-sdk's own
ActionExecutor runs the action from the actions package on it: the same classes,
the same Tracker and CollectingDispatcher, no HTTP. The domain is handed over as
Rasa holds it, never serialised. The tracker's state and the answer are copied
(a JSON round trip of a few KB, done in C), so that no action can change Rasa's
events in place, and no reply shares a list with the coach's constants: an action
sees exactly what it would see over HTTP. The answer then takes RemoteAction's own
way back: checked against the answer schema (answer_check.py), responses uttered,
events read.

A form's "not this slot" comes back as the action server's 400 would, so the form
goes on as Rasa expects. Any other failure is logged with the action's name and the
error's type only (no founder's words) and comes back as the action server's 500,
so failed_actions.py ends the turn with the clear message.

With ACTIONS_URL set, nothing here applies: the calls go to that action server,
with ACTIONS_TOKEN (bot/plugins/action_server.py), as before. The scaled set-up
(deploy/) keeps separate action servers that way.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from typing import Any, Dict, Optional, Sequence, Text

from rasa.core.utils import AvailableEndpoints
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.plugins.patches import Patch
from bot.plugins.patches.answer_check import answer_validators

logger = logging.getLogger(__name__)

DEFAULT_ACTIONS_PACKAGE = "actions"


def actions_package() -> Text:
    """The package of rasa-sdk actions the Rasa server runs (the action server's --actions)."""
    return (os.environ.get("ACTIONS_PACKAGE") or DEFAULT_ACTIONS_PACKAGE).strip()


class InProcessActionEndpoint(EndpointConfig):
    """An action endpoint that runs rasa-sdk's executor in this process instead of posting."""

    def __init__(self, package: Optional[Text] = None) -> None:
        super().__init__(url=None)
        from rasa_sdk.executor import ActionExecutor

        self.package = package or actions_package()
        self.executor = ActionExecutor()
        # At start-up, so that an import error stops the server and the first turn pays
        # nothing; without rasa-sdk's line per action, which the action server logs.
        registry_log = logging.getLogger("rasa_sdk.executor")
        level = registry_log.level
        registry_log.setLevel(logging.WARNING)
        try:
            self.executor.register_package(self.package)
        finally:
            registry_log.setLevel(level)
        if not self.executor.actions:
            raise RuntimeError(f"no rasa-sdk actions found in the package {self.package!r}")
        answer_validators()  # compiled now, not in the first founder's turn (150 ms on a busy machine)
        logger.info("Custom actions run in the Rasa server (%s); no action server is called.", self.package)

    def __repr__(self) -> Text:
        return f"InProcessActionEndpoint({self.package!r})"

    async def request(self, method: Text = "post", subpath: Optional[Text] = None, **kwargs: Any) -> Any:
        from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

        call: Dict[Text, Any] = dict(kwargs.get("json") or {})
        name = call.get("next_action")
        call["tracker"] = json.loads(json.dumps(call.get("tracker")))  # the action's own copy
        try:
            answer = await self.executor.run(call)
        except ActionExecutionRejection as rejection:
            body = {"error": rejection.message, "action_name": rejection.action_name}
            raise ClientResponseError(400, "Bad Request", json.dumps(body)) from None
        except ActionNotFoundException:
            logger.error("action %s is not in the package %s", name, self.package)
            raise ClientResponseError(404, "Not Found", "") from None
        except Exception as error:  # noqa: BLE001 - as the action server's 500: the founder gets the clear message
            logger.error("action %s failed: %s", name, type(error).__name__)
            raise ClientResponseError(500, "Internal Server Error", "") from None
        return json.loads(json.dumps(answer or {}))


@lru_cache(maxsize=None)
def local_endpoint(package: Text) -> InProcessActionEndpoint:
    """One executor per package in the process (Rasa reads endpoints.yml more than once)."""
    return InProcessActionEndpoint(package)


def wants_action_server(action: Optional[EndpointConfig]) -> bool:
    return bool(action is not None and (action.url or "").strip())


def _with_local_actions(read_endpoints: Any) -> Any:
    def read_endpoints_with_local_actions(cls: Any, endpoint_file: Text) -> AvailableEndpoints:
        endpoints = read_endpoints.__func__(cls, endpoint_file)
        if not wants_action_server(endpoints.action):
            endpoints.action = local_endpoint(actions_package())
        return endpoints

    read_endpoints_with_local_actions.__wrapped__ = read_endpoints
    return classmethod(read_endpoints_with_local_actions)


def patches() -> Sequence[Patch]:
    return (
        Patch(
            AvailableEndpoints,
            "read_endpoints",
            "9fa059bcb05cc08a92419abe9a5bd54409a1126e181f64915deeeb696d0849c9",
            lambda: _with_local_actions(AvailableEndpoints.__dict__["read_endpoints"]),
            "custom actions run in the Rasa server unless ACTIONS_URL names an action server",
        ),
    )
