"""`python -m bot.plugins.rasa_server run|shell ...`: Rasa's own command line, with the project's patches.

Every change the coach makes to Rasa's private members is one `Patch` in patches(),
and so is every private member it relies on without replacing it.
At start-up `install()` checks that Rasa is the version the patches were written
for and that each patched member is still the code they were written against
(its source's hash); if either changed, the server refuses to start and says
which. Whatever Rasa offers a public extension point for is done there instead:
the tracker store (bot/plugins/tracker_store.py) and the webchat channel are
named by module path in endpoints.yml and credentials.yml.

The patches:
1. Faster check of the action server's answers. Rasa 3.6 checks every answer with
   `jsonschema.validate()`, which first validates its whole events schema against
   the JSON-Schema metaschema: 21 ms per action call, a quarter of a coach turn
   (docs/benchmarks.md). Here the same check runs with the schema compiled once,
   each event against its own type's schema.
2. Slots carried into a new session once each. The coach starts a new Rasa session
   after each segment's interview (data/rules/coaching.yml), so that no turn loads,
   replays and sends the whole conversation. Rasa's `action_session_start` carries
   over every SlotSet event of the session, so each session would start longer than
   the last; here it carries one SlotSet per slot, with its current value. A custom
   action_session_start in the action server would do the same through a public
   extension point, but it costs one more action-server call on every segment's
   last turn (bench/changes.md), so it stays here.
3. The founder's own data actions run in this process (tracker_store.py): the
   confirmed "delete my data", since only here can the tracker's events be deleted
   safely, and "export my data", since only here is the whole conversation at hand.
   Rasa has no public way to add an action that runs in the Rasa server, so the
   action lookup serves them.
4. Scale-out and reliability (bot/plugins/scaleout.py): no FailSafeTrackerStore (a
   turn that cannot be stored fails visibly), a client's message id processed at
   most once per conversation, a clear reply when a custom action fails, and the
   NLU reading only the start of an over-long message.

`--enable-api` is refused without `--auth-token` or `--jwt-secret`: the HTTP API
can read and rewrite every conversation.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from jsonschema import validators

RASA_VERSION = "3.6.21"  # the version every patch below was read against


class PatchError(RuntimeError):
    """Rasa is not what the patches were written for; the server must not start."""


@dataclass(frozen=True)
class Patch:
    owner: Any  # the class or module whose member is replaced
    attribute: str
    source_sha256: str  # of the original member's source, as in RASA_VERSION
    replacement: Optional[Callable[[], Any]]  # makes the new member; None: only relied on, never replaced
    why: str

    @property
    def label(self) -> str:
        return f"{getattr(self.owner, '__qualname__', None) or self.owner.__name__}.{self.attribute}"


# ---------------------------------------------------------------- 1. the answer check


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
    from rasa.core.actions.action import RemoteAction

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


# ---------------------------------------------------------------- 2. session start


def carried_slots(tracker: Any) -> List[Any]:
    """One SlotSet per slot whose value differs from its initial one: all the coach
    remembers. requested_slot only matters while a form asks, and no form runs
    across a session."""
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import SlotSet

    return [
        SlotSet(slot.name, slot.value)
        for slot in tracker.slots.values()
        if slot.name != REQUESTED_SLOT and slot.value is not None and slot.value != slot.initial_value
    ]


# ---------------------------------------------------------------- 3. actions run here


def in_process_action_lookup(rasa_lookup: Callable[..., Any]) -> Callable[..., Any]:
    from bot.plugins.tracker_store import EXPORT_ACTION, FORGET_ACTION, ActionDeleteData, ActionExportData

    in_process = {FORGET_ACTION: ActionDeleteData, EXPORT_ACTION: ActionExportData}

    def action_for_name_or_text(action_name_or_text: str, domain: Any, action_endpoint: Any) -> Any:
        if action_name_or_text in in_process and action_name_or_text in domain.action_names_or_texts:
            return in_process[action_name_or_text]()
        return rasa_lookup(action_name_or_text, domain, action_endpoint)

    action_for_name_or_text.__wrapped__ = rasa_lookup  # type: ignore[attr-defined]
    return action_for_name_or_text


# ---------------------------------------------------------------- installing


def patches() -> Sequence[Patch]:
    import rasa.core.actions.action as rasa_actions
    from rasa.core.actions.action import ActionSessionStart, RemoteAction
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.plugins import scaleout

    return (
        Patch(
            RemoteAction,
            "_validate_action_result",
            "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42",
            lambda: validate_action_answer,
            "the action server's answers checked with a compiled schema",
        ),
        Patch(
            ActionSessionStart,
            "_slot_set_events_from_tracker",
            "d023605fda20a739d5ddb1d253c34c824f6c793bebdd312a9a7748b13e1e7fbd",
            lambda: staticmethod(carried_slots),
            "each slot carried into a new session once",
        ),
        Patch(
            rasa_actions,
            "action_for_name_or_text",
            "a63fb2d066efa0bc5a116dc4932299c77736aad3b6b8a85170e0dcafe615bf52",
            lambda: in_process_action_lookup(rasa_actions.action_for_name_or_text),
            "the confirmed delete runs in the Rasa server",
        ),
        # Not replaced, but CoachTrackerStore (tracker_store.py) overrides the second, which
        # the first calls: if either changed, a forgotten founder's words could be saved again.
        Patch(
            SQLTrackerStore,
            "save",
            "57165e46eab3de0866e77f03df0bf7fd5eac2c1de617ed431b934c9a4edfeef6",
            None,
            "a turn's save writes only the events _additional_events gives",
        ),
        Patch(
            SQLTrackerStore,
            "_additional_events",
            "d22f99eb863acb07afee63d9fe3a04ca8464251e67a43eb7d36c2d65ffc1653f",
            None,
            "overridden by CoachTrackerStore to keep forgotten events out",
        ),
        *scaleout.patches(),
    )


def source_sha256(member: Any) -> str:
    member = getattr(member, "__func__", member)
    return hashlib.sha256(inspect.getsource(member).encode("utf-8")).hexdigest()


def problems(found: Sequence[Patch], rasa_version: str) -> List[str]:
    """What makes the patches unsafe to install; empty when they fit."""
    if rasa_version != RASA_VERSION:
        return [f"the patches were written for Rasa {RASA_VERSION}, this is Rasa {rasa_version}"]
    found_problems = []
    for patch in found:
        original = _original(patch)
        if original is None:
            found_problems.append(f"{patch.label} no longer exists")
        elif source_sha256(original) != patch.source_sha256:
            found_problems.append(f"{patch.label} is not the code the patch was written against")
    return found_problems


def _originals_attribute(patch: Patch) -> str:
    return f"_rasa_{patch.attribute.lstrip('_')}"


def _original(patch: Patch) -> Optional[Any]:
    """Rasa's own member, also after install() replaced it."""
    saved = patch.owner.__dict__.get(_originals_attribute(patch)) if hasattr(patch.owner, "__dict__") else None
    return saved if saved is not None else patch.owner.__dict__.get(patch.attribute)


def install() -> None:
    """Checks, then applies every patch once (a second call changes nothing)."""
    import rasa

    import bot.plugins.tracker_store  # noqa: F401  an import error must stop the server, not fall back to memory

    found = patches()
    trouble = problems(found, rasa.__version__)
    if trouble:
        raise PatchError(
            "The coach's patches of Rasa do not fit this Rasa; the server will not start:\n- "
            + "\n- ".join(trouble)
            + "\nSee bot/plugins/rasa_server.py."
        )
    for patch in found:
        saved_as = _originals_attribute(patch)
        if patch.replacement is None or saved_as in patch.owner.__dict__:
            continue  # installed already
        setattr(patch.owner, saved_as, patch.owner.__dict__[patch.attribute])
        setattr(patch.owner, patch.attribute, patch.replacement())


def refuse_open_api(argv: Sequence[str]) -> Optional[str]:
    """Why these arguments must not start a server, or None. Read with Rasa's own
    parser, which also takes abbreviations such as --enable."""
    from rasa.__main__ import create_argument_parser

    try:
        args, _ = create_argument_parser().parse_known_args(list(argv))
    except SystemExit:
        return None  # Rasa itself will say what is wrong with them
    if getattr(args, "enable_api", False) and not (
        getattr(args, "auth_token", None) or getattr(args, "jwt_secret", None)
    ):
        return (
            "--enable-api opens Rasa's HTTP API, which reads and rewrites every conversation: "
            "start it with --auth-token (or --jwt-secret) as well."
        )
    return None


def main() -> None:
    refusal = refuse_open_api(sys.argv[1:])
    if refusal:
        print(f"rasa server: {refusal}", file=sys.stderr)
        raise SystemExit(2)
    try:
        install()
    except PatchError as error:
        print(error, file=sys.stderr)
        raise SystemExit(3) from None
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
